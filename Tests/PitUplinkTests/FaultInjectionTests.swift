import Glibc
import PitProcess
import XCTest
@testable import PitUplink

/// Issue 18's fault injection: a real `pit supervise` with two jails (each with a pids cgroup) and a syslog (TCP)
/// uplink to a live receiver on loopback, while events keep coming (one jail exits and is restarted every few
/// hundred ms, the other makes a reported syscall in a loop). At random moments the test kill -9s the supervisor
/// or its uplink agent, and starts the supervisor again at once when it killed it, as inittab's respawn would.
/// Then a last orderly run drains the spool, and the figures are compared:
///   generated: every event the spool holds (read from the spool between kills and at the end, by id),
///   delivered: distinct ids at the receiver; duplicated: deliveries beyond the first (at-least-once allows them),
///   lost: generated but never delivered — must be 0,
///   leaked cgroups: `pit-*-PID` directories of the test's dead supervisors left at the end — must be 0,
///   leaked processes: jail processes (in a dead supervisor's cgroup) or agents (of this config, not a child of
///   the live supervisor) still alive 3 s after their supervisor's death, or at the end — must be 0.
///
/// Seeded (SplitMix64, seed printed): PIT_SEED=N replays the choices. 20 kills by default (well under a minute);
/// PIT_FAULT_KILLS=300 for the issue's full run.
final class FaultInjectionTests: XCTestCase {
    func testKill9OfSupervisorAndAgentAtRandomLosesNoEventAndLeaksNothing() throws {
        let env = ProcessEnvironment()
        let seed = env["PIT_SEED"].flatMap { UInt64($0) } ?? UInt64(time(nil))
        let kills = env["PIT_FAULT_KILLS"].flatMap { Int($0) } ?? 20
        print("FaultInjectionTests seed \(seed), \(kills) kills (PIT_SEED=\(seed) replays)")
        var rng = SplitMix64(state: seed)
        let rig = FaultRig()
        defer { rig.tearDown() }
        let started = monotonicMilliseconds()

        rig.startSupervisor()
        var supervisorKills = 0, agentKills = 0, agentKillsTurnedSupervisor = 0
        for _ in 0..<kills {
            // A random moment: from right after the (re)start (mid start-up) to well into steady delivery.
            rig.pollFor(ms: Int.random(in: 0...900, using: &rng))
            if Bool.random(using: &rng) {
                // The agent is restarted with a doubling delay after each death (1 s, 2 s, ...): wait for it a while.
                if let agent = rig.waitForAgent(ms: 2500) {
                    kill(agent, SIGKILL)
                    agentKills += 1
                    continue
                }
                agentKillsTurnedSupervisor += 1
            }
            rig.killSupervisor()
            supervisorKills += 1
            rig.startSupervisor()   // respawn, at once
        }
        let killPhase = monotonicMilliseconds() - started

        // The orderly end: the last supervisor delivers what is stored, stops; an agent alone then delivers what the
        // shutdown itself stored (the jails' exits), as the next boot's agent would.
        rig.pollFor(ms: 500)
        let drained = rig.waitUntilDelivered(seconds: 120)
        rig.stopSupervisor()
        let drainedAfterStop = rig.drainWithAgentAlone(seconds: 60)
        rig.pollFor(ms: 3000)   // the last jails' processes and cgroups have had time to go
        let figures = rig.figures()
        let duration = monotonicMilliseconds() - started

        print("""
            FaultInjectionTests figures (seed \(seed))
              kill -9 of the supervisor          \(supervisorKills) (\(agentKillsTurnedSupervisor) of them chosen as agent kills while no agent ran)
              kill -9 of the uplink agent        \(agentKills)
              supervisors started                \(rig.supervisorPIDs.count)
              events generated (in the spool)    \(figures.generated)
              events delivered (distinct ids)    \(figures.delivered)
              deliveries duplicated              \(figures.duplicated)
              events lost                        \(figures.lost.count)
              ids received but never seen stored \(figures.unknown.count)
              leaked cgroups                     \(figures.leakedCgroups.count)
              leaked processes                   \(figures.leakedProcesses.count)
              most agents alive at once          \(rig.mostAgents)
              kill phase                         \(killPhase) ms
              total duration                     \(duration) ms
            """)
        XCTAssertGreaterThan(figures.generated, kills, "events kept coming; seed \(seed)\n\(rig.logTail())")
        XCTAssertTrue(drained && drainedAfterStop, "not everything arrived; seed \(seed)\n\(rig.logTail())")
        XCTAssertEqual(figures.lost, [], "lost events; seed \(seed)")
        XCTAssertEqual(figures.unknown, [], "received ids the spool never held; seed \(seed)")
        XCTAssertEqual(figures.leakedCgroups, [], "leaked cgroups; seed \(seed)")
        XCTAssertEqual(figures.leakedProcesses, [], "leaked processes; seed \(seed)\n\(rig.logTail())")
        XCTAssertEqual(rig.receiver.records().compactMap(\.bad), [], "framing intact; seed \(seed)")
    }
}

/// The supervisor, its config, the receiver, and the test's bookkeeping of what the spool held and what lived.
final class FaultRig {
    let temp = TemporaryDirectory("pit-fault")
    let receiver: Receiver
    var config: String { temp.path + "/device.toml" }
    var spool: String { temp.path + "/data/spool" }
    private(set) var supervisor: pid_t = 0
    private(set) var supervisorPIDs: [pid_t] = []
    /// Supervisors killed, with the time of death: their jails' processes and their agent must go.
    private var dead: [pid_t: Int64] = [:]
    /// Every event seen in the spool, by id (seq as value), and the highest seq read so far.
    private(set) var stored: [String: UInt64] = [:]
    private var lastSeq: UInt64 = 0
    /// Processes that outlived their supervisor by more than 3 s, by pid.
    private(set) var leaked: [pid_t: String] = [:]
    private(set) var mostAgents = 0
    private var standaloneAgent: pid_t = 0

    init() {
        receiver = Receiver("syslog-tcp", in: temp.path)
        receiver.start()
        // `exec` keeps the cgroup's first process the jail's init; the restarting one exits 3 after 300 ms.
        Files.write(temp.path + "/churn.toml", Array("""
            command = ["/bin/sh", "-c", "sleep 0.3; exit 3"]
            pids_max = 16
            """.utf8))
        Files.write(temp.path + "/probe.toml", Array("""
            command = ["/bin/sh", "-c", "while :; do /usr/bin/perl -e 'syscall(63, 0x1234abcd)'; sleep 0.2; done"]
            seccomp_string = "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW"
            pids_max = 16
            """.utf8))
        Files.write(config, Array("""
            data_dir = "data"
            control_socket = "run/control.sock"
            [[jails]]
            name = "churn"
            spec = "churn.toml"
            restart_delay_ms = 50
            restart_delay_max_ms = 50
            crash_loop_exits = 1000
            stop_grace_s = 1
            [[jails]]
            name = "probe"
            spec = "probe.toml"
            stop_grace_s = 1
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "tcp"
            host = "127.0.0.1"
            port = \(receiver.port)
            backoff_base_ms = 20
            backoff_max_ms = 200
            """.utf8))
    }

    func startSupervisor() {
        supervisor = Proc.spawn([Shell.built("pit"), "supervise", "--config", config], log: temp.path + "/supervise.log")
        supervisorPIDs.append(supervisor)
    }

    func killSupervisor() {
        Proc.kill(supervisor, SIGKILL)   // and reaped
        dead[supervisor] = monotonicMilliseconds()
        supervisor = 0
    }

    func stopSupervisor() {
        Proc.kill(supervisor, SIGTERM)
        dead[supervisor] = monotonicMilliseconds()
        supervisor = 0
    }

    func tearDown() {
        if supervisor > 0 { Proc.kill(supervisor, SIGKILL); supervisor = 0 }
        if standaloneAgent > 0 { Proc.kill(standaloneAgent, SIGKILL); standaloneAgent = 0 }
        // Anything a failure left behind: this config's agents and the dead supervisors' jail processes.
        for p in processes() where p.isAgent || p.jailOwner.map({ supervisorPIDs.contains($0) }) == true { kill(p.pid, SIGKILL) }
        receiver.stop()
    }

    /// Reads what the spool gained and checks for leaks every 50 ms for `ms`.
    func pollFor(ms: Int) {
        let end = monotonicMilliseconds() + Int64(ms)
        repeat {
            poll()
            let left = end - monotonicMilliseconds()
            if left > 0 { usleep(UInt32(min(left, 50)) * 1000) }
        } while monotonicMilliseconds() < end
    }

    private func poll() {
        readSpool()
        let now = monotonicMilliseconds()
        let all = processes()
        let agents = all.filter(\.isAgent)
        mostAgents = max(mostAgents, agents.count)
        for p in all {
            if p.isAgent, p.ppid != supervisor, p.pid != standaloneAgent, let died = dead[p.ppid] ?? orphanSince(p), now - died > 3000 {
                leaked[p.pid] = "agent \(p.pid) (parent \(p.ppid)): \(p.cmdline.joined(separator: " "))"
            }
            if let owner = p.jailOwner, let died = dead[owner], now - died > 3000 {
                leaked[p.pid] = "jail process \(p.pid) of supervisor \(owner): \(p.cmdline.joined(separator: " "))"
            }
        }
    }

    /// An agent whose parent is no supervisor of this test (init adopted it): counted from the newest death.
    private func orphanSince(_ p: ProcessEntry) -> Int64? {
        supervisorPIDs.contains(p.ppid) ? nil : dead.values.max()
    }

    private func readSpool() {
        guard let events = try? Spool.read(directory: spool, after: lastSeq) else { return }
        for e in events {
            guard let seq = e.seq else { continue }
            stored[e.id] = seq
            lastSeq = max(lastSeq, seq)
        }
    }

    /// The live supervisor's agent, waited for up to `ms`.
    func waitForAgent(ms: Int) -> pid_t? {
        let end = monotonicMilliseconds() + Int64(ms)
        repeat {
            if let agent = processes().first(where: { $0.isAgent && $0.ppid == supervisor }) { return agent.pid }
            pollFor(ms: 50)
        } while monotonicMilliseconds() < end
        return nil
    }

    /// Until every event the spool has held reached the receiver.
    func waitUntilDelivered(seconds: Double) -> Bool {
        Proc.waitUntil(seconds, everyMs: 250) {
            poll()
            let ids = Set(receiver.events().compactMap(\.id))
            return stored.keys.allSatisfy(ids.contains)
        }
    }

    /// `pit uplink-agent` on its own (no supervisor appends any more) until the spool is delivered.
    func drainWithAgentAlone(seconds: Double) -> Bool {
        standaloneAgent = Proc.spawn([Shell.built("pit"), "uplink-agent", "--config", config], log: temp.path + "/agent.log")
        defer { Proc.kill(standaloneAgent, SIGTERM); standaloneAgent = 0 }
        return waitUntilDelivered(seconds: seconds)
    }

    struct Figures {
        var generated = 0, delivered = 0, duplicated = 0
        var lost: [String] = [], unknown: [String] = []
        var leakedCgroups: [String] = [], leakedProcesses: [String] = []
    }

    func figures() -> Figures {
        poll()
        var f = Figures()
        let received = receiver.events().compactMap(\.id)
        let distinct = Set(received)
        f.generated = stored.count
        f.delivered = distinct.count
        f.duplicated = received.count - distinct.count
        f.lost = stored.filter { !distinct.contains($0.key) }.sorted { $0.value < $1.value }.map { "seq \($0.value) id \($0.key)" }
        f.unknown = distinct.filter { stored[$0] == nil }.sorted()
        f.leakedCgroups = cgroups().filter { supervisorPIDs.contains($0.owner) }.map(\.path)
        // At the end every supervisor is gone: whatever of theirs still lives leaked.
        var all = leaked
        for p in processes() where p.isAgent || p.jailOwner.map(supervisorPIDs.contains) == true {
            all[p.pid] = all[p.pid] ?? "still alive at the end: \(p.pid) \(p.cmdline.joined(separator: " "))"
        }
        f.leakedProcesses = all.sorted { $0.key < $1.key }.map(\.value)
        return f
    }

    /// `pit-NAME-PID` directories directly under each cgroup hierarchy's root or Pit's own cgroup there.
    func cgroups() -> [(path: String, owner: pid_t)] {
        var found: [(String, pid_t)] = []
        func scan(_ directory: String, depth: Int) {
            guard depth <= 3, let dir = opendir(directory) else { return }
            var names: [String] = []
            while let entry = readdir(dir) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
            }
            closedir(dir)
            for name in names where name != "." && name != ".." {
                if let owner = Self.leafOwner(name) { found.append((directory + "/" + name, owner)) } else { scan(directory + "/" + name, depth: depth + 1) }
            }
        }
        scan("/sys/fs/cgroup", depth: 0)
        return found
    }

    /// Processes of interest: this config's agents, and processes in a `pit-NAME-PID` cgroup.
    func processes() -> [ProcessEntry] {
        guard let dir = opendir("/proc") else { return [] }
        var pids: [pid_t] = []
        while let entry = readdir(dir) {
            if let pid = pid_t(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }) { pids.append(pid) }
        }
        closedir(dir)
        var result: [ProcessEntry] = []
        for pid in pids {
            let cmdline = Files.read("/proc/\(pid)/cmdline", orEmpty: true).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let isAgent = cmdline.contains("uplink-agent") && cmdline.contains(config)
            let cgroup = String(decoding: Files.read("/proc/\(pid)/cgroup", orEmpty: true), as: UTF8.self)
            let owner = cgroup.split(separator: "\n").lazy.compactMap { line in line.split(separator: "/").last.flatMap { Self.leafOwner(String($0)) } }.first
            guard isAgent || owner != nil else { continue }
            let stat = String(decoding: Files.read("/proc/\(pid)/stat", orEmpty: true), as: UTF8.self)
            let afterComm = stat.lastIndex(of: ")").map { stat[stat.index(after: $0)...] } ?? ""
            let ppid = afterComm.split(separator: " ").dropFirst().first.flatMap { pid_t($0) } ?? 0
            result.append(ProcessEntry(pid: pid, ppid: ppid, cmdline: cmdline, isAgent: isAgent, jailOwner: owner))
        }
        return result
    }

    /// The supervisor pid a jail cgroup `pit-NAME-PID` names (the same rule as JailCgroup.ownerPid).
    private static func leafOwner(_ name: String) -> pid_t? {
        guard name.hasPrefix("pit-"), let dash = name.lastIndex(of: "-"), dash > name.index(name.startIndex, offsetBy: 4) else { return nil }
        let digits = name[name.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return pid_t(digits)
    }

    func logTail() -> String {
        String(String(decoding: Files.read(temp.path + "/supervise.log", orEmpty: true), as: UTF8.self).suffix(3000))
    }
}

struct ProcessEntry {
    var pid: pid_t
    var ppid: pid_t
    var cmdline: [String]
    var isAgent: Bool
    var jailOwner: pid_t?
}
