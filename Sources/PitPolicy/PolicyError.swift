/// A position in a policy source, carried by every token so that errors can point at the
/// offending character even inside an `#include`d file.
public struct SourceLocation: Sendable, Equatable, Hashable {
    public var file: String
    public var line: Int
    public var column: Int
    /// The text of the whole line, kept so that an error can be printed with a caret.
    public var lineText: String

    public init(file: String, line: Int, column: Int, lineText: String) {
        self.file = file
        self.line = line
        self.column = column
        self.lineText = lineText
    }
}

/// Every failure of reading, parsing, resolving or compiling a policy.
/// `description` is the compiler-style rendering users see in `pit policy check`.
public struct PolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    /// The offending line's text (empty when the error has no position, e.g. a libseccomp failure).
    public var sourceLine: String
    /// The policy is fine; only this host's libseccomp cannot build it for another architecture (KernelSyscalls).
    public var needsTargetCompile = false

    public init(file: String, line: Int, column: Int, message: String, sourceLine: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.sourceLine = sourceLine
    }

    public init(_ message: String, at location: SourceLocation) {
        self.init(file: location.file, line: location.line, column: location.column,
                  message: message, sourceLine: location.lineText)
    }

    /// An error about the policy as a whole (no line to point at).
    public init(_ message: String, file: String) {
        self.init(file: file, line: 0, column: 0, message: message, sourceLine: "")
    }

    /// "file:line:col: message\n    <line>\n    <spaces>^"
    public var description: String {
        if line == 0 { return "\(file): \(message)" }
        var caretPad = ""
        // Tabs are kept as tabs so the caret lines up in a terminal.
        for (i, ch) in sourceLine.enumerated() where i < column - 1 {
            caretPad.append(ch == "\t" ? "\t" : " ")
        }
        if column - 1 > sourceLine.count {
            caretPad += String(repeating: " ", count: column - 1 - sourceLine.count)
        }
        return "\(file):\(line):\(column): \(message)\n    \(sourceLine)\n    \(caretPad)^"
    }
}
