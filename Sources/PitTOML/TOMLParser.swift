// A strict TOML 1.0 reader.
//
// The parser works on the UTF-8 bytes directly and tracks line and column as
// it goes (instead of recomputing them from offsets) so that long lines stay
// linear. Tables are assembled in mutable reference-typed builders, because
// TOML lets later headers add to tables defined earlier, and mutating a
// nested value-typed tree in place would copy it on every step. The finished
// builders are frozen into `TOMLTable` values at the end.
//
// Deliberately unsupported: nothing from TOML 1.1 (no `\e` or `\xHH` escapes,
// no newlines or trailing commas in inline tables, seconds are required in
// times).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PitProcess

public enum TOML {
    /// Deeper nesting than this (tables within tables, arrays within arrays)
    /// is rejected, so hostile input cannot exhaust the stack.
    public static let maxDepth = 64

    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Reads and parses a file. A file that cannot be opened or read is
    /// reported with line 0 and the system's error text.
    public static func parse(contentsOf path: String) throws(TOMLError) -> TOMLTable {
        try parseWithText(contentsOf: path).table
    }

    /// The same, with the text it parsed, from the one read (a caller that compares texts must compare this one).
    public static func parseWithText(contentsOf path: String) throws(TOMLError) -> (table: TOMLTable, text: String) {
        let bytes = try readFile(path)
        if let bad = firstInvalidUTF8(bytes) {
            let pos = positionOf(offset: bad, in: bytes)
            throw TOMLError(file: path, at: pos, "invalid UTF-8")
        }
        return (try parse(bytes: bytes, file: path), String(decoding: bytes, as: UTF8.self))
    }

    static func parse(bytes: [UInt8], file: String) throws(TOMLError) -> TOMLTable {
        var parser = Parser(bytes: bytes, file: file)
        return try parser.parseDocument()
    }

    private static func readFile(_ path: String) throws(TOMLError) -> [UInt8] {
        try FileIO<TOMLError>.readRegularFile(path, limit: maxFileSize, what: "a config")
    }

    /// The largest config, jail spec, board or persona file read (real ones are a few KiB).
    public static let maxFileSize = 1 << 20


    /// Offset of the first byte that does not start a well-formed UTF-8
    /// sequence (rejecting overlongs, surrogates and values past U+10FFFF).
    static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
        var i = 0
        while i < b.count {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return i
            }
            if i + need >= b.count { return i }
            let second = b[i + 1]
            if second < lo || second > hi { return i }
            var k = 2
            while k <= need {
                if b[i + k] & 0xC0 != 0x80 { return i }
                k += 1
            }
            i += need + 1
        }
        return nil
    }

    static func positionOf(offset: Int, in b: [UInt8]) -> TOMLPosition {
        var line = 1, column = 1
        var i = 0
        while i < offset && i < b.count {
            if b[i] == 0x0A { line += 1; column = 1 } else if b[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return TOMLPosition(line: line, column: column)
    }
}

// MARK: - Table builders

/// A table under construction. `kind` records how the table came to exist,
/// because TOML's rules for adding to a table depend on it.
final class TableBuilder {
    enum Kind {
        case root
        /// Created only as a prefix of a `[a.b.c]` header; may still be
        /// defined by its own header later, or extended by dotted keys.
        case implicit
        /// Defined by its own `[header]`; may not be defined again, and dotted
        /// keys from a parent section may not reach into it.
        case header
        /// Created by a dotted key; dotted keys may extend it, headers not.
        case dotted
        /// An inline table: closed once its `}` is read.
        case inline
    }

    enum Entry {
        case value(TOMLNode)
        case table(TableBuilder)
        case tableArray(TableArrayBuilder)
    }

    var kind: Kind
    var position: TOMLPosition
    let depth: Int
    var keys: [String] = []
    var entries: [String: Entry] = [:]

    init(kind: Kind, position: TOMLPosition, depth: Int) {
        self.kind = kind
        self.position = position
        self.depth = depth
    }

    func insert(_ key: String, _ entry: Entry) {
        keys.append(key)
        entries[key] = entry
    }

    func build() -> TOMLTable {
        var table = TOMLTable(position: position)
        for key in keys {
            guard let entry = entries[key] else { continue }
            switch entry {
            case .value(let node):
                table.set(key, node)
            case .table(let child):
                table.set(key, TOMLNode(.table(child.build()), at: child.position))
            case .tableArray(let array):
                let items = array.tables.map { TOMLNode(.table($0.build()), at: $0.position) }
                table.set(key, TOMLNode(.array(items), at: array.position))
            }
        }
        return table
    }
}

final class TableArrayBuilder {
    let position: TOMLPosition
    var tables: [TableBuilder]

    init(position: TOMLPosition, first: TableBuilder) {
        self.position = position
        self.tables = [first]
    }
}

// MARK: - Parser

private let TAB: UInt8 = 0x09, LF: UInt8 = 0x0A, CR: UInt8 = 0x0D, SPACE: UInt8 = 0x20
private let QUOTE: UInt8 = 0x22, APOS: UInt8 = 0x27, HASH: UInt8 = 0x23, BACKSLASH: UInt8 = 0x5C
private let COMMA: UInt8 = 0x2C, DOT: UInt8 = 0x2E, EQUALS: UInt8 = 0x3D
private let LBRACKET: UInt8 = 0x5B, RBRACKET: UInt8 = 0x5D, LBRACE: UInt8 = 0x7B, RBRACE: UInt8 = 0x7D
private let UNDERSCORE: UInt8 = 0x5F, PLUS: UInt8 = 0x2B, MINUS: UInt8 = 0x2D, COLON: UInt8 = 0x3A

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func isHexDigit(_ c: UInt8) -> Bool {
    isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}
@inline(__always) private func isBareKeyChar(_ c: UInt8) -> Bool {
    (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || isDigit(c) || c == UNDERSCORE || c == MINUS
}
/// Characters that may appear in an unquoted value token (numbers,
/// booleans, inf/nan, dates and times).
@inline(__always) private func isTokenChar(_ c: UInt8) -> Bool {
    isBareKeyChar(c) || c == PLUS || c == DOT || c == COLON
}
/// Control characters TOML forbids in strings and comments (tab is allowed;
/// newlines are handled by the callers).
@inline(__always) private func isForbiddenControl(_ c: UInt8) -> Bool {
    (c < 0x20 && c != TAB) || c == 0x7F
}

private typealias KeyPart = (name: String, position: TOMLPosition)

private func displayKey(_ parts: some Sequence<String>) -> String {
    parts.map { name in
        if !name.isEmpty && name.utf8.allSatisfy(isBareKeyChar) { return name }
        var quoted = "\""
        for ch in name.unicodeScalars {
            switch ch {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default:
                if ch.value < 0x20 || ch.value == 0x7F {
                    quoted += "\\u" + hex4(ch.value)
                } else {
                    quoted.unicodeScalars.append(ch)
                }
            }
        }
        return quoted + "\""
    }.joined(separator: ".")
}

private func hex4(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

private func withArticle(_ typeName: String) -> String {
    switch typeName.first {
    case "a", "e", "i", "o", "u": return "an \(typeName)"
    default: return "a \(typeName)"
    }
}

private func describe(_ entry: TableBuilder.Entry) -> String {
    switch entry {
    case .value(let node):
        if case .table = node.value { return "an inline table" }
        return withArticle(node.value.typeName)
    case .table: return "a table"
    case .tableArray: return "an array of tables"
    }
}

private struct Parser {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1
    var column = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        // A UTF-8 byte order mark is not part of the document.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            index = 3
        }
    }

    // MARK: Cursor

    var position: TOMLPosition { TOMLPosition(line: line, column: column) }
    var atEnd: Bool { index >= bytes.count }

    @inline(__always) func peek(_ offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    @inline(__always) mutating func advance() {
        let c = bytes[index]
        index += 1
        if c == LF {
            line += 1
            column = 1
        } else if c & 0xC0 != 0x80 {
            column += 1
        }
    }

    @inline(__always) mutating func advance(_ n: Int) {
        for _ in 0..<n { advance() }
    }

    func error(_ message: String, at position: TOMLPosition? = nil) -> TOMLError {
        TOMLError(file: file, at: position ?? self.position, message)
    }

    /// Length of the line break at the cursor: 1 for LF, 2 for CRLF, else 0.
    func newlineLength() -> Int {
        guard let c = peek() else { return 0 }
        if c == LF { return 1 }
        if c == CR && peek(1) == LF { return 2 }
        return 0
    }

    /// What the cursor is looking at, for "found ..." in messages.
    func describeCurrent() -> String {
        guard let c = peek() else { return "end of file" }
        if newlineLength() > 0 { return "end of line" }
        if c == CR { return "a carriage return" }
        if c < 0x20 || c == 0x7F { return "control character U+\(hex4(UInt32(c)))" }
        if c < 0x80 { return "'\(Character(Unicode.Scalar(c)))'" }
        var end = index + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 && end - index < 4 { end += 1 }
        return "'\(String(decoding: bytes[index..<end], as: UTF8.self))'"
    }

    mutating func skipWhitespace() {
        while let c = peek(), c == SPACE || c == TAB { advance() }
    }

    /// Skips a comment if one starts at the cursor, stopping before the line
    /// break.
    mutating func skipComment() throws(TOMLError) {
        guard peek() == HASH else { return }
        advance()
        while let c = peek() {
            if c == LF || (c == CR && peek(1) == LF) { return }
            if isForbiddenControl(c) {
                throw error("control character U+\(hex4(UInt32(c))) is not allowed in a comment")
            }
            advance()
        }
    }

    /// Whitespace, comments and line breaks, as allowed between array
    /// elements.
    mutating func skipBlank() throws(TOMLError) {
        while true {
            skipWhitespace()
            try skipComment()
            let n = newlineLength()
            if n == 0 { return }
            advance(n)
        }
    }

    /// After a key/value pair or a header only a comment may follow on the
    /// same line.
    mutating func expectEndOfLine(after what: String) throws(TOMLError) {
        skipWhitespace()
        try skipComment()
        if atEnd { return }
        let n = newlineLength()
        if n == 0 { throw error("expected end of line after \(what), found \(describeCurrent())") }
        advance(n)
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        let root = TableBuilder(kind: .root, position: TOMLPosition(line: 1, column: 1), depth: 0)
        var current = root
        while true {
            skipWhitespace()
            guard let c = peek() else { break }
            if c == HASH {
                try skipComment()
                continue
            }
            let n = newlineLength()
            if n > 0 {
                advance(n)
                continue
            }
            if c == LBRACKET {
                current = try parseHeader(root: root)
                try expectEndOfLine(after: "table header")
            } else {
                try parseKeyValue(into: current, depth: current.depth)
                try expectEndOfLine(after: "value")
            }
        }
        return root.build()
    }

    mutating func parseHeader(root: TableBuilder) throws(TOMLError) -> TableBuilder {
        let start = position
        advance()
        let isArray = peek() == LBRACKET
        if isArray { advance() }
        skipWhitespace()
        let key = try parseKey()
        skipWhitespace()
        let closing = isArray ? "']]'" : "']'"
        guard peek() == RBRACKET else {
            throw error("expected \(closing) to close table header, found \(describeCurrent())")
        }
        advance()
        if isArray {
            guard peek() == RBRACKET else {
                throw error("expected \(closing) to close table header, found \(describeCurrent())")
            }
            advance()
        }

        var table = root
        for (i, part) in key.dropLast().enumerated() {
            switch table.entries[part.name] {
            case nil:
                let child = try newTable(.implicit, in: table, at: start, keyAt: part.position)
                table.insert(part.name, .table(child))
                table = child
            case .table(let child)?:
                table = child
            case .tableArray(let array)?:
                guard let last = array.tables.last else { throw error("internal error: empty table array") }
                table = last
            case .value(let node)?:
                let path = displayKey(key[...i].map(\.name))
                throw error("cannot define table '\(displayKey(key.map(\.name)))': key '\(path)' is already defined as \(describe(.value(node)))", at: part.position)
            }
        }

        guard let last = key.last else { throw error("internal error: empty key") }
        let name = displayKey(key.map(\.name))
        switch table.entries[last.name] {
        case nil:
            let child = try newTable(.header, in: table, at: start, keyAt: last.position)
            if isArray {
                table.insert(last.name, .tableArray(TableArrayBuilder(position: start, first: child)))
            } else {
                table.insert(last.name, .table(child))
            }
            return child
        case .table(let existing)?:
            if !isArray && existing.kind == .implicit {
                existing.kind = .header
                existing.position = start
                return existing
            }
            if isArray {
                throw error("cannot define array of tables '\(name)': it is already defined as a table", at: start)
            }
            if existing.kind == .dotted {
                throw error("table '\(name)' is already defined by dotted keys", at: start)
            }
            throw error("table '\(name)' is already defined", at: start)
        case .tableArray(let array)?:
            if !isArray {
                throw error("cannot define table '\(name)': it is already defined as an array of tables", at: start)
            }
            let child = try newTable(.header, in: table, at: start, keyAt: last.position)
            array.tables.append(child)
            return child
        case .value(let node)?:
            if isArray, case .array = node.value {
                throw error("cannot append to static array '\(name)' with [[ ]]", at: start)
            }
            let what = isArray ? "array of tables" : "table"
            throw error("cannot define \(what) '\(name)': key is already defined as \(describe(.value(node)))", at: start)
        }
    }

    func newTable(_ kind: TableBuilder.Kind, in parent: TableBuilder, at position: TOMLPosition, keyAt keyPosition: TOMLPosition) throws(TOMLError) -> TableBuilder {
        let depth = parent.depth + 1
        if depth > TOML.maxDepth {
            throw error("tables are nested too deeply (limit \(TOML.maxDepth))", at: keyPosition)
        }
        return TableBuilder(kind: kind, position: position, depth: depth)
    }

    /// Parses `key = value` and stores it under `table`, creating the tables
    /// named by a dotted key on the way.
    mutating func parseKeyValue(into table: TableBuilder, depth: Int) throws(TOMLError) {
        let key = try parseKey()
        skipWhitespace()
        guard peek() == EQUALS else {
            throw error("expected '=' after key '\(displayKey(key.map(\.name)))', found \(describeCurrent())")
        }
        advance()
        skipWhitespace()

        var target = table
        for (i, part) in key.dropLast().enumerated() {
            switch target.entries[part.name] {
            case nil:
                let child = try newTable(.dotted, in: target, at: part.position, keyAt: part.position)
                target.insert(part.name, .table(child))
                target = child
            case .table(let child)?:
                // Dotted keys may add to tables they created, and to tables
                // only implied by a deeper header; never to a [header] table.
                guard child.kind == .dotted || child.kind == .implicit else {
                    throw error("cannot add keys to table '\(displayKey(key[...i].map(\.name)))' with dotted keys: it is already defined", at: part.position)
                }
                child.kind = .dotted
                target = child
            case let existing?:
                throw error("key '\(displayKey(key[...i].map(\.name)))' is already defined as \(describe(existing))", at: part.position)
            }
        }

        guard let last = key.last else { throw error("internal error: empty key") }
        if let existing = target.entries[last.name] {
            let firstAt: TOMLPosition
            switch existing {
            case .value(let node): firstAt = node.position
            case .table(let t): firstAt = t.position
            case .tableArray(let a): firstAt = a.position
            }
            throw error("duplicate key '\(displayKey(key.map(\.name)))' (first defined at \(firstAt))", at: last.position)
        }
        // Each part of a dotted key nests one level, like a table would.
        let value = try parseValue(depth: depth + key.count)
        target.insert(last.name, .value(value))
    }

    // MARK: Keys

    mutating func parseKey() throws(TOMLError) -> [KeyPart] {
        var parts: [KeyPart] = []
        while true {
            skipWhitespace()
            parts.append(try parseSimpleKey())
            skipWhitespace()
            guard peek() == DOT else { return parts }
            advance()
        }
    }

    mutating func parseSimpleKey() throws(TOMLError) -> KeyPart {
        let start = position
        guard let c = peek() else { throw error("expected a key, found end of file") }
        if c == QUOTE || c == APOS {
            if peek(1) == c && peek(2) == c {
                throw error("multi-line strings cannot be used as keys")
            }
            let name = c == QUOTE ? try parseBasicString() : try parseLiteralString()
            return (name, start)
        }
        let from = index
        while let c = peek(), isBareKeyChar(c) { advance() }
        if index == from {
            throw error("expected a key, found \(describeCurrent())")
        }
        let name = String(decoding: bytes[from..<index], as: UTF8.self)
        // Name the culprit when a key runs into a character that cannot end it,
        // rather than reporting a missing '='.
        if let next = peek(), next >= 0x21, next != EQUALS, next != DOT, next != RBRACKET, next != HASH,
           next != COMMA, next != RBRACE {
            throw error("invalid character \(describeCurrent()) in bare key")
        }
        return (name, start)
    }

    // MARK: Values

    mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLNode {
        let start = position
        if depth > TOML.maxDepth {
            throw error("values are nested too deeply (limit \(TOML.maxDepth))")
        }
        guard let c = peek() else { throw error("expected a value, found end of file") }
        switch c {
        case QUOTE:
            if peek(1) == QUOTE && peek(2) == QUOTE {
                return TOMLNode(.string(try parseMultilineBasicString()), at: start)
            }
            return TOMLNode(.string(try parseBasicString()), at: start)
        case APOS:
            if peek(1) == APOS && peek(2) == APOS {
                return TOMLNode(.string(try parseMultilineLiteralString()), at: start)
            }
            return TOMLNode(.string(try parseLiteralString()), at: start)
        case LBRACKET:
            return TOMLNode(.array(try parseArray(depth: depth)), at: start)
        case LBRACE:
            return TOMLNode(.table(try parseInlineTable(depth: depth)), at: start)
        default:
            if isTokenChar(c) { return TOMLNode(try parseScalarToken(), at: start) }
            throw error("expected a value, found \(describeCurrent())")
        }
    }

    mutating func parseArray(depth: Int) throws(TOMLError) -> [TOMLNode] {
        let start = position
        advance()
        var items: [TOMLNode] = []
        while true {
            try skipBlank()
            guard let c = peek() else { throw error("unterminated array", at: start) }
            if c == RBRACKET {
                advance()
                return items
            }
            items.append(try parseValue(depth: depth + 1))
            try skipBlank()
            guard let d = peek() else { throw error("unterminated array", at: start) }
            if d == COMMA {
                advance()
            } else if d != RBRACKET {
                throw error("expected ',' or ']' after array element, found \(describeCurrent())")
            }
        }
    }

    mutating func parseInlineTable(depth: Int) throws(TOMLError) -> TOMLTable {
        let start = position
        advance()
        let table = TableBuilder(kind: .inline, position: start, depth: depth)
        try skipInlineTableSpace(openedAt: start)
        if peek() == RBRACE {
            advance()
            return table.build()
        }
        while true {
            try parseKeyValue(into: table, depth: depth)
            try skipInlineTableSpace(openedAt: start)
            switch peek() {
            case COMMA?:
                advance()
                try skipInlineTableSpace(openedAt: start)
                if peek() == RBRACE {
                    throw error("trailing comma is not allowed in an inline table")
                }
            case RBRACE?:
                advance()
                return table.build()
            default:
                throw error("expected ',' or '}' in inline table, found \(describeCurrent())")
            }
        }
    }

    /// Inline tables are single-line in TOML 1.0: only spaces and tabs may
    /// separate their parts, so a line break or comment is an error here.
    mutating func skipInlineTableSpace(openedAt start: TOMLPosition) throws(TOMLError) {
        skipWhitespace()
        if atEnd { throw error("unterminated inline table", at: start) }
        if newlineLength() > 0 || peek() == CR {
            throw error("newlines are not allowed inside an inline table")
        }
        if peek() == HASH {
            throw error("comments are not allowed inside an inline table")
        }
    }

    // MARK: Strings

    mutating func parseBasicString() throws(TOMLError) -> String {
        let start = position
        advance()
        var out: [UInt8] = []
        while true {
            guard let c = peek(), c != LF, !(c == CR && peek(1) == LF) else {
                throw error("unterminated string", at: start)
            }
            if c == QUOTE {
                advance()
                return String(decoding: out, as: UTF8.self)
            }
            if c == BACKSLASH {
                try parseEscape(into: &out)
            } else if isForbiddenControl(c) {
                throw error("control character U+\(hex4(UInt32(c))) is not allowed in a string")
            } else {
                out.append(c)
                advance()
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        let start = position
        advance()
        let from = index
        while true {
            guard let c = peek(), c != LF, !(c == CR && peek(1) == LF) else {
                throw error("unterminated string", at: start)
            }
            if c == APOS {
                let s = String(decoding: bytes[from..<index], as: UTF8.self)
                advance()
                return s
            }
            if isForbiddenControl(c) {
                throw error("control character U+\(hex4(UInt32(c))) is not allowed in a string")
            }
            advance()
        }
    }

    /// Reads the closing delimiter of a multi-line string if the cursor is on
    /// one. Up to two quotes right before the delimiter belong to the content.
    mutating func closeMultiline(_ quote: UInt8, into out: inout [UInt8]) -> Bool {
        var run = 0
        while peek(run) == quote && run < 5 { run += 1 }
        if run < 3 { return false }
        for _ in 0..<(run - 3) { out.append(quote) }
        advance(run)
        return true
    }

    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let start = position
        advance(3)
        advance(newlineLength())  // a newline right after the opening is trimmed
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated multi-line string", at: start) }
            if c == QUOTE {
                if closeMultiline(QUOTE, into: &out) { return String(decoding: out, as: UTF8.self) }
                out.append(c)
                advance()
            } else if c == BACKSLASH {
                try parseEscape(into: &out, multiline: true)
            } else if newlineLength() > 0 {
                out.append(LF)  // CRLF is normalised to LF
                advance(newlineLength())
            } else if isForbiddenControl(c) {
                throw error("control character U+\(hex4(UInt32(c))) is not allowed in a string")
            } else {
                out.append(c)
                advance()
            }
        }
    }

    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let start = position
        advance(3)
        advance(newlineLength())
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw error("unterminated multi-line string", at: start) }
            if c == APOS {
                if closeMultiline(APOS, into: &out) { return String(decoding: out, as: UTF8.self) }
                out.append(c)
                advance()
            } else if newlineLength() > 0 {
                out.append(LF)
                advance(newlineLength())
            } else if isForbiddenControl(c) {
                throw error("control character U+\(hex4(UInt32(c))) is not allowed in a string")
            } else {
                out.append(c)
                advance()
            }
        }
    }

    mutating func parseEscape(into out: inout [UInt8], multiline: Bool = false) throws(TOMLError) {
        let start = position
        advance()
        guard let c = peek() else { throw error("unterminated string", at: start) }
        switch c {
        case 0x62: out.append(0x08); advance()  // \b
        case 0x74: out.append(TAB); advance()   // \t
        case 0x6E: out.append(LF); advance()    // \n
        case 0x66: out.append(0x0C); advance()  // \f
        case 0x72: out.append(CR); advance()    // \r
        case QUOTE: out.append(QUOTE); advance()
        case BACKSLASH: out.append(BACKSLASH); advance()
        case 0x75, 0x55:  // \u, \U
            let count = c == 0x75 ? 4 : 8
            advance()
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let h = peek(), isHexDigit(h) else {
                    throw error("invalid unicode escape: expected \(count) hex digits", at: start)
                }
                let digit: UInt8 = isDigit(h) ? h - 0x30 : (h | 0x20) - 0x61 + 10
                value = value << 4 | UInt32(digit)
                advance()
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw error("invalid unicode escape: U+\(hex4(value)) is not a unicode scalar value", at: start)
            }
            UTF8.encode(scalar) { out.append($0) }
        case SPACE, TAB, LF, CR:
            guard multiline else {
                throw error("invalid escape: a backslash must be followed by an escape character", at: start)
            }
            // A backslash ending a line swallows the line break and all
            // whitespace up to the next non-blank character.
            skipWhitespace()
            guard newlineLength() > 0 else {
                throw error("invalid escape: only whitespace and a line break may follow a line-ending backslash", at: start)
            }
            while true {
                skipWhitespace()
                let n = newlineLength()
                if n == 0 { break }
                advance(n)
            }
        default:
            throw error("invalid escape sequence '\\\(describeCurrent().trimmingQuotes)'", at: start)
        }
    }

    // MARK: Numbers, booleans, dates

    mutating func parseScalarToken() throws(TOMLError) -> TOMLValue {
        let start = position
        let from = index
        while let c = peek(), isTokenChar(c) { advance() }
        // A date may be separated from its time by a single space.
        if index - from == 10, bytes[from + 4] == MINUS, peek() == SPACE,
           let a = peek(1), let b = peek(2), isDigit(a), isDigit(b), peek(3) == COLON {
            advance()
            while let c = peek(), isTokenChar(c) { advance() }
        }
        let token = Array(bytes[from..<index])
        let text = String(decoding: token, as: UTF8.self)
        let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text

        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }

        let looksLikeDate = token.count >= 10 && token[4] == MINUS && token[0..<4].allSatisfy(isDigit)
        let looksLikeTime = token.count >= 3 && token[2] == COLON && isDigit(token[0]) && isDigit(token[1])
        if looksLikeDate || looksLikeTime {
            if let problem = DateTimeValidator.check(token) {
                throw error("invalid date-time '\(shown)': \(problem)", at: start)
            }
            return .datetime(text)
        }
        guard let c = token.first, isDigit(c) || c == PLUS || c == MINUS else {
            let isLetter = (token.first ?? 0) | 0x20 >= 0x61 && (token.first ?? 0) | 0x20 <= 0x7A
            throw error("invalid value '\(shown)'" + (isLetter ? " (strings must be quoted)" : ""), at: start)
        }
        switch NumberParser.parse(token) {
        case .success(let value): return value
        case .failure(let problem): throw error("invalid number '\(shown)': \(problem.message)", at: start)
        }
    }
}

private extension String {
    /// "'x'" -> "x", for quoting a character inside an escape in a message.
    var trimmingQuotes: String {
        if count >= 2 && hasPrefix("'") && hasSuffix("'") { return String(dropFirst().dropLast()) }
        return self
    }
}

// MARK: - Numbers

private struct NumberProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

private enum NumberParser {
    static func parse(_ t: [UInt8]) -> Result<TOMLValue, NumberProblem> {
        var i = 0
        var negative = false
        var signed = false
        if t[0] == PLUS || t[0] == MINUS {
            negative = t[0] == MINUS
            signed = true
            i = 1
        }
        guard i < t.count else { return .failure(NumberProblem("expected digits")) }

        if t.count - i >= 2 && t[i] == 0x30, let radix = radixFor(t[i + 1]) {
            if signed { return .failure(NumberProblem("a sign is not allowed on a hexadecimal, octal or binary integer")) }
            return parseRadix(t, from: i + 2, radix: radix)
        }

        let intStart = i
        switch digitRun(t, from: i) {
        case .failure(let p): return .failure(p)
        case .success(let end): i = end
        }
        let intDigits = t[intStart..<i].filter { $0 != UNDERSCORE }
        if intDigits.count > 1 && intDigits[0] == 0x30 {
            return .failure(NumberProblem("leading zeros are not allowed"))
        }

        var isFloat = false
        if i < t.count && t[i] == DOT {
            isFloat = true
            switch digitRun(t, from: i + 1) {
            case .failure: return .failure(NumberProblem("expected digits after the decimal point"))
            case .success(let end): i = end
            }
        }
        if i < t.count && (t[i] == 0x65 || t[i] == 0x45) {
            isFloat = true
            i += 1
            if i < t.count && (t[i] == PLUS || t[i] == MINUS) { i += 1 }
            switch digitRun(t, from: i) {
            case .failure: return .failure(NumberProblem("expected digits in the exponent"))
            case .success(let end): i = end
            }
        }
        guard i == t.count else { return .failure(NumberProblem("unexpected character '\(Character(Unicode.Scalar(t[i])))'")) }

        if isFloat {
            let cleaned = String(decoding: t.filter { $0 != UNDERSCORE }, as: UTF8.self)
            guard let value = Double(cleaned) else { return .failure(NumberProblem("not a valid float")) }
            guard value.isFinite else { return .failure(NumberProblem("float is out of range")) }
            return .success(.float(value))
        }

        // Accumulate as a negative number so Int64.min is representable.
        var value: Int64 = 0
        for d in intDigits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(Int64(d - 0x30))
            if o1 || o2 { return .failure(NumberProblem("integer does not fit in 64 bits")) }
            value = s
        }
        if !negative {
            if value == .min { return .failure(NumberProblem("integer does not fit in 64 bits")) }
            value = -value
        }
        return .success(.integer(value))
    }

    static func radixFor(_ c: UInt8) -> Int64? {
        switch c {
        case 0x78: return 16  // x
        case 0x6F: return 8   // o
        case 0x62: return 2   // b
        default: return nil
        }
    }

    static func digitValue(_ c: UInt8, radix: Int64) -> Int64? {
        let v: Int64
        if isDigit(c) { v = Int64(c - 0x30) }
        else if c >= 0x61 && c <= 0x66 { v = Int64(c - 0x61 + 10) }
        else if c >= 0x41 && c <= 0x46 { v = Int64(c - 0x41 + 10) }
        else { return nil }
        return v < radix ? v : nil
    }

    static func parseRadix(_ t: [UInt8], from start: Int, radix: Int64) -> Result<TOMLValue, NumberProblem> {
        var value: Int64 = 0
        var i = start
        var lastWasDigit = false
        guard i < t.count else { return .failure(NumberProblem("expected digits after the prefix")) }
        while i < t.count {
            let c = t[i]
            if c == UNDERSCORE {
                guard lastWasDigit, i + 1 < t.count, digitValue(t[i + 1], radix: radix) != nil else {
                    return .failure(NumberProblem("an underscore must be between two digits"))
                }
                lastWasDigit = false
            } else if let d = digitValue(c, radix: radix) {
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (s, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { return .failure(NumberProblem("integer does not fit in 64 bits")) }
                value = s
                lastWasDigit = true
            } else {
                return .failure(NumberProblem("invalid digit '\(Character(Unicode.Scalar(c)))' for base \(radix)"))
            }
            i += 1
        }
        return .success(.integer(value))
    }

    /// Decimal digits with single underscores between them; returns the end.
    static func digitRun(_ t: [UInt8], from start: Int) -> Result<Int, NumberProblem> {
        var i = start
        guard i < t.count, isDigit(t[i]) else { return .failure(NumberProblem("expected a digit")) }
        while i < t.count {
            if isDigit(t[i]) {
                i += 1
            } else if t[i] == UNDERSCORE {
                guard i + 1 < t.count, isDigit(t[i + 1]) else {
                    return .failure(NumberProblem("an underscore must be between two digits"))
                }
                i += 1
            } else {
                break
            }
        }
        return .success(i)
    }
}

// MARK: - Dates and times

private enum DateTimeValidator {
    /// Returns why the token is not an RFC 3339 date/time as TOML allows, or
    /// nil if it is valid.
    static func check(_ t: [UInt8]) -> String? {
        if t.count >= 3 && t[2] == COLON {
            switch time(t, from: 0) {
            case .failure(let p): return p.message
            case .success(let end): return end == t.count ? nil : "unexpected text after the time"
            }
        }
        guard t.count >= 10, let year = number(t, 0, 4), t[4] == MINUS,
              let month = number(t, 5, 2), t[7] == MINUS, let day = number(t, 8, 2) else {
            return "expected a date as YYYY-MM-DD"
        }
        guard (1...12).contains(month) else { return "month must be 01 to 12" }
        guard day >= 1 && day <= daysIn(month: month, year: year) else { return "day is out of range for the month" }
        if t.count == 10 { return nil }
        guard t[10] == 0x54 || t[10] == 0x74 || t[10] == SPACE else {
            return "expected 'T' or a space between date and time"
        }
        var i: Int
        switch time(t, from: 11) {
        case .failure(let p): return p.message
        case .success(let end): i = end
        }
        if i == t.count { return nil }
        if t[i] == 0x5A || t[i] == 0x7A {  // Z
            return i + 1 == t.count ? nil : "unexpected text after the offset"
        }
        guard t[i] == PLUS || t[i] == MINUS else { return "expected a time offset (Z or +HH:MM)" }
        i += 1
        guard i + 5 == t.count, let oh = number(t, i, 2), t[i + 2] == COLON, let om = number(t, i + 3, 2) else {
            return "expected a time offset as +HH:MM"
        }
        guard oh <= 23 && om <= 59 else { return "time offset is out of range" }
        return nil
    }

    static func time(_ t: [UInt8], from start: Int) -> Result<Int, NumberProblem> {
        let i = start
        guard i + 8 <= t.count, let h = number(t, i, 2), t[i + 2] == COLON,
              let m = number(t, i + 3, 2), t[i + 5] == COLON, let s = number(t, i + 6, 2) else {
            return .failure(NumberProblem("expected a time as HH:MM:SS"))
        }
        guard h <= 23 else { return .failure(NumberProblem("hour must be 00 to 23")) }
        guard m <= 59 else { return .failure(NumberProblem("minute must be 00 to 59")) }
        // 60 is allowed for leap seconds, as in RFC 3339.
        guard s <= 60 else { return .failure(NumberProblem("second must be 00 to 60")) }
        var end = i + 8
        if end < t.count && t[end] == DOT {
            end += 1
            let digitsStart = end
            while end < t.count && isDigit(t[end]) { end += 1 }
            if end == digitsStart { return .failure(NumberProblem("expected digits after the decimal point")) }
        }
        return .success(end)
    }

    static func number(_ t: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= t.count else { return nil }
        var v = 0
        for c in t[start..<(start + count)] {
            guard isDigit(c) else { return nil }
            v = v * 10 + Int(c - 0x30)
        }
        return v
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension TOMLError: FileFailure {
    /// A file that cannot be read is reported at line 0 with the system's error text (`cannot open: No such file
    /// or directory`), or with why it was refused.
    public static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> TOMLError {
        TOMLError(file: path, line: 0, column: 0, message: detail ?? "cannot \(operation): \(errnoText(errno ?? EIO))")
    }
}
