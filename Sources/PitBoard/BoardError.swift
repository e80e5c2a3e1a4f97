import Glibc

/// A failed operation on board hardware: what was attempted, on which path, and the errno.
/// Rendered as `operation path: strerror`, e.g.
/// `WDIOC_SETTIMEOUT /dev/watchdog0: Invalid argument`, so a log line alone says what to fix.
public struct BoardError: Error, CustomStringConvertible, Equatable, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32?
    /// Extra context when errno alone does not explain the failure (a malformed file, a value
    /// the driver refused).
    public var detail: String?

    public init(_ operation: String, path: String, errno: Int32? = nil, detail: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    /// Captures the current errno: call it right after the failing call.
    public static func sys(_ operation: String, _ path: String) -> BoardError {
        BoardError(operation, path: path, errno: Glibc.errno)
    }

    public var description: String {
        var text = path.isEmpty ? operation : "\(operation) \(path)"
        if let errno { text += ": " + String(cString: strerror(errno)) }
        if let detail { text += ": " + detail }
        return text
    }
}
