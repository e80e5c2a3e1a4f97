/// Tokens of the kafel policy language. Preprocessor directives (`#define`, `#include`)
/// are handled by `Preprocessor`, which drives the lexer line by line.
public enum TokenKind: Sendable, Equatable {
    case identifier(String)
    case number(UInt64)
    case string(String)
    case punct(String)   // { } ( ) [ ] , & && | || ! == != < <= > >=
    case directive(String) // "define" / "include", only at the start of a line
    case eof
}

public struct Token: Sendable, Equatable {
    public var kind: TokenKind
    public var location: SourceLocation
}

/// Splits one source file into tokens. Works on UTF-8 bytes: the language is ASCII, and any
/// other byte is reported as an error with its position.
struct Lexer {
    let file: String
    let bytes: [UInt8]
    let lines: [String]
    var pos = 0
    var line = 1
    var lineStart = 0
    /// The last column computed on the current line, so that `location` counts only the
    /// characters since the previous token instead of the whole line prefix every time.
    private var columnCache = (lineStart: 0, offset: 0, column: 1)

    init(text: String, file: String) {
        self.file = file
        self.bytes = Array(text.utf8)
        // Split on \n only: a policy written on Windows keeps its \r in the caret line, harmless.
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    mutating func location(at offset: Int, line: Int, lineStart: Int) -> SourceLocation {
        let text = line - 1 < lines.count ? lines[line - 1] : ""
        // Columns count characters, not bytes, so the caret lines up under non-ASCII text.
        let end = min(offset, bytes.count)
        var from = lineStart, column = 1
        if columnCache.lineStart == lineStart && columnCache.offset <= end {
            from = columnCache.offset; column = columnCache.column
        }
        column += String(decoding: bytes[from..<end], as: UTF8.self).count
        columnCache = (lineStart, end, column)
        return SourceLocation(file: file, line: line, column: column, lineText: text)
    }

    var here: SourceLocation { mutating get { location(at: pos, line: line, lineStart: lineStart) } }

    /// True when only blanks precede `pos` on the current line: `#` starts a directive there.
    private var atLineStart: Bool {
        var i = pos - 1
        while i >= lineStart {
            if bytes[i] != 0x20 && bytes[i] != 0x09 && bytes[i] != 0x0d { return false }
            i -= 1
        }
        return true
    }

    mutating func skipBlanksAndComments() throws(PolicyError) {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x0a {
                pos += 1; line += 1; lineStart = pos
            } else if c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0c {
                pos += 1
            } else if c == 0x2f, pos + 1 < bytes.count, bytes[pos + 1] == 0x2f {
                while pos < bytes.count && bytes[pos] != 0x0a { pos += 1 }
            } else if c == 0x2f, pos + 1 < bytes.count, bytes[pos + 1] == 0x2a {
                let start = here
                pos += 2
                var closed = false
                while pos < bytes.count {
                    if bytes[pos] == 0x2a, pos + 1 < bytes.count, bytes[pos + 1] == 0x2f {
                        pos += 2; closed = true; break
                    }
                    if bytes[pos] == 0x0a { line += 1; lineStart = pos + 1 }
                    pos += 1
                }
                if !closed { throw PolicyError("unterminated comment", at: start) }
            } else {
                return
            }
        }
    }

    /// Skips blanks and comments without crossing a newline (for directive arguments).
    mutating func skipInlineBlanks() throws(PolicyError) {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x20 || c == 0x09 || c == 0x0d {
                pos += 1
            } else if c == 0x2f, pos + 1 < bytes.count, bytes[pos + 1] == 0x2f {
                while pos < bytes.count && bytes[pos] != 0x0a { pos += 1 }
            } else if c == 0x2f, pos + 1 < bytes.count, bytes[pos + 1] == 0x2a {
                // A block comment inside a directive must close on the same line.
                let start = here
                var i = pos + 2
                while i + 1 < bytes.count, !(bytes[i] == 0x2a && bytes[i + 1] == 0x2f) {
                    if bytes[i] == 0x0a { throw PolicyError("comment in a directive must end on its line", at: start) }
                    i += 1
                }
                if i + 1 >= bytes.count { throw PolicyError("unterminated comment", at: start) }
                pos = i + 2
            } else {
                return
            }
        }
    }

    var atEndOfLine: Bool { pos >= bytes.count || bytes[pos] == 0x0a }

    /// Byte offset in the text: directives tell "no blank here" from "blanks skipped".
    var offset: Int { pos }

    /// Consumes a `;` (kafel's #include terminator) when it is next.
    mutating func eatSemicolon() -> Bool {
        guard pos < bytes.count, bytes[pos] == 0x3b else { return false }
        pos += 1
        return true
    }

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f
    }
    static func isIdentChar(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 0x30 && c <= 0x39) }

    mutating func next() throws(PolicyError) -> Token {
        try skipBlanksAndComments()
        let start = here
        let startPos = pos
        guard pos < bytes.count else { return Token(kind: .eof, location: start) }
        let c = bytes[pos]
        if c == 0x23 { // '#'
            guard atLineStart else { throw PolicyError("'#' must start a line", at: start) }
            pos += 1
            try skipInlineBlanks()
            let nameStart = pos
            while pos < bytes.count && Lexer.isIdentChar(bytes[pos]) { pos += 1 }
            let name = String(decoding: bytes[nameStart..<pos], as: UTF8.self)
            guard name == "define" || name == "include" else {
                throw PolicyError(name.isEmpty ? "expected a directive after '#'" : "unknown directive '#\(name)'", at: start)
            }
            return Token(kind: .directive(name), location: start)
        }
        if Lexer.isIdentStart(c) {
            while pos < bytes.count && Lexer.isIdentChar(bytes[pos]) { pos += 1 }
            return Token(kind: .identifier(String(decoding: bytes[startPos..<pos], as: UTF8.self)), location: start)
        }
        if c >= 0x30 && c <= 0x39 { return try number(start) }
        // kafel's lexer reads `-[1-9][0-9]*` as one number, kept as its 64-bit two's complement
        // (`SYSCALL[-1]`, `#define SYS_CUSTOM -1`).
        if c == 0x2d, pos + 1 < bytes.count, bytes[pos + 1] >= 0x31 && bytes[pos + 1] <= 0x39 {
            pos += 1
            guard case .number(let v) = try number(start).kind else { throw PolicyError("expected a number", at: start) }
            guard v <= 1 << 63 else { throw PolicyError("number does not fit in 64 bits", at: start) }
            return Token(kind: .number(0 &- v), location: start)
        }
        if c == 0x22 { // '"'
            pos += 1
            let s = pos
            while pos < bytes.count && bytes[pos] != 0x22 && bytes[pos] != 0x0a { pos += 1 }
            guard pos < bytes.count, bytes[pos] == 0x22 else { throw PolicyError("unterminated string", at: start) }
            let text = String(decoding: bytes[s..<pos], as: UTF8.self)
            pos += 1
            return Token(kind: .string(text), location: start)
        }
        let two: String? = pos + 1 < bytes.count
            ? String(decoding: bytes[pos...pos + 1], as: UTF8.self) : nil
        if let two, ["&&", "||", "==", "!=", "<=", ">="].contains(two) {
            pos += 2
            return Token(kind: .punct(two), location: start)
        }
        if "{}()[],&|!<>".utf8.contains(c) {
            pos += 1
            return Token(kind: .punct(String(UnicodeScalar(c))), location: start)
        }
        if c == 0x3d { throw PolicyError("'=' is not an operator (did you mean '=='?)", at: start) }
        if c >= 0x80 {
            throw PolicyError("unexpected non-ASCII character", at: start)
        }
        throw PolicyError("unexpected character '\(String(UnicodeScalar(c)))'", at: start)
    }

    /// Decimal, 0x hex, 0 octal (C spelling, as kafel and #define'd kernel constants use), kafel's 0b binary,
    /// all unsigned 64-bit; overflow is an error rather than a silent wrap.
    private mutating func number(_ start: SourceLocation) throws(PolicyError) -> Token {
        var radix: UInt64 = 10
        let begin = pos
        if bytes[pos] == 0x30, pos + 1 < bytes.count, bytes[pos + 1] == 0x78 || bytes[pos + 1] == 0x58 {
            radix = 16; pos += 2
        } else if bytes[pos] == 0x30, pos + 1 < bytes.count, bytes[pos + 1] == 0x62 {   // kafel: 0b101 (lowercase b only)
            radix = 2; pos += 2
        } else if bytes[pos] == 0x30, pos + 1 < bytes.count, bytes[pos + 1] >= 0x30 && bytes[pos + 1] <= 0x39 {
            radix = 8; pos += 1
        }
        var value: UInt64 = 0
        var digits = 0
        while pos < bytes.count {
            let c = bytes[pos]
            var d: UInt64
            switch c {
            case 0x30...0x39: d = UInt64(c - 0x30)
            case 0x61...0x66: d = UInt64(c - 0x61 + 10)
            case 0x41...0x46: d = UInt64(c - 0x41 + 10)
            default:
                if Lexer.isIdentChar(c) { d = 99 } else { d = 100 }
            }
            if d == 100 { break }
            guard d < radix else {
                let bad = location(at: pos, line: line, lineStart: lineStart)
                let kind = [16: "hexadecimal", 8: "octal", 2: "binary"][radix] ?? "decimal"
                throw PolicyError("invalid digit '\(String(UnicodeScalar(c)))' in \(kind) number", at: bad)
            }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { throw PolicyError("number does not fit in 64 bits", at: start) }
            value = s
            digits += 1
            pos += 1
        }
        if radix == 16 && digits == 0 {
            throw PolicyError("expected hexadecimal digits after '0x'", at: start)
        }
        if radix == 2 && digits == 0 {
            throw PolicyError("expected binary digits after '0b'", at: start)
        }
        _ = begin
        return Token(kind: .number(value), location: start)
    }
}

