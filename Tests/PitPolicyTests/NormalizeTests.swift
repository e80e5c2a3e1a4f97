import Testing
@testable import PitPolicy

/// The compiled filter must agree with the condition's meaning for every argument value:
/// random conditions are compiled through DNF and libseccomp, the BPF is evaluated, and the
/// result is compared with a direct evaluation of the condition.
@Suite struct NormalizeTests {
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Interesting constants: small values and boundaries, so random args hit them.
    static let values: [UInt64] = [0, 1, 2, 3, 4, 5, 7, 8, 0xff, 0x100, 0xffff_ffff, 0x1_0000_0000, .max - 1, .max]

    func randomValue(_ r: inout RNG) -> UInt64 { NormalizeTests.values[r.below(NormalizeTests.values.count)] }

    /// Source text and an evaluator of one random condition over args a, b.
    func randomCondition(_ r: inout RNG, depth: Int) -> (String, ([UInt64]) -> Bool) {
        let choice = depth == 0 ? r.below(4) : r.below(8)
        let arg = r.below(2)
        let name = arg == 0 ? "a" : "b"
        switch choice {
        case 0, 1:
            let ops = ["==", "!=", "<", "<=", ">", ">="]
            let op = ops[r.below(ops.count)]
            let v = randomValue(&r)
            let f: ([UInt64]) -> Bool = { x in
                switch op {
                case "==": return x[arg] == v
                case "!=": return x[arg] != v
                case "<": return x[arg] < v
                case "<=": return x[arg] <= v
                case ">": return x[arg] > v
                default: return x[arg] >= v
                }
            }
            return ("\(name) \(op) \(v)", f)
        case 2:
            let m = UInt64(r.below(16)), v = UInt64(r.below(16))
            let eq = r.below(2) == 0
            return ("(\(name) & \(m)) \(eq ? "==" : "!=") \(v)", { x in ((x[arg] & m) == v) == eq })
        case 3:
            let m = UInt64(r.below(16))
            return ("\(name) & \(m)", { x in x[arg] & m != 0 })
        case 4:
            let (s, f) = randomCondition(&r, depth: depth - 1)
            return ("!(\(s))", { x in !f(x) })
        case 5, 6:
            let (s1, f1) = randomCondition(&r, depth: depth - 1)
            let (s2, f2) = randomCondition(&r, depth: depth - 1)
            return ("(\(s1)) || (\(s2))", { x in f1(x) || f2(x) })
        default:
            let (s1, f1) = randomCondition(&r, depth: depth - 1)
            let (s2, f2) = randomCondition(&r, depth: depth - 1)
            return ("(\(s1)) && (\(s2))", { x in f1(x) && f2(x) })
        }
    }

    @Test func test_compiledFilterMatchesConditionSemantics() throws {
        var rng = RNG(state: 42)
        var compiled = 0, rejected = 0
        for _ in 0..<300 {
            let (text, meaning) = randomCondition(&rng, depth: 3)
            let source = "POLICY p { ALLOW { getppid(a, b) { \(text) } } } USE p DEFAULT ERRNO(1)"
            let policy: CompiledPolicy
            do {
                policy = try compile(source)
            } catch {
                // Only the documented limit may reject a condition.
                #expect(error.message.contains("seccomp rules"), "\(text): \(error.message)")
                rejected += 1
                continue
            }
            compiled += 1
            for _ in 0..<40 {
                let args = [randomValue(&rng), randomValue(&rng)]
                let got = try policy.evaluate("getppid", args: args)
                #expect(got == (meaning(args) ? .allow : .errno(1)), "\(text) with \(args)")
            }
        }
        #expect(compiled > 150)
    }

    @Test func test_firstMatchOrderIsPreservedAcrossActions() throws {
        var rng = RNG(state: 7)
        var checked = 0
        for i in 0..<300 {
            let (t1, f1) = randomCondition(&rng, depth: 1 + i % 2)
            let (t2, f2) = randomCondition(&rng, depth: 1 + i % 2)
            let source = "POLICY p { ERRNO(5) { getppid(a, b) { \(t1) } }, ALLOW { getppid(a, b) { \(t2) } }, ERRNO(6) { getppid } } USE p DEFAULT KILL"
            guard let policy = try? compile(source) else { continue }
            checked += 1
            for _ in 0..<30 {
                let args = [randomValue(&rng), randomValue(&rng)]
                let expected: PolicyAction = f1(args) ? .errno(5) : f2(args) ? .allow : .errno(6)
                #expect(try policy.evaluate("getppid", args: args) == expected, "\(source) \(args)")
            }
        }
        #expect(checked > 150)
    }

    @Test func test_expandsNegatedMaskPerBit() throws {
        let p = try compile("POLICY p { ALLOW { getppid(a) { (a & 0x5) != 0x1 } } } USE p DEFAULT ERRNO(1)")
        #expect(try p.evaluate("getppid", args: [1]) == .errno(1))
        #expect(try p.evaluate("getppid", args: [3]) == .errno(1))
        #expect(try p.evaluate("getppid", args: [5]) == .allow)
        #expect(try p.evaluate("getppid", args: [0]) == .allow)
    }

    @Test func test_mergesComparisonsOfOneArgument() throws {
        let p = try compile("POLICY p { ALLOW { getppid(a) { a >= 2 && a <= 2 || a == 7 && a != 8 || (a & 1) == 1 && (a & 2) == 0 } } } USE p DEFAULT ERRNO(1)")
        #expect(try p.evaluate("getppid", args: [2]) == .allow)
        #expect(try p.evaluate("getppid", args: [7]) == .allow)
        #expect(try p.evaluate("getppid", args: [5]) == .allow)
        #expect(try p.evaluate("getppid", args: [3]) == .errno(1))
        #expect(try p.evaluate("getppid", args: [8]) == .errno(1))
    }

    @Test func test_rangesAndExclusionsOnOneArgumentBecomeBlocks() throws {
        let p = try compile("POLICY p { ALLOW { getppid(a) { a > 1 && a < 9 && a != 4 } } } USE p DEFAULT ERRNO(1)")
        for v: UInt64 in 0..<12 {
            #expect(try p.evaluate("getppid", args: [v]) == (v > 1 && v < 9 && v != 4 ? .allow : .errno(1)), "a = \(v)")
        }
        #expect(try p.evaluate("getppid", args: [0x1_0000_0005]) == .errno(1))
        let q = try compile("POLICY p { ALLOW { getppid(a) { (a & 1) == 1 && a < 9 && a != 5 } } } USE p DEFAULT ERRNO(1)")
        for v: UInt64 in 0..<12 {
            #expect(try q.evaluate("getppid", args: [v]) == (v & 1 == 1 && v < 9 && v != 5 ? .allow : .errno(1)), "a = \(v)")
        }
    }

    /// These made libseccomp 2.5.4's seccomp_rule_add loop forever or drop an action before
    /// `lower` kept `!=`, `<`, `<=` and inner `>=` away from it.
    @Test func test_patternsThatBrokeLibseccompCompileAndAreExact() throws {
        let p = try compile("POLICY p { ERRNO(5) { getppid(a, b) { a == 7 } }, ALLOW { getppid(a, b) { b > 4294967295 } }, ERRNO(6) { getppid } } USE p")
        #expect(try p.evaluate("getppid", args: [7, 0]) == .errno(5))
        #expect(try p.evaluate("getppid", args: [8, 1 << 32]) == .allow)
        #expect(try p.evaluate("getppid", args: [8, 5]) == .errno(6))
        let q = try compile("POLICY p { ALLOW { getppid(a, b) { a >= 8 && b >= 5 } }, ERRNO(6) { getppid(a, b) { a >= 8 && b < 5 } } } USE p")
        #expect(try q.evaluate("getppid", args: [8, 5]) == .allow)
        #expect(try q.evaluate("getppid", args: [8, 4]) == .errno(6))
        #expect(try q.evaluate("getppid", args: [7, 4]) == .killProcess)
        let r = try compile("POLICY p { ERRNO(5) { getppid(a, b) { b == 7 } }, ALLOW { getppid(a, b) { a < 4294967295 } }, ERRNO(6) { getppid } } USE p")
        #expect(try r.evaluate("getppid", args: [0xFFFF_FFFF, 0]) == .errno(6))
        #expect(try r.evaluate("getppid", args: [0xFFFF_FFFE, 0]) == .allow)
    }

    @Test func test_contradictionCompilesToNoRule() throws {
        let p = try compile("POLICY p { ALLOW { getppid(a) { a == 1 && a == 2 } } } USE p DEFAULT ERRNO(1)")
        #expect(!p.allows("getppid"))
        #expect(try p.evaluate("getppid", args: [1]) == .errno(1))
    }
}
