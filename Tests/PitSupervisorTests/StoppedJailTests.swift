import PitTestSupport
import Glibc
@testable import PitSupervisor
import PitJail
import Dispatch
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

    /// An orderly stop of a healthy Pit feeds the watchdog once more before closing it armed: init respawns Pit,
    /// which loads its config before it opens the device, and must have the whole timeout for that.
    func test_anOrderlyStopHandsTheNextPitAFreshTimeout() throws {
        let h = SupervisorHarness()
        h.writeJail("quick", "trap 'exit 0' TERM; while :; do sleep 0.1; done")
        h.writeConfig("[[jails]]\nname = \"quick\"\nspec = \"quick.toml\"\n", watchdogTimeout: 4)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("quick")?.state == "running" }, h.log)
        // Right after a periodic feed: the next one is 2 s away, the stop takes far less.
        let seen = h.feeds().count
        XCTAssertTrue(waitUntil(5, everyMs: 5) { h.feeds().count > seen }, h.log)
        let feedsBeforeStop = h.feeds().count
        kill(h.pid, SIGTERM)
        XCTAssertTrue(waitUntil(1.5) { h.feeds().count > feedsBeforeStop }, "no feed at the stop: \(h.log)")
        XCTAssertEqual(h.stop(), 0, h.log)
        XCTAssertEqual(h.feeds().count, feedsBeforeStop + 1, h.log)
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

/// The supervisor drains a jail's seccomp listener on its one loop (when the jail exits, and when epoll says so).
/// SECCOMP_IOCTL_NOTIF_RECV blocks while nothing is pending, and on Linux 6.1 even after every task under the
/// filter has exited: a drain with nothing to read must return at once, or the loop stops feeding the watchdog.
final class ListenerDrainTests: XCTestCase {
    func test_drainingAListenerWithNothingPendingDoesNotWait() throws {
        let dir = ScratchDirectory()
        let spec = dir.write("idle.toml", "command = [\"/bin/sleep\", \"1000\"]\n")
        let resolved = try JailSpecFile.load(spec).resolve()
        XCTAssertNotNil(resolved.policy, "the baseline filter (with its listener) is expected")
        let jail = try Launcher.start(resolved.spec, policy: resolved.policy)
        defer { jail.kill(SIGKILL); _ = Process.wait(jail.pid); jail.close() }
        XCTAssertGreaterThanOrEqual(jail.listener, 0)
        usleep(200_000)
        let drained = DispatchSemaphore(value: 0)
        let box = UncheckedJail(jail)
        DispatchQueue.global().async { box.jail.serviceListener { _ in }; drained.signal() }
        XCTAssertEqual(drained.wait(timeout: .now() + 2), .success, "serviceListener waited for a notification that never comes")
    }
}

/// The jail handed to the draining thread; the test thread only waits meanwhile.
private struct UncheckedJail: @unchecked Sendable {
    let jail: RunningJail
    init(_ jail: RunningJail) { self.jail = jail }
}
