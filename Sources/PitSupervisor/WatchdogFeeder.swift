import Glibc
import PitBoard
import PitProcess
import SystemPackage

/// The watchdog device and the health gate in front of it: opened first thing at start-up, fed from the
/// loop every (timeout - pretimeout)/2 only while health holds (required jails running, the loop on time,
/// the data directory writable), closed at the end. systemd's WATCHDOG=1 passes the same gate.
final class WatchdogFeeder {
    private(set) var watchdog: Watchdog?
    private(set) var feedIntervalMs: Int64 = 0
    private(set) var lastFeed: Int64?
    /// When the health gate is next asked for a hardware feed: a feed interval after a feed, a second after a
    /// refused one (see `feed`).
    private var nextFeedCheckAt: Int64?
    private var keepaliveError: String?
    private(set) var health: HealthGate
    private(set) var healthProblems: [String] = []
    /// Why the board last booted (WDIOF_* flags), when known.
    private(set) var bootStatus: Int?
    private let emit: (SupervisorEvent) -> Void

    static let healthRecheckMs: Int64 = 1000

    init(settings: WatchdogSettingsConfig, emit: @escaping (SupervisorEvent) -> Void) {
        self.health = HealthGate(graceMilliseconds: Int64(settings.healthGraceSeconds) * 1000,
                                 maxEventLoopLatencyMilliseconds: Int64(settings.maxLoopLatencyMs))
        self.emit = emit
    }

    func open(_ settings: WatchdogSettingsConfig) throws(SupervisorError) {
        // owner = "systemd": systemd's RuntimeWatchdogSec holds the device; Pit pings systemd instead.
        if settings.owner == .systemd, let device = settings.device {
            bootStatus = SystemdNotify.sysfsBootStatus(device: device)
        }
        guard settings.enabled, let device = settings.device else { return }   // owner = "systemd" disables it
        do {
            var dog = try Watchdog.open(device)
            let applied = try dog.configure(timeoutSeconds: settings.timeoutSeconds, pretimeoutSeconds: settings.pretimeoutSeconds)
            feedIntervalMs = applied.feedIntervalMilliseconds
            bootStatus = Int((try? dog.bootStatus())?.flags.rawValue ?? 0)
            try dog.keepalive()
            watchdog = dog
        } catch {
            // A FIFO stands in for the device where there is none (tests, development machines):
            // it records the feeds, which are writes once the ioctls fail.
            var st = stat()
            guard stat(device, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else {
                // One opener at a time: EBUSY means systemd (RuntimeWatchdogSec) or procd already holds it.
                let hint = error.errno == EBUSY ? " (held by systemd or procd? set [watchdog] owner in the device config)" : ""
                throw SupervisorError("watchdog \(device): \(error)\(hint)")
            }
            let fd = Glibc.open(device, O_RDWR | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { throw SupervisorError("watchdog \(device): \(String(cString: strerror(errno)))") }
            var dog = Watchdog(adopting: FileDescriptor(rawValue: fd), path: device)
            try? dog.keepalive()
            watchdog = dog
            feedIntervalMs = FeedPolicy.intervalMilliseconds(timeoutSeconds: settings.timeoutSeconds, pretimeoutSeconds: settings.pretimeoutSeconds)
            bootStatus = 0
        }
        let now = monotonicMilliseconds()
        lastFeed = now
        if feedIntervalMs > 0 { nextFeedCheckAt = now + feedIntervalMs }
    }

    /// When the health gate is next asked for a hardware feed (systemd's ping is SystemdNotify's deadline).
    func nextDeadline(now: Int64) -> Int64? {
        watchdog != nil ? nextFeedCheckAt : nil
    }

    /// The hardware feed and systemd's WATCHDOG=1 (when systemd watches Pit) pass the same health gate.
    func feed(now: Int64, systemd notify: inout SystemdNotify?, startedAt: Int64,
              requiredJailsDown: () -> [String], loopLatencyMs: Int64, dataDirectory: String) {
        let hardwareDue = watchdog != nil && nextFeedCheckAt.map { now >= $0 } == true
        let systemdDue = notify?.pingDue(now: now, startedAt: startedAt) == true
        guard hardwareDue || systemdDue else { return }
        let sample = HealthSample(requiredJailsDown: requiredJailsDown(), eventLoopLatencyMilliseconds: loopLatencyMs,
                                  dataDirectoryWritable: Self.dataDirectoryWritable(dataDirectory))
        let decision = health.evaluate(sample, now: now)
        healthProblems = decision.problems.map(\.description)
        if decision.changed {
            emit(SupervisorEvent(kind: .health, message: decision.feed ? "health: \(healthProblems.isEmpty ? "ok" : healthProblems.joined(separator: "; "))"
                                                                         : "health failed past the grace: watchdog no longer fed (\(healthProblems.joined(separator: "; ")))"))
        }
        guard decision.feed else {
            // Starving on purpose: look again in a second (health may come back within the grace), not on
            // every loop iteration — the feed deadline is in the past and would make the loop spin.
            if hardwareDue { nextFeedCheckAt = now + Self.healthRecheckMs }
            return
        }
        if systemdDue { notify?.ping(now: now) }
        guard hardwareDue else { return }
        nextFeedCheckAt = now + feedIntervalMs
        do { try watchdog?.keepalive(); keepaliveError = nil } catch {
            // Reported once per kind of failure, not per feed; the device resets if it really is not fed.
            if keepaliveError != "\(error)" {
                keepaliveError = "\(error)"
                emit(.fault(.watchdog, "watchdog keepalive: \(error)"))
            }
        }
        self.lastFeed = now
    }

    /// Whether the data directory takes a new block of data now. A fresh file each time, written, synced and
    /// removed: rewriting one file in place passed on a full disk (truncating it freed the very block the write
    /// then took), while the spool's appends failed.
    static func dataDirectoryWritable(_ dataDirectory: String) -> Bool {
        let path = dataDirectory + "/.health.\(getpid())"
        unlink(path)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd); unlink(path) }
        let block = [UInt8](repeating: 0x2e, count: 4096)
        return write(fd, block, block.count) == block.count && fsync(fd) == 0
    }

    /// At the end of `pit supervise`: the device is closed still armed, unless `magic_close`.
    func shutdown(magicClose: Bool, nowayout: Bool) {
        guard var dog = watchdog else { return }
        watchdog = nil
        if magicClose {
            _ = try? dog.disarm(nowayout: nowayout)
        } else {
            // Still armed: whatever runs next must feed it, or the board resets. An orderly stop of a healthy
            // Pit feeds it once more first, so that the next Pit (init respawns it) has the whole timeout to load
            // its config and open the device, not what was left of the last feed interval. Only when healthy: an
            // unhealthy Pit stopped (and respawned) within its grace must not push the reset it is heading for back.
            if health.state == .healthy { try? dog.keepalive() }
            try? dog.close()
        }
    }

    func status(now: Int64, settings: WatchdogSettingsConfig, notify: SystemdNotify?) -> SupervisorStatus.WatchdogStatus {
        SupervisorStatus.WatchdogStatus(
            device: watchdog?.path ?? (settings.enabled ? settings.device : nil),
            timeout_s: watchdog == nil ? nil : settings.timeoutSeconds,
            feed_interval_ms: watchdog == nil ? nil : feedIntervalMs,
            last_feed_ms_ago: lastFeed.map { now - $0 }, boot_status: bootStatus,
            health: Self.describe(health.state), problems: healthProblems,
            owner: settings.owner.rawValue, systemd_ping_interval_ms: notify?.watchdogIntervalMs,
            last_systemd_ping_ms_ago: notify?.lastPing.map { now - $0 })
    }

    private static func describe(_ state: HealthGate.State) -> String {
        switch state {
        case .healthy: return "healthy"
        case .failing: return "failing"
        case .starving: return "starving"
        }
    }
}
