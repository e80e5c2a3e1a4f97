// libFuzzer harness for the board file parser (PitBoard): watchdog, LEDs, console and NICs of a board.
// Feeds the input bytes (decoded as UTF-8, lossy) to Board.parse, which reads no file and opens no device
// (device paths are only checked as text). A thrown TOMLError is a valid outcome; a crash, hang or
// unbounded memory growth is a finding. Build/run: Tests/Fuzz/run.sh (see Tests/Fuzz/README.md).
import PitBoard

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let board = try Board.parse(text, file: "/fuzz/board.toml")
        precondition(!board.name.isEmpty, "a board without a name was accepted")
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

@_cdecl("fuzz_board_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
