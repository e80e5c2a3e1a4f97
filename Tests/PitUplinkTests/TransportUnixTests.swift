import Glibc
import XCTest
@testable import PitUplink

final class TransportUnixTests: XCTestCase {
    func testLinesAckedInOrder() {
        let h = AgentHarness()
        let receiver = Receiver("unix", in: h.temp.path)
        receiver.start()
        let stored = h.append(33)
        h.configure("""
            [[uplink]]
            type = "unix"
            name = "agent"
            path = "\(receiver.socketPath)"
            batch = 8
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { receiver.events().count >= 33 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
        XCTAssertTrue(Proc.waitUntil(5) { h.cursor("agent") == 33 })
    }

    /// The agent acks 5 then answers `err`: exactly those 5 count; the rest are retried and arrive once it acks again.
    func testPartialAckCommitsOnlyAckedPrefix() {
        let h = AgentHarness()
        let receiver = Receiver("unix", in: h.temp.path)
        receiver.start(unixAcks: 5)
        let stored = h.append(12)
        h.configure("""
            [[uplink]]
            type = "unix"
            name = "agent"
            path = "\(receiver.socketPath)"
            backoff_base_ms = 50
            backoff_max_ms = 100
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { h.transportState("agent")?.lastError?.contains("expected 'ok 6'") == true },
                      h.agentLog)
        XCTAssertEqual(h.cursor("agent"), 5)
        XCTAssertEqual(h.transportState("agent")?.lastDeliveredSeq, 5)
        XCTAssertEqual(receiver.events().map(\.seq), Array(1...5))
        receiver.stop()
        receiver.start()
        XCTAssertTrue(Proc.waitUntil(10) { receiver.events().count >= 12 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
    }
}
