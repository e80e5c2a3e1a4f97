import Glibc
import PitProcess
import XCTest
@testable import PitUplink

/// kill -9 of the agent at random moments (starting up, mid-batch, between delivery and cursor commit, idle),
/// with events appended between runs; then one last run to completion. Every stored event must reach the receiver
/// at least once; in order of first arrival; any duplicate carries the same id, seq and bytes as the original.
///
/// Seeded (SplitMix64): PIT_SEED=N replays a run. 120 iterations per transport by default, PIT_LONG=1 for 1500.
final class TransportCrashTests: XCTestCase {
    func testKill9SyslogTCP() {
        let h = AgentHarness()
        let receiver = Receiver("syslog-tcp", in: h.temp.path)
        receiver.start()
        h.configure("""
            [[uplink]]
            type = "syslog"
            name = "siem"
            host = "127.0.0.1"
            port = \(receiver.port)
            batch = 3
            backoff_base_ms = 5
            backoff_max_ms = 20
            """)
        killAtRandom(h, receiver, maxSleepUs: 30_000)
    }

    func testKill9HTTPS() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        h.configure("""
            [[uplink]]
            type = "https"
            name = "siem"
            url = "https://localhost:\(receiver.port)/e"
            ca_file = "\(pki.caFile)"
            hmac_key_file = "\(pki.hmacKeyFile)"
            batch = 3
            backoff_base_ms = 5
            backoff_max_ms = 20
            """)
        // A TLS handshake takes longer: a wider window so kills also land between a POST's 200 and the commit.
        killAtRandom(h, receiver, maxSleepUs: 100_000)
    }

    func killAtRandom(_ h: AgentHarness, _ receiver: Receiver, maxSleepUs: UInt32) {
        let env = ProcessEnvironment()
        let seed = env["PIT_SEED"].flatMap { UInt64($0) } ?? UInt64(time(nil))
        let iterations = env["PIT_LONG"] == "1" ? 1500 : 120
        print("TransportCrashTests seed \(seed), \(iterations) iterations (PIT_SEED=\(seed) replays)")
        var rng = SplitMix64(state: seed)
        var stored: [PitEvent] = []
        let started = monotonicMilliseconds()
        for _ in 0..<iterations {
            stored += h.append(Int.random(in: 0...5, using: &rng))
            h.startAgent()
            // From before main() runs to well after a few batches: every phase gets hit.
            usleep(UInt32.random(in: 0...maxSleepUs, using: &rng))
            h.stopAgent()
        }
        let killPhase = monotonicMilliseconds() - started
        h.startAgent()
        // Polled slowly: decoding thousands of received lines is not free, and the agent needs the CPU.
        let complete = Proc.waitUntil(90, everyMs: 250) { Set(receiver.events().compactMap(\.id)).count >= stored.count }
        // The cursor is written after the send: the receiver can hold the last batch a moment before the agent
        // records it. Stopping it (kill -9) in that moment would test the race, not the agent.
        _ = Proc.waitUntil(10, everyMs: 50) { h.cursor("siem") == stored.last?.seq }
        h.stopAgent()
        XCTAssertTrue(complete, "not everything arrived; seed \(seed)\n\(h.agentLog.suffix(2000))")

        let received = receiver.events()
        XCTAssertEqual(receiver.records().compactMap(\.bad), [], "framing intact; seed \(seed)")
        let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
        var firstSeen: [String] = []
        var seen = Set<String>()
        for r in received {
            guard let id = r.id, let original = byID[id] else { XCTFail("unknown id \(r.id ?? "nil")"); continue }
            XCTAssertEqual(r.seq, original.seq, "a duplicate is the same event")
            XCTAssertEqual(r.line, original.jsonLine())
            if seen.insert(id).inserted { firstSeen.append(id) }
        }
        // Compared by count and first difference: a whole-array message of thousands of ids helps nobody.
        let expected = stored.map(\.id)
        XCTAssertEqual(firstSeen.count, expected.count, "every event arrives; seed \(seed)")
        if let i = zip(firstSeen, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("first arrivals out of seq order at index \(i) (seq \(stored[i].seq ?? 0)); seed \(seed)")
        }
        XCTAssertEqual(h.cursor("siem"), stored.last?.seq)
        print("TransportCrashTests \(receiver.mode): \(iterations) kill -9 in \(killPhase) ms, \(stored.count) events, "
              + "\(received.count - firstSeen.count) duplicates delivered")
    }
}

/// The process environment, read once (no Foundation ProcessInfo).
struct ProcessEnvironment {
    subscript(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
