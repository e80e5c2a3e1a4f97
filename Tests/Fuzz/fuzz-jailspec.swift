// libFuzzer harness for the jail spec file parser (PitJail.JailSpecFile).
// Feeds the input bytes (decoded as UTF-8, lossy) to JailSpecFile.parse, the text entry point `load` shares
// its decoding with. Only the parse is fuzzed, not `JailOptions.resolve`: resolution checks the host (users in
// /etc/passwd, bind sources, the policy file a spec names), and a mutated spec may name any path.
// A thrown ConfigError is a valid outcome; a crash, hang or unbounded memory growth is a finding.
// Build/run: Tests/Fuzz/run.sh (see Tests/Fuzz/README.md).
import PitJail

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let options = try JailSpecFile.parse(text, file: "/fuzz/jails/spec.toml")
        // Relative paths are anchored at the spec's directory.
        for bind in options.binds + options.bindsWritable {
            precondition(bind.value.hasPrefix("/"), "relative bind source left unanchored: \(bind.value)")
        }
        if let policy = options.policyFile { precondition(policy.value.hasPrefix("/"), "relative policy path left unanchored") }
    } catch {
        // A typed ConfigError is a valid outcome.
    }
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_jailspec_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
