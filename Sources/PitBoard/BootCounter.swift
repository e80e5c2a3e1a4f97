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
    /// This kernel boot was recorded by an earlier Pit already (init respawned Pit): nothing was counted.
    public var countedBefore: Bool = false
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
    public func load() throws(BoardError) -> (consecutiveWatchdogResets: Int, safeMode: Bool, bootID: String?) {
        let text: String
        do throws(BoardError) {
            text = try FileIO.read(path)
        } catch let error where error.errno == ENOENT {
            return (0, false, nil)
        }
        var count: Int?
        var safeMode: Bool?
        var bootID: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count == 2 ? parts[1] : nil) {
            case ("consecutive_watchdog_resets", let value?):
                count = Int(value).flatMap { $0 >= 0 ? $0 : nil }
            case ("safe_mode", "0"): safeMode = false
            case ("safe_mode", "1"): safeMode = true
            case ("boot_id", let value?) where Self.isBootID(value): bootID = value
            default:
                throw BoardError("parse", path: path, detail: "unexpected line '\(line)'")
            }
        }
        guard let count, let safeMode else {
            throw BoardError("parse", path: path, detail: "needs consecutive_watchdog_resets=N and safe_mode=0|1")
        }
        return (count, safeMode, bootID)
    }

    /// The kernel's id of this boot (/proc/sys/kernel/random/boot_id, a UUID), nil when it cannot be read.
    public static func currentBootID(_ path: String = "/proc/sys/kernel/random/boot_id") -> String? {
        guard let text = try? FileIO.read(path, limit: 128) else { return nil }
        let id = text.split(separator: "\n").first.map(String.init) ?? ""
        return isBootID(id) ? id : nil
    }

    static func isBootID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2d }
    }

    /// Updates the count for this boot: a watchdog-caused boot (WDIOF_CARDRESET) increments it,
    /// any other boot resets it to 0. Safe mode latches once the count reaches the threshold.
    /// `bootID` (currentBootID) makes it once per kernel boot: a Pit that init respawned, or an orderly restart,
    /// finds its boot recorded and changes nothing. Without it one watchdog reset and one restart of Pit would
    /// count as two resets in a row (safe mode with the default threshold of 2 on the board VM).
    public func recordBoot(watchdogReset: Bool, bootID: String? = nil) throws(BoardError) -> BootRecord {
        let stored = try load()
        if let bootID, stored.bootID == bootID {
            return BootRecord(consecutiveWatchdogResets: stored.consecutiveWatchdogResets, safeMode: stored.safeMode,
                              enteredSafeModeNow: false, countedBefore: true)
        }
        let count = watchdogReset ? stored.consecutiveWatchdogResets + 1 : 0
        let reached = count >= threshold
        let record = BootRecord(consecutiveWatchdogResets: count,
                                safeMode: stored.safeMode || reached,
                                enteredSafeModeNow: reached && !stored.safeMode)
        try store(count: count, safeMode: record.safeMode, bootID: bootID)
        return record
    }

    /// The operator's way out of safe mode; also restarts the count (this boot stays recorded).
    public func clearSafeMode() throws(BoardError) {
        try store(count: 0, safeMode: false, bootID: (try? load())?.bootID)
    }

    func store(count: Int, safeMode: Bool, bootID: String? = nil) throws(BoardError) {
        let text = "consecutive_watchdog_resets=\(count)\nsafe_mode=\(safeMode ? 1 : 0)\n" + (bootID.map { "boot_id=\($0)\n" } ?? "")
        // Through a temporary file, fsynced, renamed over and the directory fsynced: a power cut leaves the old
        // counter or the new one, never an empty file under the real name.
        try FileIO.atomicWrite(Array(text.utf8), to: path, directory: directory, temporary: temporaryPath, mode: 0o644)
    }
}
