import Glibc

/// A failure of one isolation step, with the path it was working on and the errno.
/// Rendered as `step: path: error`, the line the parent prints.
public struct JailError: Error, CustomStringConvertible, Equatable, Sendable {
    public var step: String
    public var path: String?
    public var errno: Int32?
    public var detail: String?

    public init(_ step: String, path: String? = nil, errno: Int32? = nil, detail: String? = nil) {
        self.step = step
        self.path = path
        self.errno = errno
        self.detail = detail
    }

    /// Captures the current errno: call it right after the failing syscall.
    public static func sys(_ step: String, _ path: String? = nil) -> JailError {
        JailError(step, path: path, errno: Glibc.errno)
    }

    public var description: String {
        var parts = [step]
        if let path { parts.append(path) }
        if let errno { parts.append(String(cString: strerror(errno))) }
        if let detail { parts.append(detail) }
        return parts.joined(separator: ": ")
    }
}

/// A configuration error found before anything starts, naming the flag or the file:line:field.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    public var origin: String
    public var message: String
    public init(_ origin: String, _ message: String) {
        self.origin = origin
        self.message = message
    }
    public var description: String { origin.isEmpty ? message : "\(origin): \(message)" }
}

/// Where a setting came from, so an error can point at it: `--bind` or `smbd.toml:14:3: binds[2]`.
public struct Sourced<Value: Sendable & Equatable>: Sendable, Equatable {
    public var value: Value
    public var origin: String
    public init(_ value: Value, origin: String) {
        self.value = value
        self.origin = origin
    }
}
