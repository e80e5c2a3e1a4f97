/// How many violations are recorded in full. A jail that forks children which each make a forbidden call can make
/// tens of thousands a second (20,000 `bpf()` filled the 4 MiB spool in 9 s): each one an event would evict
/// nothing (violations have their quota in the spool) but would drown the uplink and the log. So per jail and
/// syscall, the first `burst` in each window are recorded with their arguments, and the rest are only counted;
/// when the window ends, one `violations_suppressed` event per jail carries the counts. The jail's violation
/// counter in `pit status` counts every one.
struct ViolationLimiter {
    struct Summary: Equatable {
        var jail: String
        /// Syscall name and how many of its violations were counted only, by name.
        var counts: [(syscall: String, count: Int)]
        var windowMs: Int64

        /// By hand only because tuples are not Equatable: field by field, the counts pairwise.
        static func == (a: Summary, b: Summary) -> Bool {
            a.jail == b.jail && a.windowMs == b.windowMs && a.counts.elementsEqual(b.counts, by: ==)
        }

        var total: Int { counts.reduce(0) { $0 + $1.count } }
        var message: String {
            "\(jail): \(total) more violations in \(windowMs / 1000) s counted, not recorded one by one: "
                + counts.map { "\($0.syscall) \($0.count)" }.joined(separator: ", ")
        }
    }

    private struct Key: Hashable { var jail: String; var syscall: String }
    private struct Window { var start: Int64; var recorded: Int; var suppressed: Int }

    var burst = 10
    var windowMs: Int64 = 60_000
    private var windows: [Key: Window] = [:]

    /// Whether this violation is recorded in full; false: it is counted for the window's summary.
    mutating func admit(jail: String, syscall: String, now: Int64) -> Bool {
        let key = Key(jail: jail, syscall: syscall)
        var window = windows[key] ?? Window(start: now, recorded: 0, suppressed: 0)
        if now - window.start >= windowMs && window.suppressed == 0 { window = Window(start: now, recorded: 0, suppressed: 0) }
        defer { windows[key] = window }
        if window.recorded < burst {
            window.recorded += 1
            return true
        }
        window.suppressed += 1
        return false
    }

    /// The summaries of windows that have ended with something counted: one per jail, syscalls by name. Those
    /// windows start over.
    mutating func due(now: Int64) -> [Summary] {
        var byJail: [String: [(syscall: String, count: Int)]] = [:]
        for (key, window) in windows where now - window.start >= windowMs {
            if window.suppressed > 0 { byJail[key.jail, default: []].append((key.syscall, window.suppressed)) }
            windows[key] = nil
        }
        return byJail.keys.sorted().map { jail in
            Summary(jail: jail, counts: byJail[jail]!.sorted { $0.syscall < $1.syscall }, windowMs: windowMs)
        }
    }

    /// When the earliest window with something counted ends: the loop's deadline for `due`.
    var nextDeadline: Int64? {
        windows.values.filter { $0.suppressed > 0 }.map { $0.start + windowMs }.min()
    }
}
