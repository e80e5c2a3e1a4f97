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
public struct TransportClient {
    public let config: TransportConfig
    var syslog: SyslogClient?
    var https: HTTPSClient?
    var unix: UnixClient?
    var dns: DNSClient?

    /// Builds the client. Fails only on local problems (an unreadable key file, a CA file OpenSSL rejects), which
    /// the agent reports and retries like a delivery failure: the operator may fix the file without a restart.
    public init(_ config: TransportConfig, defaultDevice: String) throws(UplinkError) {
        self.config = config
        switch config.kind {
        case .syslog(let s): syslog = SyslogClient(config: s, timeoutMs: config.timeoutMs)
        case .https(let h): https = try HTTPSClient(config: h, timeoutMs: config.timeoutMs, defaultDevice: defaultDevice)
        case .unix(let u): unix = UnixClient(config: u, timeoutMs: config.timeoutMs)
        case .dns(let d): dns = try DNSClient(config: d, timeoutMs: config.timeoutMs)
        }
    }

    /// Sends `events` (in seq order) and waits for the receiver's acknowledgement.
    public mutating func deliver(_ events: [PitEvent]) -> Delivery {
        if events.isEmpty { return .all(0) }
        if var s = syslog { defer { syslog = s }; return s.deliver(events) }
        if var h = https { defer { https = h }; return h.deliver(events) }
        if var u = unix { defer { unix = u }; return u.deliver(events) }
        if var d = dns { defer { dns = d }; return d.deliver(events) }
        return .none(UplinkError(operation: "deliver", target: config.name, reason: "no client"))
    }

    /// Tells the receiver the device is alive, for transports that have heartbeats (DNS); nil when done or n/a.
    public mutating func heartbeat() -> UplinkError? {
        if var d = dns { defer { dns = d }; return d.heartbeat() }
        return nil
    }

    /// DNS counters (queries, bytes on the wire), for the benchmark.
    public var dnsStats: DNSClientStats? { dns?.stats }
}

/// The host name for syslog's HOSTNAME and the default X-Pit-Device.
func localHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, 255) == 0 else { return "pit" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "pit" : name
}
