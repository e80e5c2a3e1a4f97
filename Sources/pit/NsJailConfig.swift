/// NsJail's protobuf text-format configs (config.proto's NsJailConfig), read by a small parser for the subset
/// NsJail's configs use: `name: value`, `name { ... }` (or `name: { ... }`, `< >`), strings in double or single
/// quotes with C escapes (adjacent strings joined), numbers, identifiers (enums, true/false), `#` comments.
/// swift-protobuf's text-format reader would need the compiled schema and several megabytes of library for this.
struct NsJailConfigText {
    struct Field {
        var name: String
        var line: Int
        var column: Int
        var value: Value
    }

    enum Value {
        case scalar(String, quoted: Bool)
        case message([Field])
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var column: Int
        var message: String
        var description: String { "\(line):\(column): \(message)" }
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1

    static func parse(_ text: String) throws(ParseError) -> [Field] {
        var parser = NsJailConfigText(bytes: Array(text.utf8))
        let fields = try parser.fields(until: nil)
        return fields
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// NsJail's configs nest two or three messages deep; a bound keeps a hostile file from overflowing the stack.
    static let maxDepth = 32

    private mutating func fields(until close: UInt8?, depth: Int = 0) throws(ParseError) -> [Field] {
        guard depth <= Self.maxDepth else { throw error("messages nested more than \(Self.maxDepth) deep") }
        var result: [Field] = []
        while true {
            skipSpace()
            guard index < bytes.count else {
                if let close { throw error("missing '\(Character(UnicodeScalar(close)))' at the end") }
                return result
            }
            if let close, bytes[index] == close { advance(); return result }
            if bytes[index] == UInt8(ascii: ",") || bytes[index] == UInt8(ascii: ";") { advance(); continue }
            let (startLine, startColumn) = (line, column)
            let name = identifier()
            guard !name.isEmpty else { throw error("expected a field name, found '\(Character(UnicodeScalar(bytes[index])))'") }
            skipSpace()
            var colon = false
            if index < bytes.count && bytes[index] == UInt8(ascii: ":") { advance(); skipSpace(); colon = true }
            guard index < bytes.count else { throw error("'\(name)' has no value") }
            if bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "<") {
                let closing = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: ">")
                advance()
                result.append(Field(name: name, line: startLine, column: startColumn, value: .message(try fields(until: closing, depth: depth + 1))))
                continue
            }
            guard colon else { throw error("expected ':' or '{' after '\(name)'") }
            if bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                var text = ""
                while index < bytes.count && (bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")) {
                    text += try quoted()
                    skipSpace()
                }
                result.append(Field(name: name, line: startLine, column: startColumn, value: .scalar(text, quoted: true)))
            } else {
                var word = ""
                while index < bytes.count, isWordByte(bytes[index]) { word.append(Character(UnicodeScalar(bytes[index]))); advance() }
                guard !word.isEmpty else { throw error("'\(name)' has no value") }
                result.append(Field(name: name, line: startLine, column: startColumn, value: .scalar(word, quoted: false)))
            }
        }
    }

    private func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
    }

    private mutating func identifier() -> String {
        var name = ""
        while index < bytes.count {
            let byte = bytes[index]
            guard (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a) || byte == UInt8(ascii: "_") else { break }
            name.append(Character(UnicodeScalar(byte)))
            advance()
        }
        return name
    }

    /// One quoted string with C escapes; the bytes are UTF-8 as written.
    private mutating func quoted() throws(ParseError) -> String {
        let quote = bytes[index]
        advance()
        var out: [UInt8] = []
        while true {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else { throw error("a string is not closed on its line") }
            let byte = bytes[index]
            advance()
            if byte == quote { break }
            guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
            guard index < bytes.count else { throw error("a string ends in '\\'") }
            let escape = bytes[index]
            advance()
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): out.append(escape)
            case UInt8(ascii: "x"):
                var value = 0, digits = 0
                while digits < 2, index < bytes.count, let digit = Int(String(UnicodeScalar(bytes[index])), radix: 16) {
                    value = value * 16 + digit; digits += 1; advance()
                }
                guard digits > 0 else { throw error("'\\x' needs hex digits") }
                out.append(UInt8(value))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escape - UInt8(ascii: "0")), digits = 1
                while digits < 3, index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "7") {
                    value = value * 8 + Int(bytes[index] - UInt8(ascii: "0")); digits += 1; advance()
                }
                guard value < 256 else { throw error("octal escape past 255") }
                out.append(UInt8(value))
            default:
                throw error("unknown escape '\\\(Character(UnicodeScalar(escape)))'")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { advance() }
            } else if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                advance()
            } else {
                return
            }
        }
    }

    private mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") { line += 1; column = 1 } else { column += 1 }
        index += 1
    }

    private func error(_ message: String) -> ParseError { ParseError(line: line, column: column, message: message) }
}
