/// Counting in fixed windows per key, for the limiters that keep floods out of the spool (ViolationLimiter,
/// SmbAlertLimiter): the first `burst` of a key's window pass, the rest are counted; once the window has ended,
/// what was counted is handed out for one summary event and the key starts over.
struct RateWindows<Key: Hashable> {
    private struct Window { var start: Int64; var recorded: Int; var suppressed: Int }

    var burst: Int
    var windowMs: Int64
    private var windows: [Key: Window] = [:]
    /// When the earliest window with something counted ends: kept as windows start counting, so the loop's
    /// deadline is not a walk over every window after each event.
    private(set) var nextDeadline: Int64?

    init(burst: Int, windowMs: Int64) {
        self.burst = burst
        self.windowMs = windowMs
    }

    var count: Int { windows.count }
    func contains(_ key: Key) -> Bool { windows[key] != nil }

    /// Whether this one passes; false: it is counted for the window's summary.
    mutating func admit(_ key: Key, now: Int64) -> Bool {
        var window = windows[key] ?? Window(start: now, recorded: 0, suppressed: 0)
        if now - window.start >= windowMs && window.suppressed == 0 { window = Window(start: now, recorded: 0, suppressed: 0) }
        defer { windows[key] = window }
        if window.recorded < burst {
            window.recorded += 1
            return true
        }
        window.suppressed += 1
        if window.suppressed == 1 { nextDeadline = min(nextDeadline ?? .max, window.start + windowMs) }
        return false
    }

    /// The windows that have ended, removed; those that counted something, with their counts.
    mutating func takeEnded(now: Int64) -> [(key: Key, suppressed: Int)] {
        var counted: [(key: Key, suppressed: Int)] = []
        for (key, window) in windows where now - window.start >= windowMs {
            if window.suppressed > 0 { counted.append((key, window.suppressed)) }
            windows[key] = nil
        }
        nextDeadline = windows.values.filter { $0.suppressed > 0 }.map { $0.start + windowMs }.min()
        return counted
    }

    /// Drops the windows that have ended with nothing counted (nothing owed to a summary).
    mutating func dropQuiet(now: Int64) {
        windows = windows.filter { $0.value.suppressed > 0 || now - $0.value.start < windowMs }
    }

}
