/// DHCPv4 messages (RFC 2131 §2, options RFC 2132) and the IPv4/UDP framing the client needs on a packet
/// socket before it has an address.
///
/// Everything that arrives here comes from whoever answers on the customer's LAN, so the parser is written for a
/// hostile sender: every read is bounds-checked against the bytes received, the input is capped at
/// `maxMessageBytes`, an option's length never reaches past its area, option overload (52) is followed once, from
/// the options area only, and a malformed message is a typed `DhcpParseError`, never a trap. Repeated options are
/// concatenated as RFC 3396 says; the concatenated value can never exceed the message it came from.
public struct DhcpPacket: Equatable, Sendable {
    /// 1 BOOTREQUEST (client), 2 BOOTREPLY (server).
    public var op: UInt8
    public var xid: UInt32
    public var secs: UInt16
    /// Bit 15: the client asks for broadcast replies.
    public var flags: UInt16
    public var ciaddr: IPv4
    public var yiaddr: IPv4
    public var siaddr: IPv4
    public var giaddr: IPv4
    /// The client hardware address as sent (at most 16 bytes; 6 for Ethernet).
    public var chaddr: [UInt8]
    /// Options in the order they appear (after RFC 3396 concatenation, at the position of the first part);
    /// neither pad (0) nor end (255).
    public var options: [DhcpOption]

    public init(op: UInt8, xid: UInt32, secs: UInt16 = 0, flags: UInt16 = 0, ciaddr: IPv4 = .zero, yiaddr: IPv4 = .zero,
                siaddr: IPv4 = .zero, giaddr: IPv4 = .zero, chaddr: [UInt8], options: [DhcpOption]) {
        self.op = op
        self.xid = xid
        self.secs = secs
        self.flags = flags
        self.ciaddr = ciaddr
        self.yiaddr = yiaddr
        self.siaddr = siaddr
        self.giaddr = giaddr
        self.chaddr = chaddr
        self.options = options
    }

    /// The fixed header (236 bytes) and the magic cookie.
    public static let headerBytes = 240
    /// Larger inputs are refused unread: no DHCP message on an Ethernet LAN is bigger than a jumbo frame, and
    /// the bound keeps every walk over the input short.
    public static let maxMessageBytes = 9_000
    /// RFC 2131 §2: a client must accept messages of at least 576 bytes, so it pads to 300 (BOOTP's size) and
    /// servers do the same; we pad our messages to this minimum as every common client does.
    public static let minimumSentBytes = 300
    static let magicCookie: [UInt8] = [99, 130, 83, 99]
}

/// A four-byte IPv4 address as it travels in a DHCP message.
public struct IPv4: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
    public init?(_ address: IPAddress) {
        guard address.family == .v4 else { return nil }
        self.init(address.bytes[0], address.bytes[1], address.bytes[2], address.bytes[3])
    }

    public static let zero = IPv4(0)
    public static let broadcast = IPv4(0xFFFF_FFFF)

    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }
    public var address: IPAddress { IPAddress(bytes: bytes) }
    public var description: String { bytes.map(String.init).joined(separator: ".") }
    public var isZero: Bool { value == 0 }
    public static func < (a: IPv4, b: IPv4) -> Bool { a.value < b.value }

    /// The mask of a prefix length 0...32.
    public static func mask(_ length: Int) -> UInt32 { length <= 0 ? 0 : UInt32.max << UInt32(32 - min(length, 32)) }
}

public struct DhcpOption: Equatable, Sendable {
    public var code: UInt8
    public var data: [UInt8]

    public init(_ code: UInt8, _ data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

public enum DhcpMessageType: UInt8, Sendable, CustomStringConvertible {
    case discover = 1, offer, request, decline, ack, nak, release, inform

    public var description: String {
        switch self {
        case .discover: return "DHCPDISCOVER"
        case .offer: return "DHCPOFFER"
        case .request: return "DHCPREQUEST"
        case .decline: return "DHCPDECLINE"
        case .ack: return "DHCPACK"
        case .nak: return "DHCPNAK"
        case .release: return "DHCPRELEASE"
        case .inform: return "DHCPINFORM"
        }
    }
}

/// Why a received message was refused; `reason` is one loggable line (the sender's bytes never appear in it
/// unescaped).
public struct DhcpParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Option codes the client reads or writes.
public enum DhcpOptionCode {
    public static let pad: UInt8 = 0
    public static let subnetMask: UInt8 = 1
    public static let router: UInt8 = 3
    public static let dnsServer: UInt8 = 6
    public static let hostname: UInt8 = 12
    public static let domainName: UInt8 = 15
    public static let requestedAddress: UInt8 = 50
    public static let leaseTime: UInt8 = 51
    public static let overload: UInt8 = 52
    public static let messageType: UInt8 = 53
    public static let serverID: UInt8 = 54
    public static let parameterRequestList: UInt8 = 55
    public static let message: UInt8 = 56
    public static let maxMessageSize: UInt8 = 57
    public static let renewalTime: UInt8 = 58
    public static let rebindingTime: UInt8 = 59
    public static let vendorClass: UInt8 = 60
    public static let clientID: UInt8 = 61
    public static let fqdn: UInt8 = 81
    public static let classlessRoutes: UInt8 = 121
    public static let end: UInt8 = 255
}

// MARK: Parsing

extension DhcpPacket {
    public static func parse(_ bytes: [UInt8]) throws(DhcpParseError) -> DhcpPacket {
        guard bytes.count >= headerBytes else { throw DhcpParseError("\(bytes.count) bytes, shorter than a DHCP header (\(headerBytes))") }
        guard bytes.count <= maxMessageBytes else { throw DhcpParseError("\(bytes.count) bytes, longer than \(maxMessageBytes)") }
        guard Array(bytes[236..<240]) == magicCookie else { throw DhcpParseError("no DHCP magic cookie (a BOOTP message)") }
        let op = bytes[0]
        guard op == 1 || op == 2 else { throw DhcpParseError("op \(op) is neither BOOTREQUEST nor BOOTREPLY") }
        let hlen = Int(bytes[2])
        guard hlen <= 16 else { throw DhcpParseError("hardware address length \(hlen) exceeds chaddr's 16 bytes") }
        func u32(_ at: Int) -> UInt32 { UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3]) }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

        var collected = OptionCollector()
        try collected.walk(bytes, from: headerBytes, to: bytes.count, area: "options") { _, _ throws(DhcpParseError) in }
        // Checked after RFC 3396 concatenation: two one-byte 52s are one two-byte option, which is malformed.
        var overload: UInt8 = 0
        if let data = collected.options.first(where: { $0.code == DhcpOptionCode.overload })?.data {
            guard data.count == 1, (1...3).contains(data[0]) else { throw DhcpParseError("option 52 (overload) is not one byte of 1, 2 or 3") }
            overload = data[0]
        }
        // RFC 2131 §4.1: `file` (108...235) is read before `sname` (44...107). An option 52 inside them is ignored.
        if overload & 1 != 0 { try collected.walk(bytes, from: 108, to: 236, area: "file", ignoring: DhcpOptionCode.overload) { _, _ throws(DhcpParseError) in } }
        if overload & 2 != 0 { try collected.walk(bytes, from: 44, to: 108, area: "sname", ignoring: DhcpOptionCode.overload) { _, _ throws(DhcpParseError) in } }

        return DhcpPacket(op: op, xid: u32(4), secs: u16(8), flags: u16(10), ciaddr: IPv4(u32(12)), yiaddr: IPv4(u32(16)),
                          siaddr: IPv4(u32(20)), giaddr: IPv4(u32(24)), chaddr: Array(bytes[28..<(28 + hlen)]),
                          options: collected.options)
    }

    /// The first option with `code` (repeated ones are already concatenated).
    public func option(_ code: UInt8) -> [UInt8]? { options.first { $0.code == code }?.data }

    public var messageType: DhcpMessageType? {
        guard let data = option(DhcpOptionCode.messageType), data.count == 1 else { return nil }
        return DhcpMessageType(rawValue: data[0])
    }

    public func address(_ code: UInt8) -> IPv4? {
        guard let data = option(code), data.count == 4 else { return nil }
        return IPv4(data[0], data[1], data[2], data[3])
    }

    /// A list of addresses (3, 6); nil when absent or not a whole number of addresses.
    public func addresses(_ code: UInt8) -> [IPv4]? {
        guard let data = option(code), !data.isEmpty, data.count % 4 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 4).map { IPv4(data[$0], data[$0 + 1], data[$0 + 2], data[$0 + 3]) }
    }

    public func seconds(_ code: UInt8) -> UInt32? {
        guard let data = option(code), data.count == 4 else { return nil }
        return UInt32(data[0]) << 24 | UInt32(data[1]) << 16 | UInt32(data[2]) << 8 | UInt32(data[3])
    }

    /// Option 121 (RFC 3442): nil when absent, a `DhcpParseError` when malformed (the RFC says to ignore the
    /// whole option then; the caller decides).
    public func classlessRoutes() throws(DhcpParseError) -> [DhcpRoute]? {
        guard let data = option(DhcpOptionCode.classlessRoutes) else { return nil }
        var routes: [DhcpRoute] = []
        var i = 0
        while i < data.count {
            let width = Int(data[i])
            guard width <= 32 else { throw DhcpParseError("option 121: prefix length \(width) exceeds 32") }
            let significant = (width + 7) / 8
            guard i + 1 + significant + 4 <= data.count else { throw DhcpParseError("option 121: a route runs past the option's end") }
            var destination: UInt32 = 0
            for k in 0..<significant { destination |= UInt32(data[i + 1 + k]) << UInt32(24 - 8 * k) }
            destination &= IPv4.mask(width)
            let r = i + 1 + significant
            routes.append(DhcpRoute(destination: IPv4(destination), prefixLength: width,
                                    router: IPv4(data[r], data[r + 1], data[r + 2], data[r + 3])))
            i = r + 4
        }
        return routes
    }

    /// Option 56's text, made printable (for a NAK's log line).
    public var serverMessage: String? {
        option(DhcpOptionCode.message).map { DhcpText.printable($0, limit: 120) }
    }
}

/// One route of option 121; a router of 0.0.0.0 is on-link.
public struct DhcpRoute: Hashable, Sendable, CustomStringConvertible {
    public var destination: IPv4
    public var prefixLength: Int
    public var router: IPv4

    public init(destination: IPv4, prefixLength: Int, router: IPv4) {
        self.destination = destination
        self.prefixLength = prefixLength
        self.router = router
    }

    public var description: String { "\(destination)/\(prefixLength)" + (router.isZero ? " on-link" : " via \(router)") }
}

enum DhcpText {
    /// Bytes from the network as one printable line: ASCII graphic characters and space kept, the rest `\xNN`.
    static func printable(_ bytes: [UInt8], limit: Int) -> String {
        var text = ""
        for b in bytes.prefix(limit) {
            if b >= 0x20 && b < 0x7F && b != 0x5C { text.unicodeScalars.append(Unicode.Scalar(b)) } else {
                let hex = Array("0123456789abcdef".unicodeScalars)
                text += "\\x"
                text.unicodeScalars.append(hex[Int(b >> 4)])
                text.unicodeScalars.append(hex[Int(b & 0xF)])
            }
        }
        if bytes.count > limit { text += "..." }
        return text
    }
}

/// Walks option areas, concatenating repeated codes (RFC 3396) in the order of their first appearance.
struct OptionCollector {
    var options: [DhcpOption] = []
    private var index: [UInt8: Int] = [:]

    mutating func walk(_ bytes: [UInt8], from start: Int, to end: Int, area: String, ignoring: UInt8? = nil,
                       _ visit: (UInt8, [UInt8]) throws(DhcpParseError) -> Void) throws(DhcpParseError) {
        var i = start
        while i < end {
            let code = bytes[i]
            if code == DhcpOptionCode.pad { i += 1; continue }
            if code == DhcpOptionCode.end { return }
            guard i + 1 < end else { throw DhcpParseError("\(area): option \(code) has no length byte") }
            let length = Int(bytes[i + 1])
            guard i + 2 + length <= end else {
                throw DhcpParseError("\(area): option \(code) claims \(length) bytes, \(end - i - 2) remain")
            }
            let data = Array(bytes[(i + 2)..<(i + 2 + length)])
            if code == ignoring { i += 2 + length; continue }
            try visit(code, data)
            if let at = index[code] {
                options[at].data += data
            } else {
                index[code] = options.count
                options.append(DhcpOption(code, data))
            }
            i += 2 + length
        }
        // No end option: RFC 2131 requires one, but a message cut at the end of its area carries nothing more;
        // taking what was read is as safe as refusing and more tolerant of old servers.
    }
}

// MARK: Encoding

extension DhcpPacket {
    /// The message as sent: header, cookie, options in order (each longer than 255 bytes split per RFC 3396),
    /// end, padded to `minimumSentBytes`.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.headerBytes)
        out[0] = op
        out[1] = 1                                       // htype: Ethernet
        out[2] = UInt8(min(chaddr.count, 16))
        func put32(_ v: UInt32, _ at: Int) { for k in 0..<4 { out[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(24 - 8 * k)) } }
        put32(xid, 4)
        out[8] = UInt8(secs >> 8); out[9] = UInt8(truncatingIfNeeded: secs)
        out[10] = UInt8(flags >> 8); out[11] = UInt8(truncatingIfNeeded: flags)
        put32(ciaddr.value, 12); put32(yiaddr.value, 16); put32(siaddr.value, 20); put32(giaddr.value, 24)
        for (k, b) in chaddr.prefix(16).enumerated() { out[28 + k] = b }
        out.replaceSubrange(236..<240, with: Self.magicCookie)
        for option in options {
            var rest = option.data[...]
            repeat {
                let part = rest.prefix(255)
                out.append(option.code)
                out.append(UInt8(part.count))
                out.append(contentsOf: part)
                rest = rest.dropFirst(part.count)
            } while !rest.isEmpty
        }
        out.append(DhcpOptionCode.end)
        if out.count < Self.minimumSentBytes { out += [UInt8](repeating: 0, count: Self.minimumSentBytes - out.count) }
        return out
    }
}

// MARK: IPv4/UDP framing

/// The IPv4 and UDP headers around a DHCP message on an AF_PACKET/SOCK_DGRAM socket (the kernel adds and strips
/// the Ethernet header). Before the client has an address it cannot use a UDP socket bound to one, and a packet
/// socket also sees replies addressed to the MAC before the address is configured.
public enum DhcpFrame {
    public static let clientPort: UInt16 = 68
    public static let serverPort: UInt16 = 67

    /// An IPv4 datagram carrying `payload` in UDP, TTL 64 (Linux's default; Windows uses 128, but the
    /// fingerprint that matters here is the DHCP one and TTL is not part of any profile we could source).
    public static func encode(_ payload: [UInt8], from source: IPv4, to destination: IPv4,
                              sourcePort: UInt16 = clientPort, destinationPort: UInt16 = serverPort, ttl: UInt8 = 64) -> [UInt8] {
        let udpLength = 8 + payload.count
        let total = 20 + udpLength
        var ip: [UInt8] = [0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0x00, 0x00, ttl, 17, 0, 0]
        ip += source.bytes + destination.bytes
        let sum = checksum(ip)
        ip[10] = UInt8(sum >> 8); ip[11] = UInt8(sum & 0xFF)
        var udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF),
                            UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        udp += payload
        let pseudo = source.bytes + destination.bytes + [0, 17, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF)]
        var udpSum = checksum(pseudo + udp)
        if udpSum == 0 { udpSum = 0xFFFF }
        udp[6] = UInt8(udpSum >> 8); udp[7] = UInt8(udpSum & 0xFF)
        return ip + udp
    }

    public struct Datagram: Equatable, Sendable {
        public var source: IPv4
        public var destination: IPv4
        public var sourcePort: UInt16
        public var destinationPort: UInt16
        public var payload: [UInt8]
    }

    /// The UDP payload of an IPv4 datagram, or why it is not one we take: not IPv4/UDP, a fragment, lengths
    /// that disagree with the bytes received, a bad header or UDP checksum. `verifyUDPChecksum` false: a packet
    /// socket on a link with checksum offload (veth, virtio) delivers received frames whose UDP checksum the
    /// sender left to hardware and was never filled in (the kernel's TP_STATUS_CSUMNOTREADY); the checksum guards
    /// against corruption, not against a sender, so nothing the parser relies on is lost.
    public static func decode(_ bytes: [UInt8], verifyUDPChecksum: Bool = true) throws(DhcpParseError) -> Datagram {
        guard bytes.count >= 28 else { throw DhcpParseError("\(bytes.count) bytes, shorter than IPv4 and UDP headers") }
        guard bytes[0] >> 4 == 4 else { throw DhcpParseError("not IPv4") }
        let headerLength = Int(bytes[0] & 0x0F) * 4
        guard headerLength >= 20, headerLength + 8 <= bytes.count else { throw DhcpParseError("IPv4 header length \(headerLength) does not fit") }
        let total = Int(bytes[2]) << 8 | Int(bytes[3])
        guard total >= headerLength + 8, total <= bytes.count else { throw DhcpParseError("IPv4 total length \(total) disagrees with \(bytes.count) bytes received") }
        guard bytes[9] == 17 else { throw DhcpParseError("IPv4 protocol \(bytes[9]) is not UDP") }
        // More fragments, or an offset: DHCP replies are never fragmented on a LAN, and reassembly is not ours to do.
        guard bytes[6] & 0x3F == 0, bytes[7] == 0 else { throw DhcpParseError("an IPv4 fragment") }
        guard checksum(Array(bytes[0..<headerLength])) == 0 else { throw DhcpParseError("bad IPv4 header checksum") }
        let udp = headerLength
        let udpLength = Int(bytes[udp + 4]) << 8 | Int(bytes[udp + 5])
        guard udpLength >= 8, udp + udpLength <= total else { throw DhcpParseError("UDP length \(udpLength) disagrees with the IPv4 length") }
        let source = IPv4(Array(bytes[12..<16]))
        let destination = IPv4(Array(bytes[16..<20]))
        if verifyUDPChecksum && (bytes[udp + 6] != 0 || bytes[udp + 7] != 0) {
            let pseudo = source.bytes + destination.bytes + [0, 17, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF)]
            guard checksum(pseudo + Array(bytes[udp..<(udp + udpLength)])) == 0 else { throw DhcpParseError("bad UDP checksum") }
        }
        return Datagram(source: source, destination: destination,
                        sourcePort: UInt16(bytes[udp]) << 8 | UInt16(bytes[udp + 1]),
                        destinationPort: UInt16(bytes[udp + 2]) << 8 | UInt16(bytes[udp + 3]),
                        payload: Array(bytes[(udp + 8)..<(udp + udpLength)]))
    }

    /// The Internet checksum (RFC 1071) of `bytes`; 0 over a header that carries a correct one.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

extension IPv4 {
    /// From exactly four bytes.
    init(_ four: [UInt8]) { self.init(four[0], four[1], four[2], four[3]) }
}
