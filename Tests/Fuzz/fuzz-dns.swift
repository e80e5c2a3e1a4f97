// libFuzzer harness for the DNS wire parser and the console's query handling (PitUplink).
// Each input is one UDP datagram as `pit console-dns` would receive it: DNSMessage.parse, then
// DNSConsole.answer (name checks, Base32, fragment header, AEAD open, the reply encoder), whose
// reply must parse again. A key for device "d1" exists, so inputs that guess the fragment layout
// reach the AEAD. Thrown DNSParseErrors and REFUSED answers are expected; a crash, a hang or a
// reply that does not parse is a finding. Build/run: see Tests/Fuzz/README.md ("DNS").
import Glibc
import PitUplink

nonisolated(unsafe) var console: DNSConsole? = {
    let directory = "/tmp/pit-fuzz-dns-keys"
    mkdir(directory, 0o700)
    let fd = open(directory + "/d1.key", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let hex = Array(String(repeating: "ab", count: 32).utf8)
    _ = hex.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    return try? DNSConsole(config: .init(zone: DNSName("abc123.console.example")!, listen: "127.0.0.1:1",
                                         keysDirectory: directory, output: "/dev/null"))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? DNSMessage.parse(bytes) {
        // What parses must encode and parse back to the same message.
        let again = try? DNSMessage.parse(message.encoded())
        if again?.questions != message.questions { fatalError("round trip changed the questions") }
    }
    for udp in [true, false] {
        if let reply = console!.answer(bytes, udp: udp) {
            if (try? DNSMessage.parse(reply)) == nil { fatalError("the console's reply does not parse") }
        }
    }
    return 0
}

// SwiftPM links executables with `--defsym main=<module>_main`; provide that symbol and hand
// control to libFuzzer's driver (LLVMFuzzerRunDriver is part of libclang_rt.fuzzer).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ cb: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("fuzz_dns_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
