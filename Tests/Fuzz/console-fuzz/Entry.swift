import Glibc

// SwiftPM links executables with `main` aliased to `console_fuzz_main` (so tests can link them), hence
// the entry point is defined under that name in both modes.

#if LIBFUZZER
/// libFuzzer's programmatic driver (FuzzerDriver.cpp); it parses the usual -flags from argv.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

// The fuzzer runtime's own main (FuzzerMain.cpp) refers to this symbol. Unused here (the driver gets the callback),
// but without it ld.gold stops on the undefined reference with "internal error in format_file_lineno".
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    fuzzOneInput(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@_cdecl("console_fuzz_main")
func consoleFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        guard let data else { return 0 }
        fuzzOneInput(UnsafeBufferPointer(start: data, count: size))
        return 0
    }
}
#else
// Without libFuzzer (a plain `swift build`), this target is a replay tool: each argument is an input
// file (a libFuzzer crash artifact or corpus entry) run once through the same harness.
@_cdecl("console_fuzz_main")
func consoleFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    for i in 1..<Int(max(argc, 1)) {
        guard let path = argv[i], let file = fopen(path, "rb") else { return 1 }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        fclose(file)
        bytes.withUnsafeBufferPointer { fuzzOneInput($0) }
        print("ok \(String(cString: path)) (\(bytes.count) bytes)")
    }
    return 0
}
#endif
