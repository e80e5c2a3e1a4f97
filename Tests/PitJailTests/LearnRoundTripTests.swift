import PitTestSupport
import Glibc
import XCTest

/// The article's workflow end to end: record a real program (perf's raw_syscalls:sys_enter, or strace -f),
/// learn a policy with `pit policy learn`, run the program jailed under it, then drop one syscall it needs
/// and see that call stopped and reported.
final class LearnRoundTripTests: XCTestCase {
    static let program = ["/bin/sh", "-c", "ls -l / > /dev/null; cat /proc/self/status > /dev/null; echo learned"]

    func test_straceRecordingLearnsAPolicyThatRunsTheProgram() throws {
        let dir = ScratchDirectory()
        let record = Process.run(["/usr/bin/strace", "-f", "-qq", "-o", dir.path + "/rec.strace", "--"] + Self.program)
        try XCTSkipIf(record.status != 0 && record.stderr.contains("ptrace"), "strace cannot trace here: \(record.stderr)")
        XCTAssertEqual(record.status, 0, record.stderr)
        try roundTrip(dir: dir, format: "strace", recording: dir.path + "/rec.strace")
    }

    func test_perfRecordingLearnsAPolicyThatRunsTheProgram() throws {
        let dir = ScratchDirectory()
        let record = Process.run(["/usr/bin/perf", "record", "-q", "-e", "raw_syscalls:sys_enter", "-o", dir.path + "/perf.data", "--"] + Self.program)
        try XCTSkipIf(record.status != 0, "perf cannot record raw_syscalls here: \(record.stderr)")
        let script = Process.run(["/usr/bin/perf", "script", "-i", dir.path + "/perf.data"])
        XCTAssertEqual(script.status, 0, script.stderr)
        dir.write("rec.perf", script.stdout)
        XCTAssertTrue(script.stdout.contains("raw_syscalls:sys_enter: NR "), String(script.stdout.prefix(300)))
        try roundTrip(dir: dir, format: "perf", recording: dir.path + "/rec.perf")
    }

    private func roundTrip(dir: ScratchDirectory, format: String, recording: String) throws {
        let policy = dir.path + "/learned.policy"
        let learn = Process.run([Pit.executable, "policy", "learn", "--format", format, "-o", policy, recording])
        XCTAssertEqual(learn.status, 0, learn.stderr)
        XCTAssertTrue(learn.stderr.range(of: #"^learned \d+ syscalls from \d+ calls in 1 recording\(s\).*: "#, options: .regularExpression) != nil,
                      "says what it learned: \(learn.stderr)")
        let text = readText(policy) ?? ""
        XCTAssertTrue(text.contains("execve"), "the exec into the jail is accounted for: \(text)")
        XCTAssertTrue(text.contains("getdents64"), text)

        // Jailed under the learned policy: runs to the end, nothing reported.
        let jailed = Pit.run(["--chroot", "/", "--policy", policy, "--"] + Self.program)
        XCTAssertEqual(jailed.stdout, "learned\n", jailed.stderr)
        XCTAssertEqual(jailed.status, 0, jailed.stderr)
        XCTAssertFalse(jailed.stderr.contains("violation"), jailed.stderr)

        // Drop getdents64 (ls reads / with it): ls is stopped and the call reported; the shell goes on.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let trimmed = lines.map { line in
            line.replacingAll("getdents64,", "").replacingAll(", getdents64", "").replacingAll("getdents64", "")
        }.joined(separator: "\n")
        XCTAssertNotEqual(trimmed, text)
        dir.write("trimmed.policy", trimmed)
        let stopped = Pit.run(["--chroot", "/", "--policy", dir.path + "/trimmed.policy", "--"] + Self.program)
        XCTAssertTrue(stopped.stderr.contains("violation: getdents64("), stopped.stderr)
        XCTAssertTrue(stopped.stderr.contains("(ls, /usr/bin/ls): kill"), stopped.stderr)
        XCTAssertEqual(stopped.stdout, "learned\n", "the shell itself needs no getdents64: \(stopped.stderr)")
    }
}

