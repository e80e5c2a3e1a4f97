import CPitShim
import Glibc

/// One file read through a decoy share, from Samba's full_audit lines.
public struct SmbAccess: Sendable, Equatable {
    public var user: String
    public var client: String
    public var share: String
    public var file: String
    public var operation: String
    public var status: String
}

/// Turns Samba's full_audit syslog lines (`<PRI>... smbd_audit: USER|CLIENT|SHARE|OP|STATUS|ARGS`, the prefix
/// `%u|%I|%S` set in smb.conf) into file-access alerts. A listing opens the directory and stats each entry
/// (openat, create_file of a dir): not an alert. Reading a file (pread_send/pread_recv/sendfile after its
/// create_file) is, once per file per session: a `get` reads in several chunks but is one access.
public struct SmbAuditTracker: Sendable {
    static let readOperations: Set<String> = ["pread_send", "pread_recv", "sendfile"]
    /// Files already reported in the current session of each client and share.
    private var reported: [String: Set<String>] = [:]

    public init() {}

    public mutating func consume(_ line: String) -> SmbAccess? {
        // No Foundation here: find the "smbd_audit: " tag by hand.
        let tag = Array("smbd_audit: ".utf8)
        let bytes = Array(line.utf8)
        guard bytes.count >= tag.count,
              let start = (0...(bytes.count - tag.count)).first(where: { bytes[$0..<($0 + tag.count)].elementsEqual(tag) }) else { return nil }
        let rest = String(decoding: bytes[(start + tag.count)...], as: UTF8.self)
        let fields = rest.split(separator: "|", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters()
        }
        guard fields.count >= 5 else { return nil }
        let (user, client, share, operation, status) = (fields[0], fields[1], fields[2], fields[3], fields[4])
        let session = client + "|" + share
        switch operation {
        case "connect", "disconnect":
            reported[session] = nil
            return nil
        case _ where Self.readOperations.contains(operation):
            guard let path = fields.last, fields.count >= 6 else { return nil }
            let file = Self.relative(path, share: share)
            if reported[session, default: []].contains(file) { return nil }
            reported[session, default: []].insert(file)
            return SmbAccess(user: user, client: client, share: share, file: file, operation: operation, status: status)
        default:
            return nil
        }
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
final class AuditSocket {
    let fd: Int32
    let path: String
    var tracker = SmbAuditTracker()

    init(path: String) throws(SupervisorError) {
        self.path = path
        // smbd's children log after switching to the guest user: they must be able to connect (0666).
        fd = try bindUnixSocket(path, type: Int32(SOCK_DGRAM.rawValue), directoryMode: 0o755, fileMode: 0o666, what: "audit socket")
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Drains the queued lines (bounded per call, so a chatty jail cannot hold the loop).
    func drain() -> [SmbAccess] {
        var found: [SmbAccess] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        for _ in 0..<256 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 8192, Int32(MSG_DONTWAIT)) }
            if n <= 0 { break }
            if let access = tracker.consume(String(decoding: buffer[0..<n], as: UTF8.self)) { found.append(access) }
        }
        return found
    }
}
