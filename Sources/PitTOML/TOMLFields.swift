// Typed access to a table's fields for config decoders.
//
// Every error names the full field path ("jails[1].limits.memory_max") and
// points at the value in the file, so a user can fix a config without
// reading decoder code.

import PitProcess

public struct TOMLFields: Sendable {
    public var file: String
    /// Path of this table from the document root; "" for the root.
    public var path: String
    public var table: TOMLTable

    public init(_ table: TOMLTable, file: String, path: String = "") {
        self.table = table
        self.file = file
        self.path = path
    }

    // MARK: Scalars

    public func string(_ key: String) throws(TOMLError) -> String? {
        guard let node = table[key] else { return nil }
        guard case .string(let s) = node.value else { throw typeMismatch(key, node, expected: "a string") }
        return s
    }

    public func int(_ key: String) throws(TOMLError) -> Int64? {
        guard let node = table[key] else { return nil }
        guard case .integer(let v) = node.value else { throw typeMismatch(key, node, expected: "an integer") }
        return v
    }

    public func bool(_ key: String) throws(TOMLError) -> Bool? {
        guard let node = table[key] else { return nil }
        guard case .bool(let v) = node.value else { throw typeMismatch(key, node, expected: "a boolean") }
        return v
    }

    // MARK: Arrays

    public func strings(_ key: String) throws(TOMLError) -> [String]? {
        try stringsWithPositions(key)?.map(\.value)
    }

    /// Strings of an array together with where each one is and its field
    /// path, for callers that validate elements further (paths, uids).
    public func stringsWithPositions(_ key: String) throws(TOMLError) -> [(value: String, position: TOMLPosition, path: String)]? {
        guard let items = try array(key) else { return nil }
        var result: [(value: String, position: TOMLPosition, path: String)] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let itemPath = "\(fieldPath(key))[\(i)]"
            guard case .string(let s) = item.value else {
                throw TOMLError(file: file, at: item.position,
                                "\(itemPath): expected a string, found \(item.value.typeName)")
            }
            result.append((s, item.position, itemPath))
        }
        return result
    }

    /// Integers of an array, with where each one is and its field path.
    public func integersWithPositions(_ key: String) throws(TOMLError) -> [(value: Int64, position: TOMLPosition, path: String)]? {
        guard let items = try array(key) else { return nil }
        var result: [(value: Int64, position: TOMLPosition, path: String)] = []
        for (i, item) in items.enumerated() {
            let itemPath = "\(fieldPath(key))[\(i)]"
            guard case .integer(let n) = item.value else {
                throw TOMLError(file: file, at: item.position, "\(itemPath): expected an integer, found \(item.value.typeName)")
            }
            result.append((n, item.position, itemPath))
        }
        return result
    }

    // MARK: Tables

    public func table(_ key: String) throws(TOMLError) -> TOMLFields? {
        guard let node = table[key] else { return nil }
        guard case .table(let t) = node.value else { throw typeMismatch(key, node, expected: "a table") }
        return TOMLFields(t, file: file, path: fieldPath(key))
    }

    /// An array of tables, written either as `[[key]]` sections or as an
    /// array of inline tables.
    public func tables(_ key: String) throws(TOMLError) -> [TOMLFields]? {
        guard let items = try array(key) else { return nil }
        var result: [TOMLFields] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let itemPath = "\(fieldPath(key))[\(i)]"
            guard case .table(let t) = item.value else {
                throw TOMLError(file: file, at: item.position,
                                "\(itemPath): expected a table, found \(item.value.typeName)")
            }
            result.append(TOMLFields(t, file: file, path: itemPath))
        }
        return result
    }

    // MARK: Validation

    /// Unwraps a field that must be present. The error points at this table,
    /// since the field itself has no position.
    public func require<T>(_ value: T?, _ key: String) throws(TOMLError) -> T {
        guard let value else {
            throw TOMLError(file: file, at: table.position, "missing required field '\(fieldPath(key))'")
        }
        return value
    }

    /// Rejects the first key (in document order) that is not in `allowed`,
    /// suggesting the closest allowed key if it is a likely typo.
    public func rejectUnknownKeys(_ allowed: Set<String>) throws(TOMLError) {
        for key in table.keys where !allowed.contains(key) {
            var message = "unknown field '\(fieldPath(key))'"
            if let suggestion = Self.closest(to: key, in: allowed) {
                message += " (did you mean '\(suggestion)'?)"
            }
            throw TOMLError(file: file, at: position(of: key) ?? table.position, message)
        }
    }

    public func error(_ key: String, _ message: String) -> TOMLError {
        TOMLError(file: file, at: position(of: key) ?? table.position, "\(fieldPath(key)): \(message)")
    }

    public func position(of key: String) -> TOMLPosition? {
        table[key]?.position
    }

    // MARK: Helpers

    func fieldPath(_ key: String) -> String {
        let shown = !key.isEmpty && key.utf8.allSatisfy(Self.isBareKeyByte) ? key : "\"\(key)\""
        return path.isEmpty ? shown : "\(path).\(shown)"
    }

    private static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    private func array(_ key: String) throws(TOMLError) -> [TOMLNode]? {
        guard let node = table[key] else { return nil }
        guard case .array(let items) = node.value else { throw typeMismatch(key, node, expected: "an array") }
        return items
    }

    private func typeMismatch(_ key: String, _ node: TOMLNode, expected: String) -> TOMLError {
        TOMLError(file: file, at: node.position,
                  "\(fieldPath(key)): expected \(expected), found \(node.value.typeName)")
    }

    /// The allowed key within edit distance 2 of `key`; ties go to the
    /// alphabetically first so the message does not depend on Set order.
    static func closest(to key: String, in allowed: Set<String>) -> String? {
        Suggestion.closest(to: key, in: allowed.sorted())
    }
}
