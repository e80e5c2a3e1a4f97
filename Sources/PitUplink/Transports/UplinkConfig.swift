import Glibc
import PitTOML

/// One `[[uplink]]` table of the device config, validated. Relative paths are already made absolute (from the
/// config file's directory), so a transport never depends on the agent's working directory.
///
/// ```toml
/// [[uplink]]
/// type = "syslog"
/// name = "siem"                  # 1-32 of [a-z0-9_-]: also the cursor file name, cursor.siem
/// protocol = "tcp"               # or "udp"
/// host = "10.0.0.5"
/// port = 6514
/// hostname = "pit-07"            # optional, default gethostname(2)
/// app_name = "pit"               # optional
/// facility = 21                  # optional, default 21 = local5
/// sd_id = "pit@32473"            # optional: the SD-ID, with the vendor's own IANA enterprise number
///
/// [[uplink]]
/// type = "https"
/// name = "cloud"
/// url = "https://collector.example:8443/v1/events"
/// ca_file = "ca.pem"             # and/or pin_sha256 = "<64 hex: SHA-256 of the server's SubjectPublicKeyInfo DER>"
/// hmac_key_file = "uplink.key"   # the file's bytes, trailing whitespace removed, are the HMAC key
/// device = "pit-07"              # optional X-Pit-Device, default the hostname
///
/// [[uplink]]
/// type = "unix"
/// name = "agent"
/// path = "/run/pit-agent.sock"
///
/// [[uplink]]
/// type = "dns"
/// name = "console"
/// zone = "abc123.console.example"  # the console's zone; queries go to <data>.<device>.<zone>
/// device = "pit-07"                # 1-63 of [a-z0-9-]: the console's key file is <device>.key
/// key_file = "dns.key"             # 64 hex digits, mode 600 (pit console-dns keygen): the ChaCha20-Poly1305 key
/// resolver = "10.0.0.1:53"         # optional, default the first nameserver in /etc/resolv.conf
/// heartbeat_s = 300                # optional, default 300; 0 turns heartbeats off
/// ```
/// Common optional keys: `batch` (events per delivery, default 100; syslog UDP ignores it), `backoff_base_ms`
/// (default 1000), `backoff_max_ms` (default 300000), `timeout_ms` (each network step, default 10000),
/// `down_after` (consecutive failures before the state says "down" rather than "backoff", default 5).
public struct TransportConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case syslog(Syslog)
        case https(HTTPS)
        case unix(Unix)
        case dns(DNS)
    }

    public struct Syslog: Sendable, Equatable {
        public enum Carrier: String, Sendable { case tcp, udp }
        public var `protocol`: Carrier
        public var host: String
        public var port: Int
        public var hostname: String?
        public var appName: String
        public var facility: Int
        /// The structured-data element's ID: `pit@32473` unless the vendor names its own enterprise number.
        public var sdID: String = SyslogFormat.enterpriseID
    }

    public struct HTTPS: Sendable, Equatable {
        public var url: String
        public var host: String
        public var port: Int
        public var path: String
        public var caFile: String?
        /// SHA-256 of the server certificate's SubjectPublicKeyInfo (DER), 32 bytes.
        public var pinSHA256: [UInt8]?
        public var hmacKeyFile: String
        public var device: String?
    }

    public struct Unix: Sendable, Equatable {
        public var path: String
    }

    public struct DNS: Sendable, Equatable {
        public var zone: String
        public var device: String
        public var keyFile: String
        /// `host:port` (IPv6 in brackets); nil: read /etc/resolv.conf each time the client is built, so a
        /// resolver handed out by DHCP later is picked up after the next failure.
        public var resolver: String?
        /// 0: no heartbeats.
        public var heartbeatMs: Int
        /// Where to look for a `nameserver` line when `resolver` is not set, first match wins: the DNS servers of
        /// the persona's DHCP lease (`DATA/dhcp-resolv.conf`, written by the supervisor) before /etc/resolv.conf,
        /// so the uplink follows the lease (set by `UplinkConfig.load`, which knows the data directory).
        public var resolvConfPaths: [String] = ["/etc/resolv.conf"]

        public init(zone: String, device: String, keyFile: String, resolver: String? = nil, heartbeatMs: Int = 300_000) {
            self.zone = zone
            self.device = device
            self.keyFile = keyFile
            self.resolver = resolver
            self.heartbeatMs = heartbeatMs
        }
    }

    public var name: String
    public var kind: Kind
    public var batch: Int = 100
    public var backoffBaseMs: Int = 1000
    public var backoffMaxMs: Int = 300_000
    public var timeoutMs: Int = 10_000
    public var downAfter: Int = 5

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// `syslog`, `https` or `unix`, as written in the config and state.json.
    public var typeName: String {
        switch kind {
        case .syslog: "syslog"
        case .https: "https"
        case .unix: "unix"
        case .dns: "dns"
        }
    }
}

/// What the agent needs from the device config: where the data lives and the transports.
public struct UplinkAgentConfig: Sendable, Equatable {
    public var file: String
    public var dataDirectory: String
    public var transports: [TransportConfig]

    public init(file: String, dataDirectory: String, transports: [TransportConfig]) {
        self.file = file
        self.dataDirectory = dataDirectory
        self.transports = transports
    }

    public var spoolDirectory: String { dataDirectory + "/spool" }
    public var stateFile: String { dataDirectory + "/uplink/state.json" }
}

public enum UplinkConfig {
    /// Reads `data_dir` and the `[[uplink]]` tables of the device config. Other keys belong to the supervisor's
    /// loader, which rejects unknown ones; this one ignores them so the agent need not link the supervisor.
    public static func load(devicePath path: String) throws(TOMLError) -> UplinkAgentConfig {
        let fields = TOMLFields(try TOML.parse(contentsOf: path), file: path)
        let directory = directoryOf(path)
        var dataDirectory = try fields.string("data_dir") ?? "/var/lib/pit"
        if !dataDirectory.hasPrefix("/") { dataDirectory = directory + "/" + dataDirectory }
        var transports = try parse(fields.tables("uplink") ?? [])
        for i in transports.indices {
            if case .dns(var dns) = transports[i].kind {
                dns.resolvConfPaths = [dataDirectory + "/dhcp-resolv.conf", "/etc/resolv.conf"]
                transports[i].kind = .dns(dns)
            }
        }
        return UplinkAgentConfig(file: path, dataDirectory: dataDirectory, transports: transports)
    }

    /// Validates every `[[uplink]]` table; errors point at the offending value (file:line:col: uplink[1].port: ...).
    public static func parse(_ tables: [TOMLFields]) throws(TOMLError) -> [TransportConfig] {
        var result: [TransportConfig] = []
        for fields in tables {
            let config = try parseOne(fields)
            if result.contains(where: { $0.name == config.name }) {
                throw fields.error("name", "a transport named '\(config.name)' is already defined")
            }
            result.append(config)
        }
        return result
    }

    static let commonKeys: Set<String> = ["type", "name", "batch", "backoff_base_ms", "backoff_max_ms", "timeout_ms",
                                          "down_after"]

    /// Each type's own keys (man/pit-device.toml.5 documents them; ManPageKeysTests checks it).
    static let typeKeys: [String: Set<String>] = [
        "syslog": ["protocol", "host", "port", "hostname", "app_name", "facility", "sd_id"],
        "https": ["url", "ca_file", "pin_sha256", "hmac_key_file", "device"],
        "unix": ["path"],
        "dns": ["zone", "device", "key_file", "resolver", "heartbeat_s"],
    ]

    /// What an `[[uplink]]` of `type` takes: the common keys and its own.
    static func keys(forType type: String) -> Set<String> { commonKeys.union(typeKeys[type] ?? []) }

    static func parseOne(_ fields: TOMLFields) throws(TOMLError) -> TransportConfig {
        let type = try fields.require(fields.string("type"), "type")
        let name = try fields.require(fields.string("name"), "name")
        // The name is the cursor file's suffix: the spool's rule, checked here so the error points at the config.
        do { try Cursors.validate(name) } catch { throw fields.error("name", "must be 1-32 of [a-z0-9_-]") }
        let directory = directoryOf(fields.file)
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : directory + "/" + p }
        func int(_ key: String, _ range: ClosedRange<Int64>) throws(TOMLError) -> Int? {
            guard let value = try fields.int(key) else { return nil }
            guard range.contains(value) else {
                throw fields.error(key, "must be from \(range.lowerBound) to \(range.upperBound)")
            }
            return Int(value)
        }

        let kind: TransportConfig.Kind
        switch type {
        case "syslog":
            try fields.rejectUnknownKeys(keys(forType: type))
            let protocolName = try fields.string("protocol") ?? "tcp"
            guard let proto = TransportConfig.Syslog.Carrier(rawValue: protocolName) else {
                throw fields.error("protocol", "must be \"tcp\" or \"udp\"")
            }
            let host = try fields.require(fields.string("host"), "host")
            let port = try fields.require(int("port", 1...65535), "port")
            let hostname = try fields.string("hostname")
            if let hostname, !SyslogFormat.isHeaderField(hostname, max: 255) {
                throw fields.error("hostname", "must be 1-255 printable ASCII characters without spaces")
            }
            let appName = try fields.string("app_name") ?? "pit"
            if !SyslogFormat.isHeaderField(appName, max: 48) {
                throw fields.error("app_name", "must be 1-48 printable ASCII characters without spaces")
            }
            let facility = try int("facility", 0...23) ?? 21
            let sdID = try fields.string("sd_id") ?? SyslogFormat.enterpriseID
            if !SyslogFormat.isPrivateSDID(sdID) {
                throw fields.error("sd_id", "must be NAME@NUMBER (RFC 5424 §7.2.2: the vendor's IANA enterprise number), at most 32 printable ASCII characters without '=', ']', '\"' or spaces")
            }
            kind = .syslog(.init(protocol: proto, host: host, port: port, hostname: hostname, appName: appName,
                                 facility: facility, sdID: sdID))
        case "https":
            try fields.rejectUnknownKeys(keys(forType: type))
            let url = try fields.require(fields.string("url"), "url")
            guard let parsed = HTTPURL(url) else {
                throw fields.error("url", "must be https://HOST[:PORT][/PATH]")
            }
            let caFile = try fields.string("ca_file").map(absolute)
            var pin: [UInt8]?
            if let text = try fields.string("pin_sha256") {
                guard let bytes = Hex.decode(text), bytes.count == 32 else {
                    throw fields.error("pin_sha256", "must be 64 hex digits (SHA-256 of the server's SPKI DER)")
                }
                pin = bytes
            }
            if caFile == nil && pin == nil {
                throw fields.error("url", "needs ca_file or pin_sha256 to authenticate the server")
            }
            let keyFile = absolute(try fields.require(fields.string("hmac_key_file"), "hmac_key_file"))
            kind = .https(.init(url: url, host: parsed.host, port: parsed.port, path: parsed.path, caFile: caFile,
                                pinSHA256: pin, hmacKeyFile: keyFile, device: try fields.string("device")))
        case "unix":
            try fields.rejectUnknownKeys(keys(forType: type))
            kind = .unix(.init(path: absolute(try fields.require(fields.string("path"), "path"))))
        case "dns":
            try fields.rejectUnknownKeys(keys(forType: type))
            let zone = try fields.require(fields.string("zone"), "zone")
            guard let zoneName = DNSName(zone), !zoneName.labels.isEmpty,
                  zoneName.labels.allSatisfy({ DNSTunnel.isValidDevice(String(decoding: $0.map(DNSName.lower), as: UTF8.self)) }) else {
                throw fields.error("zone", "must be a domain name of letters, digits and hyphens")
            }
            let device = try fields.require(fields.string("device"), "device")
            guard DNSTunnel.isValidDevice(device) else { throw fields.error("device", "must be 1-63 of [a-z0-9-], not starting with '-'") }
            guard DNSTunnel.fragmentPayload(device: device, zone: zoneName) != nil else {
                throw fields.error("zone", "zone and device leave no room for data in a 253-character name")
            }
            let keyFile = absolute(try fields.require(fields.string("key_file"), "key_file"))
            let resolver = try fields.string("resolver")
            if let resolver, ResolverAddress(resolver) == nil {
                throw fields.error("resolver", "must be IPv4[:PORT] or [IPv6][:PORT]")
            }
            let heartbeat = try int("heartbeat_s", 0...86_400) ?? 300
            kind = .dns(.init(zone: zone, device: device, keyFile: keyFile, resolver: resolver, heartbeatMs: heartbeat * 1000))
        default:
            throw fields.error("type", "must be \"syslog\", \"https\", \"unix\" or \"dns\", found \"\(type)\"")
        }
        var config = TransportConfig(name: name, kind: kind)
        config.batch = try int("batch", 1...10_000) ?? config.batch
        config.backoffBaseMs = try int("backoff_base_ms", 1...3_600_000) ?? config.backoffBaseMs
        config.backoffMaxMs = try int("backoff_max_ms", 1...86_400_000) ?? config.backoffMaxMs
        if config.backoffMaxMs < config.backoffBaseMs {
            throw fields.error("backoff_max_ms", "must not be below backoff_base_ms (\(config.backoffBaseMs))")
        }
        config.timeoutMs = try int("timeout_ms", 10...3_600_000) ?? config.timeoutMs
        config.downAfter = try int("down_after", 1...1_000_000) ?? config.downAfter
        return config
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// `https://host[:port][/path]`, the only URLs the HTTPS transport takes (IPv6 literals in brackets).
struct HTTPURL: Equatable {
    var host: String
    var port: Int
    var path: String

    init?(_ url: String) {
        guard url.hasPrefix("https://") else { return nil }
        let rest = url.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
        if path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) { return nil }
        guard let (hostPart, port) = splitHostPort(authority, defaultPort: 443), !hostPart.contains("@") else { return nil }
        host = String(hostPart)
        self.port = port
    }
}

/// "host", "host:port", "[v6]" or "[v6]:port" as host and port (`defaultPort` when none is given). An
/// unbracketed text with more than one colon is a bare IPv6 literal without a port. Nil when malformed, the host
/// is empty or the port is outside 1-65535.
func splitHostPort(_ text: Substring, defaultPort: Int) -> (host: Substring, port: Int)? {
    var host = text
    var portText: Substring?
    if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]") else { return nil }
        host = text[text.index(after: text.startIndex)..<close]
        let after = text[text.index(after: close)...]
        if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
        host = text[..<colon]
        portText = text[text.index(after: colon)...]
    }
    var port = defaultPort
    if let portText {
        guard let p = Int(portText) else { return nil }
        port = p
    }
    guard !host.isEmpty, (1...65535).contains(port) else { return nil }
    return (host, port)
}

enum Hex {
    static func digit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        let value = digit
        var out: [UInt8] = []
        var i = 0
        while i < digits.count {
            guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String { EventID.hex(bytes) }
}
