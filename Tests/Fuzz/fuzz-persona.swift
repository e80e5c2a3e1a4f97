// libFuzzer harness for the persona parser and its validation (PitPersona: Persona.parse, Validate).
// Feeds the input bytes (decoded as UTF-8, lossy) to Persona.parse. The only file a persona parse may read
// is the machine-id (for `mac_oui` without `device_id`); the harness points it at `./machine-id`, which it
// writes in its working directory (run.sh runs each target in an empty directory). Nothing is applied: the
// parse never touches a link, address or hostname. A thrown TOMLError is a valid outcome; a crash, hang or
// unbounded memory growth is a finding. Build/run: Tests/Fuzz/run.sh (see Tests/Fuzz/README.md).
import Glibc
import PitPersona

let machineIDPath = "machine-id"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let persona = try Persona.parse(text, file: "/fuzz/persona.toml", machineIDPath: machineIDPath)
        precondition(!persona.netbiosName.isEmpty && persona.netbiosName.utf8.count <= 15, "NetBIOS name out of bounds")
        precondition(persona.hostname.utf8.count <= 64, "hostname beyond 64 bytes")
        for route in persona.routes { _ = route.family; _ = route.description }
    } catch {
        // A typed TOMLError is a valid outcome.
    }
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_persona_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let file = fopen(machineIDPath, "w") {
        fputs("0123456789abcdef0123456789abcdef\n", file)
        fclose(file)
    }
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
