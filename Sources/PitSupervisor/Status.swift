/// What `pit status --json` prints: the supervisor's state, as one value.
public struct SupervisorStatus: Codable, Sendable, Equatable {
    public struct Jail: Codable, Sendable, Equatable {
        public var name: String
        public var state: String
        public var pid: Int32?
        public var restarts: Int
        public var last_exit: String?
        public var violations: Int
        public var required: Bool
        /// The jail's walls as this kernel builds them: "user namespace", "landlock ABI 7", and what a rule asked
        /// for that the kernel lacks ("landlock: ... (best effort)"); nil for an older status without it.
        public var walls: [String]?
        /// Bytes of the jail's output held in its ring (at most `log_capacity`), and bytes dropped from it so far.
        public var log_bytes: Int?
        public var log_capacity: Int?
        public var log_dropped_bytes: Int?
    }
    public struct WatchdogStatus: Codable, Sendable, Equatable {
        public var device: String?
        public var timeout_s: Int?
        public var feed_interval_ms: Int64?
        public var last_feed_ms_ago: Int64?
        public var boot_status: Int?
        public var health: String
        public var problems: [String]
        /// "pit" or "systemd" (who holds the device); the systemd service watchdog when systemd watches Pit.
        public var owner: String?
        public var systemd_ping_interval_ms: Int64?
        public var last_systemd_ping_ms_ago: Int64?
    }
    public struct LedStatus: Codable, Sendable, Equatable {
        public var pattern: String
        public var status: String?
        public var alert: String?
        public var uplink: String?
    }
    public struct UplinkStatus: Codable, Sendable, Equatable {
        public var state: String
        public var queued: Int
    }
    public var jails: [Jail]
    public var watchdog: WatchdogStatus
    public var leds: LedStatus
    public var uplink: UplinkStatus
    public var uptime_s: Int64
    public var safe_mode: Bool
    public var orphans_reaped: Int
    public var config: String
    /// Lines of the supervisor's own log (stderr) dropped because nobody read them in time (LogWriter.swift).
    public var log_lines_dropped: Int?
    /// Pit's version (`pit --version`): a fleet is inventoried from this.
    public var version: String
    /// SIGHUPs since start: applied, unchanged (same files: nothing recorded), rejected (the running config stays).
    public var reloads: ReloadCounts
    /// The persona's DHCP client, when `[dhcp]` is enabled.
    public var dhcp: DhcpStatus? = nil

    public struct DhcpStatus: Codable, Sendable, Equatable {
        public var interface: String
        public var profile: String
        /// The client's state: selecting, requesting, checking, bound, renewing, rebinding, rebooting, stopped.
        public var state: String
        public var address: String?
        public var server: String?
        /// The latest lease change ("leased 192.0.2.50/24 from 192.0.2.1", "lost ...: reason").
        public var last_event: String?
        /// Replies refused since start (garbage, another client's, a hostile server's).
        public var refused: Int
    }
}

public struct ReloadCounts: Codable, Sendable, Equatable {
    public var applied = 0
    public var unchanged = 0
    public var rejected = 0
    public init() {}
}

/// The answer to `logs JAIL CURSOR` on the control socket: the jail's lines from CURSOR on (a bounded batch), the
/// cursor to ask with next, and how many bytes the ring dropped before this reader got to them. `end` is where
/// the ring ended when this was answered (a reader without --follow stops there).
public struct JailLogsAnswer: Codable, Sendable, Equatable {
    public var ok: Bool
    public var lines: [String]
    public var next: Int
    public var end: Int
    public var skipped_bytes: Int
}

/// The phases of a supervised jail.
public enum JailPhase: String, Sendable {
    case waiting            // not started yet: an earlier jail in the start order is not ready
    case starting           // exec'd, readiness check pending
    case running
    case backoff            // exited; restarts when the back-off ends
    case crashLoop = "crash_loop"
    case stopping           // SIGTERM sent, SIGKILL after the grace
    case stopped            // by the operator or at shutdown
    case failed             // could not be started (setup error); retried with back-off
    /// Not started: what its configuration says cannot work (the persona, the Samba tree, smb.conf's modules or
    /// testparm). The operator's edit fixes it, not a restart or a reboot: no crash loop, no failed health (the
    /// watchdog stays fed, so the box stays reachable for the fix), LEDs `degraded`, one `config_error`.
    /// Tried again every 30 s and when a reload is applied.
    case misconfigured
}
