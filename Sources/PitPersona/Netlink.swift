import CPersonaShim
import Glibc

// A minimal netlink transport: build a request (nlmsghdr + family header + rtattrs), send it, and
// read replies until the kernel's ACK or the end of a dump. Written by hand rather than with libmnl
// so the supervisor has no extra shared library on the image and every error keeps its errno.

/// One received netlink message: the header fields Pit uses and the bytes after the header.
struct NetlinkMessage {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    /// Family header (ifinfomsg, ifaddrmsg, rtmsg...) followed by attributes.
    var payload: [UInt8]

    /// The fixed family header at the start of the payload, or nil if the message is too short.
    func header<Header>(_ type: Header.Type) -> Header? {
        guard payload.count >= MemoryLayout<Header>.size else { return nil }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: Header.self) }
    }

    /// The attributes after a family header of `Header`'s (aligned) size.
    func attributes<Header>(after type: Header.Type) -> NetlinkAttributes {
        NetlinkAttributes(payload, from: Netlink.align(MemoryLayout<Header>.size))
    }
}

/// The rtattr list of a message, first occurrence of each type kept (Pit reads no repeated ones).
struct NetlinkAttributes {
    private var values: [UInt16: [UInt8]] = [:]

    init(_ bytes: [UInt8], from start: Int) {
        var offset = start
        while offset + 4 <= bytes.count {
            let length = Int(Netlink.read16(bytes, offset))
            // The top two bits of the type are NLA_F_NESTED / NLA_F_NET_BYTEORDER, not part of it.
            let type = Netlink.read16(bytes, offset + 2) & 0x3FFF
            guard length >= 4, offset + length <= bytes.count else { break }
            if values[type] == nil { values[type] = Array(bytes[(offset + 4)..<(offset + length)]) }
            offset += Netlink.align(length)
        }
    }

    subscript(type: UInt16) -> [UInt8]? { values[type] }

    func u32(_ type: UInt16) -> UInt32? {
        guard let v = values[type], v.count >= 4 else { return nil }
        return v.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// A NUL-terminated string attribute (IFLA_IFNAME, NLMSGERR_ATTR_MSG).
    func string(_ type: UInt16) -> String? {
        guard let v = values[type] else { return nil }
        return String(decoding: v.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A request being built: a family header then attributes, each padded to 4 bytes.
struct NetlinkRequest {
    var type: UInt16
    var flags: UInt16
    private(set) var body: [UInt8] = []

    init<Header>(type: UInt16, flags: UInt16, header: Header) {
        self.type = type
        self.flags = flags
        var copy = header
        withUnsafeBytes(of: &copy) { body.append(contentsOf: $0) }
        pad()
    }

    mutating func add(_ attribute: UInt16, _ value: [UInt8]) {
        let length = 4 + value.count
        body += Netlink.bytes(UInt16(length)) + Netlink.bytes(attribute) + value
        pad()
    }

    mutating func add(_ attribute: UInt16, u32 value: UInt32) { add(attribute, Netlink.bytes(value)) }

    mutating func add(_ attribute: UInt16, string: String) { add(attribute, Array(string.utf8) + [0]) }

    private mutating func pad() { body += [UInt8](repeating: 0, count: Netlink.align(body.count) - body.count) }

    func encoded(sequence: UInt32) -> [UInt8] {
        let headerSize = MemoryLayout<nlmsghdr>.size
        var header = nlmsghdr(nlmsg_len: UInt32(headerSize + body.count), nlmsg_type: type, nlmsg_flags: flags,
                              nlmsg_seq: sequence, nlmsg_pid: 0)
        return withUnsafeBytes(of: &header) { Array($0) } + body
    }
}

enum Netlink {
    static let request = UInt16(NLM_F_REQUEST)
    static let ack = UInt16(NLM_F_ACK)
    static let dump = UInt16(NLM_F_DUMP)
    static let create = UInt16(NLM_F_CREATE)
    static let excl = UInt16(NLM_F_EXCL)
    static let replace = UInt16(NLM_F_REPLACE)

    static func align(_ n: Int) -> Int { (n + Int(PIT_NL_ALIGNTO) - 1) & ~(Int(PIT_NL_ALIGNTO) - 1) }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    static func read16(_ b: [UInt8], _ offset: Int) -> UInt16 {
        b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    }

    static func read32(_ b: [UInt8], _ offset: Int) -> UInt32 {
        b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }
}

/// A NETLINK_ROUTE socket. Noncopyable so exactly one owner closes the fd; one socket per apply or
/// read keeps the code free of shared state.
struct NetlinkSocket: ~Copyable {
    let fd: Int32
    private var sequence: UInt32 = 0

    /// Replies should arrive in microseconds; five seconds means the kernel is wedged, and the
    /// supervisor should say so rather than hang before its watchdog fires.
    static let receiveTimeoutMilliseconds: UInt32 = 5000

    init() throws(PersonaError) {
        let fd = pit_nl_open_route(Self.receiveTimeoutMilliseconds)
        guard fd >= 0 else { throw PersonaError(operation: "socket(NETLINK_ROUTE)", target: "rtnetlink", errno: errno) }
        self.fd = fd
        // Start from a per-process value so replies to an earlier process's requests on a reused
        // port id can never match ours.
        self.sequence = UInt32(truncatingIfNeeded: getpid()) &* 65536
    }

    deinit { close(fd) }

    /// Sends a request with NLM_F_ACK and returns the replies that came before the ACK (one for a
    /// GET, none for NEW/DEL). A negative error in the ACK becomes a PersonaError naming `operation`
    /// and `target`, with the kernel's extended-ACK text when it gave one.
    mutating func execute(_ request: NetlinkRequest, operation: String, target: String) throws(PersonaError) -> [NetlinkMessage] {
        var request = request
        request.flags |= Netlink.request | Netlink.ack
        return try exchange(request, operation: operation, target: target, isDump: false)
    }

    /// Sends a dump request and returns every message until NLMSG_DONE. A dump the kernel marks as
    /// interrupted (NLM_F_DUMP_INTR: the table changed under it) is repeated, up to three times.
    mutating func dump(_ request: NetlinkRequest, operation: String, target: String) throws(PersonaError) -> [NetlinkMessage] {
        var request = request
        request.flags |= Netlink.request | Netlink.dump
        var attempt = 0
        while true {
            let messages = try exchange(request, operation: operation, target: target, isDump: true)
            attempt += 1
            if !messages.contains(where: { $0.flags & UInt16(NLM_F_DUMP_INTR) != 0 }) || attempt == 3 { return messages }
        }
    }

    private mutating func exchange(_ request: NetlinkRequest, operation: String, target: String, isDump: Bool) throws(PersonaError) -> [NetlinkMessage] {
        sequence &+= 1
        let seq = sequence
        let packet = request.encoded(sequence: seq)
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let sent = packet.withUnsafeBytes { raw in
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
                }
            }
        }
        if sent < 0 { throw PersonaError(operation: operation, target: target, errno: errno, detail: "sendto") }

        var replies: [NetlinkMessage] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            // MSG_TRUNC makes recv return the datagram's real size, so a reply larger than the
            // buffer is reported instead of silently cut.
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_TRUNC)) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno == EAGAIN ? ETIMEDOUT : errno
                throw PersonaError(operation: operation, target: target, errno: code, detail: "waiting for the kernel's reply")
            }
            if n > buffer.count {
                throw PersonaError(operation: operation, target: target, errno: EMSGSIZE, detail: "reply of \(n) bytes")
            }
            var offset = 0
            while offset + 16 <= n {
                let length = Int(Netlink.read32(buffer, offset))
                guard length >= 16, offset + length <= n else {
                    throw PersonaError(operation: operation, target: target, errno: 0, detail: "malformed netlink reply")
                }
                let message = NetlinkMessage(type: Netlink.read16(buffer, offset + 4), flags: Netlink.read16(buffer, offset + 6),
                                             sequence: Netlink.read32(buffer, offset + 8),
                                             payload: Array(buffer[(offset + 16)..<(offset + length)]))
                offset += Netlink.align(length)
                if message.sequence != seq { continue }  // a stale reply to an earlier request
                switch Int32(message.type) {
                case NLMSG_ERROR:
                    try Self.check(error: message, operation: operation, target: target)
                    if !isDump { return replies }  // error 0 is the ACK
                case NLMSG_DONE:
                    // A dump may end with a negative error in DONE's payload.
                    if message.payload.count >= 4 {
                        let code = Int32(bitPattern: Netlink.read32(message.payload, 0))
                        if code < 0 { throw PersonaError(operation: operation, target: target, errno: -code) }
                    }
                    if isDump { return replies }
                case NLMSG_NOOP:
                    continue
                default:
                    replies.append(message)
                }
            }
        }
    }

    /// Throws for an NLMSG_ERROR carrying a negative errno; returns for an ACK (error 0).
    private static func check(error message: NetlinkMessage, operation: String, target: String) throws(PersonaError) {
        let p = message.payload
        guard p.count >= 4 else { throw PersonaError(operation: operation, target: target, errno: 0, detail: "truncated NLMSG_ERROR") }
        let code = Int32(bitPattern: Netlink.read32(p, 0))
        if code == 0 { return }
        var detail: String?
        if message.flags & UInt16(NLM_F_ACK_TLVS) != 0, p.count >= 4 + 16 {
            // After the errno: the offending request's header (just the header when capped), then TLVs.
            let echoed = message.flags & UInt16(NLM_F_CAPPED) != 0 ? 16 : Int(Netlink.read32(p, 4))
            detail = NetlinkAttributes(p, from: 4 + Netlink.align(echoed)).string(UInt16(NLMSGERR_ATTR_MSG.rawValue))
        }
        throw PersonaError(operation: operation, target: target, errno: -code, detail: detail)
    }
}
