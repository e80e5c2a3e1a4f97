import Glibc

/// What the boot counter concluded for this boot.
public struct BootRecord: Equatable, Sendable {
    /// Watchdog-caused boots in a row, this one included.
    public var consecutiveWatchdogResets: Int
    /// Safe mode is latched: only an operator's `clearSafeMode()` ends it, because a box that
    /// reset itself N times is not trusted to decide by itself that it is fine again.
    public var safeMode: Bool
    /// True on the boot that crossed the threshold, so the event is logged once.
    public var enteredSafeModeNow: Bool
}

/// Counts consecutive watchdog-caused boots in a small file in the data directory, so a board
/// that keeps hanging ends up in safe mode (jails stopped, uplink only) instead of in an endless
/// reset loop.
///
/// The file survives power loss intact: it is replaced by write-temp, fsync, rename, fsync of
/// the directory, so a reader sees either the old or the new count, never a torn one.
public struct BootCounter: Sendable {
    public static let fileName = "watchdog-boots"

    public let directory: String
    /// Consecutive watchdog resets that put the device into safe mode.
    public let threshold: Int

    public init(directory: String, threshold: Int) {
        precondition(threshold > 0, "safe-mode threshold must be positive")
        self.directory = directory
        self.threshold = threshold
    }

    public var path: String { directory + "/" + Self.fileName }
    var temporaryPath: String { directory + "/." + Self.fileName + ".tmp" }

    /// The stored count and latch; a missing file is a fresh device (0, not in safe mode).
    public func load() throws(BoardError) -> (consecutiveWatchdogResets: Int, safeMode: Bool) {
        let text: String
        do throws(BoardError) {
            text = try FileIO.read(path)
        } catch let error where error.errno == ENOENT {
            return (0, false)
        }
        var count: Int?
        var safeMode: Bool?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count == 2 ? parts[1] : nil) {
            case ("consecutive_watchdog_resets", let value?):
                count = Int(value).flatMap { $0 >= 0 ? $0 : nil }
            case ("safe_mode", "0"): safeMode = false
            case ("safe_mode", "1"): safeMode = true
            default:
                throw BoardError("parse", path: path, detail: "unexpected line '\(line)'")
            }
        }
        guard let count, let safeMode else {
            throw BoardError("parse", path: path, detail: "needs consecutive_watchdog_resets=N and safe_mode=0|1")
        }
        return (count, safeMode)
    }

    /// Updates the count for this boot: a watchdog-caused boot (WDIOF_CARDRESET) increments it,
    /// any other boot resets it to 0. Safe mode latches once the count reaches the threshold.
    public func recordBoot(watchdogReset: Bool) throws(BoardError) -> BootRecord {
        let stored = try load()
        let count = watchdogReset ? stored.consecutiveWatchdogResets + 1 : 0
        let reached = count >= threshold
        let record = BootRecord(consecutiveWatchdogResets: count,
                                safeMode: stored.safeMode || reached,
                                enteredSafeModeNow: reached && !stored.safeMode)
        try store(count: count, safeMode: record.safeMode)
        return record
    }

    /// The operator's way out of safe mode; also restarts the count.
    public func clearSafeMode() throws(BoardError) {
        try store(count: 0, safeMode: false)
    }

    func store(count: Int, safeMode: Bool) throws(BoardError) {
        let text = "consecutive_watchdog_resets=\(count)\nsafe_mode=\(safeMode ? 1 : 0)\n"
        // Through a temporary file, fsynced, renamed over and the directory fsynced: a power cut leaves the old
        // counter or the new one, never an empty file under the real name.
        try FileIO.atomicWrite(Array(text.utf8), to: path, directory: directory, temporary: temporaryPath, mode: 0o644)
    }
}
