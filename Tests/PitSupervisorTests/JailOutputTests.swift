import PitTestSupport
import FoundationEssentials
import Glibc
import PitSupervisor
import XCTest

/// The supervisor survives its jails' output: a jail's stdout and stderr go to a ring the loop drains, never to
/// the supervisor's terminal or log; the supervisor's own log lines never make the loop wait for their reader.
final class JailOutputTests: XCTestCase {
    /// A pipe standing for a terminal or log reader that never reads: its write end becomes the supervisor's
    /// stderr (opened through /proc, a blocking open file description of its own), the test never reads it.
    final class UnreadPipe {
        let readEnd: Int32
        let writeEnd: Int32
        init() {
            var ends: [Int32] = [0, 0]
            precondition(pipe(&ends) == 0)
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            (readEnd, writeEnd) = (ends[0], ends[1])
        }
        var path: String { "/proc/\(getpid())/fd/\(writeEnd)" }
        /// Fills the pipe to the brim (nonblocking on the test's own open file description only).
        func fill() {
            _ = fcntl(writeEnd, F_SETFL, O_NONBLOCK)
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
            while chunk.withUnsafeBytes({ write(writeEnd, $0.baseAddress, $0.count) }) > 0 {}
        }
        /// Everything in the pipe now (nonblocking).
        func drain() -> String {
            _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
            var text: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                if n <= 0 { break }
                text += buffer[0..<n]
            }
            return String(decoding: text, as: UTF8.self)
        }
        deinit { close(readEnd); close(writeEnd) }
    }

    /// `pit status --json` with a deadline (a supervisor whose loop is stuck accepts the connection and never
    /// answers), and how long it took.
    func timedStatus(_ h: SupervisorHarness, seconds: Int = 3) -> (SupervisorStatus?, Double) {
        let start = monotonicSeconds()
        let r = Process.run(["/usr/bin/timeout", String(seconds), Pit.executable, "status", "--json", "--socket", h.socket])
        return (try? JSONDecoder().decode(SupervisorStatus.self, from: Data(r.stdout.utf8)), monotonicSeconds() - start)
    }

    /// `pit ARGS --socket` with a deadline, like `timedStatus`.
    func request(_ h: SupervisorHarness, _ arguments: [String], seconds: Int = 3) -> Captured {
        Process.run(["/usr/bin/timeout", String(seconds), Pit.executable] + arguments + ["--socket", h.socket])
    }

    /// SIGTERM, and SIGKILL after 5 s: a supervisor stuck in a write never reads its signalfd again.
    func stop(_ h: SupervisorHarness) {
        guard h.pid > 0 else { return }
        kill(h.pid, SIGTERM)
        var status: Int32 = 0
        if !waitUntil(5, { waitpid(h.pid, &status, WNOHANG) == h.pid }) {
            kill(h.pid, SIGKILL)
            _ = Process.wait(h.pid)
        }
        h.pid = 0
        if h.feedReader > 0 { kill(h.feedReader, SIGKILL); _ = Process.wait(h.feedReader); h.feedReader = 0 }
    }

    func startSupervisor(_ h: SupervisorHarness, stderr: UnreadPipe) {
        unlink(h.dir.path + "/watchdog")
        mkfifo(h.dir.path + "/watchdog", 0o600)
        h.feedReader = spawnDetached(["/usr/bin/perl", "-MTime::HiRes=time", "-e",
                                      "open(my $f, '<', $ARGV[0]) or die; open(my $o, '>', $ARGV[1]) or die; $o->autoflush(1); while (sysread($f, my $b, 1)) { printf $o \"%.3f\\n\", time }",
                                      h.dir.path + "/watchdog", h.feedsPath])
        h.pid = spawnDetached([Pit.executable, "supervise", "--config", h.dir.path + "/device.toml"], stderrPath: stderr.path)
    }

    /// Two jails: "flood" writes as fast as it can to stdout and stderr; "probe" makes a reported syscall five
    /// times a second, so the supervisor has violations to answer and lines to log all along. The supervisor's
    /// stderr is a pipe nobody reads. Its loop must go on: status answers at once, the watchdog is fed on time,
    /// each violation is answered, and the flood goes round the jail's 64 KiB ring (the supervisor's memory
    /// stays put). Before, the flood filled the supervisor's stderr and its next log line blocked the loop.
    func test_aJailFloodingStdoutNeverBlocksTheLoopNorGrowsTheSupervisor() {
        let h = SupervisorHarness()
        let stderr = UnreadPipe()
        h.writeJail("flood", "yes stderr-flood >&2 & exec yes stdout-flood")
        h.writeJail("probe", "while :; do uname >/dev/null 2>&1; sleep 0.2; done")
        h.dir.write("probe.policy", "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW\n")
        h.writeConfig("""
            [[jails]]
            name = "flood"
            spec = "flood.toml"
            stop_grace_s = 1
            [[jails]]
            name = "probe"
            spec = "probe.toml"
            policy = "probe.policy"
            stop_grace_s = 1
            """, watchdogTimeout: 2)
        startSupervisor(h, stderr: stderr)
        XCTAssertTrue(waitUntil(5) { self.timedStatus(h).0?.jails.first { $0.name == "probe" }?.violations ?? 0 > 0 })
        let feedsBefore = h.feeds().count
        let (ticksBefore, clockBefore) = (cpuTicks(h.pid), monotonicSeconds())
        var latencies: [Double] = [], violations: [Int] = []
        for _ in 0..<6 {
            usleep(500_000)
            let (status, seconds) = timedStatus(h)
            XCTAssertNotNil(status, "status did not answer within 3 s while a jail floods")
            latencies.append(seconds)
            violations.append(status?.jails.first { $0.name == "probe" }?.violations ?? -1)
        }
        // The flood is read at most 1 MiB/s: it costs the supervisor little CPU (unthrottled: 40% of a core).
        let busy = Double(cpuTicks(h.pid) - ticksBefore) / 100 / (monotonicSeconds() - clockBefore)
        XCTAssertLessThan(busy, 0.25, "the supervisor's share of a CPU under the flood")
        XCTAssertTrue(latencies.allSatisfy { $0 < 1.0 }, "status latencies under the flood: \(latencies)")
        XCTAssertGreaterThan(violations.last ?? 0, violations.first ?? 0, "violations stopped being answered: \(violations)")
        let feeds = h.feeds().suffix(from: feedsBefore)
        XCTAssertGreaterThanOrEqual(feeds.count, 2, "the watchdog was not fed under the flood")
        let gaps = zip(feeds.dropFirst(), feeds).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 < 1.6 }, "feed gaps (timeout 2 s, fed every 1 s): \(gaps)")

        let flood = timedStatus(h).0?.jails.first { $0.name == "flood" }
        XCTAssertLessThanOrEqual(flood?.log_bytes ?? Int.max, (flood?.log_capacity ?? 0) + 4096)
        XCTAssertGreaterThan(flood?.log_dropped_bytes ?? 0, 1 << 20, "the flood did not go through the ring")
        let rssKiB = residentKiB(h.pid)
        print("supervisor under a flood: \(rssKiB) KiB RSS, \(Int(busy * 100))% CPU; dropped \(flood?.log_dropped_bytes ?? 0) bytes; status latencies \(latencies)")
        XCTAssertLessThan(rssKiB, 64 * 1024, "the supervisor grew under the flood")
        // Nothing of the flood reached the supervisor's own log.
        let own = stderr.drain()
        XCTAssertFalse(own.contains("stdout-flood") || own.contains("stderr-flood"), "the jail's output reached the supervisor's log")
        stop(h)
    }

    /// stdin is /dev/null and stdout/stderr one pipe, never the supervisor's own (here its log file): a jail
    /// cannot write into the supervisor's log or reach its terminal.
    func test_aJailsStandardStreamsAreDevNullAndAPipeNotTheSupervisors() {
        let h = SupervisorHarness()
        // The shell's own fds, read before any redirection of its own (a command substitution leaves them alone).
        h.startOneJail("fds", "fds=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2); echo \"$fds\" > /shared/fds; cat; echo eof > /shared/eof; exec sleep 1000",
                       entry: "stop_grace_s = 1")
        XCTAssertTrue(waitUntil(5) { h.shared("eof") != nil && lines(h.shared("fds") ?? "").count == 3 }, h.log)
        let fds = lines(h.shared("fds") ?? "")
        XCTAssertEqual(fds.first, "/dev/null")
        XCTAssertTrue(fds.count == 3 && fds[1].hasPrefix("pipe:") && fds[1] == fds[2], "\(fds)")
        stop(h)
    }

    /// Started with stdout and stderr closed (`>&- 2>&-`), the supervisor holds fds 0-2 with /dev/null before it
    /// opens anything: otherwise its spool's files took those numbers and its log lines were written into them.
    func test_aSupervisorStartedWithoutStdoutAndStderrWritesNoLogLineIntoItsFiles() {
        let h = SupervisorHarness()
        h.writeJail("svc", "echo hi; exec sleep 1000")
        h.writeConfig("[[jails]]\nname = \"svc\"\nspec = \"svc.toml\"\nstop_grace_s = 1\n")
        h.start(prefix: ["/bin/sh", "-c", "exec \"$@\" >&- 2>&-", "sh"])
        XCTAssertTrue(waitUntil(5) { self.request(h, ["logs", "svc"]).stdout == "hi\n" })
        XCTAssertEqual(request(h, ["restart", "svc"]).status, 0)
        XCTAssertTrue(waitUntil(5) { h.events([.serviceExit]).count == 1 })
        stop(h)
        let found = Process.run(["/bin/grep", "-r", "-l", "-a", "pit: ", h.dir.path + "/data"]).stdout
        XCTAssertEqual(found, "", "log lines written into the supervisor's own files")
        XCTAssertEqual(h.events([.spoolDamage]).count, 0)
    }

    /// A jail's lines also go to DATA/logs/NAME.log, escaped, at most 64 KiB a minute; a symlink planted in the
    /// file's place is replaced, not followed.
    func test_aJailsLinesGoToItsLogFileEscapedAndBoundedNeverThroughASymlink() {
        let h = SupervisorHarness()
        mkdir(h.dir.path + "/data/logs", 0o700)
        h.dir.write("target", "")
        symlink(h.dir.path + "/target", h.dir.path + "/data/logs/svc.log")
        h.startOneJail("svc", "printf 'evil\\033[2Jx\\n'; yes flood | head -c 300000; exec sleep 1000", entry: "stop_grace_s = 1")
        let file = h.dir.path + "/data/logs/svc.log"
        // A minute's budget, less at most one line that would have passed it.
        XCTAssertTrue(waitUntil(5) { (readText(file) ?? "").utf8.count >= 64 * 1024 - 4096 },
                      "\((readText(file) ?? "").utf8.count) bytes: " + Process.run(["/bin/ls", "-la", h.dir.path + "/data/logs", h.dir.path + "/data"]).stdout + h.log + request(h, ["logs", "svc"]).stdout.prefix(200))
        usleep(300_000)
        let text = readText(file) ?? ""
        XCTAssertTrue(text.hasPrefix("evil\\x1b[2Jx\nflood\n"), String(text.prefix(100)))
        XCTAssertLessThanOrEqual(text.utf8.count, 64 * 1024 + 4096, "more than a minute's budget")
        XCTAssertEqual(readText(h.dir.path + "/target"), "", "the symlink was followed")
        var info = stat()
        XCTAssertEqual(lstat(file, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        stop(h)
    }

    /// The file's budget is of what reaches the file: a flood of control bytes (four bytes each once escaped)
    /// writes no more than a minute's budget either, and what it skipped is counted.
    func test_aControlByteFloodStaysWithinTheFilesBudget() {
        let h = SupervisorHarness()
        h.startOneJail("svc", "head -c 400000 /dev/zero | tr '\\000' '\\001' | fold -w 100; exec sleep 1000", entry: "stop_grace_s = 1")
        let file = h.dir.path + "/data/logs/svc.log"
        XCTAssertTrue(waitUntil(5) { (readText(file) ?? "").utf8.count >= 32 * 1024 }, h.log)
        usleep(500_000)
        let text = readText(file) ?? ""
        XCTAssertTrue(text.hasPrefix("\\x01\\x01"), String(text.prefix(40)))
        XCTAssertLessThanOrEqual(text.utf8.count, 64 * 1024 + 4096, "escaping let the file pass its budget")
        stop(h)
    }

    /// `pit logs` shows what the jail wrote, escaped (an escape sequence and a carriage return that would
    /// forge a line on the terminal come out as \x1b and \x0d); --follow shows a line written later; an
    /// unknown jail is one line of error and a non-zero exit.
    func test_pitLogsShowsTheJailsLinesEscapedAndFollowsNewOnes() {
        let h = SupervisorHarness()
        h.startOneJail("talker", "echo first; printf 'evil\\033[2J\\rpit: forged\\n' >&2; sleep 1.5; echo later; exec sleep 1000",
                       entry: "stop_grace_s = 1")
        XCTAssertTrue(waitUntil(5) { request(h, ["logs", "talker"]).stdout.contains("forged") }, h.log)
        let shown = request(h, ["logs", "talker"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stdout.hasPrefix("first\nevil\\x1b[2J\\x0dpit: forged\n"), shown.stdout)
        XCTAssertFalse(shown.stdout.utf8.contains(0x1B))
        XCTAssertFalse(shown.stdout.contains("later"))
        let exact = request(h, ["logs", "talker", "--json"]).stdout
        XCTAssertEqual(lines(exact).compactMap { try? JSONDecoder().decode(String.self, from: Data($0.utf8)) },
                       ["first", "evil\u{1B}[2J\rpit: forged"], exact)

        let follow = Process.spawn([Pit.executable, "logs", "--follow", "talker", "--socket", h.socket])
        var followed: [UInt8] = []
        XCTAssertTrue(waitUntil(5) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = fcntl(follow.stdout, F_SETFL, O_NONBLOCK)
            let n = read(follow.stdout, &buffer, buffer.count)
            if n > 0 { followed += buffer[0..<n] }
            return String(decoding: followed, as: UTF8.self).contains("later\n")
        }, String(decoding: followed, as: UTF8.self))
        kill(follow.pid, SIGTERM)
        _ = Process.wait(follow.pid)
        close(follow.stdout); close(follow.stderr)

        let unknown = request(h, ["logs", "nosuch"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr, "pit logs: no such jail: nosuch\n")
        stop(h)
    }

    /// With stderr a full pipe nobody reads, the supervisor starts, answers a violation (the jail goes on),
    /// records it in the spool and answers status; its log lines wait in a bounded queue and come out once
    /// the pipe is read. Before, its first log line blocked it at start-up.
    func test_aFullUnreadStderrNeverBlocksTheLoop() {
        let h = SupervisorHarness()
        let stderr = UnreadPipe()
        stderr.fill()
        h.dir.write("probe.policy", "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW\n")
        h.writeJail("probe", "uname; echo after-uname; exec sleep 1000")
        h.writeConfig("[[jails]]\nname = \"probe\"\nspec = \"probe.toml\"\npolicy = \"probe.policy\"\nstop_grace_s = 1\n")
        startSupervisor(h, stderr: stderr)
        XCTAssertTrue(waitUntil(5) { self.timedStatus(h, seconds: 1).0?.jails.first?.violations == 1 }, "no status or no violation")
        XCTAssertTrue(waitUntil(3) { request(h, ["logs", "probe"]).stdout.contains("after-uname") }, "the violation was not answered")
        XCTAssertEqual(h.events([.violation]).count, 1, "the violation is not in the spool")
        let (status, seconds) = timedStatus(h)
        XCTAssertNotNil(status)
        XCTAssertLessThan(seconds, 1.0)
        // The reader comes back: the queued lines follow the filler.
        var logged = ""
        XCTAssertTrue(waitUntil(3) { logged += stderr.drain(); return logged.contains("violation [probe]") }, logged.suffix(300).description)
        stop(h)
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// VmRSS of a process, in KiB.
func residentKiB(_ pid: pid_t) -> Int {
    let status = readText("/proc/\(pid)/status") ?? ""
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
