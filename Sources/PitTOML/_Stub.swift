// TEMPORARY stub until the TOML reader lands.
public struct TOMLError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String; public var line: Int; public var column: Int; public var message: String
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
public struct TOMLPosition: Equatable, Sendable { public var line: Int; public var column: Int }
public struct TOMLTable: Equatable, Sendable { public var keys: [String] = [] }
public enum TOML {
    public static func parse(contentsOf path: String) throws(TOMLError) -> TOMLTable { TOMLTable() }
}
public struct TOMLFields: Sendable {
    public init(_ table: TOMLTable, file: String, path: String = "") { self.table = table; self.file = file; self.path = path }
    public var file: String; public var path: String; public var table: TOMLTable
    public func string(_ key: String) throws(TOMLError) -> String? { nil }
    public func int(_ key: String) throws(TOMLError) -> Int64? { nil }
    public func bool(_ key: String) throws(TOMLError) -> Bool? { nil }
    public func strings(_ key: String) throws(TOMLError) -> [String]? { nil }
    public func stringsWithPositions(_ key: String) throws(TOMLError) -> [(value: String, position: TOMLPosition, path: String)]? { nil }
    public func table(_ key: String) throws(TOMLError) -> TOMLFields? { nil }
    public func tables(_ key: String) throws(TOMLError) -> [TOMLFields]? { nil }
    public func require<T>(_ value: T?, _ key: String) throws(TOMLError) -> T { value! }
    public func rejectUnknownKeys(_ allowed: Set<String>) throws(TOMLError) {}
    public func error(_ key: String, _ message: String) -> TOMLError { TOMLError(file: file, line: 0, column: 0, message: message) }
    public func position(of key: String) -> TOMLPosition? { nil }
}
