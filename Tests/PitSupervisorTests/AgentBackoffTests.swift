import XCTest
@testable import PitSupervisor

final class AgentBackoffTests: XCTestCase {
    func test_delayDoublesUpToAMinuteAndComesBackAfterAMinuteOfRunning() {
        var backoff = AgentBackoff()
        // Quick deaths: 1 s, 2 s, 4 s ... capped at a minute.
        XCTAssertEqual((0..<8).map { _ in backoff.exited(afterRunningMs: 500) }, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000])
        // An agent that ran a minute has earned the first delay back; the doubling starts again from there.
        XCTAssertEqual(backoff.exited(afterRunningMs: 60_000), 1000)
        XCTAssertEqual(backoff.exited(afterRunningMs: 59_999), 2000)
    }
}
