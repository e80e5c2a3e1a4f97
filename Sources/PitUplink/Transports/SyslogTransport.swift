import PitProcess

/// RFC 5424 messages for the syslog transport.
///
///     <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [pit@32473 id="…" seq="…" kind="…"] {"v":1,…}
///
/// - PRI = facility × 8 + severity; facility local5 (21) unless configured.
/// - Severity by kind (what a SIEM rule would page on): `violation` → 1 alert (a jailed service attempted a
///   forbidden system call: on a honeypot that is an intruder at work, act now); `crash_loop`, `watchdog_reset`,
///   `safe_mode`, `config_error`, `runtime_fault`, `control_refused` → 4 warning (the device is degraded); `service_exit`, `restart`, `smb_access`,
///   `smb_logon`, `smb_enumeration` → 5 notice (normal but significant: on a honeypot every SMB access is someone probing); `boot`, `uplink_test`,
///   `health`, `config_applied` → 6 informational.
/// - TIMESTAMP is the event's own time (RFC 3339 UTC with milliseconds, which RFC 5424 accepts), not the send time:
///   a retried event keeps the time it happened.
/// - PROCID is `-`: the agent's pid means nothing to the receiver. MSGID is the kind.
/// - The SD element `pit@32473` carries id, seq, kind and Pit's version so a receiver can drop duplicates and order
///   events without parsing MSG. 32473 is IANA's example enterprise number (RFC 5612): `sd_id` names the vendor's
///   own (`acme@41234`).
/// - MSG is the event's JSON line, without a BOM (RFC 5424's MSG-ANY): receivers hand it to a JSON parser, which
///   a leading BOM would trip.
public enum SyslogFormat {
    public static let enterpriseID = "pit@32473"
    /// The largest UDP payload over IPv4 is 65507; stay below it with margin for any IPv6 extension headers.
    static let maxDatagram = 65_000

    static func severity(of kind: PitEvent.Kind) -> Int {
        switch kind {
        case .violation: 1
        case .crashLoop, .watchdogReset, .safeMode, .configError, .runtimeFault, .controlRefused, .dhcpLost: 4
        case .spoolDamage, .uplinkAlarm: 3
        case .violationsSuppressed: 1
        case .serviceExit, .restart, .smbAccess, .smbLogon, .smbEnumeration, .smbAlertsSuppressed, .decoyAccess, .dhcpLease: 5
        case .boot, .uplinkTest, .health, .configApplied: 6
        }
    }

    /// The header fields RFC 5424 allows: PRINTUSASCII (33-126), length 1...max.
    static func isHeaderField(_ s: String, max: Int) -> Bool {
        !s.isEmpty && s.utf8.count <= max && s.utf8.allSatisfy { (33...126).contains($0) }
    }

    /// A private SD-ID (RFC 5424 §7.2.2): SD-NAME "@" enterprise number; SD-NAME is 1-32 PRINTUSASCII but '=',
    /// SP, ']' and '"'.
    static func isPrivateSDID(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        // The enterprise number: dot-separated decimal parts, none empty (`32473`, `32473.1`; not `1.` or `1..2`).
        let number = parts.count == 2 ? parts[1].split(separator: ".", omittingEmptySubsequences: false) : []
        guard s.utf8.count <= 32, parts.count == 2, !parts[0].isEmpty,
              !number.isEmpty, number.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }) else { return false }
        return parts[0].utf8.allSatisfy { (33...126).contains($0) && $0 != 61 && $0 != 93 && $0 != 34 }
    }

    /// SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3).
    static func escapeParam(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\"" || c == "\\" || c == "]" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func message(_ event: PitEvent, hostname: String, appName: String, facility: Int,
                        sdID: String = enterpriseID) -> [UInt8] {
        let pri = facility * 8 + severity(of: event.kind)
        var sd = "[\(sdID) id=\"\(escapeParam(event.id))\""
        if let seq = event.seq { sd += " seq=\"\(seq)\"" }
        sd += " kind=\"\(event.kind.rawValue)\""
        if let version = event.pitVersion { sd += " version=\"\(escapeParam(version))\"" }
        sd += "]"
        let header = "<\(pri)>1 \(event.time) \(hostname) \(appName) - \(event.kind.rawValue) \(sd) "
        return Array(header.utf8) + event.jsonBytes()
    }

    /// RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, no trailer, so a newline inside a message cannot split it.
    static func octetCounted(_ message: [UInt8]) -> [UInt8] {
        Array("\(message.count) ".utf8) + message
    }

    /// Cuts an over-long datagram to `limit` bytes at a UTF-8 character boundary. The header and the SD element
    /// (id, seq, kind) come first and survive, so the receiver can still identify the event; the JSON is cut.
    static func truncated(_ message: [UInt8], limit: Int = maxDatagram) -> [UInt8] {
        guard message.count > limit else { return message }
        var end = limit
        // Back off continuation bytes (10xxxxxx) so no character is split.
        while end > 0 && message[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(message[0..<end])
    }
}

/// Delivery over syslog.
///
/// TCP: one connection per batch; the events are written octet-counted, then the agent half-closes (FIN) and waits
/// for the receiver to close its side. A receiver closes only after it has read everything before the FIN (rsyslog
/// and syslog-ng do so), so the close is the acknowledgement: a receiver that died with data unread resets the
/// connection instead and the batch is retried. Without this, bytes accepted by the kernel but never read by a
/// crashing receiver would count as delivered. It does not prove the receiver stored them; RFC 5425/6587 syslog has
/// no application-level ack.
///
/// UDP: one datagram per event, connected socket. Delivered means sent: UDP has no ack and loss is silent (a
/// closed port on the same host may surface as ECONNREFUSED on a later send, which is retried). Use TCP or HTTPS
/// where loss matters.
public struct SyslogClient {
    let config: TransportConfig.Syslog
    let timeoutMs: Int
    let hostname: String

    init(config: TransportConfig.Syslog, timeoutMs: Int) {
        self.config = config
        self.timeoutMs = timeoutMs
        let host = config.hostname ?? localHostName()
        hostname = SyslogFormat.isHeaderField(host, max: 255) ? host : "-"
    }

    func message(_ event: PitEvent) -> [UInt8] {
        SyslogFormat.message(event, hostname: hostname, appName: config.appName, facility: config.facility, sdID: config.sdID)
    }

    mutating func deliver(_ events: [PitEvent]) -> Delivery {
        let deadline = monotonicMilliseconds() + Int64(timeoutMs)
        do throws(UplinkError) {
            switch config.protocol {
            case .tcp:
                let socket = try Socket.connect(host: config.host, port: config.port, deadline: deadline)
                var stream: [UInt8] = []
                for event in events { stream += SyslogFormat.octetCounted(message(event)) }
                try socket.sendAll(stream, deadline: deadline)
                try socket.shutdownWrite()
                // Anything the receiver sends is ignored; its close (EOF) is the acknowledgement.
                while try !socket.receive(max: 4096, deadline: deadline, operation: "await close").isEmpty {}
                return .all(events.count)
            case .udp:
                let socket = try Socket.connect(host: config.host, port: config.port, datagram: true,
                                                deadline: deadline)
                var sent = 0
                for event in events {
                    do throws(UplinkError) {
                        try socket.sendDatagram(SyslogFormat.truncated(message(event)), deadline: deadline)
                    } catch {
                        return Delivery(acknowledged: sent, error: error)
                    }
                    sent += 1
                }
                return .all(sent)
            }
        } catch {
            return .none(error)
        }
    }
}
