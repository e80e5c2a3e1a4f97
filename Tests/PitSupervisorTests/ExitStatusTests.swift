import PitTestSupport
import Glibc
import PitSupervisor
import PitUplink
import XCTest

/// README's exit-status table, one case per row, each through the real `pit` executable.
final class ExitStatusTests: XCTestCase {
    func test_pitRunSaysWhetherPitOrTheCommandFailed() {
        XCTAssertEqual(Pit.run(["--", "/bin/sh", "-c", "exit 3"]).status, 3, "the command's own status")
        // The command is the jail's PID 1, which ignores signals from inside: killed from outside, by the time limit.
        XCTAssertEqual(Pit.run(["--time-limit", "1", "--", "/bin/sleep", "10"]).status, 128 + SIGKILL, "killed by a signal")
        let usage = Pit.run(["--no-such-option", "--", "/bin/true"])
        XCTAssertEqual(usage.status, 125, usage.stderr)
        let setup = Pit.run(["--rlimit", "nofiles=3", "--", "/bin/true"])
        XCTAssertEqual(setup.status, 125, setup.stderr)
        let notExecutable = Pit.run(["--", "/dev/null"])
        XCTAssertEqual(notExecutable.status, 126, notExecutable.stderr)
        let missing = Pit.run(["--", "/no/such/program"])
        XCTAssertEqual(missing.status, 127, missing.stderr)
        let notInPath = Pit.run(["--", "no-such-program-anywhere"])
        XCTAssertEqual(notInPath.status, 127, notInPath.stderr)
    }

    func test_otherCommandsUseOneTable() {
        let version = Process.run([Pit.executable, "--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix(changelogRelease() ?? "?"), "\(version.stdout) vs CHANGELOG.md")
        for usage in [["events", "--no-such-option"], ["status", "--no-such-option"], ["supervise", "--no-such-option"],
                      ["restart"], ["events", "--last", "-1"], ["events", "--data-dir", "/x", "--config", "/y"]] {
            let r = Process.run([Pit.executable] + usage)
            XCTAssertEqual(r.status, 64, "\(usage): \(r.stderr)")
        }
        let unreachable = Process.run([Pit.executable, "status", "--socket", "/nonexistent/control.sock"])
        XCTAssertEqual(unreachable.status, 69, unreachable.stderr)
        let dir = ScratchDirectory()
        dir.write("bad.toml", "data_dir = 3\n")
        let invalid = Process.run([Pit.executable, "supervise", "--check", "--config", dir.path + "/bad.toml"])
        XCTAssertEqual(invalid.status, 1, invalid.stderr)
        XCTAssertTrue(invalid.stderr.contains("bad.toml:1"), invalid.stderr)
    }

    func test_statusIsNonZeroWhenNotHealthyAndControlRepliesArePlain() {
        let h = SupervisorHarness()
        h.startOneJail("svc", "exec sleep 1000")
        let healthy = Process.run([Pit.executable, "status", "--socket", h.socket])
        XCTAssertEqual(healthy.status, 0, healthy.stdout + healthy.stderr)
        XCTAssertTrue(healthy.stdout.contains("pit \(changelogRelease() ?? "?")"), healthy.stdout)

        // The socket found through the config, as an operator on the box would ask.
        let byConfig = Process.run([Pit.executable, "restart", "nosuch", "--config", h.dir.path + "/device.toml"])
        XCTAssertEqual(byConfig.status, 1)
        XCTAssertEqual(byConfig.stderr, "pit restart nosuch: no such jail\n")

        // A jail that cannot stay up: crash loop, status says so and exits 1.
        // Not required: health stays "healthy", but a crash-looping service is still bad news.
        h.writeJail("svc", "exit 1")
        h.writeConfig("[[jails]]\nname = \"svc\"\nspec = \"svc.toml\"\nrequired = false\nrestart_delay_ms = 50\ncrash_loop_exits = 2\ncrash_loop_window_s = 60\n")
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(10) { h.jail("svc")?.state == "crash_loop" }, h.log)
        let looping = Process.run([Pit.executable, "status", "--socket", h.socket])
        XCTAssertEqual(looping.status, 1, looping.stdout)
        XCTAssertTrue(looping.stderr.contains("jail svc crash_loop"), looping.stderr)
        let json = Process.run([Pit.executable, "status", "--json", "--socket", h.socket])
        XCTAssertEqual(json.status, 1)
        XCTAssertEqual(json.stderr, "", "--json prints the JSON alone")
        // Every stored event says which Pit made it.
        let version = Process.run([Pit.executable, "--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let events = h.events([.serviceExit, .crashLoop])
        XCTAssertFalse(events.isEmpty)
        XCTAssertTrue(events.allSatisfy { $0.pitVersion == version }, "\(events.map(\.pitVersion)) vs \(version)")
        _ = h.stop()
    }

    /// `pit stop` returns once the jail has ended, as systemctl stop does; --no-block only asks.
    func test_stopWaitsForTheJailToEnd() {
        let h = SupervisorHarness()
        h.startOneJail("svc", "trap '' TERM; while :; do sleep 0.1; done", entry: "stop_grace_s = 1")
        let stopped = Process.run([Pit.executable, "stop", "svc", "--socket", h.socket])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        XCTAssertEqual(h.jail("svc")?.state, "stopped", "returned before the jail ended")
        XCTAssertEqual(Process.run([Pit.executable, "start", "svc", "--socket", h.socket]).status, 0)
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        let asked = Process.run([Pit.executable, "stop", "svc", "--no-block", "--socket", h.socket])
        XCTAssertEqual(asked.status, 0, asked.stderr)
        XCTAssertEqual(h.jail("svc")?.state, "stopping", "--no-block waited")
        _ = h.stop()
    }

    func test_eventsFindTheDataDirectoryThroughTheConfigAndSayWhenThereAreNone() {
        let dir = ScratchDirectory()
        dir.write("device.toml", "data_dir = \"data\"\n")
        dir.makeDirectory("data/spool")
        let r = Process.run([Pit.executable, "events", "--config", dir.path + "/device.toml"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "-- no events in \(dir.path)/data/spool --\n")
        // No uplink: said in words, not as a missing state file.
        let uplink = Process.run([Pit.executable, "uplink", "status", "--config", dir.path + "/device.toml"])
        XCTAssertEqual(uplink.status, 0, uplink.stderr)
        XCTAssertTrue(uplink.stdout.hasPrefix("no [[uplink]] transports configured"), uplink.stdout)
    }

    /// CHANGELOG.md's newest release heading (`## 0.7.0 ...`): the number `pit --version` starts with.
    private func changelogRelease() -> String? {
        let root = URLPath.repositoryRoot(from: #filePath)
        return (readText(root + "/CHANGELOG.md") ?? "").split(separator: "\n")
            .first { $0.hasPrefix("## ") }
            .flatMap { $0.dropFirst(3).split(separator: " ").first.map(String.init) }
    }
}

private enum URLPath {
    static func repositoryRoot(from file: String) -> String {
        var parts = file.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // Tests/PitSupervisorTests/ExitStatusTests.swift
        return parts.joined(separator: "/")
    }
}
