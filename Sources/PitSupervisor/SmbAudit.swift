import CPitShim
import FoundationEssentials
import Glibc
import PitUplink

/// One alert from the Samba jails: a file read (`smb_access`), an authentication attempt (`smb_logon`) or an RPC
/// pipe opened on IPC$ (`smb_enumeration`). Fields a kind does not use stay nil.
public struct SmbAlert: Sendable, Equatable {
    public enum Kind: Sendable {
        case access, logon, enumeration
        /// A decoy service of the operator's own (not Samba) saying it was touched: `decoy_audit` (DecoyLine).
        case decoy

        /// The event kind this alert is sent as.
        public var event: PitEvent.Kind {
            switch self {
            case .access: .smbAccess
            case .logon: .smbLogon
            case .enumeration: .smbEnumeration
            case .decoy: .decoyAccess
            }
        }
    }
    public var kind: Kind = .access
    public var user: String
    public var client: String
    public var share: String
    public var file: String
    public var operation: String
    public var status: String
    public var domain: String?
    public var workstation: String?
    public var clientPort: Int32?
    public var success: Bool?
    public var guest: Bool?

    public init(kind: Kind = .access, user: String, client: String, share: String, file: String, operation: String, status: String,
                domain: String? = nil, workstation: String? = nil, clientPort: Int32? = nil, success: Bool? = nil, guest: Bool? = nil) {
        self.kind = kind
        self.user = user
        self.client = client
        self.share = share
        self.file = file
        self.operation = operation
        self.status = status
        self.domain = domain
        self.workstation = workstation
        self.clientPort = clientPort
        self.success = success
        self.guest = guest
    }

    /// The event's one-line message (names are the client's: quoted as Swift would, so a newline stays visible).
    public var summary: String {
        let who = "\(domain.map { $0.isEmpty ? "" : $0 + "\\" } ?? "")\(user)"
        let from = client + (clientPort.map { ":\($0)" } ?? "")
        switch kind {
        case .access: return "\(user)@\(client) read \(share)/\(file)"
        case .logon: return "logon \(who.debugDescription) from \(from): \(status)\(guest == true ? " (guest)" : "")"
        case .enumeration: return "\(from) opened an RPC pipe on \(share) (enumeration)"
        case .decoy: return "\(from) \(operation.debugDescription) \(file.debugDescription)\(user.isEmpty ? "" : " as " + user.debugDescription)"
        }
    }
}

/// Turns what the Samba jails send to their /dev/log into alerts. Two sources, both measured on Samba 4.17:
///
/// - full_audit (`<PRI>... smbd_audit: USER|CLIENT|SHARE|OP|STATUS|ARGS`, facility LOCAL5, the prefix `%u|%I|%S`
///   set in smb.conf; Samba passes the prefix through alpha_strcpy, so `IPC$` arrives as `IPC_` and no prefix field
///   can hold a `|`). A listing opens the directory and stats each entry (openat, create_file of a dir): not an
///   alert. Reading a file (pread_send/pread_recv/sendfile after its create_file) is, once per file per tree
///   connect: a `get` reads in several chunks but is one access. On IPC$, `get_alloc_size` is logged when a named
///   pipe is opened (smbclient -L, rpcclient) and not for the DFS referral every smbclient session makes there:
///   one `smb_enumeration` per IPC$ tree connect. Which pipe is not known: pipe opens do not pass through the VFS.
/// - Samba's authentication audit (`log level = 1 auth_json_audit:3`, `logging = syslog@3 file@1`): one JSON object
///   per session setup, `<29>... smbd[PID]:   {"type": "Authentication", ...}` (LOG_DAEMON; Samba's levels 2-5 map
///   to LOG_NOTICE, and every other debug class stays at level 1, i.e. LOG_ERR/LOG_WARNING, so a NOTICE line from
///   smbd is the JSON audit and nothing else). The names the client tried are attacker-chosen, but Samba escapes
///   them as JSON strings: they are decoded, never split.
public struct SmbAuditTracker: Sendable {
    static let readOperations: Set<String> = ["pread_send", "pread_recv", "sendfile"]
    /// Files already reported in the current tree connect of each client and share.
    private var reported: [String: Set<String>] = [:]
    /// IPC$ tree connects that already raised their enumeration.
    private var enumerated: Set<String> = []
    /// The latest logon seen from each client address, for the enumeration that follows it.
    private var lastLogon: [String: SmbAlert] = [:]
    /// The bytes of names held in `reported`, `enumerated` and `lastLogon`, counted as they are added. A process
    /// of the jail can send any line to its /dev/log, each with fresh clients, shares and file names of up to a
    /// datagram's 64 KiB: past `memoryLimit` all three are forgotten, which costs at most an alert repeated.
    private var rememberedBytes = 0
    static let memoryLimit = 1 << 20
    /// The guest account of smb.conf: a session that becomes it is a guest session.
    let guestAccount: String

    public init(guestAccount: String = "nobody") { self.guestAccount = guestAccount }

    public mutating func consume(_ line: String) -> SmbAlert? {
        // By priority and tag, never by a search through the line: a JSON line holds attacker-chosen names,
        // which may well contain "smbd_audit: ".
        let bytes = Array(line.utf8)
        if let json = Self.authJSON(bytes) { return consumeAuth(json) }
        if let rest = Self.fullAudit(bytes) { return consumeAudit(rest) }
        return nil
    }

    private mutating func consumeAudit(_ rest: String) -> SmbAlert? {
        let fields = rest.split(separator: "|", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters()
        }
        guard fields.count >= 5 else { return nil }
        let (user, client, share, operation, status) = (fields[0], fields[1], fields[2], fields[3], fields[4])
        let session = client + "|" + share
        let ipc = share == "IPC_" || share == "IPC$"
        switch operation {
        case "connect", "disconnect":
            if let files = reported.removeValue(forKey: session) { rememberedBytes -= Self.bytes(session, files) }
            if enumerated.remove(session) != nil { rememberedBytes -= Self.cost(session) }
            return nil
        case "get_alloc_size" where ipc:
            guard !enumerated.contains(session) else { return nil }
            remember(Self.cost(session))
            enumerated.insert(session)
            let logon = lastLogon[client]
            return SmbAlert(kind: .enumeration, user: logon?.user ?? user, client: client, share: "IPC$", file: "",
                            operation: "pipe_open", status: status, domain: logon?.domain, workstation: logon?.workstation,
                            clientPort: logon?.clientPort)
        case _ where Self.readOperations.contains(operation) && !ipc:
            guard let path = fields.last, fields.count >= 6 else { return nil }
            let file = Self.relative(path, share: share)
            if reported[session, default: []].contains(file) { return nil }
            remember(Self.cost(file) + (reported[session] == nil ? Self.cost(session) : 0))
            reported[session, default: []].insert(file)
            // full_audit knows no port and only the session's user (the guest's name for a guest): the port and
            // the names tried come from this client's latest logon, as for an enumeration.
            let logon = lastLogon[client]
            return SmbAlert(user: user, client: client, share: share, file: file, operation: operation, status: status,
                            domain: logon?.domain, workstation: logon?.workstation, clientPort: logon?.clientPort)
        default:
            return nil
        }
    }

    /// The fields of Samba's `Authentication` audit record this tracker reads (json_add_string / json_add_address
    /// in auth/auth_log.c; absent strings are JSON null).
    struct AuthRecord: Decodable {
        struct Body: Decodable {
            var status: String?
            var remoteAddress: String?
            var serviceDescription: String?
            var clientDomain: String?
            var clientAccount: String?
            var workstation: String?
            var becameAccount: String?
        }
        var type: String
        var Authentication: Body?
    }

    private mutating func consumeAuth(_ json: [UInt8]) -> SmbAlert? {
        guard let record = try? JSONDecoder().decode(AuthRecord.self, from: Data(json)),
              record.type == "Authentication", let body = record.Authentication else { return nil }
        let (client, port) = Self.address(body.remoteAddress ?? "")
        let account = body.clientAccount ?? ""
        let status = body.status ?? ""
        // Guest: anonymous, an unknown user that "map to guest = Bad User" sends on as the guest, or the guest itself.
        let guest = account.isEmpty || status == "NT_STATUS_NO_SUCH_USER" || body.becameAccount == guestAccount
        let logon = SmbAlert(kind: .logon, user: account, client: client, share: "", file: "", operation: "logon",
                             status: status, domain: body.clientDomain ?? "", workstation: body.workstation,
                             clientPort: port, success: status == "NT_STATUS_OK", guest: guest)
        if let previous = lastLogon.removeValue(forKey: client) { rememberedBytes -= Self.bytes(client, previous) }
        if lastLogon.count >= 1024 {   // bounded: a scan from many addresses
            rememberedBytes -= lastLogon.reduce(0) { $0 + Self.bytes($1.key, $1.value) }
            lastLogon.removeAll()
        }
        remember(Self.bytes(client, logon))
        lastLogon[client] = logon
        return logon
    }

    /// What remembering `name` costs: its bytes and a fixed charge for the table entry that holds it (hash
    /// table slot, String header), so that many tiny names count as what they really take.
    private static func cost(_ name: String) -> Int { name.utf8.count + entryCost }
    static let entryCost = 64

    private static func bytes(_ session: String, _ files: Set<String>) -> Int {
        cost(session) + files.reduce(0) { $0 + cost($1) }
    }

    private static func bytes(_ client: String, _ logon: SmbAlert) -> Int {
        cost(client) + logon.user.utf8.count + (logon.domain?.utf8.count ?? 0) + (logon.workstation?.utf8.count ?? 0)
    }

    /// Counts `bytes` about to be remembered; forgets everything first when they would pass `memoryLimit`.
    private mutating func remember(_ bytes: Int) {
        if rememberedBytes + bytes > Self.memoryLimit {
            reported.removeAll()
            enumerated.removeAll()
            lastLogon.removeAll()
            rememberedBytes = 0
        }
        rememberedBytes += bytes
    }

    /// What the tracker holds now, in bytes of names and entries, counted from its tables (what `rememberedBytes` tracks).
    var footprint: Int {
        reported.reduce(0) { $0 + Self.bytes($1.key, $1.value) } + enumerated.reduce(0) { $0 + Self.cost($1) }
            + lastLogon.reduce(0) { $0 + Self.bytes($1.key, $1.value) }
    }

    /// "ipv4:192.0.2.20:43084" -> ("192.0.2.20", 43084); "ipv6:[fe80::1]:445" or "ipv6:fe80::1:445" -> address, port.
    static func address(_ remote: String) -> (String, Int32?) {
        var text = Substring(remote)
        for family in ["ipv4:", "ipv6:"] where text.hasPrefix(family) { text = text.dropFirst(family.count) }
        guard let colon = text.lastIndex(of: ":"), let port = Int32(text[text.index(after: colon)...]) else { return (String(text), nil) }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }

    /// The JSON object of a syslog line from smbd at LOG_DAEMON|LOG_NOTICE (`<29>TIMESTAMP smbd[PID]: {...}`), else nil.
    static func authJSON(_ bytes: [UInt8]) -> [UInt8]? {
        let head = Array("<29>".utf8)
        let at = head.count + 15   // the syslog timestamp, `Dec  7 18:56:30`
        // Samba's debug syslog ident is its program name, or the log file's base name when --log-basename is
        // given (the jail's command line): "log.smbd".
        guard bytes.starts(with: head), let ident = [" smbd[", " log.smbd["].map({ Array($0.utf8) }).first(where: {
            bytes.count > at + $0.count && bytes[at..<(at + $0.count)].elementsEqual($0)
        }) else { return nil }
        let tag = at..<(at + ident.count)
        guard let close = bytes[tag.upperBound...].firstIndex(of: UInt8(ascii: "]")),
              bytes[tag.upperBound..<close].allSatisfy({ (48...57).contains($0) }),
              close + 2 < bytes.count, bytes[close + 1] == UInt8(ascii: ":") else { return nil }
        guard let start = bytes[(close + 2)...].firstIndex(where: { $0 != UInt8(ascii: " ") }), bytes[start] == UInt8(ascii: "{") else { return nil }
        var end = bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == 0 { end -= 1 }
        return Array(bytes[start..<end])
    }

    /// The fields of a full_audit line: `<173>` (LOCAL5|NOTICE, smb.conf's full_audit:facility and priority),
    /// the 15-byte syslog timestamp (`Dec  7 18:56:30`), a space, then the `smbd_audit: ` tag (full_audit opens
    /// syslog with that ident and no pid), else nil.
    static func fullAudit(_ bytes: [UInt8]) -> String? {
        let head = Array("<173>".utf8), tag = Array(" smbd_audit: ".utf8)
        let at = head.count + 15
        guard bytes.starts(with: head), bytes.count >= at + tag.count, bytes[at..<(at + tag.count)].elementsEqual(tag) else { return nil }
        return String(decoding: bytes[(at + tag.count)...], as: UTF8.self)
    }

    /// "/data/shares/finance/dir/report.txt" -> "dir/report.txt": the path as the client named it inside the
    /// share (the share's directory is the one named like the share; full_audit logs the server-side path).
    static func relative(_ path: String, share: String) -> String {
        let parts = path.split(separator: "/").map(String.init)
        if let index = parts.lastIndex(of: share), index < parts.count - 1 {
            return parts[(index + 1)...].joined(separator: "/")
        }
        return parts.count > 1 ? parts.dropFirst().joined(separator: "/") : path
    }
}

/// The datagram socket a jail's /dev/log is bound to: Samba's syslog lines arrive here.
/// What a jail's /dev/log speaks: Samba's audit lines (`smb_audit`) or a decoy's own (`decoy_audit`), never both,
/// so that neither kind of jail can forge the other's alerts.
public enum AuditFormat: Sendable, Equatable {
    case samba, decoy
}

final class AuditSocket {
    let fd: Int32
    let path: String
    let format: AuditFormat
    var tracker = SmbAuditTracker()
    /// The largest datagram glibc's syslog sends; allocated once, not on each wakeup of the loop.
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(path: String, format: AuditFormat) throws(SupervisorError) {
        self.path = path
        self.format = format
        // smbd's children log after switching to the guest user: they must be able to connect (0666).
        fd = try bindUnixSocket(path, type: Int32(SOCK_DGRAM.rawValue), directoryMode: 0o755, fileMode: 0o666, what: "audit socket")
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Drains the queued lines (bounded per call, so a chatty jail cannot hold the loop). A datagram longer
    /// than the buffer would be cut and its JSON not decode.
    func drain() -> [SmbAlert] {
        var found: [SmbAlert] = []
        for _ in 0..<256 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            let alert: SmbAlert?
            switch format {
            case .samba: alert = tracker.consume(String(decoding: buffer[0..<n], as: UTF8.self))
            case .decoy: alert = DecoyLine.alert(line: Array(buffer[0..<n]))
            }
            if let alert { found.append(alert) }
        }
        return found
    }
}

/// What a decoy service of the operator's own (the demo's web login page, a fake SSH banner...) sends to its
/// /dev/log when someone touches it, under `decoy_audit = true`: one datagram, `<14>pit-decoy: ` then one JSON
/// object the decoy built, escaping what the attacker sent (`client` and `operation` required, `client_port`,
/// `file`, `user` optional). Recognised by its priority and tag at the start, never searched for; anything else
/// is not an alert. Each field is bounded: a decoy bug or a compromised decoy cannot make the spool grow.
enum DecoyLine {
    static let head = Array("<14>pit-decoy: ".utf8)
    static let maxField = 1024

    private struct Record: Decodable {
        var client: String
        var client_port: Int32?
        var operation: String
        var file: String?
        var user: String?
    }

    static func json(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.starts(with: head), bytes.count > head.count, bytes[head.count] == UInt8(ascii: "{") else { return nil }
        var end = bytes.count
        while end > head.count, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == 0 { end -= 1 }
        return Array(bytes[head.count..<end])
    }

    /// The alert a datagram of a `decoy_audit` jail carries, or nil.
    static func alert(line: [UInt8]) -> SmbAlert? { json(line).flatMap { alert($0) } }

    static func alert(_ json: [UInt8]) -> SmbAlert? {
        // Bounded before decoding: a 64 KiB datagram of one huge field is refused without building it.
        guard json.count <= 4 * maxField + 256,
              let record = try? JSONDecoder().decode(Record.self, from: Data(json)), !record.client.isEmpty, !record.operation.isEmpty,
              [record.client, record.operation, record.file ?? "", record.user ?? ""].allSatisfy({ $0.utf8.count <= maxField })
        else { return nil }
        return SmbAlert(kind: .decoy, user: record.user ?? "", client: record.client, share: "", file: record.file ?? "",
                        operation: record.operation, status: "", clientPort: record.client_port)
    }
}
