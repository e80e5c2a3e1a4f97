/// The DNS message format (RFC 1035 §4), as much of it as the DNS transport and `pit console-dns` need, read
/// strictly. No DNS library fits here (the Swift ones are built on swift-nio or Foundation), and the part used is
/// small: a header, questions, resource records kept as raw rdata, names with compression pointers on read, TXT
/// strings and the EDNS(0) OPT pseudo-record. Everything that reaches the parser came off the network, so every
/// length is checked against what is left, compression pointers must point backwards, at most 255 bytes of name
/// and 128 labels are followed, and bytes after the last record are an error. `Tests/Fuzz/fuzz-dns.swift` fuzzes
/// `DNSMessage.parse`.
public struct DNSMessage: Sendable, Equatable {
    public var id: UInt16
    /// The 16 flag bits of the header (QR, opcode, AA, TC, RD, RA, Z, rcode), accessed through the properties below.
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    public var additional: [DNSRecord]

    public init(id: UInt16, flags: UInt16 = 0, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authority: [DNSRecord] = [], additional: [DNSRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    public var isResponse: Bool {
        get { flags & 0x8000 != 0 }
        set { flags = newValue ? flags | 0x8000 : flags & ~0x8000 }
    }
    public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    public var authoritative: Bool {
        get { flags & 0x0400 != 0 }
        set { flags = newValue ? flags | 0x0400 : flags & ~0x0400 }
    }
    public var truncated: Bool {
        get { flags & 0x0200 != 0 }
        set { flags = newValue ? flags | 0x0200 : flags & ~0x0200 }
    }
    public var recursionDesired: Bool {
        get { flags & 0x0100 != 0 }
        set { flags = newValue ? flags | 0x0100 : flags & ~0x0100 }
    }
    /// The 4-bit rcode of the header (EDNS extended rcodes are not used here).
    public var rcode: UInt8 {
        get { UInt8(flags & 0xF) }
        set { flags = (flags & ~0xF) | UInt16(newValue & 0xF) }
    }

    /// The requester's UDP payload size from its OPT record, if it sent one.
    public var ednsUDPSize: Int? {
        additional.first { $0.type == DNSType.opt }.map { Int($0.rclass) }
    }
}

public enum DNSType {
    public static let soa: UInt16 = 6
    public static let txt: UInt16 = 16
    public static let opt: UInt16 = 41
}

public enum DNSRcode {
    public static let noError: UInt8 = 0
    public static let formErr: UInt8 = 1
    public static let servFail: UInt8 = 2
    public static let notImp: UInt8 = 4
    public static let refused: UInt8 = 5
}

/// A domain name as its labels, bytes as received: resolvers randomise letter case (draft-vixie-dnsext-0x20) and
/// check that the answer echoes it, so names are compared case-insensitively but never rewritten.
public struct DNSName: Sendable, Equatable, CustomStringConvertible {
    public var labels: [[UInt8]]

    public init(labels: [[UInt8]]) { self.labels = labels }

    /// From dotted text (no escapes: the transport only builds names of letters, digits and hyphens).
    public init?(_ text: String) {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        labels = trimmed.isEmpty ? [] : trimmed.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard labels.allSatisfy({ (1...63).contains($0.count) }), wireLength <= 255 else { return nil }
    }

    /// Length in wire form: a length byte per label, the bytes, the root's zero byte.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    public var description: String {
        labels.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    /// Whether this name is `zone` or below it, ignoring ASCII case.
    public func isSubdomain(of zone: DNSName) -> Bool {
        guard labels.count >= zone.labels.count else { return false }
        return zip(labels.suffix(zone.labels.count), zone.labels).allSatisfy { DNSName.equalFoldingCase($0, $1) }
    }

    public func equalsIgnoringCase(_ other: DNSName) -> Bool {
        labels.count == other.labels.count && zip(labels, other.labels).allSatisfy { DNSName.equalFoldingCase($0, $1) }
    }

    static func equalFoldingCase(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    static func lower(_ c: UInt8) -> UInt8 { (0x41...0x5A).contains(c) ? c | 0x20 : c }
}

public struct DNSQuestion: Sendable, Equatable {
    public var name: DNSName
    public var type: UInt16
    public var qclass: UInt16

    public init(name: DNSName, type: UInt16, qclass: UInt16 = 1) {
        self.name = name
        self.type = type
        self.qclass = qclass
    }
}

/// A resource record with its rdata undecoded (names inside rdata are not followed: the transport reads only TXT).
public struct DNSRecord: Sendable, Equatable {
    public var name: DNSName
    public var type: UInt16
    /// The class; for OPT the requester's UDP payload size.
    public var rclass: UInt16
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(name: DNSName, type: UInt16, rclass: UInt16 = 1, ttl: UInt32 = 0, rdata: [UInt8]) {
        self.name = name
        self.type = type
        self.rclass = rclass
        self.ttl = ttl
        self.rdata = rdata
    }

    /// A TXT record; `strings` longer than 255 bytes are split (each character-string holds at most 255).
    public static func txt(_ name: DNSName, _ text: [UInt8], ttl: UInt32 = 0) -> DNSRecord {
        var rdata: [UInt8] = []
        var rest = text[...]
        repeat {
            let chunk = rest.prefix(255)
            rdata.append(UInt8(chunk.count))
            rdata += chunk
            rest = rest.dropFirst(chunk.count)
        } while !rest.isEmpty
        return DNSRecord(name: name, type: DNSType.txt, rdata: rdata)
    }

    /// The EDNS(0) OPT pseudo-record advertising `udpSize` (RFC 6891).
    public static func opt(udpSize: Int) -> DNSRecord {
        DNSRecord(name: DNSName(labels: []), type: DNSType.opt, rclass: UInt16(clamping: udpSize), ttl: 0, rdata: [])
    }

    /// The character-strings of TXT rdata, concatenated; nil if they do not exactly fill it.
    public var txtJoined: [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < rdata.count {
            let n = Int(rdata[i])
            guard i + 1 + n <= rdata.count else { return nil }
            out += rdata[(i + 1)..<(i + 1 + n)]
            i += 1 + n
        }
        return out
    }
}

public struct DNSParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public var offset: Int
    public var reason: String
    public var description: String { "DNS message at byte \(offset): \(reason)" }
}

extension DNSMessage {
    /// The largest message either side accepts (TCP's 16-bit length).
    public static let maxSize = 65535

    // MARK: Parse

    public static func parse(_ bytes: [UInt8]) throws(DNSParseError) -> DNSMessage {
        var reader = Reader(bytes: bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        let qd = Int(try reader.u16()), an = Int(try reader.u16()), ns = Int(try reader.u16()), ar = Int(try reader.u16())
        // A question takes at least 5 bytes and a record 11: counts the message cannot hold are refused before any
        // array is sized from them.
        guard qd * 5 + (an + ns + ar) * 11 <= bytes.count - 12 else {
            throw DNSParseError(offset: 4, reason: "section counts exceed the message")
        }
        var message = DNSMessage(id: id, flags: flags)
        for _ in 0..<qd {
            let name = try reader.name()
            message.questions.append(DNSQuestion(name: name, type: try reader.u16(), qclass: try reader.u16()))
        }
        message.answers = try reader.records(an)
        message.authority = try reader.records(ns)
        message.additional = try reader.records(ar)
        guard reader.offset == bytes.count else {
            throw DNSParseError(offset: reader.offset, reason: "\(bytes.count - reader.offset) bytes after the last record")
        }
        return message
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u8() throws(DNSParseError) -> UInt8 {
            guard offset < bytes.count else { throw DNSParseError(offset: offset, reason: "truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(DNSParseError) -> UInt16 {
            UInt16(try u8()) << 8 | UInt16(try u8())
        }

        mutating func u32() throws(DNSParseError) -> UInt32 {
            UInt32(try u16()) << 16 | UInt32(try u16())
        }

        mutating func take(_ n: Int) throws(DNSParseError) -> [UInt8] {
            guard n <= bytes.count - offset else { throw DNSParseError(offset: offset, reason: "truncated") }
            defer { offset += n }
            return Array(bytes[offset..<(offset + n)])
        }

        /// A name at the current offset, following compression pointers. A pointer must point strictly before the
        /// place it was read from (so no loop is possible), the whole name must stay within 255 bytes, and label
        /// types 01 and 10 (RFC 6891 retired them) are errors.
        mutating func name() throws(DNSParseError) -> DNSName {
            var labels: [[UInt8]] = []
            var length = 1
            var position = offset
            var jumped = false
            while true {
                guard position < bytes.count else { throw DNSParseError(offset: position, reason: "name truncated") }
                let byte = bytes[position]
                switch byte & 0xC0 {
                case 0x00:
                    if byte == 0 {
                        if !jumped { offset = position + 1 }
                        return DNSName(labels: labels)
                    }
                    let n = Int(byte)
                    guard position + 1 + n <= bytes.count else {
                        throw DNSParseError(offset: position, reason: "label truncated")
                    }
                    length += 1 + n
                    guard length <= 255 else { throw DNSParseError(offset: position, reason: "name longer than 255") }
                    labels.append(Array(bytes[(position + 1)...(position + n)]))
                    position += 1 + n
                case 0xC0:
                    guard position + 1 < bytes.count else {
                        throw DNSParseError(offset: position, reason: "pointer truncated")
                    }
                    let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < position else {
                        throw DNSParseError(offset: position, reason: "compression pointer does not point backwards")
                    }
                    if !jumped { offset = position + 2 }
                    jumped = true
                    position = target
                default:
                    throw DNSParseError(offset: position, reason: "unsupported label type")
                }
            }
        }

        mutating func records(_ count: Int) throws(DNSParseError) -> [DNSRecord] {
            var records: [DNSRecord] = []
            for _ in 0..<count {
                let name = try name()
                let type = try u16()
                let rclass = try u16()
                let ttl = try u32()
                let length = Int(try u16())
                records.append(DNSRecord(name: name, type: type, rclass: rclass, ttl: ttl, rdata: try take(length)))
            }
            return records
        }
    }

    // MARK: Encode

    /// Wire form. A record named exactly like the first question points back to it (offset 12), which halves an
    /// answer whose name is a long fragment name; other names are written in full.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        func u16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
        func name(_ n: DNSName) {
            for label in n.labels { out.append(UInt8(label.count)); out += label }
            out.append(0)
        }
        u16(id); u16(flags)
        u16(UInt16(questions.count)); u16(UInt16(answers.count))
        u16(UInt16(authority.count)); u16(UInt16(additional.count))
        for q in questions { name(q.name); u16(q.type); u16(q.qclass) }
        for r in answers + authority + additional {
            if let first = questions.first, r.name == first.name, !r.name.labels.isEmpty {
                out += [0xC0, 0x0C]
            } else {
                name(r.name)
            }
            u16(r.type); u16(r.rclass)
            u16(UInt16(r.ttl >> 16)); u16(UInt16(r.ttl & 0xFFFF))
            u16(UInt16(r.rdata.count)); out += r.rdata
        }
        return out
    }
}
