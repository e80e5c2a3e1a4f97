import XCTest
@testable import PitTOML
import PitProcess

final class FieldsTests: XCTestCase {
    let document = """
    user = "nobody"
    uid = 1000
    enabled = true
    binds = ["/a", "/b", 3]
    paths = ["/x", '/y']
    [limits]
    memory_max = "1G"
    [[jails]]
    name = "web"
    [[jails]]
    nme = "db"
    """

    func fields() throws -> TOMLFields {
        TOMLFields(try TOML.parse(document, file: "t.toml"), file: "t.toml")
    }

    func assertFieldError<T>(_ body: @autoclosure () throws -> T, _ expected: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            let value = try body()
            XCTFail("expected \(expected), got \(value)", file: file, line: line)
        } catch let error as TOMLError {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    func testScalars() throws {
        let f = try fields()
        XCTAssertEqual(try f.string("user"), "nobody")
        XCTAssertEqual(try f.int("uid"), 1000)
        XCTAssertEqual(try f.bool("enabled"), true)
        XCTAssertNil(try f.string("absent"))
        XCTAssertNil(try f.int("absent"))
        XCTAssertNil(try f.bool("absent"))
        XCTAssertEqual(f.position(of: "uid"), pos(2, 7))
        XCTAssertNil(f.position(of: "absent"))
    }

    func testWrongTypes() throws {
        let f = try fields()
        assertFieldError(try f.string("uid"), "t.toml:2:7: uid: expected a string, found integer")
        assertFieldError(try f.int("user"), "t.toml:1:8: user: expected an integer, found string")
        assertFieldError(try f.bool("binds"), "t.toml:4:9: binds: expected a boolean, found array")
        assertFieldError(try f.table("user"), "t.toml:1:8: user: expected a table, found string")
        assertFieldError(try f.tables("limits"), "t.toml:6:1: limits: expected an array, found table")
        assertFieldError(try f.strings("enabled"), "t.toml:3:11: enabled: expected an array, found boolean")
        let limits = try XCTUnwrap(try f.table("limits"))
        XCTAssertEqual(limits.path, "limits")
        assertFieldError(try limits.int("memory_max"),
                         "t.toml:7:14: limits.memory_max: expected an integer, found string")
    }

    func testSpecExample() throws {
        let f = TOMLFields(try TOML.parse("[jail]\nuser = 5\n", file: "jail.toml"), file: "jail.toml")
        let jail = try XCTUnwrap(try f.table("jail"))
        assertFieldError(try jail.string("user"), "jail.toml:2:8: jail.user: expected a string, found integer")
    }

    func testArrayElements() throws {
        let f = try fields()
        assertFieldError(try f.strings("binds"), "t.toml:4:22: binds[2]: expected a string, found integer")
        XCTAssertEqual(try f.strings("paths"), ["/x", "/y"])
        XCTAssertNil(try f.strings("absent"))
        let items = try XCTUnwrap(try f.stringsWithPositions("paths"))
        XCTAssertEqual(items.map(\.value), ["/x", "/y"])
        XCTAssertEqual(items.map(\.position), [pos(5, 10), pos(5, 16)])
        XCTAssertEqual(items.map(\.path), ["paths[0]", "paths[1]"])
    }

    func testTablesAndRequiredFields() throws {
        let f = try fields()
        let jails = try XCTUnwrap(try f.tables("jails"))
        XCTAssertEqual(jails.map(\.path), ["jails[0]", "jails[1]"])
        XCTAssertEqual(try jails[0].require(try jails[0].string("name"), "name"), "web")
        assertFieldError(try jails[1].require(try jails[1].string("name"), "name"),
                         "t.toml:10:1: missing required field 'jails[1].name'")
        assertFieldError(try f.require(try f.string("name"), "name"),
                         "t.toml:1:1: missing required field 'name'")
        XCTAssertNil(try f.tables("absent"))
        XCTAssertNil(try f.table("absent"))
    }

    func testInlineArrayOfTables() throws {
        let text = "jails = [{ name = \"a\" }, { name = \"b\", limits = { cpu = \"x\" } }, 3]"
        let f = TOMLFields(try TOML.parse(text, file: "i.toml"), file: "i.toml")
        assertFieldError(try f.tables("jails"), "i.toml:1:66: jails[2]: expected a table, found integer")
        let ok = TOMLFields(try TOML.parse("jails = [{ name = \"a\" }, { limits = { cpu = \"x\" } }]", file: "i.toml"),
                            file: "i.toml")
        let jails = try XCTUnwrap(try ok.tables("jails"))
        XCTAssertEqual(try jails[0].string("name"), "a")
        let limits = try XCTUnwrap(try jails[1].table("limits"))
        assertFieldError(try limits.int("cpu"), "i.toml:1:45: jails[1].limits.cpu: expected an integer, found string")
    }

    func testUnknownKeys() throws {
        let f = try fields()
        let jails = try XCTUnwrap(try f.tables("jails"))
        XCTAssertNoThrow(try jails[0].rejectUnknownKeys(["name", "user"]))
        assertFieldError(try jails[1].rejectUnknownKeys(["name", "user"]),
                         "t.toml:11:7: unknown field 'jails[1].nme' (did you mean 'name'?)")
        let usr = TOMLFields(try TOML.parse("usr = 'x'", file: "u.toml"), file: "u.toml")
        assertFieldError(try usr.rejectUnknownKeys(["user", "uid", "binds"]),
                         "u.toml:1:7: unknown field 'usr' (did you mean 'user'?)")
        // Nothing within distance 2: no suggestion.
        let far = TOMLFields(try TOML.parse("hostname = 'x'", file: "u.toml"), file: "u.toml")
        assertFieldError(try far.rejectUnknownKeys(["user", "uid"]), "u.toml:1:12: unknown field 'hostname'")
        // The first unknown key in document order is reported.
        let two = TOMLFields(try TOML.parse("b = 1\na = 2", file: "u.toml"), file: "u.toml")
        assertFieldError(try two.rejectUnknownKeys([]), "u.toml:1:5: unknown field 'b'")
    }

    func testSuggestionIsDeterministic() {
        // Both are at distance 1; the alphabetically first wins.
        XCTAssertEqual(TOMLFields.closest(to: "cat", in: ["bat", "cap", "hat"]), "bat")
        XCTAssertEqual(TOMLFields.closest(to: "memory_mx", in: ["memory_max", "memory_min", "cpu"]), "memory_max")
        XCTAssertNil(TOMLFields.closest(to: "abcdef", in: ["uvwxyz"]))
        XCTAssertEqual(Suggestion.editDistance(Array("kitten".unicodeScalars), Array("sitting".unicodeScalars), limit: 5), 3)
        XCTAssertEqual(Suggestion.editDistance(Array("".unicodeScalars), Array("ab".unicodeScalars), limit: 5), 2)
        XCTAssertEqual(Suggestion.editDistance(Array("ab".unicodeScalars), Array("".unicodeScalars), limit: 5), 2)
        XCTAssertEqual(Suggestion.editDistance(Array("aaaaaaaa".unicodeScalars), Array("bbbbbbbb".unicodeScalars), limit: 2), 3)
    }

    func testCustomErrors() throws {
        let f = try fields()
        XCTAssertEqual(f.error("uid", "must be at least 65536").description, "t.toml:2:7: uid: must be at least 65536")
        let limits = try XCTUnwrap(try f.table("limits"))
        XCTAssertEqual(limits.error("memory_max", "bad size").description, "t.toml:7:14: limits.memory_max: bad size")
        // A key that is absent is reported at its table.
        XCTAssertEqual(limits.error("cpu", "required with memory_max").description,
                       "t.toml:6:1: limits.cpu: required with memory_max")
    }

    func testQuotedKeysInPaths() throws {
        let f = TOMLFields(try TOML.parse("[\"a.b\"]\n\"my key\" = 1", file: "q.toml"), file: "q.toml")
        let sub = try XCTUnwrap(try f.table("a.b"))
        XCTAssertEqual(sub.path, "\"a.b\"")
        assertFieldError(try sub.string("my key"), "q.toml:2:12: \"a.b\".\"my key\": expected a string, found integer")
    }
}
