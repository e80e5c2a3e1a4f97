import PitTestSupport
import Glibc
import XCTest

/// Errors before start, teardown, cgroup limits and escape attempts.
final class RunLifecycleTests: XCTestCase {
    func assertSetupError(_ arguments: [String], mentions needles: [String], status: Int32 = 125, file: StaticString = #filePath, line: UInt = #line) {
        let r = Pit.run(arguments)
        XCTAssertEqual(r.status, status, r.stderr, file: file, line: line)
        XCTAssertEqual(lines(r.stderr).count, 1, "one line: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.stdout, "", file: file, line: line)
        for needle in needles { XCTAssertTrue(r.stderr.contains(needle), "\(needle) in \(r.stderr)", file: file, line: line) }
    }

    func test_missingBindSourceNamesTheFlag() {
        assertSetupError(["--bind", "/nonexistent/src:/data", "--", "/bin/true"], mentions: ["--bind: /nonexistent/src: No such file or directory"])
    }

    func test_missingCommandIsASetupError() {
        assertSetupError(["--", "/bin/no-such-command"], mentions: ["exec: /bin/no-such-command: No such file or directory"], status: 127)
        assertSetupError(["--", "no-such-command"], mentions: ["exec: no-such-command", "not found in PATH inside the jail"], status: 127)
    }

    func test_stepFailingAfterTheListenerIsAnnouncedIsReportedAsItself() {
        // With a reporting policy the child announces its listener before its last steps; a step failing
        // after that must still be the error shown, not the parent's failed wait for the listener.
        let policy = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/policies/bench-90.policy"
        assertSetupError(["--policy", policy, "--cwd", "/no-such-dir", "--", "/bin/true"],
                         mentions: ["chdir: /no-such-dir: No such file or directory"])
    }

    func test_unknownUserAndGroupNameTheFlag() {
        assertSetupError(["--user", "no-such-user", "--", "/bin/true"], mentions: ["--user: no user 'no-such-user' in /etc/passwd"])
        assertSetupError(["--group", "no-such-group", "--", "/bin/true"], mentions: ["--group: no group 'no-such-group' in /etc/group"])
    }

    func test_unknownOptionAndMissingValue() {
        assertSetupError(["--chrot", "/", "--", "/bin/true"], mentions: ["unknown option --chrot"])
        assertSetupError(["--chroot"], mentions: ["--chroot: needs a value"])
        assertSetupError([], mentions: ["no command given"])
    }

    func test_malformedSpecFileNamesFileAndLine() {
        let dir = ScratchDirectory()
        dir.write("bad.toml", "name = \"x\"\ncommand = [\"/bin/true\"\nuser = 1\n")
        assertSetupError(["--jail", dir.path + "/bad.toml"], mentions: [dir.path + "/bad.toml:"])
        dir.write("typo.toml", "name = \"x\"\ncommand = [\"/bin/true\"]\nusr = \"nobody\"\n")
        assertSetupError(["--jail", dir.path + "/typo.toml"], mentions: [dir.path + "/typo.toml:3:", "usr", "did you mean 'user'"])
        dir.write("missing.toml", "command = [\"/bin/true\"]\nbinds = [\"/usr\", \"/nonexistent\"]\n")
        assertSetupError(["--jail", dir.path + "/missing.toml"], mentions: [dir.path + "/missing.toml:2:", "binds[1]", "/nonexistent: No such file or directory"])
    }

    func test_specFileSettingsApplyAndCommandLineOverridesThem() {
        let dir = ScratchDirectory()
        dir.write("spec.toml", """
            name = "demo"
            command = ["/bin/sh", "-c", "id -u; echo $MODE; ulimit -n"]
            user = 4242
            env = ["MODE=file"]
            [rlimits]
            nofile = 33
            """)
        let fromFile = Pit.run(["--jail", dir.path + "/spec.toml"])
        XCTAssertEqual(lines(fromFile.stdout), ["4242", "file", "33"], fromFile.stderr)
        let overridden = Pit.run(["--jail", dir.path + "/spec.toml", "--user", "4343", "--env", "MODE=cli"])
        XCTAssertEqual(lines(overridden.stdout), ["4343", "cli", "33"], overridden.stderr)
    }

    func test_waitingPitHoldsLittleOfItsText() throws {
        // Once the command has run a while, pit run drops its start-up text (jail engine, parsers): while it waits, the
        // executable's text mapping keeps only the pages its wait loop touches (it was ~2 MB resident without).
        let child = Process.spawn([Pit.executable, "run", "--", "/bin/sleep", "600"])
        defer { kill(child.pid, SIGKILL); _ = Process.wait(child.pid); close(child.stdout); close(child.stderr) }
        var running = false
        for _ in 0..<200 where !running {
            if let text = readText("/proc/\(child.pid)/task/\(child.pid)/children"), let pid = Int32(text.split(separator: " ").first ?? "") {
                running = readText("/proc/\(pid)/comm") == "sleep\n"
            }
            if !running { usleep(10_000) }
        }
        XCTAssertTrue(running)
        usleep(400_000)   // pit drops its text once the command has run 100 ms
        let smaps = readText("/proc/\(child.pid)/smaps") ?? ""
        var inText = false
        var textRss: Int?
        for line in smaps.split(separator: "\n") {
            if line.contains(" r-xp ") { inText = line.hasSuffix("/pit") }
            if inText, line.hasPrefix("Rss:") {
                textRss = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
                break
            }
        }
        let kib = try XCTUnwrap(textRss, "no text mapping of pit in smaps")
        XCTAssertLessThan(kib, 1024, "resident text of a waiting pit run: \(kib) kB")
    }

    func test_sigkillOfPitTakesTheJailDown() throws {
        let child = Process.spawn([Pit.executable, "run", "--", "/bin/sleep", "600"])
        // Wait for the jail's init (pit's only child) to exist.
        var jailPid: pid_t = 0
        for _ in 0..<200 {
            if let text = readText("/proc/\(child.pid)/task/\(child.pid)/children"), let pid = Int32(text.split(separator: " ").first ?? "") {
                jailPid = pid
                if readText("/proc/\(pid)/comm") == "sleep\n" { break }
            }
            usleep(10_000)
        }
        XCTAssertGreaterThan(jailPid, 0)
        XCTAssertEqual(readText("/proc/\(jailPid)/comm"), "sleep\n")
        kill(child.pid, SIGKILL)
        _ = Process.wait(child.pid)
        var gone = false
        for _ in 0..<300 where !gone {
            gone = kill(jailPid, 0) != 0
            if !gone { usleep(10_000) }
        }
        XCTAssertTrue(gone, "jail pid \(jailPid) survived pit's SIGKILL")
        close(child.stdout); close(child.stderr)
    }

    func test_memoryHogIsStoppedByTheMemoryLimit() {
        // tail keeps the whole "line" of /dev/zero in memory: it grows until something stops it.
        let r = Pit.run(["--memory-max", "32M", "--time-limit", "60", "--name", "hog", "--", "/usr/bin/tail", "/dev/zero"])
        XCTAssertEqual(r.status, 128 + SIGKILL, r.stderr)
        XCTAssertFalse(r.stderr.contains("time limit"), "the OOM killer, not the time limit, must stop it: \(r.stderr)")
        XCTAssertTrue(cgroupDirectories(named: "pit-hog-").isEmpty, "\(cgroupDirectories(named: "pit-hog-"))")
    }

    func test_forkBombIsContainedByThePidsLimit() {
        let child = Process.spawn([Pit.executable, "run", "--pids-max", "16", "--time-limit", "3", "--name", "bomb", "--",
                                   "/usr/bin/perl", "-e", "while (1) { fork }"])   // every process forks forever; a failed fork is not fatal
        var peak = 0
        var directory: String?
        var machineCanFork = true
        for _ in 0..<25 {
            usleep(100_000)
            directory = directory ?? cgroupDirectories(named: "pit-bomb-\(child.pid)").first
            if let directory, let current = readText(directory + "/pids.current").flatMap({ Int($0.filter(\.isNumber)) }) {
                peak = max(peak, current)
            }
            machineCanFork = machineCanFork && Process.run(["/bin/true"]).status == 0
        }
        let (_, err) = Process.drain(child.stdout, child.stderr)
        let status = Process.wait(child.pid)
        XCTAssertNotNil(directory, "the jail's pids cgroup was never seen")
        XCTAssertGreaterThan(peak, 8, "the bomb did not run")
        XCTAssertLessThanOrEqual(peak, 16)
        XCTAssertTrue(machineCanFork)
        XCTAssertEqual(status, 137, err)
        XCTAssertTrue(err.contains("time limit"), err)
        XCTAssertTrue(cgroupDirectories(named: "pit-bomb-\(child.pid)").isEmpty, "cgroup left behind")
    }

    func test_cpuLimitIsWrittenToTheCgroup() {
        let child = Process.spawn([Pit.executable, "run", "--cpu-max", "25", "--name", "cpuq", "--", "/bin/sh", "-c", "cat /proc/self/cgroup; sleep 2"])
        var quota: String?
        for _ in 0..<40 where quota == nil {
            usleep(50_000)
            if let directory = cgroupDirectories(named: "pit-cpuq-").first {
                // v1: cpu.cfs_quota_us; v2: cpu.max "quota period". 25% of one CPU = 25000 us per 100000 us.
                quota = readText(directory + "/cpu.cfs_quota_us") ?? readText(directory + "/cpu.max")
            }
        }
        let (out, err) = Process.drain(child.stdout, child.stderr)
        XCTAssertEqual(Process.wait(child.pid), 0, err)
        XCTAssertTrue(["25000\n", "25000 100000\n"].contains(quota ?? ""), "quota: \(quota ?? "no jail cgroup seen")")
        // Inside its cgroup namespace the jail sees itself at the root of its own cgroup.
        XCTAssertTrue(lines(out).contains { $0.hasSuffix(":cpu:/") || $0 == "0::/" }, out)
    }

    func test_tiocstiOnTheInheritedTerminalFails() {
        var master: Int32 = 0, slave: Int32 = 0
        XCTAssertEqual(openpty(&master, &slave, nil, nil, nil), 0)
        defer { close(master); close(slave) }
        let inject = "my $c = q(x); ioctl(STDIN, 0x5412, $c) or die qq(TIOCSTI: $!\\n); print qq(injected\\n)"
        // Control: outside a jail the same call works on this terminal (so the jail's refusal means something).
        let outside = Process.run(["/usr/bin/perl", "-e", inject], stdin: slave)
        XCTAssertEqual(outside.stdout, "injected\n", outside.stderr)
        let inside = Pit.run(["--", "/usr/bin/perl", "-e", inject], stdin: slave)
        XCTAssertNotEqual(inside.status, 0)
        XCTAssertTrue(inside.stderr.contains("TIOCSTI: Operation not permitted"), inside.stderr)
    }

    func test_symlinkPlantedInWritableBindCannotRedirectAMount() {
        let dir = ScratchDirectory()
        symlink("/etc", dir.path + "/link")
        let r = Pit.run(["--bind-rw", "\(dir.path):/data", "--bind", "/usr/share:/data/link", "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("mountpoint: /data/link"), r.stderr)
    }

    func test_nothingIsLeftBehindAfterASetupError() {
        let r = Pit.run(["--pids-max", "10", "--name", "fails", "--", "/bin/no-such-command"])
        XCTAssertEqual(r.status, 127, r.stderr)
        XCTAssertEqual(cgroupDirectories(named: "pit-fails-"), [])
    }

    func test_nothingOfPitOutlivesItsExitForLong() throws {
        // pit run leaves the jail's mount namespace, its seccomp listener and its own address space to a helper
        // that waits for pit's exit. That helper once waited on getppid(): when it ran after pit had exited, that named its adopter,
        // and it waited forever (half of all launches left a process and a mount namespace behind).
        let marker = "outlive\(getpid())"
        for _ in 0..<12 {
            XCTAssertEqual(Pit.run(["--name", marker, "--", "/bin/true"]).status, 0)
        }
        var left: [String] = []
        for _ in 0..<100 {
            left = lines(Process.run(["/usr/bin/pgrep", "-f", "--", "--name \(marker) "]).stdout)
            if left.isEmpty { break }
            usleep(20_000)
        }
        XCTAssertEqual(left, [], "processes of pit still running 2 s after it exited")
    }

    // MARK: - helpers


    /// Jail cgroups (pit-NAME-PID) anywhere under /sys/fs/cgroup, found with find(1).
    func cgroupDirectories(named prefix: String) -> [String] {
        let r = Process.run(["/usr/bin/find", "/sys/fs/cgroup", "-maxdepth", "6", "-type", "d", "-name", prefix + "*"])
        return lines(r.stdout)
    }
}
