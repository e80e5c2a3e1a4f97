import XCTest
@testable import PitTOML

/// SplitMix64: tiny, deterministic, good enough to drive mutations.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

final class RobustnessTests: XCTestCase {
    static let seeds: [String] = [
        """
        # device config
        name = "gw-01"
        "quoted key" = 'literal \\ string'
        ports = [ 8000, 8001, 0x1F, 0o17, 0b11, -5, +7, 1_000 ]
        floats = [ 1.5, -2e-3, inf, -nan, 6.02E+23 ]
        when = [ 1979-05-27T07:32:00-08:00, 1979-05-27 07:32:00.5, 1979-05-27, 07:32:00 ]
        point = { x = 1, y.z = "two", w = [true, false] }
        text = \"\"\"
        line one \\
           continued "quoted" \\u00E9 \\U0001F600
        \"\"\"
        raw = '''
        C:\\path\\'''

        [limits]
        memory_max = "1G"
        cpu.weight = 100

        [[jails]]
        name = "web"
        binds = [
          "/srv/www", # data
          "/etc/ssl",
        ]
        [jails.env]
        LANG = "C"

        [[jails]]
        name = "db"
        """,
    ] + ComplianceTests.valid.map(\.toml)

    static let fragments: [[UInt8]] = [
        "[", "]", "[[", "]]", "{", "}", "\"", "'", "\"\"\"", "'''", "=", ".", ",", "\n", "\r\n", "\r", "#",
        "\\", "\\u", "\\U0010FFFF", "0x", "1e", ":", "-", "_", "inf", "nan", "true", " ", "\t", "\u{0}",
        "é", "😀", "9223372036854775808", "1979-02-29", "T", "Z", "+", "a.b.c", "[a]\n", "[[a]]\n", "a = 1\n",
    ].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.below(3) {
            let at = rng.below(bytes.count + 1)
            switch rng.below(6) {
            case 0 where !bytes.isEmpty:  // byte flip
                bytes[min(at, bytes.count - 1)] ^= UInt8(1 << rng.below(8))
            case 1 where !bytes.isEmpty:  // random byte
                bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: rng.next())
            case 2:  // truncation
                bytes.removeSubrange(at...)
            case 3:  // duplicate a range
                let len = rng.below(min(64, bytes.count - at) + 1)
                let chunk = bytes[at..<(at + len)]
                bytes.insert(contentsOf: chunk, at: rng.below(bytes.count + 1))
            case 4:  // delete a range
                let len = rng.below(min(16, bytes.count - at) + 1)
                bytes.removeSubrange(at..<(at + len))
            default:  // insert a syntax fragment
                bytes.insert(contentsOf: fragments[rng.below(fragments.count)], at: at)
            }
        }
        return bytes
    }

    func testSeedsAreValid() throws {
        for seed in Self.seeds {
            XCTAssertNoThrow(try TOML.parse(seed, file: "seed.toml"))
        }
    }

    /// 20k mutated documents: parsing must never crash, and every failure
    /// must be a positioned TOMLError inside the input.
    func testMutatedInputsNeverCrash() {
        var rng = SplitMix64(state: 0x5EED_0F_D1CE)
        let seeds = Self.seeds.map { Array($0.utf8) }
        var accepted = 0, rejected = 0
        for _ in 0..<20_000 {
            let bytes = Self.mutate(seeds[rng.below(seeds.count)], &rng)

            // The raw bytes exercise the UTF-8 check used for files.
            let invalidAt = TOML.firstInvalidUTF8(bytes)
            // Decoding replaces ill-formed sequences, so only valid UTF-8 round-trips.
            let roundTrips = Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes
            XCTAssertEqual(invalidAt == nil, roundTrips)

            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            do {
                _ = try TOML.parse(text, file: "m.toml")
                accepted += 1
            } catch {
                rejected += 1
                if error.line < 1 || error.line > lines || error.column < 1 || error.file != "m.toml" || error.message.isEmpty {
                    XCTFail("bad error \(error) for input \(text.debugDescription)")
                    return
                }
            }
        }
        // The mutations must actually reach both outcomes.
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertGreaterThan(rejected, 5000)
    }

    /// Large inputs of each shape must parse in linear time; the bounds are
    /// generous for debug builds but far below what quadratic work would take.
    func testLargeInputsStayLinear() throws {
        func timed(_ name: String, _ text: String, limit: Double) throws -> TOMLTable {
            let clock = ContinuousClock()
            var table = TOMLTable()
            let elapsed = try clock.measure { table = try TOML.parse(text, file: name) }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            XCTAssertLessThan(seconds, limit, name)
            return table
        }
        let longArray = try timed("array", "a = [" + String(repeating: "12345, ", count: 100_000) + "]", limit: 5)
        guard case .array(let items)? = longArray["a"]?.value else { return XCTFail() }
        XCTAssertEqual(items.count, 100_000)
        XCTAssertEqual(items.last?.position, pos(1, 6 + 7 * 99_999))

        var manyKeys = ""
        for i in 0..<20_000 { manyKeys += "key\(i) = \(i)\n" }
        let keys = try timed("keys", manyKeys, limit: 5)
        XCTAssertEqual(keys.count, 20_000)
        XCTAssertEqual(keys["key19999"], TOMLNode(.integer(19_999), at: pos(20_000, 12)))

        var manyTables = ""
        for i in 0..<5_000 { manyTables += "[[t]]\nn = \(i)\n[t.sub]\nx = 1\n" }
        let tables = try timed("tables", manyTables, limit: 5)
        guard case .array(let ts)? = tables["t"]?.value else { return XCTFail() }
        XCTAssertEqual(ts.count, 5_000)

        let longString = try timed("string", "s = \"" + String(repeating: "abcdéf\\n", count: 100_000) + "\"", limit: 5)
        guard case .string(let s)? = longString["s"]?.value else { return XCTFail() }
        XCTAssertEqual(s.utf8.count, 800_000)

        _ = try timed("inline", "a = [" + String(repeating: "{ x = 1, y.z = 'q' }, ", count: 20_000) + "]", limit: 5)

        // Long single tokens in error messages are shortened.
        do {
            _ = try TOML.parse("a = " + String(repeating: "x", count: 100_000), file: "big")
            XCTFail("accepted")
        } catch {
            XCTAssertLessThan(error.message.count, 100)
            XCTAssertEqual(error.column, 5)
        }
    }

    func testDeepButLegalNestingDoesNotCrash() {
        // Many opened-but-invalid structures: errors, never stack exhaustion.
        for text in [String(repeating: "[", count: 100_000), "a = " + String(repeating: "[", count: 100_000),
                     "a = " + String(repeating: "{a=", count: 100_000),
                     String(repeating: "a.", count: 100_000) + "a = 1",
                     "[" + String(repeating: "a.", count: 100_000) + "a]"] {
            XCTAssertThrowsError(try TOML.parse(text, file: "deep"))
        }
    }
}
