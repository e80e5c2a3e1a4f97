import Glibc

/// What a transport reports after one delivery attempt: how many of the events, from the first, the receiver
/// acknowledged, and the error that stopped it if not all. Only acknowledged events move the cursor, so a partial
/// delivery (a Unix agent that acked 40 of 100 then died) is kept and the rest retried.
public struct Delivery: Sendable, Equatable {
    public var acknowledged: Int
    public var error: UplinkError?

    static func all(_ count: Int) -> Delivery { Delivery(acknowledged: count, error: nil) }
    static func none(_ error: UplinkError) -> Delivery { Delivery(acknowledged: 0, error: error) }
}

/// A configured transport, ready to deliver. An enum over the four kinds rather than a protocol with existentials:
/// the set is closed (it is the config's `type`), and switching keeps each kind's state a plain value.
public enum TransportClient {
    case syslog(SyslogClient)
    case https(HTTPSClient)
    case unix(UnixClient)
    case dns(DNSClient)

    /// Builds the client. Fails only on local problems (an unreadable key file, a CA file OpenSSL rejects), which
    /// the agent reports and retries like a delivery failure: the operator may fix the file without a restart.
    /// `spoolDirectory`: the spool the events come from (the DNS transport reads its epoch and highest seq).
    public init(_ config: TransportConfig, defaultDevice: String, spoolDirectory: String? = nil) throws(UplinkError) {
        switch config.kind {
        case .syslog(let s): self = .syslog(SyslogClient(config: s, timeoutMs: config.timeoutMs))
        case .https(let h): self = .https(try HTTPSClient(config: h, timeoutMs: config.timeoutMs, defaultDevice: defaultDevice))
        case .unix(let u): self = .unix(UnixClient(config: u, timeoutMs: config.timeoutMs))
        case .dns(let d): self = .dns(try DNSClient(config: d, timeoutMs: config.timeoutMs, spoolDirectory: spoolDirectory))
        }
    }

    /// Sends `events` (in seq order) and waits for the receiver's acknowledgement.
    public mutating func deliver(_ events: [PitEvent]) -> Delivery {
        if events.isEmpty { return .all(0) }
        // Each client is taken out, used and put back: its state (a connection, a DNS lane) is a value.
        switch self {
        case .syslog(var s): defer { self = .syslog(s) }; return s.deliver(events)
        case .https(var h): defer { self = .https(h) }; return h.deliver(events)
        case .unix(var u): defer { self = .unix(u) }; return u.deliver(events)
        case .dns(var d): defer { self = .dns(d) }; return d.deliver(events)
        }
    }

    /// Tells the receiver the device is alive, for transports that have heartbeats (DNS); nil when done or n/a.
    public mutating func heartbeat() -> UplinkError? {
        guard case .dns(var d) = self else { return nil }
        defer { self = .dns(d) }
        return d.heartbeat()
    }

    /// What the receiver answered that means an event could be lost (DNS: a clone, a foreign console state); nil
    /// when nothing did.
    public var alarm: String? {
        guard case .dns(let d) = self else { return nil }
        return d.alarm
    }

    /// Keep each DNS message's completion time in `dnsStats` (the benchmark's latencies).
    public mutating func recordDNSCompletions() {
        guard case .dns(var d) = self else { return }
        d.stats.recording = true
        self = .dns(d)
    }

    /// DNS counters (queries, bytes on the wire), for the benchmark.
    public var dnsStats: DNSClientStats? {
        guard case .dns(let d) = self else { return nil }
        return d.stats
    }
}

/// The host name for syslog's HOSTNAME and the default X-Pit-Device.
func localHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, 255) == 0 else { return "pit" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "pit" : name
}
