import CPitShim
import Glibc
import SystemPackage

/// The capability bits a driver reports in `watchdog_info.options` and, with the same values,
/// the cause bits of WDIOC_GETSTATUS / WDIOC_GETBOOTSTATUS (linux/watchdog.h, WDIOF_*).
public struct WatchdogFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let overheat = WatchdogFlags(rawValue: 0x0001)
    public static let fanFault = WatchdogFlags(rawValue: 0x0002)
    public static let extern1 = WatchdogFlags(rawValue: 0x0004)
    public static let extern2 = WatchdogFlags(rawValue: 0x0008)
    public static let powerUnder = WatchdogFlags(rawValue: 0x0010)
    /// WDIOF_CARDRESET: in the boot status, the watchdog caused the last reboot.
    public static let cardReset = WatchdogFlags(rawValue: 0x0020)
    public static let powerOver = WatchdogFlags(rawValue: 0x0040)
    public static let setTimeout = WatchdogFlags(rawValue: 0x0080)
    public static let magicClose = WatchdogFlags(rawValue: 0x0100)
    public static let pretimeout = WatchdogFlags(rawValue: 0x0200)
    public static let alarmOnly = WatchdogFlags(rawValue: 0x0400)
    public static let keepalivePing = WatchdogFlags(rawValue: 0x8000)

    static let names: [(WatchdogFlags, String)] = [
        (.overheat, "OVERHEAT"), (.fanFault, "FANFAULT"), (.extern1, "EXTERN1"), (.extern2, "EXTERN2"),
        (.powerUnder, "POWERUNDER"), (.cardReset, "CARDRESET"), (.powerOver, "POWEROVER"),
        (.setTimeout, "SETTIMEOUT"), (.magicClose, "MAGICCLOSE"), (.pretimeout, "PRETIMEOUT"),
        (.alarmOnly, "ALARMONLY"), (.keepalivePing, "KEEPALIVEPING"),
    ]

    /// `CARDRESET|SETTIMEOUT`, or `none`; unknown bits are shown in hex so nothing is hidden.
    public var description: String {
        var parts = Self.names.filter { contains($0.0) }.map(\.1)
        let unknown = rawValue & ~Self.names.reduce(0) { $0 | $1.0.rawValue }
        if unknown != 0 { parts.append("0x" + String(unknown, radix: 16)) }
        return parts.isEmpty ? "none" : parts.joined(separator: "|")
    }
}

/// What WDIOC_GETSUPPORT says about the driver.
public struct WatchdogSupport: Equatable, Sendable {
    /// The driver's name for itself, e.g. "i6300ESB timer", "Broadcom BCM2835 Watchdog timer".
    public var identity: String
    public var firmwareVersion: UInt32
    public var options: WatchdogFlags
}

/// Why the board last rebooted, as the driver remembers it (WDIOC_GETBOOTSTATUS).
public struct WatchdogBootStatus: Equatable, Sendable, CustomStringConvertible {
    public var flags: WatchdogFlags
    public init(flags: WatchdogFlags) { self.flags = flags }

    /// WDIOF_CARDRESET: the last boot was caused by the watchdog firing, i.e. the previous Pit
    /// (or the kernel) stopped feeding it.
    public var lastBootWasWatchdogReset: Bool { flags.contains(.cardReset) }

    public var description: String {
        lastBootWasWatchdogReset ? "last boot was caused by the watchdog (\(flags))" : "clean boot (\(flags))"
    }
}

/// The timeouts in force after `Watchdog.configure`.
public struct WatchdogSettings: Equatable, Sendable {
    /// What the driver set; may differ from the request because drivers round to hardware steps.
    public var timeoutSeconds: Int
    public var pretimeoutSeconds: Int
    /// Board settings the driver cannot apply, for a log line.
    public var ignored: [String] = []

    public init(timeoutSeconds: Int, pretimeoutSeconds: Int, ignored: [String] = []) {
        self.timeoutSeconds = timeoutSeconds
        self.pretimeoutSeconds = pretimeoutSeconds
        self.ignored = ignored
    }

    /// Milliseconds between feeds for these settings (see `FeedPolicy`).
    public var feedIntervalMilliseconds: Int64 {
        FeedPolicy.intervalMilliseconds(timeoutSeconds: max(timeoutSeconds, 1), pretimeoutSeconds: pretimeoutSeconds)
    }
}

/// How a stop left the watchdog.
public enum WatchdogDisarm: Equatable, Sendable, CustomStringConvertible {
    /// 'V' was written before close: a driver honouring magic close stops the timer.
    case magicClosed(path: String)
    /// The board is `nowayout`: the device was closed without 'V' and keeps counting, so the
    /// board resets unless the next boot's Pit reopens and feeds it in time.
    case leftArmed(path: String, timeoutSeconds: Int?)

    public var description: String {
        switch self {
        case .magicClosed(let path):
            return "\(path): magic close sent; the watchdog stops unless the kernel was built with nowayout"
        case .leftArmed(let path, let timeout):
            let within = timeout.map { " within \($0) s" } ?? ""
            return "\(path): nowayout board, watchdog left armed; it resets the board\(within) unless fed again"
        }
    }
}

/// The watchdog ioctls, as plain functions so tests can put a simulated driver behind a real
/// descriptor (this machine has no watchdog; the board VM runs the real ones). Production code
/// always uses `.kernel`, the pit_wdt_* C wrappers around ioctl(2).
struct WatchdogIoctls: Sendable {
    typealias IntCall = @Sendable (Int32, UnsafeMutablePointer<Int32>) -> Int32
    var getSupport: @Sendable (Int32, UnsafeMutablePointer<watchdog_info>) -> Int32
    var getStatus: IntCall
    var getBootStatus: IntCall
    var keepalive: @Sendable (Int32) -> Int32
    var setTimeout: IntCall
    var getTimeout: IntCall
    var setPretimeout: IntCall
    var getPretimeout: IntCall
    var getTimeLeft: IntCall

    static let kernel = WatchdogIoctls(
        getSupport: { pit_wdt_getsupport($0, $1) }, getStatus: { pit_wdt_getstatus($0, $1) },
        getBootStatus: { pit_wdt_getbootstatus($0, $1) }, keepalive: { pit_wdt_keepalive($0) },
        setTimeout: { pit_wdt_settimeout($0, $1) }, getTimeout: { pit_wdt_gettimeout($0, $1) },
        setPretimeout: { pit_wdt_setpretimeout($0, $1) }, getPretimeout: { pit_wdt_getpretimeout($0, $1) },
        getTimeLeft: { pit_wdt_gettimeleft($0, $1) })
}

/// An open Linux watchdog device (/dev/watchdogN) driven through the watchdog ioctl API.
///
/// Opening the device starts the timer, so Pit opens it first thing and must keep feeding it.
/// The descriptor is deliberately not closed when the value goes away: if Pit dies, the kernel
/// closes it without the magic character and the hardware resets the board, which is the point.
/// Only `disarm(nowayout:)` may stop it, on an intended shutdown.
public struct Watchdog: Sendable {
    public let path: String
    public let descriptor: FileDescriptor
    /// From WDIOC_GETSUPPORT at open; nil for a stand-in adopted by tests.
    public let support: WatchdogSupport?
    /// Set once the driver refused WDIOC_KEEPALIVE: from then on every feed is a write.
    public private(set) var feedsByWrite: Bool
    let ioctls: WatchdogIoctls

    /// Opens the device (which arms it) and asks the driver what it supports.
    public static func open(_ path: String) throws(BoardError) -> Watchdog {
        try open(path, ioctls: .kernel)
    }

    static func open(_ path: String, ioctls: WatchdogIoctls) throws(BoardError) -> Watchdog {
        // O_WRONLY: the watchdog core only implements write; O_CLOEXEC: jailed children
        // must never inherit the descriptor (a child holding it would keep the board alive
        // after Pit died, or could magic-close it).
        let fd = FileDescriptor(rawValue: try FileIO.open(path, O_WRONLY))
        var info = watchdog_info()
        guard ioctls.getSupport(fd.rawValue, &info) == 0 else {
            let error = BoardError.sys("WDIOC_GETSUPPORT", path)
            // Usually not a watchdog at all (ENOTTY), so there is nothing to keep alive. Should it
            // be a watchdog whose driver is broken, closing without 'V' leaves it armed and it
            // resets the board; the boot counter then sees a watchdog reset, as it should.
            try? fd.close()
            throw error
        }
        let identity = withUnsafeBytes(of: info.identity) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let support = WatchdogSupport(identity: identity, firmwareVersion: info.firmware_version,
                                      options: WatchdogFlags(rawValue: info.options))
        return Watchdog(path: path, descriptor: fd, support: support, ioctls: ioctls)
    }

    /// Wraps an already open descriptor. Tests use a FIFO or socket as a stand-in, which makes
    /// every ioctl fail with ENOTTY and exercises the write-based keepalive.
    public init(adopting descriptor: FileDescriptor, path: String) {
        self.init(path: path, descriptor: descriptor, support: nil, ioctls: .kernel)
    }

    private init(path: String, descriptor: FileDescriptor, support: WatchdogSupport?, ioctls: WatchdogIoctls) {
        self.path = path
        self.descriptor = descriptor
        self.support = support
        self.ioctls = ioctls
        // A driver that does not claim KEEPALIVEPING is fed by write from the start.
        self.feedsByWrite = support.map { !$0.options.contains(.keepalivePing) } ?? false
    }

    // MARK: Timeouts

    /// Sets the timeout; returns what the driver actually set (drivers round to their hardware
    /// steps, e.g. dw_wdt to powers of two of its clock).
    @discardableResult
    public func setTimeout(seconds: Int) throws(BoardError) -> Int {
        if let support, !support.options.contains(.setTimeout) {
            throw BoardError("WDIOC_SETTIMEOUT", path: path, detail: "driver has a fixed timeout (no WDIOF_SETTIMEOUT)")
        }
        return try inOut("WDIOC_SETTIMEOUT", seconds, ioctls.setTimeout)
    }

    public func timeout() throws(BoardError) -> Int {
        try inOut("WDIOC_GETTIMEOUT", 0, ioctls.getTimeout)
    }

    /// Sets the pretimeout (seconds before the reset at which the kernel's pretimeout governor
    /// runs, e.g. to panic and leave a log in pstore); 0 disables it. Only drivers reporting
    /// WDIOF_PRETIMEOUT accept it.
    @discardableResult
    public func setPretimeout(seconds: Int) throws(BoardError) -> Int {
        guard supportsPretimeout else {
            throw BoardError("WDIOC_SETPRETIMEOUT", path: path, detail: "driver has no pretimeout (no WDIOF_PRETIMEOUT)")
        }
        return try inOut("WDIOC_SETPRETIMEOUT", seconds, ioctls.setPretimeout)
    }

    /// The pretimeout, or nil when the driver has none.
    public func pretimeout() throws(BoardError) -> Int? {
        guard supportsPretimeout else { return nil }
        return try inOut("WDIOC_GETPRETIMEOUT", 0, ioctls.getPretimeout)
    }

    /// Seconds until the reset; not every driver implements it (EOPNOTSUPP).
    public func timeLeft() throws(BoardError) -> Int {
        try inOut("WDIOC_GETTIMELEFT", 0, ioctls.getTimeLeft)
    }

    public var supportsPretimeout: Bool { support?.options.contains(.pretimeout) ?? false }

    /// Applies the board's timeout and pretimeout where the driver supports them, and returns
    /// the values in force, which the feed interval must be computed from. Unsupported settings
    /// are skipped, not errors: the watchdog is armed already and must be fed either way.
    public func configure(timeoutSeconds: Int, pretimeoutSeconds: Int) throws(BoardError) -> WatchdogSettings {
        var settings = WatchdogSettings(timeoutSeconds: 0, pretimeoutSeconds: 0)
        if support?.options.contains(.setTimeout) ?? true {
            settings.timeoutSeconds = try setTimeout(seconds: timeoutSeconds)
        } else {
            settings.timeoutSeconds = try timeout()
            if settings.timeoutSeconds != timeoutSeconds { settings.ignored.append("timeout_s (fixed by the driver)") }
        }
        if supportsPretimeout {
            // Set even when 0: a previous boot or the driver's default may have left one set.
            settings.pretimeoutSeconds = try setPretimeout(seconds: pretimeoutSeconds)
        } else if pretimeoutSeconds > 0 {
            settings.ignored.append("pretimeout_s (no WDIOF_PRETIMEOUT)")
        }
        return settings
    }

    // MARK: Status

    public func bootStatus() throws(BoardError) -> WatchdogBootStatus {
        WatchdogBootStatus(flags: try flags("WDIOC_GETBOOTSTATUS", ioctls.getBootStatus))
    }

    public func status() throws(BoardError) -> WatchdogFlags {
        try flags("WDIOC_GETSTATUS", ioctls.getStatus)
    }

    // MARK: Feeding

    /// Pings the watchdog. Uses WDIOC_KEEPALIVE; if the driver (or a stand-in) does not
    /// implement it, falls back for good to writing one byte, which every watchdog accepts as
    /// a ping. The byte is not 'V', so it also cancels any pending magic close.
    public mutating func keepalive() throws(BoardError) {
        if !feedsByWrite {
            if ioctls.keepalive(descriptor.rawValue) == 0 { return }
            let errno = Glibc.errno
            // ENOTTY: not a watchdog-core ioctl; EOPNOTSUPP: the core's answer for drivers
            // without KEEPALIVEPING; EINVAL: some legacy drivers' answer to unknown ioctls.
            guard errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL else {
                throw BoardError("WDIOC_KEEPALIVE", path: path, errno: errno)
            }
            feedsByWrite = true
        }
        try FileIO.writeOnce(descriptor.rawValue, [0x2E], path: path)  // "."
    }

    /// Ends an intended stop. On a board that allows it, writes the magic 'V' and closes, which
    /// stops drivers that honour WDIOF_MAGICCLOSE; on a `nowayout` board it only closes, and the
    /// timer keeps running so a hang during shutdown still resets the board.
    /// The value must not be used afterwards.
    public func disarm(nowayout: Bool) throws(BoardError) -> WatchdogDisarm {
        if nowayout {
            let timeout = try? timeout()
            try close()
            return .leftArmed(path: path, timeoutSeconds: timeout)
        }
        do throws(BoardError) {
            try FileIO.writeOnce(descriptor.rawValue, [UInt8(ascii: "V")], path: path)
        } catch {
            try? descriptor.close()
            throw error
        }
        try close()
        return .magicClosed(path: path)
    }

    /// Closes without the magic character (the watchdog keeps running).
    public func close() throws(BoardError) {
        do {
            try descriptor.close()
        } catch {
            // swift-system throws untyped errors that are always `Errno`; keep the number, not the type.
            throw BoardError("close", path: path, errno: (error as? Errno)?.rawValue)
        }
    }

    // MARK: ioctl plumbing

    private func inOut(_ name: String, _ value: Int, _ call: (Int32, UnsafeMutablePointer<Int32>) -> Int32) throws(BoardError) -> Int {
        guard let input = Int32(exactly: value) else {
            throw BoardError(name, path: path, detail: "\(value) s is out of range")
        }
        var io = input
        guard call(descriptor.rawValue, &io) == 0 else { throw BoardError.sys(name, path) }
        return Int(io)
    }

    private func flags(_ name: String, _ call: (Int32, UnsafeMutablePointer<Int32>) -> Int32) throws(BoardError) -> WatchdogFlags {
        var raw: Int32 = 0
        guard call(descriptor.rawValue, &raw) == 0 else { throw BoardError.sys(name, path) }
        return WatchdogFlags(rawValue: UInt32(bitPattern: raw))
    }
}
