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
    /// 20000 small policies (600 KB of text) took 11 s to parse when every declaration and USE scanned the
    /// policies before it. The bound is generous for a loaded machine: linear parsing takes a small fraction of it.
    @Test func manyPoliciesParseInLinearTime() throws {
        let text = (0..<20000).map { "POLICY p\($0) { USE p\($0 + 1) }" }.joined(separator: "\n")
            + "\nPOLICY p20000 { ALLOW { read } }\nUSE p19990 DEFAULT KILL"
        let clock = ContinuousClock()
        let start = clock.now
        let p = try compile(text)
        #expect(clock.now - start < .seconds(3))
        #expect(try p.evaluate("read") == .allow)
    }
    /// Each rule on a syscall subtracts the conditions other actions took before it. 100 conditions then 200
    /// shadowed rules of another action subtract 20000; a hostile policy repeating that for every syscall, or
    /// shadowing a hundred thousand rules, kept the compiler busy for hours. The work is bounded.
    @Test func orderingManyConditionalRulesIsBounded() throws {
        let text = (0..<100).map { "ALLOW { read { fd == \($0) } }" }.joined(separator: "\n") + "\n"
            + Array(repeating: "ERRNO(1) { read { fd == 0 } }", count: 200).joined(separator: "\n") + "\nDEFAULT KILL"
        #expect(parseError(text)?.message == "too many conditional rules with different actions on the same syscalls: ordering them by first match would subtract more than 16384 conditions")
        // 120 rules of alternating actions on one syscall still compile (250 would, more slowly).
        let alternating = (0..<120).map { "\($0 % 2 == 0 ? "ALLOW" : "ERRNO(1)") { read { fd == \($0) } }" }.joined(separator: "\n")
        let p = try compile(alternating + "\nDEFAULT KILL")
        #expect(try p.evaluate("read", args: [4]) == .allow)
        #expect(try p.evaluate("read", args: [5]) == .errno(1))
    }
    @Test func shortChainsStillWork() throws {
        let text = "POLICY a { ALLOW { write(fd) { " + Array(repeating: "fd == 1", count: 90).joined(separator: " || ") + " } } } USE a"
        _ = try compile(text)
    }
}
