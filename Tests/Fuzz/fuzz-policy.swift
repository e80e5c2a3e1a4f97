// libFuzzer harness for the kafel policy parser/compiler (PitPolicy).
// Feeds the input bytes (decoded as UTF-8, lossy) to PolicyCompiler.parse and, when that
// succeeds, to PolicyCompiler.compile for x86_64. Thrown PolicyErrors are expected and ignored;
// a crash, hang or unbounded memory growth is a finding.
// Build/run: see Tests/Fuzz/README.md.
import PitPolicy

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let source = PolicySource(text: text, file: "<fuzz>")
    do {
        let ast = try PolicyCompiler.parse(source)
        _ = try PolicyCompiler.compile(ast, arch: .x86_64)
    } catch {
        // A typed PolicyError is a valid outcome.
    }
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_policy_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
