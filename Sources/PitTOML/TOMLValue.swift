// Value types produced by the TOML reader.
//
// Every node carries the position of its value in the source so that config
// decoders can report errors that point at the offending text, not just at
// the file.

/// An error found while reading TOML or decoding fields from it.
///
/// `line` and `column` are 1-based; column counts Unicode scalars, so a tab
/// or a multi-byte character is one column. `line` is 0 only when the file
/// itself could not be read.
public struct TOMLError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(file: String, at position: TOMLPosition, _ message: String) {
        self.init(file: file, line: position.line, column: position.column, message: message)
    }

    /// `file:line:col: message`, or `file: message` for what concerns the whole file (line 0).
    public var description: String { line == 0 ? "\(file): \(message)" : "\(file):\(line):\(column): \(message)" }
}

/// A 1-based line and column in the source text.
public struct TOMLPosition: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// Offset date-time, local date-time, local date or local time, kept as
    /// the raw text after validation; nothing in Pit needs calendar math.
    case datetime(String)
    case array([TOMLNode])
    case table(TOMLTable)

    public var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .bool: return "boolean"
        case .datetime: return "datetime"
        case .array: return "array"
        case .table: return "table"
        }
    }

    // Equality is structural; NaN is treated as equal to NaN so that a
    // document always compares equal to itself.
    public static func == (lhs: TOMLValue, rhs: TOMLValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.integer(a), .integer(b)): return a == b
        case let (.float(a), .float(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.bool(a), .bool(b)): return a == b
        case let (.datetime(a), .datetime(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.table(a), .table(b)): return a == b
        default: return false
        }
    }
}

public struct TOMLNode: Equatable, Sendable {
    public var value: TOMLValue
    public var position: TOMLPosition

    public init(value: TOMLValue, position: TOMLPosition) {
        self.value = value
        self.position = position
    }

    public init(_ value: TOMLValue, at position: TOMLPosition) {
        self.init(value: value, position: position)
    }
}

/// A table whose keys keep document order.
public struct TOMLTable: Equatable, Sendable {
    public private(set) var keys: [String]
    private var entries: [String: TOMLNode]
    /// Where the table was opened: its `[header]`, its `{`, the first key of
    /// a dotted key that created it, or 1:1 for the root.
    public var position: TOMLPosition

    public init(position: TOMLPosition = TOMLPosition(line: 1, column: 1)) {
        self.keys = []
        self.entries = [:]
        self.position = position
    }

    public subscript(key: String) -> TOMLNode? {
        entries[key]
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Sets a key, appending it to `keys` if it is new. Used by the parser
    /// (which has already rejected duplicates) and handy for building
    /// expected values in tests.
    public mutating func set(_ key: String, _ node: TOMLNode) {
        if entries.updateValue(node, forKey: key) == nil {
            keys.append(key)
        }
    }
}
