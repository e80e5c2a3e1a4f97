import Glibc

/// Everything that can go wrong on the fd side of the console. System failures carry the operation,
/// the tty path and errno so the supervisor's log says exactly which call failed on which device.
public enum ConsoleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: `operation` is the call ("open", "tcsetattr", ...), `errno` its errno.
    case system(operation: String, path: String, errno: Int32)
    /// The requested rate has no termios speed constant (or the driver refused it).
    case unsupportedBaud(Int, path: String)
    /// The path opened but is not a terminal: termios would fail and the technician would see nothing.
    case notATerminal(path: String)

    public var description: String {
        switch self {
        case let .system(operation, path, code):
            return "console \(path): \(operation): \(String(cString: strerror(code))) (errno \(code))"
        case let .unsupportedBaud(rate, path):
            return "console \(path): unsupported baud rate \(rate) (supported: "
                + Baud.supportedRates.map(String.init).joined(separator: ", ") + ")"
        case let .notATerminal(path):
            return "console \(path): not a terminal"
        }
    }

    /// errno of a system failure, nil otherwise.
    public var errno: Int32? {
        if case let .system(_, _, code) = self { return code }
        return nil
    }
}
