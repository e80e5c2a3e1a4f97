import Glibc

/// An IPv4 or IPv6 address as the kernel sees it: network-order bytes (4 or 16).
///
/// Parsing and printing go through inet_pton/inet_ntop so the text matches `ip` and the kernel
/// exactly (canonical RFC 5952 IPv6), which the tests rely on when they cross-check `ip -j`.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable, Hashable {
        case v4, v6
        /// AF_INET / AF_INET6, as netlink headers carry it.
        public var addressFamily: Int32 { self == .v4 ? AF_INET : AF_INET6 }
        public var bitCount: Int { self == .v4 ? 32 : 128 }
    }

    public let bytes: [UInt8]
    public var family: Family { bytes.count == 4 ? .v4 : .v6 }

    /// `bytes` must be 4 or 16 long; other lengths are a programming error.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "IP address of \(bytes.count) bytes")
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or any IPv6 text form; nil otherwise. IPv4 must be the strict four-part
    /// form (inet_pton refuses "10.1" and octal), which is what a persona file should contain.
    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family.addressFamily, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard ok != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isMulticast: Bool { family == .v4 ? bytes[0] & 0xF0 == 0xE0 : bytes[0] == 0xFF }
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    public var isLoopback: Bool {
        family == .v4 ? bytes[0] == 127 : bytes.dropLast().allSatisfy { $0 == 0 } && bytes[15] == 1
    }
    /// fe80::/10: the kernel manages these itself (one per link, derived from the MAC).
    public var isIPv6LinkLocal: Bool { family == .v6 && bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 }

    /// The address with every bit past `prefixLength` cleared.
    public func masked(to prefixLength: Int) -> IPAddress {
        var out = bytes
        for i in 0..<out.count {
            let keep = max(0, min(8, prefixLength - i * 8))
            out[i] &= keep == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF00 >> keep)
        }
        return IPAddress(bytes: out)
    }

    /// The IPv4 directed broadcast of a prefix (all host bits set), as `ip addr add ... brd +` sets it.
    func broadcast(prefixLength: Int) -> IPAddress {
        var out = bytes
        for i in 0..<out.count {
            let keep = max(0, min(8, prefixLength - i * 8))
            out[i] |= keep == 8 ? 0 : UInt8(truncatingIfNeeded: 0xFF >> keep)
        }
        return IPAddress(bytes: out)
    }
}

/// An address with a prefix length, "192.0.2.10/24". The same type serves interface addresses (host
/// bits set) and route destinations (host bits must be clear; `isNetwork` checks that).
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    public init(address: IPAddress, length: Int) {
        precondition((0...address.family.bitCount).contains(length), "prefix /\(length) for \(address.family)")
        self.address = address
        self.length = length
    }

    /// "ADDR/LEN" with LEN required: a bare address is rejected because a persona that silently got
    /// /32 or /128 would have no connected route and its gateway would be unreachable.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])),
              !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].count <= 3,
              let length = Int(parts[1]), length <= address.family.bitCount else { return nil }
        self.init(address: address, length: length)
    }

    public var family: IPAddress.Family { address.family }
    public var isNetwork: Bool { address.masked(to: length) == address }
    public var description: String { "\(address)/\(length)" }
}

/// A 48-bit Ethernet address.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 6, "MAC of \(bytes.count) bytes")
        self.bytes = bytes
    }

    /// Exactly six colon-separated two-digit hex octets, either case. Dashes, dots and short octets
    /// are refused so a persona file has one spelling that reads the same everywhere.
    public init?(_ text: String) {
        guard let octets = Self.octets(text, count: 6) else { return nil }
        self.bytes = octets
    }

    /// Parses "aa:bb:cc" style text of `count` octets (also used for a 3-octet OUI).
    static func octets(_ text: String, count: Int) -> [UInt8]? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == count else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let v = UInt8(part, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    /// The I/G bit: a multicast source address is invalid on Ethernet and the kernel refuses it
    /// (EADDRNOTAVAIL), so a persona with one is rejected when the file is read, not at boot.
    public var isMulticast: Bool { bytes[0] & 0x01 != 0 }
    /// The U/L bit: set on "02:..." style addresses, clear on vendor (OUI) addresses.
    public var isLocallyAdministered: Bool { bytes[0] & 0x02 != 0 }
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String {
        bytes.map { b in
            let digits = String(b, radix: 16)
            return b < 16 ? "0" + digits : digits
        }.joined(separator: ":")
    }
}
