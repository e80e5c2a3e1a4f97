import Glibc
import PitProcess

/// systemd's service notification protocol (sd_notify(3)) without libsystemd: one datagram per message,
/// `KEY=VALUE` lines, sent to the socket named by `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
///
/// Used by `image/init/pit.service` (Type=notify, WatchdogSec=): READY=1 once the start order has run
/// through, STATUS= when the one-line summary changes, WATCHDOG=1 every WATCHDOG_USEC/2 — only when the
/// same health gate that feeds the hardware watchdog allows it — and STOPPING=1 on an orderly stop.
public struct SystemdNotify {
    /// Half of `WATCHDOG_USEC` in milliseconds when systemd watches this process (sd_watchdog_enabled's rule:
    /// `WATCHDOG_PID`, when set, must be this process), else nil.
    public let watchdogIntervalMs: Int64?
    private let fd: Int32
    private let address: UnixSocketAddress
    /// When the last WATCHDOG=1 was sent, and when the health gate was last asked for one.
    public private(set) var lastPing: Int64?
    private var lastAttempt: Int64?
    private(set) var readySent = false
    private var lastStatus: String?

    public enum SetupError: Error, CustomStringConvertible, Sendable {
        case badSocket(String)
        case badWatchdogUsec(String)
        case socket(String)
        public var description: String {
            switch self {
            case .badSocket(let value): return "NOTIFY_SOCKET=\(value): expected an absolute path or @abstract-name"
            case .badWatchdogUsec(let value): return "WATCHDOG_USEC=\(value): expected a positive number of microseconds"
            case .socket(let message): return "notify socket: \(message)"
            }
        }
    }

    /// Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and removes them from the environment, so that
    /// the processes Pit starts (the uplink agent) neither inherit them nor speak for Pit. Nil without
    /// NOTIFY_SOCKET: not started by systemd as Type=notify.
    public static func fromEnvironment() throws(SetupError) -> SystemdNotify? {
        func take(_ name: String) -> String? {
            guard let value = getenv(name) else { return nil }
            let text = String(cString: value)
            unsetenv(name)
            return text
        }
        let socket = take("NOTIFY_SOCKET")
        let usec = take("WATCHDOG_USEC")
        let watchdogPid = take("WATCHDOG_PID")
        guard let socket, !socket.isEmpty else { return nil }
        var interval: Int64?
        if let usec {
            guard let value = Int64(usec), value > 0 else { throw .badWatchdogUsec(usec) }
            // A WATCHDOG_PID naming another process means the watchdog is that process's (a wrapper's) job.
            if watchdogPid.flatMap({ Int32($0) }).map({ $0 == getpid() }) ?? true {
                interval = max(1, value / 2 / 1000)
            }
        }
        return try SystemdNotify(socket: socket, watchdogIntervalMs: interval)
    }

    public init(socket: String, watchdogIntervalMs: Int64?) throws(SetupError) {
        guard socket.hasPrefix("@") || socket.hasPrefix("/"), socket.utf8.count > 1,
              let address = UnixSocketAddress(socket) else { throw .badSocket(socket) }
        self.address = address
        self.watchdogIntervalMs = watchdogIntervalMs
        fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(String(cString: strerror(errno))) }
    }

    /// Sends one message. Never blocks the event loop (MSG_DONTWAIT): a full or vanished systemd socket
    /// costs a lost message, not a stuck loop — and a lost WATCHDOG=1 is what systemd should act on anyway.
    @discardableResult
    public mutating func send(_ message: String) -> Bool {
        let sent = message.withCString { text in
            address.withSockaddr { sendto(fd, text, strlen(text), Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), $0, $1) }
        }
        return sent >= 0
    }

    // MARK: - What the supervisor sends

    /// The next moment the health gate should be asked for a WATCHDOG=1, if systemd watches Pit.
    public func nextPingDue(startedAt: Int64) -> Int64? {
        guard let interval = watchdogIntervalMs else { return nil }
        return (lastAttempt ?? startedAt) + interval
    }

    /// Whether a WATCHDOG=1 is due at `now`; when it is, the attempt is recorded (fed or not), so a failing
    /// health gate is asked again one interval later rather than on every loop pass.
    public mutating func pingDue(now: Int64, startedAt: Int64) -> Bool {
        guard let due = nextPingDue(startedAt: startedAt), now >= due else { return false }
        lastAttempt = now
        return true
    }

    public mutating func ping(now: Int64) {
        if send("WATCHDOG=1") { lastPing = now }
    }

    /// READY=1 with the first status line, once.
    public mutating func ready(status: String) {
        guard !readySent else { return }
        readySent = send("READY=1\nSTATUS=\(status)")
        if readySent { lastStatus = status }
    }

    /// STATUS=, only when the line changed.
    public mutating func status(_ line: String) {
        guard line != lastStatus else { return }
        if send("STATUS=\(line)") { lastStatus = line }
    }

    public mutating func stopping() {
        send("STOPPING=1\nSTATUS=stopping: jails in reverse order")
        lastStatus = nil
    }

    /// SIGHUP: systemd (Type=notify-reload, or ExecReload= with Type=notify) waits for READY=1 after this.
    /// MONOTONIC_USEC is the CLOCK_MONOTONIC time of the reload request, which systemd 253+ requires.
    public mutating func reloading(now: Int64) {
        send("RELOADING=1\nMONOTONIC_USEC=\(now * 1000)")
        readySent = false
    }
}

// MARK: - The supervisor's hooks

extension SystemdNotify {
    /// With owner = "systemd" Pit does not open the device, but the kernel still says why the board last booted:
    /// /sys/class/watchdog/NAME/bootstatus (CONFIG_WATCHDOG_SYSFS), so watchdog resets still count toward safe
    /// mode. `/dev/watchdog` is the legacy name of the first device, watchdog0.
    public static func sysfsBootStatus(device: String, read: (String) -> String? = { readText($0) }) -> Int? {
        var name = String(device.split(separator: "/").last ?? "")
        if name == "watchdog" { name = "watchdog0" }
        guard name.hasPrefix("watchdog"), let text = read("/sys/class/watchdog/\(name)/bootstatus") else { return nil }
        return Int(text.trimmingCharacters())
    }
}

extension Supervisor {
    /// Reads systemd's environment at start-up. A malformed one is reported and ignored (a supervisor that
    /// runs without notifications is better than none); owner = "systemd" without a service watchdog is
    /// reported too: then nothing resets the device when Pit hangs.
    func setUpSystemdNotify() {
        do {
            notify = try SystemdNotify.fromEnvironment()
        } catch {
            emit(.fault(.systemd, "systemd notification: \(error)"))
        }
        if config.watchdog.owner == .systemd && notify?.watchdogIntervalMs == nil {
            emit(SupervisorEvent(kind: .configError,
                                 message: "watchdog owner is systemd but systemd gave no WATCHDOG_USEC (set WatchdogSec= in pit.service): nothing watches Pit's health"))
        }
    }

    /// The one-line summary systemd shows in `systemctl status pit`.
    func systemdStatusLine() -> String {
        if jails.stopping { return "stopping: jails in reverse order" }
        if safeMode { return "safe mode after repeated watchdog resets: jails not started until cleared" }
        let running = jails.slots.filter { $0.phase == .running }
        var line = "\(running.count)/\(jails.slots.count) jails running"
        let others = jails.slots.filter { $0.phase != .running }.map { "\($0.config.name) \($0.phase.rawValue)" }
        if !others.isEmpty { line += " (" + others.joined(separator: ", ") + ")" }
        switch feeder.health.state {
        case .healthy: line += "; healthy"
        case .failing: line += "; health failing: " + feeder.healthProblems.joined(separator: "; ")
        case .starving: line += "; health failed past the grace, watchdog not fed: " + feeder.healthProblems.joined(separator: "; ")
        }
        return line
    }

    /// Called from each loop pass: READY=1 once settled, then STATUS= on change.
    func notifySystemd(now: Int64) {
        guard notify != nil, !jails.stopping else { return }
        let line = systemdStatusLine()
        if notify!.readySent { notify!.status(line) } else if jails.startOrderSettled { notify!.ready(status: line) }
    }
}
