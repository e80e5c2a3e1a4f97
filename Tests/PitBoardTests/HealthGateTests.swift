import XCTest
@testable import PitBoard

final class HealthGateTests: XCTestCase {
    let healthy = HealthSample()
    let jailDown = HealthSample(requiredJailsDown: ["ssh"])

    func gate(grace: Int64 = 10_000) -> HealthGate {
        HealthGate(graceMilliseconds: grace, maxEventLoopLatencyMilliseconds: 2_000)
    }

    func testHealthyFeeds() {
        var gate = gate()
        let decision = gate.evaluate(healthy, now: 0)
        XCTAssertTrue(decision.feed)
        XCTAssertEqual(decision.state, .healthy)
        XCTAssertEqual(decision.problems, [])
        XCTAssertFalse(decision.changed)
    }

    func testFailureWithinGraceKeepsFeeding() {
        var gate = gate()
        _ = gate.evaluate(healthy, now: 0)
        let first = gate.evaluate(jailDown, now: 1_000)
        XCTAssertTrue(first.feed)
        XCTAssertEqual(first.state, .failing(since: 1_000))
        XCTAssertTrue(first.changed)
        XCTAssertEqual(first.problems, [.jailsDown(["ssh"])])
        let later = gate.evaluate(jailDown, now: 10_999)
        XCTAssertTrue(later.feed)
        XCTAssertEqual(later.state, .failing(since: 1_000))
        XCTAssertFalse(later.changed)
    }

    func testFailurePastGraceStopsFeeding() {
        var gate = gate()
        _ = gate.evaluate(jailDown, now: 1_000)
        let starving = gate.evaluate(jailDown, now: 11_000)
        XCTAssertFalse(starving.feed)
        XCTAssertEqual(starving.state, .starving(since: 1_000))
        XCTAssertTrue(starving.changed)
        // Stays stopped while unhealthy, whatever the problem becomes.
        let stillStarving = gate.evaluate(HealthSample(dataDirectoryWritable: false), now: 60_000)
        XCTAssertFalse(stillStarving.feed)
        XCTAssertFalse(stillStarving.changed)
        XCTAssertEqual(stillStarving.problems, [.dataDirectoryReadOnly])
    }

    func testRecoveryResumesFeedingAndRestartsTheGrace() {
        var gate = gate()
        _ = gate.evaluate(jailDown, now: 0)
        _ = gate.evaluate(jailDown, now: 10_000)
        XCTAssertEqual(gate.state, .starving(since: 0))
        let recovered = gate.evaluate(healthy, now: 12_000)
        XCTAssertTrue(recovered.feed)
        XCTAssertEqual(recovered.state, .healthy)
        XCTAssertTrue(recovered.changed)
        // A new failure gets a full grace again.
        XCTAssertTrue(gate.evaluate(jailDown, now: 13_000).feed)
        XCTAssertTrue(gate.evaluate(jailDown, now: 22_999).feed)
        XCTAssertFalse(gate.evaluate(jailDown, now: 23_000).feed)
    }

    func testRecoveryWithinGraceCancelsTheFailure() {
        var gate = gate()
        _ = gate.evaluate(jailDown, now: 0)
        XCTAssertEqual(gate.evaluate(healthy, now: 5_000).state, .healthy)
        // The earlier failure does not count against the next one.
        XCTAssertEqual(gate.evaluate(jailDown, now: 9_000).state, .failing(since: 9_000))
        XCTAssertTrue(gate.evaluate(jailDown, now: 18_000).feed)
    }

    func testEventLoopLatencyLimit() {
        var gate = gate()
        XCTAssertEqual(gate.evaluate(HealthSample(eventLoopLatencyMilliseconds: 2_000), now: 0).problems, [])
        let late = gate.evaluate(HealthSample(eventLoopLatencyMilliseconds: 2_001), now: 1)
        XCTAssertEqual(late.problems, [.eventLoopLate(milliseconds: 2_001, limit: 2_000)])
        XCTAssertEqual(late.problems.first?.description, "event loop 2001 ms late (limit 2000 ms)")
    }

    func testAllProblemsAreReported() {
        let gate = gate()
        let sample = HealthSample(requiredJailsDown: ["ssh", "telnet"], eventLoopLatencyMilliseconds: 5_000, dataDirectoryWritable: false)
        XCTAssertEqual(gate.problems(in: sample).map(\.description), [
            "required jails down: ssh, telnet",
            "event loop 5000 ms late (limit 2000 ms)",
            "data directory not writable",
        ])
    }

    func testZeroGraceStopsAtOnce() {
        var gate = gate(grace: 0)
        let decision = gate.evaluate(jailDown, now: 7)
        XCTAssertFalse(decision.feed)
        XCTAssertEqual(decision.state, .starving(since: 7))
    }

    func testTimestampGoingBackwardsDoesNotStarveEarly() {
        var gate = gate()
        _ = gate.evaluate(jailDown, now: 5_000)
        XCTAssertTrue(gate.evaluate(jailDown, now: 1_000).feed)
        XCTAssertEqual(gate.state, .failing(since: 5_000))
    }
}
