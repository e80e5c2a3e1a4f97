import Glibc

/// Why the spool could not do what was asked. Every case names the operation and, where there is one, the file,
/// so the one line Pit logs is enough to act on: `append /var/lib/pit/spool/0000000001.log: No space left on device`.
public enum SpoolError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A system call failed: `operation` is the spool step (append, fsync, open, rename...), `errno` the cause.
    case system(operation: String, path: String, errno: Int32)
    /// No room within the spool's size limit even after every allowed eviction: what is left is undelivered
    /// violations, which the spool refuses to drop. The event was not stored.
    case full(path: String, needed: Int, limit: Int, violationBytes: Int)
    /// A violation beyond the share of the spool violations may hold: refused so alerts keep their room.
    case violationQuota(path: String, bytes: Int, quota: Int)
    /// One event larger than a record can be (or than the whole spool).
    case tooLarge(path: String, bytes: Int, limit: Int)
    /// Another process holds the spool (only one writer may append).
    case locked(path: String)
    /// A stored record that passed its checksum at open no longer reads back as it did.
    case unreadable(path: String, offset: Int, reason: String)
    /// A caller error: an invalid transport name, committing a seq that was never stored...
    case invalid(operation: String, reason: String)

    /// Captures the current errno: call right after the failing call.
    static func sys(_ operation: String, _ path: String) -> SpoolError {
        .system(operation: operation, path: path, errno: Glibc.errno)
    }

    public var errno: Int32? {
        if case .system(_, _, let e) = self { return e }
        return nil
    }

    public var description: String {
        switch self {
        case let .system(operation, path, errno):
            return "\(operation) \(path): \(String(cString: strerror(errno)))"
        case let .full(path, needed, limit, violationBytes):
            // Refused with alerts left too: a violation never drops an undelivered alert (Eviction.makeRoom).
            return "append \(path): spool full: \(needed) more bytes do not fit in the \(limit)-byte limit and what is "
                + "left is undelivered (\(violationBytes) bytes of it violations, which are never dropped, and a violation "
                + "never drops an alert); event refused"
        case let .violationQuota(path, bytes, quota):
            return "append \(path): violations already hold \(bytes) of the \(quota) bytes they may take (the rest is kept for alerts); violation not stored"
        case let .tooLarge(path, bytes, limit):
            return "append \(path): event of \(bytes) bytes exceeds the \(limit)-byte record limit"
        case let .locked(path):
            return "lock \(path): the spool is open in another process"
        case let .unreadable(path, offset, reason):
            return "read \(path) at \(offset): \(reason)"
        case let .invalid(operation, reason):
            return "\(operation): \(reason)"
        }
    }
}
