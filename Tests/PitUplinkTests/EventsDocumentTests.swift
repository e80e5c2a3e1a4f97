import XCTest
import FoundationEssentials
@testable import PitUplink

/// EVENTS.md is the receiver's contract: it must say exactly what the types write. Each table is read as it is
/// rendered (first column the name in backticks) and compared with the type both ways.
final class EventsDocumentTests: XCTestCase {
    func test_everyKindIsDocumentedAndEveryDocumentedKindExists() throws {
        let documented = try Self.table("Kinds").map(\.name)
        XCTAssertEqual(Set(documented).count, documented.count, "a kind documented twice: \(documented)")
        let kinds = PitEvent.Kind.allCases.map(\.rawValue)
        XCTAssertEqual(Set(kinds).subtracting(documented).sorted(), [], "kinds missing from EVENTS.md")
        XCTAssertEqual(Set(documented).subtracting(kinds).sorted(), [], "EVENTS.md documents kinds PitEvent.Kind does not have")
    }

    func test_everyKeyIsDocumentedWithTheKindsThatCarryIt() throws {
        let rows = try Self.table("Fields")
        let keys = PitEvent.CodingKeys.allCases.map(\.rawValue)
        XCTAssertEqual(Set(keys).subtracting(rows.map(\.name)).sorted(), [], "keys missing from EVENTS.md")
        XCTAssertEqual(Set(rows.map(\.name)).subtracting(keys).sorted(), [], "EVENTS.md documents keys PitEvent does not write")

        let common = Set(PitEvent.commonKeys.map(\.rawValue))
        for row in rows {
            // `all`, `any`, `all, once stored`: a key of every kind. Otherwise the column lists the kinds.
            let column = row.columns[1]
            if column.hasPrefix("all") || column == "any" {
                XCTAssertTrue(common.contains(row.name), "EVENTS.md says every kind carries `\(row.name)`; PitEvent.commonKeys does not")
                continue
            }
            XCTAssertFalse(common.contains(row.name), "`\(row.name)` is common to every kind, EVENTS.md says only \(column)")
            let listed = column.split(separator: ",").map(Self.trimmed)
            for name in listed {
                guard let kind = PitEvent.Kind(rawValue: name) else { XCTFail("`\(row.name)`: unknown kind \(name)"); continue }
                XCTAssertTrue(kind.keys.map(\.rawValue).contains(row.name), "EVENTS.md says \(name) carries `\(row.name)`; Kind.keys does not")
            }
            for kind in PitEvent.Kind.allCases where kind.keys.map(\.rawValue).contains(row.name) {
                XCTAssertTrue(listed.contains(kind.rawValue), "\(kind.rawValue) carries `\(row.name)`; EVENTS.md does not list it")
            }
        }
    }

    func test_everyComponentIsDocumentedAndEveryDocumentedComponentExists() throws {
        let documented = try Self.table("Components").map(\.name)
        let components = PitEvent.Component.allCases.map(\.rawValue)
        XCTAssertEqual(documented.sorted(), components.sorted())
    }

    /// Keeps `Kind.keys` honest: what each kind's constructor writes is what it declares.
    func test_eachKindWritesOnlyItsDeclaredKeys() throws {
        let common = Set(PitEvent.commonKeys.map(\.rawValue))
        for event in sampleEvents() {
            var stored = event
            stored.seq = 1
            let written = Set(try JSONDecoder().decode(TopLevelKeys.self, from: Data(stored.jsonBytes())).keys)
            let declared = common.union(event.kind.keys.map(\.rawValue))
            XCTAssertEqual(written.subtracting(declared).sorted(), [], "\(event.kind.rawValue) writes undeclared keys")
        }
    }

    // MARK: - Reading the document

    struct Row { var name: String; var columns: [String] }
    struct MissingSection: Error { var title: String }

    /// The keys of a JSON object, whatever their values.
    struct TopLevelKeys: Decodable {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var keys: [String]
        init(from decoder: Decoder) throws { keys = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue) }
    }

    static let document: String = {
        // Tests/PitUplinkTests/ -> the package root.
        var parts = #filePath.split(separator: "/").map(String.init)
        parts.removeLast(3)
        let path = "/" + parts.joined(separator: "/") + "/Sources/PitUplink/EVENTS.md"
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }()

    /// The rows of the first table under `## title`, header and rule left out; a row's name is its first cell
    /// without backticks, `columns` the cells after it.
    static func table(_ title: String) throws -> [Row] {
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let heading = lines.firstIndex(of: "## " + title) else {
            throw MissingSection(title: title)   // no EVENTS.md, or a section renamed: either way the contract is untested
        }
        var rows: [Row] = []
        for line in lines[(heading + 1)...] {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("|") else { if rows.isEmpty { continue } else { break } }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map(trimmed)
            rows.append(Row(name: cells[0].filter { $0 != "`" }, columns: Array(cells.dropFirst())))
        }
        // The header and the |---| rule.
        return Array(rows.dropFirst(2))
    }

    static func trimmed<S: StringProtocol>(_ text: S) -> String {
        String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
