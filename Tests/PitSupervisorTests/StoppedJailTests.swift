import PitTestSupport
import Glibc
@testable import PitSupervisor
import XCTest

/// A required jail stopped by a signal (`kill -STOP`) serves nothing while its pid, cgroup and listening socket
/// stay: health fails on it (past the grace the watchdog is no longer fed) and comes back with SIGCONT.
final class StoppedJailTests: XCTestCase {
    func test_aStoppedRequiredJailFailsHealthAndStarvesTheWatchdogUntilContinued() throws {
        let h = SupervisorHarness()
        h.writeJail("decoy", "exec sleep 1000")
        h.writeConfig("[[jails]]\nname = \"decoy\"\nspec = \"decoy.toml\"\n", watchdogTimeout: 2, healthGrace: 1)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("decoy")?.state == "running" }, h.log)
        let pid = try XCTUnwrap(h.jail("decoy")?.pid)
        XCTAssertTrue(waitUntil(3) { h.feeds().count >= 2 }, h.log)
        XCTAssertEqual(kill(pid, SIGSTOP), 0)
        defer { kill(pid, SIGCONT) }
        XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.watchdog.health == "starving" }, h.log)
        XCTAssertEqual(h.statusOrNil()?.watchdog.problems, ["required jails down: decoy (stopped by a signal)"], h.log)
        XCTAssertEqual(h.statusOrNil()?.leds.pattern, "degraded", h.log)
        let starvedAt = h.feeds().count
        usleep(2_500_000)
        XCTAssertEqual(h.feeds().count, starvedAt, "fed while the jail was stopped: \(h.log)")
        XCTAssertEqual(kill(pid, SIGCONT), 0)
        XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.watchdog.health == "healthy" }, h.log)
        XCTAssertTrue(waitUntil(3) { h.feeds().count > starvedAt }, "not fed again after SIGCONT: \(h.log)")
        XCTAssertEqual(h.jail("decoy")?.pid, pid, "the jail was restarted instead of waited for")
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    /// The command name is the jail's to choose: the state is read after the last ')'.
    func test_stateIsReadAfterTheLastParenthesis() {
        XCTAssertEqual(ProcessState.state(inStat: "42 (smbd) S 1 42 42 0 -1"), "S")
        XCTAssertEqual(ProcessState.state(inStat: "42 (a) T (b) R 1 42"), "R")
        XCTAssertEqual(ProcessState.state(inStat: "42 (x) T 1"), "T")
        XCTAssertNil(ProcessState.state(inStat: "42 (x"))
        XCTAssertNil(ProcessState.state(inStat: "42 (x)"))
        XCTAssertFalse(ProcessState.stopped(nil))
        XCTAssertFalse(ProcessState.stopped(getpid()))
    }
}
