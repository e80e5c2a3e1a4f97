import PitTestSupport
import Glibc
import XCTest

/// Every file Pit reads may be a FIFO, /dev/zero or a growing file (issue 18): each is one line and exit 2, at once.
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
            XCTAssertEqual(r.status, 2, "\(options): \(r.stderr)")
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
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("larger than the 1 MiB a config may have"), r.stderr)
    }
}
