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
    private var windows = RateWindows<Key>(burst: 10, windowMs: 60_000)

    var burst: Int { get { windows.burst } set { windows.burst = newValue } }
    var windowMs: Int64 { get { windows.windowMs } set { windows.windowMs = newValue } }

    /// Whether this violation is recorded in full; false: it is counted for the window's summary.
    mutating func admit(jail: String, syscall: String, now: Int64) -> Bool {
        windows.admit(Key(jail: jail, syscall: syscall), now: now)
    }

    /// The summaries of windows that have ended with something counted: one per jail, syscalls by name. Those
    /// windows start over.
    mutating func due(now: Int64) -> [Summary] {
        var byJail: [String: [(syscall: String, count: Int)]] = [:]
        for (key, suppressed) in windows.takeEnded(now: now) { byJail[key.jail, default: []].append((key.syscall, suppressed)) }
        return byJail.keys.sorted().map { jail in
            Summary(jail: jail, counts: byJail[jail]!.sorted { $0.syscall < $1.syscall }, windowMs: windowMs)
        }
    }

    /// When the earliest window with something counted ends: the loop's deadline for `due`.
    var nextDeadline: Int64? { windows.nextDeadline }
}
