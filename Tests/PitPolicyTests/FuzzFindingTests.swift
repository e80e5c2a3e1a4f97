import Testing
@testable import PitPolicy

@Suite struct FuzzFindingTests {
    @Test func defineFanOutIsLinear() throws {
        let names = (0..<31).map { "d\($0)" }
        var text = "#define d0 1\n"
        for i in 1..<31 { text += "#define \(names[i]) \(names[i-1])|\(names[i-1])|\(names[i-1])|\(names[i-1])\n" }
        text += "POLICY p { } USE p DEFAULT ERRNO(d30)\n"
        let p = try compile(text)
        #expect(p.defaultAction == .errno(1))
    }
    @Test func longOperatorChainIsAnErrorNotACrash() {
        for op in [" && ", " || "] {
            let text = "POLICY a { ALLOW { write(fd) { " + Array(repeating: "fd == 1", count: 20000).joined(separator: op) + " } } } USE a"
            #expect(parseError(text)?.description.contains("nested too deeply") == true)
        }
        let bits = "POLICY a { ALLOW { write(fd) { fd == " + Array(repeating: "1", count: 20000).joined(separator: " | ") + " } } } USE a"
        #expect(parseError(bits)?.description.contains("nested too deeply") == true)
    }
    @Test func shortChainsStillWork() throws {
        let text = "POLICY a { ALLOW { write(fd) { " + Array(repeating: "fd == 1", count: 90).joined(separator: " || ") + " } } } USE a"
        _ = try compile(text)
    }
}
