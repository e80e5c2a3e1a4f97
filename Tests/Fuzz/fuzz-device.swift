// libFuzzer harness for the device config parser (PitSupervisor: DeviceConfig.parse).
// Feeds the input bytes (decoded as UTF-8, lossy) to DeviceConfig.parse with the files a config names
// served from memory (DeviceConfigFiles): whatever path a mutated `board`, `persona` or `jails[].spec`
// names, the harness answers with the fixed texts below, so a parse opens nothing on the host. Jail
// resolution (users, bind sources, policy compile) is done once at start-up on a fixed spec; the fuzzed
// part is the device config's own decoding: keys, watchdog, jails tables, restart_with, uplinks, console.
// A thrown ConfigLoadError is a valid outcome; a crash, hang or unbounded memory growth is a finding.
// Build/run: Tests/Fuzz/run.sh (see Tests/Fuzz/README.md).
import Glibc
import PitBoard
import PitJail
import PitPersona
import PitSupervisor
import PitTOML

let boardText = """
    name = "fuzz-board"
    nics = ["eth0"]
    [watchdog]
    device = "/dev/watchdog0"
    timeout_s = 15
    [leds.status]
    led = ["ACT", "led0"]
    [console]
    tty = "/dev/ttyS0"
    baud = 115200
    """

let personaText = """
    hostname = "nas-fin-02"
    workgroup = "ACME"
    interface = "eth0"
    mac_oui = "00:11:32"
    device_id = "fuzz"
    addresses = ["192.0.2.10/24", "2001:db8::10/64"]
    routes = [{ to = "default", via = "192.0.2.1" }]
    [[shares]]
    name = "finance"
    template = "decoys/finance"
    """

let specText = """
    command = ["/bin/true"]
    user = 65534
    default_binds = false
    tmpfs = ["/tmp:1M"]
    """

/// Resolved once, here: resolution looks at the host (the fuzz input never reaches it).
let resolvedOnce: Result<ResolvedJail, ConfigError> = Result { () throws(ConfigError) in
    try JailSpecFile.parse(specText, file: "/fuzz/jails/spec.toml").resolve()
}

let memoryFiles = DeviceConfigFiles(
    board: { path throws(TOMLError) in try Board.parse(boardText, file: path) },
    persona: { path throws(TOMLError) in try Persona.parse(personaText, file: path, machineIDPath: "/nonexistent") },
    checkTemplates: { _ throws(SambaTreeError) in },
    jailSpec: { path throws(ConfigError) in try JailSpecFile.parse(specText, file: path) },
    resolve: { _ throws(ConfigError) in try resolvedOnce.get() },
    text: { path in path.hasSuffix(".policy") ? "POLICY p { ALLOW { read } } USE p DEFAULT KILL" : specText })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try DeviceConfig.parse(text, file: "/fuzz/device.toml", files: memoryFiles)
        precondition(config.dataDirectory.hasPrefix("/") && config.controlSocket.hasPrefix("/"), "relative path left unanchored")
        precondition(Set(config.jails.map(\.name)).count == config.jails.count, "two jails with one name accepted")
    } catch {
        // A typed ConfigLoadError is a valid outcome.
    }
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_device_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if case .failure(let error) = resolvedOnce { print("fixed jail spec does not resolve: \(error)"); return 1 }
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
