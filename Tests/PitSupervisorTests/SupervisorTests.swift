import PitTestSupport
import Glibc
import func PitProcess.monotonicMilliseconds
import PitSupervisor
import PitUplink
import XCTest

/// `pit supervise` with real jails on the real kernel; the watchdog is a FIFO stand-in whose reader
/// timestamps every feed (the real driver is proven in the board VM).
final class SupervisorTests: XCTestCase {
    static let listen = "exec /usr/bin/perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => q(127.0.0.1:PORT), Listen => 5, ReuseAddr => 1) or die $!; sleep 1000'"
    static func listener(port: Int, after delay: String = "0") -> String {
        "sleep \(delay); " + listen.replacingAll("PORT", String(port))
    }

    /// Jails without a readiness check follow each other at once: nothing but the start order may hold the
    /// next one back (a regression: the next jail waited for the loop's next wakeup, the feed 15 s later).
    /// The test reads only files the jails write: a status request would itself wake the loop.
    func test_jailsWithoutReadinessCheckAllStartWithoutWaitingForAWakeup() {
        let h = SupervisorHarness()
        let names = ["a", "b", "c", "d"]
        for name in names { h.writeJail(name, "printf up > /shared/\(name); exec sleep 1000") }
        h.writeConfig(names.map { "[[jails]]\nname = \"\($0)\"\nspec = \"\($0).toml\"\nstop_grace_s = 1" }.joined(separator: "\n"),
                      watchdogTimeout: 30)
        h.start()
        XCTAssertTrue(waitUntil(5) { names.allSatisfy { h.shared($0) == "up" } },
                      "started: \(names.filter { h.shared($0) == "up" }) \(h.log)")
        XCTAssertEqual(h.stop(), 0)
    }

    func test_jailsStartInOrderEachAfterTheFormerIsReady() {
        let h = SupervisorHarness()
        h.writeJail("first", Self.listener(port: 18181, after: "0.7"))
        // The second jail records whether the first one already accepted connections when it started.
        h.writeJail("second", "/usr/bin/perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(q(127.0.0.1:18181)) ? qq(ready) : qq(not-ready)' > /shared/second; exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "first"
            spec = "first.toml"
            ready_tcp = 18181
            [[jails]]
            name = "second"
            spec = "second.toml"
            """)
        h.start()
        XCTAssertTrue(waitUntil(10) { !(h.shared("second") ?? "").isEmpty }, h.log)
        XCTAssertEqual(h.shared("second"), "ready")
        XCTAssertEqual(h.jail("first")?.state, "running")
        // The log says each step as it happens, not only the events: what runs, and when it was ready.
        let log = h.log
        XCTAssertTrue(log.contains("pit: supervising 2 jail(s) from ") && log.contains(": first, second; control socket "), log)
        XCTAssertTrue(log.contains("pit: first started, pid ") && log.contains(", waiting for it to accept on 127.0.0.1:18181"), log)
        XCTAssertTrue(log.contains("pit: first ready: accepts on 127.0.0.1:18181"), log)
        XCTAssertTrue(log.contains("pit: second started, pid "), log)
        XCTAssertEqual(h.stop(), 0)
    }

    func test_exitingJailRestartsWithGrowingBackoffThenStopsInACrashLoop() {
        let h = SupervisorHarness()
        h.startOneJail("flaky", "date +%s%N >> /shared/starts; exit 3",
                       entry: "required = false\nrestart_delay_ms = 200\ncrash_loop_exits = 4\ncrash_loop_window_s = 60", untilRunning: false)
        XCTAssertTrue(waitUntil(10) { h.jail("flaky")?.state == "crash_loop" }, h.log)
        let starts = lines(h.shared("starts") ?? "").compactMap { Int64($0) }.map { $0 / 1_000_000 }
        XCTAssertEqual(starts.count, 4, h.log)
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        XCTAssertEqual(gaps.count, 3)
        // 200, 400, 800 ms back-offs (plus start-up time each).
        for (gap, delay) in zip(gaps, [200, 400, 800] as [Int64]) {
            XCTAssertGreaterThanOrEqual(gap, delay, "\(gaps)")
            XCTAssertLessThan(gap, delay + 400, "\(gaps)")
        }
        XCTAssertEqual(h.jail("flaky")?.restarts, 3)
        XCTAssertEqual(h.jail("flaky")?.last_exit, "exited with status 3")
        XCTAssertTrue(h.log.contains("crash_loop [flaky]"), h.log)
        XCTAssertEqual(h.statusOrNil()?.leds.pattern, "crash_loop")
        // The operator's start clears the crash loop.
        XCTAssertTrue(h.request("start flaky").isEmpty)
        XCTAssertTrue(waitUntil(5) { lines(h.shared("starts") ?? "").count == 5 }, h.log)
        _ = h.stop()
    }

    func test_shutdownStopsJailsInReverseOrderAndKillsAfterTheGrace() {
        let h = SupervisorHarness()
        // "polite" handles SIGTERM; "stubborn" (PID 1 without a handler) ignores it and needs SIGKILL.
        h.writeJail("polite", "trap 'date +%s%N > /shared/polite-term; exit 0' TERM; while :; do sleep 0.1; done")
        h.writeJail("stubborn", "echo > /shared/stubborn-up; exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "polite"
            spec = "polite.toml"
            [[jails]]
            name = "stubborn"
            spec = "stubborn.toml"
            stop_grace_s = 1
            """)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("stubborn")?.state == "running" && h.jail("polite")?.state == "running" }, h.log)
        let began = monotonicMilliseconds()
        kill(h.pid, SIGTERM)
        let status = Process.wait(h.pid)
        h.pid = 0
        let took = monotonicMilliseconds() - began
        XCTAssertEqual(status, 0, h.log)
        XCTAssertGreaterThanOrEqual(took, 1000, "the stubborn jail had a 1 s grace")
        XCTAssertLessThan(took, 4000)
        let log = h.log
        let stubbornEnd = log.range(of: "service_exit [stubborn]: stubborn killed by signal 9")
        let politeEnd = log.range(of: "service_exit [polite]: polite exited with status 0")
        XCTAssertNotNil(stubbornEnd, log)
        XCTAssertNotNil(politeEnd, log)
        if let stubbornEnd, let politeEnd { XCTAssertLessThan(stubbornEnd.lowerBound, politeEnd.lowerBound, "reverse order: \(log)") }
    }

    func test_aJailRemovedAndAddedBackWhileItStopsStartsAgain() {
        // `a` ignores SIGTERM, so its stop takes the whole grace (3 s): a reload removes it, a second one within
        // the grace names it again. It must run again once the first stop is over.
        let h = SupervisorHarness()
        h.writeJail("a", "trap '' TERM; while :; do sleep 0.2; done")
        h.writeJail("b", "exec sleep 1000")
        let both = """
            [[jails]]
            name = "a"
            spec = "a.toml"
            stop_grace_s = 3
            [[jails]]
            name = "b"
            spec = "b.toml"
            """
        h.writeConfig(both)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("a")?.state == "running" }, h.log)
        h.writeConfig("""
            [[jails]]
            name = "b"
            spec = "b.toml"
            """)
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(3) { h.jail("a")?.state == "stopping" }, h.log)
        h.writeConfig(both)
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(10) { h.jail("a")?.state == "running" && h.jail("a")?.pid != nil }, "\(String(describing: h.statusOrNil()?.jails)) \(h.log)")
        _ = h.stop()
    }

    func test_reloadAppliesAValidConfigAndKeepsRunningOnAnInvalidOne() {
        let h = SupervisorHarness()
        h.startOneJail("alpha", "exec sleep 1000")
        let firstPid = h.jail("alpha")?.pid

        // A valid change: alpha's spec changes (restart), beta is added.
        h.writeJail("alpha", "exec sleep 999")
        h.writeJail("beta", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "alpha"
            spec = "alpha.toml"
            stop_grace_s = 1
            [[jails]]
            name = "beta"
            spec = "beta.toml"
            """)
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(8) { h.jail("beta")?.state == "running" && h.jail("alpha")?.state == "running" && h.jail("alpha")?.pid != firstPid }, h.log)

        // An invalid config is rejected and the running one stays.
        h.dir.write("device.toml", "data_dir = \"\(h.dir.path)/data\"\n[[jails]]\nname = \"alpha\"\nspec = \"missing.toml\"\n")
        let before = h.statusOrNil()?.jails.map(\.pid)
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(3) { h.log.contains("config_error") }, h.log)
        XCTAssertTrue(h.log.contains("missing.toml"), h.log)
        XCTAssertEqual(h.statusOrNil()?.jails.map(\.pid), before)
        _ = h.stop()
    }

    /// A SIGHUP that finds the same files applies nothing and records nothing: no event in the spool, no line in
    /// the log, the jail untouched; only the status counts it. A changed file is applied and recorded as before.
    func test_aNoOpReloadRecordsNothing() {
        let h = SupervisorHarness()
        h.startOneJail("alpha", "exec sleep 1000")
        let pid = h.jail("alpha")?.pid
        let everything = Set(PitEvent.Kind.allCases)
        let eventsBefore = h.events(everything).count
        let logBefore = h.log
        for count in 1...3 {   // one at a time: pending SIGHUPs coalesce
            kill(h.pid, SIGHUP)
            XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.reloads.unchanged == count }, "\(String(describing: h.statusOrNil()?.reloads)) \(h.log)")
        }
        XCTAssertEqual(h.events(everything).count, eventsBefore, "\(h.events(everything))")
        XCTAssertEqual(h.log, logBefore)
        XCTAssertEqual(h.jail("alpha")?.pid, pid)

        h.writeJail("alpha", "exec sleep 999")
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.reloads.applied == 1 }, h.log)
        XCTAssertEqual(h.events([.configApplied]).count, 1)
        XCTAssertTrue(waitUntil(5) { h.jail("alpha")?.state == "running" && h.jail("alpha")?.pid != pid }, h.log)
        _ = h.stop()
    }

    /// The process that feeds the watchdog is the OOM killer's last choice; its jails are not protected with it.
    func test_theSupervisorProtectsItselfFromTheOOMKillerAndItsJailsAreNot() throws {
        try XCTSkipUnless(readText("/proc/self/oom_score_adj") == "0\n", "the test itself runs with an oom_score_adj already chosen")
        // Lowering it takes CAP_SYS_RESOURCE, which some containers withhold even from root; the board VM
        // (image/vm/test_board.py, step 4b) checks the same on a real init.
        let effective = (readText("/proc/self/status") ?? "").split(separator: "\n").first { $0.hasPrefix("CapEff:") }
            .flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) } ?? 0
        try XCTSkipUnless(effective & (1 << 24) != 0, "no CAP_SYS_RESOURCE here")
        let h = SupervisorHarness()
        h.startOneJail("alpha", "exec sleep 1000")
        XCTAssertEqual(readText("/proc/\(h.pid)/oom_score_adj"), "-1000\n")
        let jail = try XCTUnwrap(h.jail("alpha")?.pid)
        XCTAssertEqual(readText("/proc/\(jail)/oom_score_adj"), "0\n")
        _ = h.stop()
    }

    func test_watchdogIsFedWhileHealthyAndStarvesWhenARequiredJailCannotBeKeptUp() {
        let h = SupervisorHarness()
        h.writeJail("steady", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "steady"
            spec = "steady.toml"
            """, watchdogTimeout: 2, healthGrace: 1)
        h.start()
        usleep(3_500_000)
        let healthy = h.feeds()
        // Timeout 2 s: fed every second.
        XCTAssertGreaterThanOrEqual(healthy.count, 3, h.log)
        let gaps = zip(healthy.dropFirst(), healthy).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 < 1.5 }, "\(gaps)")

        // The required jail is stopped by force and cannot come back (its spec now fails to exec).
        h.writeJail("steady", "exec /nonexistent")
        h.dir.write("steady.toml", "command = [\"/nonexistent\"]\n")
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(5) { h.log.contains("watchdog no longer fed") }, h.log)
        let stoppedAt = h.feeds().last ?? 0
        let cpuBefore = cpuTicks(h.pid)
        usleep(2_500_000)
        XCTAssertEqual(h.feeds().last, stoppedAt, "fed after health failed: \(h.log)")
        // Starving is quiet: health is looked at again about once a second, the loop does not spin on the
        // overdue feed deadline (it did: ~1000 evaluations a second until the reset).
        let cpuTicksStarving = cpuTicks(h.pid) - cpuBefore
        XCTAssertLessThan(cpuTicksStarving, 10, "CPU ticks (1/100 s) in 2.5 s while starving")
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "starving")
        _ = h.stop()
    }

    func test_aFullDataDiskIsAHealthProblemThroughARunningSupervisor() throws {
        // The data directory on a small file system of its own, then filled: the spool cannot take an event, so
        // the device is not healthy and (past the grace) stops feeding. Every other condition stays met.
        let h = SupervisorHarness()
        let data = h.dir.path + "/data"
        XCTAssertEqual(Process.run(["/bin/mount", "-t", "tmpfs", "-o", "size=2m", "pitfull", data]).status, 0)
        defer { _ = Process.run(["/bin/umount", "-l", data]) }
        h.writeJail("steady", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "steady"
            spec = "steady.toml"
            """, watchdogTimeout: 2, healthGrace: 1)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.feeds().count >= 2 }, h.log)
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "healthy", h.log)
        // Fill it to the last block.
        _ = Process.run(["/bin/dd", "if=/dev/zero", "of=\(data)/filler", "bs=64k"])
        XCTAssertTrue(waitUntil(6) { h.statusOrNil()?.watchdog.health == "starving" }, "\(String(describing: h.statusOrNil()?.watchdog)) \(h.log)")
        XCTAssertTrue(h.statusOrNil()?.watchdog.problems.contains { $0.contains("data") } ?? false, "\(String(describing: h.statusOrNil()?.watchdog.problems))")
        let stoppedAt = h.feeds().last
        usleep(2_000_000)
        XCTAssertEqual(h.feeds().last, stoppedAt, "fed while the data disk was full")
        // Space again: healthy and fed again.
        unlink(data + "/filler")
        XCTAssertTrue(waitUntil(6) { h.statusOrNil()?.watchdog.health == "healthy" }, h.log)
        XCTAssertTrue(waitUntil(4) { h.feeds().last != stoppedAt }, h.log)
        _ = h.stop()
    }

    func test_aLateEventLoopIsAHealthProblemThroughARunningSupervisor() {
        // The loop made late from outside (SIGSTOP, then SIGCONT after longer than max_loop_latency_ms): the next
        // health check names the late loop, and within the grace the watchdog is still fed; the check after
        // finds the loop on time again. Every other condition stays met.
        let h = SupervisorHarness()
        h.writeJail("steady", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "steady"
            spec = "steady.toml"
            """, watchdogTimeout: 2, healthGrace: 30)
        let config = readText(h.dir.path + "/device.toml") ?? ""
        h.dir.write("device.toml", config.replacingAll("health_grace_s = 30", "health_grace_s = 30\nmax_loop_latency_ms = 300"))
        h.start()
        XCTAssertTrue(waitUntil(5) { h.feeds().count >= 2 }, h.log)
        XCTAssertFalse(h.log.contains("event loop"), h.log)
        kill(h.pid, SIGSTOP)
        usleep(1_500_000)
        kill(h.pid, SIGCONT)
        XCTAssertTrue(waitUntil(5) { h.log.contains("ms late (limit 300 ms)") }, h.log)
        // "health: ok" said after the late loop was named: one said before it (at start) would prove nothing.
        XCTAssertTrue(waitUntil(5) {
            let log = h.log
            return log.range(of: "ms late (limit 300 ms)").map { log[$0.upperBound...].contains("health: ok") } ?? false
        }, "the loop on time again is healthy again: \(h.log)")
        let fedAt = h.feeds().count
        XCTAssertTrue(waitUntil(4) { h.feeds().count > fedAt }, "fed within the grace: \(h.log)")
        _ = h.stop()
    }

    func test_violationInASupervisedJailIsCountedAndReported() {
        let h = SupervisorHarness()
        h.dir.write("probe.policy", "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW\n")
        h.startOneJail("probe", "uname -a; exec sleep 1000", entry: "policy = \"probe.policy\"", untilRunning: false)
        XCTAssertTrue(waitUntil(5) { h.jail("probe")?.violations == 1 }, h.log)
        XCTAssertTrue(h.log.contains("violation [probe]: violation: uname("), h.log)
        XCTAssertTrue(h.log.contains("(uname, /usr/bin/uname): kill"), h.log)
        XCTAssertEqual(h.statusOrNil()?.leds.pattern, "violation")
        _ = h.stop()
    }

    func test_aViolationFloodIsCountedExactlyButRecordedInFullOnlyTenTimesPerSyscall() {
        // 40 children each make the reported call (and are killed for it): the jail's counter sees all 40, the
        // spool holds the first 10 in full and one violations_suppressed event with the other 30 (said at stop).
        let h = SupervisorHarness()
        h.dir.write("flood.policy", "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW\n")
        h.startOneJail("flood", "i=0; while [ $i -lt 40 ]; do uname >/dev/null 2>&1; i=$((i+1)); done; exec sleep 1000",
                       entry: "policy = \"flood.policy\"", untilRunning: false)
        XCTAssertTrue(waitUntil(20) { h.jail("flood")?.violations == 40 }, "\(h.jail("flood")?.violations ?? -1): \(h.log)")
        _ = h.stop()
        let events = Process.run([Pit.executable, "events", "--json", "--data-dir", h.dir.path + "/data"]).stdout
        let violations = lines(events).filter { $0.contains("\"kind\":\"violation\"") }
        XCTAssertEqual(violations.count, 10, events)
        let suppressed = lines(events).filter { $0.contains("\"kind\":\"violations_suppressed\"") }
        XCTAssertEqual(suppressed.count, 1, events)
        XCTAssertTrue(suppressed.first?.contains("\"uname\":\"30\"") ?? false, suppressed.first ?? "")
    }

    func test_aSupervisorKilledWith9LeavesCgroupsTheNextOneRemoves() {
        let h = SupervisorHarness()
        h.startOneJail("cgleak", "exec sleep 1000", extra: "pids_max = 16")
        let first = h.pid
        func leftovers() -> [String] {
            lines(Process.run(["/usr/bin/find", "/sys/fs/cgroup", "-maxdepth", "4", "-type", "d", "-name", "pit-cgleak-\(first)"]).stdout)
        }
        XCTAssertFalse(leftovers().isEmpty, "the jail's cgroup exists while it runs")
        // Should the next supervisor not remove them, the test does: no dead Pit's cgroup stays on the machine.
        defer { leftovers().forEach { rmdir($0) } }
        kill(first, SIGKILL)
        var status: Int32 = 0
        waitpid(first, &status, 0)
        // The jail dies with its Pit (death signal); its cgroup directory stays behind.
        XCTAssertTrue(waitUntil(5) { !leftovers().isEmpty && (readText(leftovers()[0] + "/cgroup.procs") ?? "x").isEmpty }, "\(leftovers())")
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("cgleak")?.state == "running" }, h.log)
        XCTAssertEqual(leftovers(), [], "the next supervisor removed the dead one's cgroup")
        XCTAssertTrue(h.log.contains("jail cgroups a previous Pit left"), h.log)
        _ = h.stop()
    }

    func test_controlSocketStopsAndStartsAJailAndRefusesNonRoot() {
        let h = SupervisorHarness()
        h.startOneJail("svc", "exec sleep 1000", entry: "stop_grace_s = 1")
        _ = h.request("stop svc")
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "stopped" }, h.log)
        _ = h.request("start svc")
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)

        // Even with the directory and socket opened up, a non-root peer is refused by SO_PEERCRED.
        chmod(h.dir.path + "/run", 0o755)
        chmod(h.socket, 0o666)
        // A copy nobody can execute (the build directory may sit under a private temporary directory).
        _ = Process.run(["/bin/cp", Pit.executable, h.dir.path + "/pit"])
        chmod(h.dir.path + "/pit", 0o755)
        let denied = Process.run(["/usr/sbin/runuser", "-u", "nobody", "--", h.dir.path + "/pit", "status", "--json", "--socket", h.socket])
        XCTAssertTrue(denied.stdout.contains("serves root only"), denied.stdout + denied.stderr)
        XCTAssertFalse(denied.stdout.contains("\"jails\""))
        _ = h.stop()
    }

    func test_invalidConfigIsRejectedBeforeAnythingStarts() {
        let h = SupervisorHarness()
        h.writeJail("svc", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            ready_tcp = 70000
            """)
        let r = Process.run([Pit.executable, "supervise", "--config", h.dir.path + "/device.toml"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("device.toml:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ready_tcp"), r.stderr)
    }
}

final class SafeModeTests: XCTestCase {
    func test_safeModeStartsNoJailsUntilCleared() {
        let h = SupervisorHarness()
        h.writeJail("svc", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            """)
        // Three consecutive watchdog resets were counted before this boot, and safe mode latched.
        h.dir.write("data/watchdog-boots", "consecutive_watchdog_resets=3\nsafe_mode=1\n")
        h.start()
        usleep(500_000)
        let status = h.statusOrNil()
        XCTAssertEqual(status?.safe_mode, true)
        XCTAssertEqual(status?.jails.first?.state, "waiting")
        XCTAssertNil(status?.jails.first?.pid)
        XCTAssertEqual(status?.leds.pattern, "safe_mode")
        XCTAssertEqual(status?.watchdog.health, "healthy", "jails are not required in safe mode, so the board does not keep resetting")
        XCTAssertTrue(h.log.contains("safe_mode"), h.log)
        // Health is "healthy" in safe mode (so the board stops resetting), but the device is not well: `pit status`
        // says so with its exit status.
        let inSafeMode = Process.run([Pit.executable, "status", "--socket", h.socket])
        XCTAssertEqual(inSafeMode.status, 1, inSafeMode.stdout)
        XCTAssertTrue(inSafeMode.stderr.contains("not healthy: safe mode"), inSafeMode.stderr)

        _ = Process.run([Pit.executable, "clear-safe-mode", "--socket", h.socket])
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        XCTAssertEqual(Process.run([Pit.executable, "status", "--socket", h.socket]).status, 0, "well again")
        XCTAssertEqual(h.statusOrNil()?.safe_mode, false)
        // This boot stays recorded (boot_id): a Pit that init respawns now does not count it again.
        let bootID = readText("/proc/sys/kernel/random/boot_id")?.split(separator: "\n").first.map(String.init) ?? "?"
        XCTAssertEqual(readText(h.dir.path + "/data/watchdog-boots"), "consecutive_watchdog_resets=0\nsafe_mode=0\nboot_id=\(bootID)\n")
        _ = h.stop()
    }
}

final class StandardInputTests: XCTestCase {
    /// Whatever Pit's stdin is (the console under init, here a pipe with a secret in it), jails read
    /// /dev/null: nothing typed on the console reaches a jail.
    func test_jailsDoNotInheritTheSupervisorsStandardInput() {
        let h = readerHarness("cat > /shared/read; echo done > /shared/done; exec sleep 1000")
        // A here-document (a pipe in dash), and `exec` so the supervisor is the harness's process (in a
        // pipeline it would be a subshell's child, outliving the test's stop).
        h.start(prefix: ["/bin/sh", "-c", "exec \"$@\" <<EOF\npin 4321\nEOF", "sh"])
        XCTAssertTrue(waitUntil(5) { h.shared("done") != nil }, "the jail's cat did not see EOF at once: \(h.log)")
        XCTAssertEqual(h.shared("read"), "", "the jail read the supervisor's stdin")
        _ = h.stop()
    }

    /// With Pit's stdin closed, /dev/null opens as fd 0 itself: it must still be the jails' stdin.
    func test_jailsGetDevNullAsStandardInputWhenTheSupervisorHasNone() {
        let h = readerHarness("readlink /proc/self/fd/0 > /shared/stdin; exec sleep 1000")
        h.start(prefix: ["/bin/sh", "-c", "exec \"$@\" <&-", "sh"])
        // The shell creates the file before readlink writes into it: wait for the whole line, not the file.
        XCTAssertTrue(waitUntil(5) { h.shared("stdin")?.hasSuffix("\n") == true }, h.log)
        XCTAssertEqual(h.shared("stdin"), "/dev/null\n")
        _ = h.stop()
    }

    /// A supervisor harness with one jail, "reader", running `script`.
    private func readerHarness(_ script: String) -> SupervisorHarness {
        let h = SupervisorHarness()
        h.writeJail("reader", script)
        h.writeConfig("""
            [[jails]]
            name = "reader"
            spec = "reader.toml"
            stop_grace_s = 1
            """)
        return h
    }
}

final class OrphanTests: XCTestCase {
    /// As a child subreaper, the supervisor inherits processes whose parent died below it and reaps them: no
    /// zombie stays behind. The orphan is made for real: a child of the supervisor's process (started by the
    /// shell that execs `pit supervise`) waits until the supervisor is up, starts a grandchild and exits.
    func test_orphansAreReparentedToTheSupervisorAndReaped() {
        let h = SupervisorHarness()
        h.writeJail("svc", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            """)
        let orphanPidFile = h.dir.path + "/orphan.pid"
        // $0: the control socket (up means the subreaper is set), $1: where the grandchild's pid goes. `exec`
        // runs the supervisor in the shell's process, so the background subshell is the supervisor's child.
        let script = "(while [ ! -S \"$0\" ]; do sleep 0.05; done; sleep 2 & echo $! > \"$1\") & shift; exec \"$@\""
        h.start(prefix: ["/bin/sh", "-c", script, h.socket, orphanPidFile])
        var orphan: pid_t = 0
        XCTAssertTrue(waitUntil(5) { orphan = pid_t((readText(orphanPidFile) ?? "").filter(\.isNumber)) ?? 0; return orphan > 0 }, h.log)
        // While it runs, its parent (the subshell) is gone and the supervisor adopted it.
        let stat = readText("/proc/\(orphan)/stat") ?? ""
        let afterName = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        XCTAssertEqual(afterName.count > 1 ? pid_t(afterName[1]) : nil, h.pid, "ppid of the orphan: \(stat)")
        // When it exits it is reaped (no zombie) and counted, with the subshell that left it.
        XCTAssertTrue(waitUntil(6) { readText("/proc/\(orphan)/stat") == nil }, "zombie: \(readText("/proc/\(orphan)/stat") ?? "")")
        XCTAssertEqual(h.statusOrNil()?.orphans_reaped, 2)
        XCTAssertEqual(h.jail("svc")?.state, "running", "reaping orphans leaves the jails alone")
        _ = h.stop()
    }
}

/// utime + stime of a process in clock ticks, from /proc/PID/stat.
func cpuTicks(_ pid: pid_t) -> Int {
    let stat = readText("/proc/\(pid)/stat") ?? ""
    let fields = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
    // After the comm: state is field 3; utime and stime are fields 14 and 15 (index 11 and 12 here).
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return 0 }
    return user + system
}
