import Glibc

/// Why a delivery (or the agent itself) failed. Names the transport, the step and the peer or file so the one line in
/// state.json / `pit uplink status` is enough to act on: `https: connect 10.0.0.5:443: Connection refused`.
public struct UplinkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The step: `connect`, `send`, `tls handshake`, `verify`, `http`, `ack`, `read spool`, `commit cursor`...
    public var operation: String
    /// The peer (`host:port`, a socket path, a URL) or the file concerned.
    public var target: String
    /// Set when a system call failed.
    public var errno: Int32?
    /// Set otherwise: the TLS library's reason, the HTTP status line, an unexpected ack...
    public var reason: String?

    public init(operation: String, target: String, errno: Int32? = nil, reason: String? = nil) {
        self.operation = operation
        self.target = target
        self.errno = errno
        self.reason = reason
    }

    /// Captures the current errno: call right after the failing call.
    static func sys(_ operation: String, _ target: String) -> UplinkError {
        UplinkError(operation: operation, target: target, errno: Glibc.errno)
    }

    public var description: String {
        var text = "\(operation) \(target)"
        if let errno { text += ": " + String(cString: strerror(errno)) }
        if let reason { text += ": " + reason }
        return text
    }
}
