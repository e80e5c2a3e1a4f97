import ArgumentParser
import CPitShim
import Glibc
import PitProcess
import PitSupervisor
import PitUplink

/// `pit uplink-agent --config DEVICE_TOML`: the delivery loop, spawned by the supervisor. Logic in PitUplink.
struct UplinkAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uplink-agent",
        abstract: "Deliver spooled events to the configured [[uplink]] transports (run by the supervisor).",
        shouldDisplay: false)   // internal: the supervisor starts it; `pit uplink status` is the operator's view

    @Option(name: .long, help: "The device config (TOML).")
    var config: String = "/etc/pit/device.toml"

    @Option(name: .long, help: ArgumentHelp("The supervisor's pid (the supervisor passes it).", visibility: .hidden))
    var parent: Int32?

    func run() throws {
        // The agent dies with the supervisor that started it: a supervisor killed with -9 and started again (by
        // inittab, procd or systemd) would otherwise find the old agent still delivering the same spool beside
        // its new one. SIGKILL is safe: delivery is at-least-once by cursor. If the parent died before the prctl,
        // the death signal will never come: the parent not being the one that spawned us says so. That must be
        // the pid the supervisor passed, not getppid() read here: the supervisor can die while this process is
        // still starting (exec, the Swift runtime, argument parsing take milliseconds), and getppid() then already
        // names init; the fault-injection test's kill -9s left such an orphan holding the agent lock, so every
        // later supervisor's agent was refused. Started by hand (no --parent), the parent at this point is it.
        let parent = self.parent ?? getppid()
        _ = pit_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)
        if getppid() != parent { throw ExitCode(0) }
        // The supervisor protects itself from the OOM killer (-1000), and this process inherited that; it faces
        // the network and needs no protection: back to 0 (raising needs no privilege).
        if let adj = readText("/proc/self/oom_score_adj").flatMap({ Int32($0.filter { $0 != "\n" }) }), adj < 0 {
            let fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)
            if fd >= 0 { _ = write(fd, "0\n", 2); close(fd) }
        }
        let loaded = try UplinkConfig.load(devicePath: config)
        // And never two agents on one spool, whoever started them: an exclusive lock held for the agent's life.
        let lockPath = loaded.dataDirectory + "/uplink.agent.lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else {
            writeError("pit uplink-agent: \(lockPath): \(String(cString: strerror(errno)))\n")
            throw ExitCode(ExitStatus.failure)
        }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            writeError("pit uplink-agent: another uplink agent delivers \(loaded.dataDirectory)/spool (\(lockPath) is held): not starting a second\n")
            throw ExitCode(ExitStatus.failure)
        }
        var agent = UplinkAgent(config: loaded)
        try agent.run()
    }
}

/// `pit uplink status|test`.
struct UplinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uplink", abstract: "Inspect and test event delivery.",
        subcommands: [UplinkStatusCommand.self, UplinkTestCommand.self])
}

struct UplinkStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each transport's delivery state (from DATA/uplink/state.json).")

    @Option(name: .customLong("data-dir"), help: "The data directory (default: the config's data_dir).")
    var dataDirectory: String?

    @Option(name: .long, help: "The device config (default \(DeviceConfig.defaultPath)).")
    var config: String?

    @Flag(help: "Print the state file's JSON.")
    var json = false

    func validate() throws {
        if dataDirectory != nil && config != nil { throw ValidationError("give --data-dir or --config, not both") }
    }

    func run() throws {
        let configPath = config ?? DeviceConfig.defaultPath
        var directory = dataDirectory ?? "/var/lib/pit"
        if dataDirectory == nil {
            do { directory = try DeviceConfig.locations(configPath).dataDirectory } catch {
                if config != nil {
                    writeError("pit uplink status: \(error)\n")
                    throw ExitCode(ExitStatus.failure)
                }
            }
        }
        var loaded: UplinkState?
        var missing = false
        do { loaded = try UplinkState.load(dataDirectory: directory) } catch {
            guard error.errno == ENOENT else { throw error }
            missing = true
        }
        guard let state = loaded, !missing else {
            // No state file: say why in words rather than as a file error.
            if let uplinks = try? UplinkConfig.load(devicePath: configPath), uplinks.transports.isEmpty {
                print("no [[uplink]] transports configured in \(configPath): events stay in the spool (pit events)")
                return
            }
            writeError("pit uplink status: nothing delivered yet: the uplink agent has not written \(directory)/uplink/state.json\n")
            throw ExitCode(ExitStatus.failure)
        }
        if json {
            print(String(decoding: state.jsonData(), as: UTF8.self),
                  terminator: "")
        } else {
            print(state.text, terminator: "")
        }
    }
}

struct UplinkTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Send an uplink_test event through every transport, bypassing the spool.")

    @Option(name: .long, help: "The device config (TOML).")
    var config: String = "/etc/pit/device.toml"

    func run() throws {
        let results = UplinkTester.run(try UplinkConfig.load(devicePath: config))
        if results.isEmpty { print("no [[uplink]] transports configured") }
        for result in results {
            print("\(result.name) (\(result.type)): " + (result.error.map { "FAILED: \($0)" } ?? "OK"))
        }
        if results.contains(where: { $0.error != nil }) { throw ExitCode(ExitStatus.failure) }
    }
}
