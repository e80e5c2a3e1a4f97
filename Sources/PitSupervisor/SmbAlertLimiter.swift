/// How many Samba alerts are recorded one by one. An attacker's tools hammer a file server: a password spray is
/// thousands of session setups a minute, and a crawler lists and reads every share. Each one an event would fill
/// the spool (the oldest undelivered events other than violations are what it then drops: the attack's first
/// moves, the ones the defender needs) and drown the uplink. So per jail, client address and alert kind, the first
/// `burst` in each window are recorded in full, and the rest only counted; when the window ends, one
/// `smb_alerts_suppressed` event per jail and client carries the counts by kind. Nothing is lost silently: every
/// alert is either an event or a count in one.
///
/// 20 a minute per client and kind is more than a person at Explorer makes (a listing is one logon and one
/// enumeration; opening a folder of documents a handful of reads) and shows the first names of a spray in full.
struct SmbAlertLimiter {
    struct Summary: Equatable {
        var jail: String
        var client: String
        /// Event kind name (`smb_logon`...) and how many of that kind were counted only, by name.
        var counts: [(kind: String, count: Int)]
        var windowMs: Int64

        /// By hand only because tuples are not Equatable: field by field, the counts pairwise.
        static func == (a: Summary, b: Summary) -> Bool {
            a.jail == b.jail && a.client == b.client && a.windowMs == b.windowMs && a.counts.elementsEqual(b.counts, by: ==)
        }

        var total: Int { counts.reduce(0) { $0 + $1.count } }
        var message: String {
            "\(jail): \(total) more SMB alerts from \(client) in \(windowMs / 1000) s counted, not recorded one by one: "
                + counts.map { "\($0.kind) \($0.count)" }.joined(separator: ", ")
        }
    }

    private struct Key: Hashable { var jail: String; var client: String; var kind: String }
    private struct JailKind: Hashable { var jail: String; var kind: String }

    var burst: Int { get { windows.burst } set { windows.burst = newValue } }
    /// Alerts of one kind recorded per jail and window, whatever the clients: addresses are cheap (a /64, or a
    /// forged line), and per client alone 4096 of them could record 20 each. The rest are counted under
    /// `overJailLimit`.
    var jailBurst: Int { get { perJail.burst } set { perJail.burst = newValue } }
    var windowMs: Int64 {
        get { windows.windowMs }
        set { windows.windowMs = newValue; perJail.windowMs = newValue }
    }
    static let overJailLimit = "any client, past the jail's limit"
    private var perJail = RateWindows<JailKind>(burst: 200, windowMs: 60_000)
    /// Windows kept at most. Client addresses are the attacker's to choose (a /64 of IPv6 source addresses): past
    /// this many, windows that have ended with nothing counted are dropped, and if that is not enough a new
    /// client shares the window of `otherClients`. Its alerts are still recorded (the first `burst`) or counted.
    var maxWindows = 4096
    static let otherClients = "other clients"
    private var windows = RateWindows<Key>(burst: 20, windowMs: 60_000)
    private var lastPrune: Int64?

    /// Whether this alert is recorded in full; false: it is counted for the window's summary.
    mutating func admit(jail: String, client: String, kind: String, now: Int64) -> Bool {
        var key = Key(jail: jail, client: client, kind: kind)
        if !windows.contains(key) && windows.count >= maxWindows {
            // At most once a second: the walk is over every window, and each new address of a flood comes here.
            if lastPrune.map({ now - $0 >= 1000 }) ?? true {
                lastPrune = now
                windows.dropQuiet(now: now)
            }
            if windows.count >= maxWindows { key.client = Self.otherClients }
        }
        return windows.admit(key, now: now) && perJail.admit(JailKind(jail: jail, kind: kind), now: now)
    }

    /// The summaries of windows that have ended with something counted: one per jail and client, kinds by name.
    /// Those windows start over.
    mutating func due(now: Int64) -> [Summary] {
        struct Source: Hashable { var jail: String; var client: String }
        var bySource: [Source: [(kind: String, count: Int)]] = [:]
        for (key, suppressed) in windows.takeEnded(now: now) {
            bySource[Source(jail: key.jail, client: key.client), default: []].append((key.kind, suppressed))
        }
        for (key, suppressed) in perJail.takeEnded(now: now) {
            bySource[Source(jail: key.jail, client: Self.overJailLimit), default: []].append((key.kind, suppressed))
        }
        return bySource.keys.sorted { ($0.jail, $0.client) < ($1.jail, $1.client) }.map { source in
            Summary(jail: source.jail, client: source.client, counts: bySource[source]!.sorted { $0.kind < $1.kind }, windowMs: windowMs)
        }
    }

    /// When the earliest window with something counted ends: the loop's deadline for `due`.
    var nextDeadline: Int64? { [windows.nextDeadline, perJail.nextDeadline].compactMap { $0 }.min() }
}
