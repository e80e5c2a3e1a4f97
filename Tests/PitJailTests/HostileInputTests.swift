import PitTestSupport
import Glibc
import XCTest

/// Every file Pit reads may be a FIFO, /dev/zero or a growing file (issue 18): each is one line and exit 125, at once.
final class HostileInputTests: XCTestCase {
    func test_specOrPolicyThatIsNotARegularFileIsOneLineAtOnce() throws {
        let dir = ScratchDirectory()
        let fifo = dir.path + "/spec.fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let cases: [([String], String)] = [
            (["--jail", "/dev/zero"], "/dev/zero: not a regular file (a character device)"),
            (["--jail", fifo], "\(fifo): not a regular file (a FIFO)"),
            (["--policy", "/dev/zero"], "--policy: /dev/zero: cannot read policy: not a regular file"),
            (["--policy", fifo], "--policy: \(fifo): cannot read policy: not a regular file"),
        ]
        for (options, message) in cases {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let r = Pit.run(options + ["--", "/bin/true"])
            clock_gettime(CLOCK_MONOTONIC, &end)
            XCTAssertEqual(r.status, 125, "\(options): \(r.stderr)")
            XCTAssertEqual(lines(r.stderr).count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), "\(options): \(r.stderr)")
            // Not a time-out: a FIFO without a writer or /dev/zero would block or grow for ever (bounded generously
            // here only so that a slow machine does not fail it; the old reader never returned).
            XCTAssertLessThan(end.tv_sec - start.tv_sec, 10)
        }
    }

    func test_specLargerThanTheCapIsRefused() {
        let dir = ScratchDirectory()
        let path = dir.write("huge.toml", "# " + String(repeating: "x", count: 2 << 20) + "\n")
        let r = Pit.run(["--jail", path, "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("larger than the 1 MiB a config may have"), r.stderr)
    }

    func test_aJailsNameForItselfReachesTheTerminalEscaped() {
        // comm is the jail's to choose: an escape sequence and a newline there must not reach the terminal raw.
        let r = Pit.run(["--seccomp-string", "POLICY a { REPORT { uname } } USE a DEFAULT ALLOW", "--",
                         "/usr/bin/perl", "-e", "$0 = qq(x\\e[2Jy\\nz); syscall(63, 0)"])
        XCTAssertFalse(r.stderr.contains("\u{1B}"), "raw ESC on the terminal: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("(x\\x1b[2Jy"), r.stderr)
        // Control: the name really was set with the escape in it (the kernel keeps 15 bytes of it).
        XCTAssertTrue(lines(r.stderr).filter { $0.contains("violation: uname(") }.count == 1, r.stderr)
    }

    func test_eventsRejectsANegativeCountInsteadOfTrapping() {
        let dir = ScratchDirectory()
        dir.makeDirectory("spool")
        let r = Process.run([Pit.executable, "events", "--last=-1", "--data-dir", dir.path])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--last must be 0 or more"), r.stderr)
    }
}
