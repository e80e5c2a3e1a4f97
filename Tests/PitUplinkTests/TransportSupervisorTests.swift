import FoundationEssentials
import Glibc
import PitUplink
import XCTest

/// The whole path of a violation: a grandchild in a jail run by `pit supervise` makes a syscall its policy
/// reports; the supervisor spools the event; the uplink agent it spawned delivers it to a real syslog (TCP,
/// octet counting) receiver on loopback — once, with the syscall's name and arguments.
final class TransportSupervisorTests: XCTestCase {
    func testViolationInAGrandchildArrivesOnceAtTheReceiverWithItsArguments() throws {
        let temp = TemporaryDirectory("pit-e2e")
        let (receiver, supervisor, log) = superviseViolationProbeToSyslog(in: temp)
        defer { Proc.kill(supervisor, SIGTERM) }
        XCTAssertTrue(Proc.waitUntil(15) { receiver.events().contains { ($0.line ?? "").contains("\"kind\":\"violation\"") } }, log())
        Proc.sleepMs(500)
        let violations = receiver.events().compactMap { $0.line }.filter { $0.contains("\"kind\":\"violation\"") }
        XCTAssertEqual(violations.count, 1, "\(violations)")
        let event = try PitEvent.decode(jsonLine: try XCTUnwrap(violations.first))
        XCTAssertEqual(event.syscall, "uname")
        XCTAssertEqual(event.nr, 63)
        XCTAssertEqual(event.args?.first, 0x1234abcd)
        XCTAssertEqual(event.comm, "perl")
        XCTAssertEqual(event.jail, "probe")
        XCTAssertEqual(event.action, .kill)
    }

    /// A syslog (TCP, octet counting) receiver on loopback, and `pit supervise` in `temp` running the violation
    /// probe with an uplink to it.
    private func superviseViolationProbeToSyslog(in temp: TemporaryDirectory) -> (Receiver, pid_t, () -> String) {
        let receiver = Receiver("syslog-tcp", in: temp.path)
        receiver.start()
        let (supervisor, log) = superviseViolationProbe(in: temp.path, uplink: """
            type = "syslog"
            name = "siem"
            protocol = "tcp"
            host = "127.0.0.1"
            port = \(receiver.port)
            """)
        return (receiver, supervisor, log)
    }

    /// The uplink agents running on `config` (their command line names it), by pid.
    private func agents(of config: String) -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var found: [pid_t] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name) else { continue }
            let cmdline = Files.read("/proc/\(pid)/cmdline", orEmpty: true).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if cmdline.contains("uplink-agent") && cmdline.contains(config) { found.append(pid) }
        }
        return found
    }

    /// The race the fault-injection test found: the supervisor spawns its agent and is killed before the agent
    /// has armed its death signal. The agent's parent is then already init when it starts; it must see that the
    /// supervisor it was spawned by (`--parent`) is gone and exit, not deliver on (holding the agent lock, so the
    /// respawned supervisor's own agent is refused) until the next reboot.
    func testAnAgentWhoseSupervisorDiedBeforeItStartedExitsAtOnce() throws {
        let temp = TemporaryDirectory("pit-orphan")
        let config = temp.path + "/device.toml"
        Files.write(config, Array("""
            data_dir = "data"
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "tcp"
            host = "127.0.0.1"
            port = 9
            """.utf8))
        // The outer shell stands in for the supervisor: it exits at once; 300 ms later its subshell runs the agent
        // with the dead shell's pid as --parent (`$$` is the outer shell's pid in a subshell too) and notes its exit.
        let exitFile = temp.path + "/exit"
        let shell = Proc.spawn(["/bin/sh", "-c", "(sleep 0.3; \(Shell.built("pit")) uplink-agent --config \(config) --parent $$; echo $? > \(exitFile)) & exit 0"],
                               log: temp.path + "/agent.log")
        var status: Int32 = 0
        _ = waitpid(shell, &status, 0)
        defer { agents(of: config).forEach { kill($0, SIGKILL) } }   // a failure: it stayed
        XCTAssertTrue(Proc.waitUntil(10) { Files.size(exitFile) > 0 },
                      "an agent whose supervisor was gone before it started kept running: \(String(decoding: Files.read(temp.path + "/agent.log"), as: UTF8.self))")
        XCTAssertEqual(String(decoding: Files.read(exitFile, orEmpty: true), as: UTF8.self), "0\n")
        XCTAssertEqual(access(temp.path + "/data/uplink.agent.lock", F_OK), -1, "it never took the agent lock")
    }

    func testKill9OfTheSupervisorTakesItsAgentAndAgainNeverTwoAgentsOnOneSpool() throws {
        let temp = TemporaryDirectory("pit-agent")
        let config = temp.path + "/device.toml"
        let (receiver, supervisor, log) = superviseViolationProbeToSyslog(in: temp)
        // Failing before the kill -9 below must not leave this supervisor (and its jail and agent) running.
        var supervisorReaped = false
        defer { if !supervisorReaped { Proc.kill(supervisor, SIGKILL) } }
        defer { withExtendedLifetime(receiver) {} }   // the agent's destination, up to the end
        XCTAssertTrue(Proc.waitUntil(15) { agents(of: config).count == 1 }, log())
        let agent = try XCTUnwrap(agents(of: config).first)
        defer { if agents(of: config).contains(agent) { kill(agent, SIGKILL) } }   // it outlived its supervisor: a failure
        // The agent takes its lock once it has read its config: wait for that (under load it takes a while).
        let lockPath = temp.path + "/data/uplink.agent.lock"
        XCTAssertTrue(Proc.waitUntil(30) {
            let fd = open(lockPath, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return flock(fd, LOCK_EX | LOCK_NB) != 0
        }, "the first agent never took \(lockPath): \(log())")
        // A second agent on the same spool, started by hand: refused while the first lives.
        let second = Proc.spawn([Shell.built("pit"), "uplink-agent", "--config", config], log: temp.path + "/second.log")
        var status: Int32 = 0
        defer { if waitpid(second, &status, WNOHANG) == 0 { Proc.kill(second, SIGKILL) } }   // still running: a failure
        XCTAssertTrue(Proc.waitUntil(30) { waitpid(second, &status, WNOHANG) == second }, "the second agent kept running")
        XCTAssertEqual((status >> 8) & 0xff, 1)
        XCTAssertTrue(String(decoding: Files.read(temp.path + "/second.log"), as: UTF8.self).contains("another uplink agent delivers"))
        // kill -9 of the supervisor: its agent goes too (it would otherwise deliver beside the next supervisor's).
        Proc.kill(supervisor, SIGKILL)
        supervisorReaped = true
        XCTAssertTrue(Proc.waitUntil(5) { kill(agent, 0) != 0 }, "agent \(agent) outlived its supervisor")
        // A supervisor started again gets exactly one agent.
        let (again, againLog) = (Proc.spawn([Shell.built("pit"), "supervise", "--config", config], log: temp.path + "/supervise2.log"),
                                 { String(decoding: Files.read(temp.path + "/supervise2.log"), as: UTF8.self) })
        defer { Proc.kill(again, SIGTERM) }
        XCTAssertTrue(Proc.waitUntil(15) { agents(of: config).count == 1 }, againLog())
        Proc.sleepMs(500)
        XCTAssertEqual(agents(of: config).count, 1, againLog())
    }
}
