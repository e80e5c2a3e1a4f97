import Glibc

/// A failure while putting a persona on the machine or reading the machine back.
///
/// It always names the operation (a netlink message type or a syscall), what it was applied to
/// (the interface, plus the address or route, or a path) and the errno, so a single log line is
/// enough to act on: `RTM_NEWADDR eth0 192.0.2.10/24: File exists`. Persona *file* errors are
/// `TOMLError`s instead, because those point at a line and column.
public struct PersonaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// "RTM_NEWADDR", "sethostname", "socket(NETLINK_ROUTE)"...
    public var operation: String
    /// "eth0", "eth0 192.0.2.10/24", "eth0 default via 192.0.2.1", "/etc/machine-id"...
    public var target: String
    /// The errno reported by the kernel or libc; 0 when the failure is not an errno (a malformed reply).
    public var errno: Int32
    /// Extra text: the kernel's extended-ACK message, or what was wrong with a reply.
    public var detail: String?

    public init(operation: String, target: String, errno: Int32, detail: String? = nil) {
        self.operation = operation
        self.target = target
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var text = "\(operation) \(target): "
        if errno != 0 {
            text += String(cString: strerror(errno))
            if let detail, !detail.isEmpty { text += " (\(detail))" }
        } else {
            text += detail ?? "failed"
        }
        return text
    }
}
