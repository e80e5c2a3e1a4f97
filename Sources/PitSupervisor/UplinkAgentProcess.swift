import Glibc
import PitJail
import PitUplink

/// `pit uplink-agent`, the separate process that delivers spooled events (TLS stays out of this loop):
/// spawned when transports are configured, restarted with a doubling delay when it exits, told to stop at
/// shutdown. Its state is what it last wrote to DATA/uplink/state.json.
final class UplinkAgentProcess {
    private let configPath: String
    private let emit: (SupervisorEvent) -> Void
    private(set) var pid: pid_t = 0
    private var restartAt: Int64?
    private var backoff = AgentBackoff()
    private var startedAt: Int64 = 0
    private var stopping = false
    private(set) var state = "none"
    private(set) var queued = 0
    /// Alarms already raised as `uplink_alarm`, by transport: once per alarm, however its wording changes while it
    /// lasts (it names seqs that move), again after it cleared.
    private var alarmsRaised: [String: String] = [:]
    private var nextAlarmCheck: Int64 = 0
    /// How often the agent's state file is read for alarms while it runs.
    static let alarmCheckMs: Int64 = 5000

    init(configPath: String, emit: @escaping (SupervisorEvent) -> Void) {
        self.configPath = configPath
        self.emit = emit
    }

    /// Spawns `pit uplink-agent` (this same executable) when transports are configured.
    func start(_ config: DeviceConfig, now: Int64) {
        guard !config.uplinks.isEmpty, pid == 0 else { return }
        // --parent: the agent checks, once its death signal is armed, that this supervisor is still its parent.
        let argv = ["pit", "uplink-agent", "--config", configPath, "--parent", String(getpid())]
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        // The agent must not start with the supervisor's blocked signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        defer { posix_spawnattr_destroy(&attributes) }
        let rc = posix_spawn(&pid, "/proc/self/exe", nil, &attributes, cArgs, environ)
        if rc == 0 {
            self.pid = pid
            startedAt = now
        } else {
            emit(.fault(.uplinkAgent, "uplink agent: \(String(cString: strerror(rc)))"))
            restartAt = now + backoff.exited(afterRunningMs: 0)
        }
    }

    func nextDeadline(now: Int64) -> Int64? {
        let check: Int64? = pid > 0 ? nextAlarmCheck : nil
        return [restartAt, check].compactMap { $0 }.min()
    }

    /// Restarts the agent when its delay is over (not while shutting down); reads its state for alarms.
    func tick(_ config: DeviceConfig, now: Int64) {
        if let at = restartAt, at <= now, !stopping { restartAt = nil; start(config, now: now) }
        if pid > 0 && nextAlarmCheck <= now {
            nextAlarmCheck = now + Self.alarmCheckMs
            refreshState(config)
        }
    }

    /// Takes the exit of `pid` if it was the agent's; false for any other child.
    func reaped(_ pid: pid_t, status: Int32, now: Int64) -> Bool {
        guard pid == self.pid else { return false }
        self.pid = 0
        if !stopping {
            let delayMs = backoff.exited(afterRunningMs: now - startedAt)
            emit(SupervisorEvent(kind: .serviceExit, jail: "uplink-agent", message: "uplink agent \(Launcher.describe(status)): restarting in \(delayMs) ms"))
            restartAt = now + delayMs
        }
        return true
    }

    /// At shutdown: SIGTERM, and no restart after it exits.
    func stop() {
        stopping = true
        if pid > 0 { kill(pid, SIGTERM) }
    }

    /// The uplink's state as the agent last wrote it (DATA/uplink/state.json).
    func refreshState(_ config: DeviceConfig) {
        guard !config.uplinks.isEmpty else { state = "none"; queued = 0; return }
        guard let written = try? UplinkState.load(dataDirectory: config.dataDirectory) else {
            state = pid > 0 ? "starting" : "down"
            return
        }
        let states = Set(written.transports.map(\.state))
        state = states.contains("alarm") ? "alarm" : states == ["up"] ? "up"
            : (states.contains("down") ? "down" : (states.contains("backoff") ? "backoff" : "up"))
        for transport in written.transports {
            guard let alarm = transport.alarm else { alarmsRaised[transport.name] = nil; continue }
            if alarmsRaised[transport.name] != nil { continue }
            alarmsRaised[transport.name] = alarm
            emit(SupervisorEvent(kind: .uplinkAlarm, message: "uplink \(transport.name): \(alarm)",
                                 details: ["transport": transport.name]))
        }
        queued = written.transports.map(\.queued).max() ?? 0
    }
}

/// The agent's restart delay: 1 s, doubled at each exit up to a minute, and 1 s again once an agent has run for a
/// minute. Without the way back, the delay only ever grew: a device whose agent had died six times, months apart,
/// left its alerts undelivered for a minute after every later death (the fault-injection test's agent kills
/// waited 2, 4, 8 s... for the next agent within one supervisor's life).
struct AgentBackoff: Equatable {
    static let initialMs: Int64 = 1000
    static let maxMs: Int64 = 60_000
    private(set) var nextMs = initialMs

    /// The delay before the next start, for an agent that exited after running `ran` milliseconds.
    mutating func exited(afterRunningMs ran: Int64) -> Int64 {
        if ran >= Self.maxMs { nextMs = Self.initialMs }
        let delay = nextMs
        nextMs = min(nextMs * 2, Self.maxMs)
        return delay
    }
}
