// libFuzzer harness for the TOML reader (PitTOML).
// Feeds the input bytes (decoded as UTF-8, lossy) to TOML.parse. Thrown TOMLErrors are expected
// and ignored; a crash, hang or unbounded memory growth is a finding.
// Build/run: see Tests/Fuzz/README.md.
import PitTOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try TOML.parse(text, file: "<fuzz>")
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

@_cdecl("fuzz_toml_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
