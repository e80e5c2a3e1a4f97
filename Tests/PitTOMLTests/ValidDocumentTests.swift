import XCTest
@testable import PitTOML

final class ValidDocumentTests: XCTestCase {
    func testKeysValuesAndPositions() throws {
        let text = """
        # leading comment
        name = "pit"   # trailing comment
        "quoted key" = 'lit'
        bare-key_1 = true
        1234 = false
        "" = "empty key"
        """
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(t.keys, ["name", "quoted key", "bare-key_1", "1234", ""])
        XCTAssertEqual(t.position, pos(1, 1))
        XCTAssertEqual(t["name"], TOMLNode(.string("pit"), at: pos(2, 8)))
        XCTAssertEqual(t["quoted key"], TOMLNode(.string("lit"), at: pos(3, 16)))
        XCTAssertEqual(t["bare-key_1"], TOMLNode(.bool(true), at: pos(4, 14)))
        XCTAssertEqual(t["1234"]?.value, .bool(false))
        XCTAssertEqual(t[""]?.value, .string("empty key"))
        XCTAssertNil(t["missing"])
    }

    func testDottedKeys() throws {
        let text = """
        site."google.com" = true
        fruit . color = "yellow"
        fruit.flavor = "banana"
        3.14159 = "pi"
        """
        XCTAssertEqual(renderParsed(text),
            #"{site={google.com=true},fruit={color="yellow",flavor="banana"},3={14159="pi"}}"#)
        let t = try TOML.parse(text, file: "a.toml")
        // A table created by a dotted key is positioned at its key.
        guard case .table(let fruit)? = t["fruit"]?.value else { return XCTFail("fruit is not a table") }
        XCTAssertEqual(t["fruit"]?.position, pos(2, 1))
        XCTAssertEqual(fruit["color"]?.position, pos(2, 17))
        XCTAssertEqual(fruit["flavor"]?.position, pos(3, 16))
    }

    func testTablesAndSubtables() throws {
        let text = """
        [server]
        host = "h"

        [server.tls]
        cert = "c"

        [a.b.c]
        x = 1
        [a]
        y = 2
        [ dog . "tater.man" ]
        type = "pug"
        """
        XCTAssertEqual(renderParsed(text),
            #"{server={host="h",tls={cert="c"}},a={b={c={x=1}},y=2},dog={tater.man={type="pug"}}}"#)
        let t = try TOML.parse(text, file: "a.toml")
        guard case .table(let server)? = t["server"]?.value,
              case .table(let tls)? = server["tls"]?.value,
              case .table(let a)? = t["a"]?.value,
              case .table(let b)? = a["b"]?.value else { return XCTFail("missing tables") }
        XCTAssertEqual(server.position, pos(1, 1))
        XCTAssertEqual(t["server"]?.position, pos(1, 1))
        XCTAssertEqual(tls.position, pos(4, 1))
        // [a] defined after [a.b.c]: the table is positioned at its own header.
        XCTAssertEqual(a.position, pos(9, 1))
        // a.b was only implied by [a.b.c].
        XCTAssertEqual(b.position, pos(7, 1))
    }

    func testArrayOfTables() throws {
        let text = """
        [[jails]]
        name = "web"
        [jails.limits]
        cpu = 2

        [[jails]]
        name = "db"
        [[jails.mounts]]
        src = "/a"
        [[jails.mounts]]
        src = "/b"
        """
        XCTAssertEqual(renderParsed(text),
            #"{jails=[{name="web",limits={cpu=2}},{name="db",mounts=[{src="/a"},{src="/b"}]}]}"#)
        let t = try TOML.parse(text, file: "a.toml")
        guard case .array(let jails)? = t["jails"]?.value else { return XCTFail() }
        XCTAssertEqual(t["jails"]?.position, pos(1, 1))
        XCTAssertEqual(jails.map(\.position), [pos(1, 1), pos(6, 1)])
        guard case .table(let db) = jails[1].value, case .array(let mounts)? = db["mounts"]?.value else { return XCTFail() }
        XCTAssertEqual(mounts.map(\.position), [pos(8, 1), pos(10, 1)])
    }

    func testInlineTables() throws {
        let text = """
        point = { x = 1, y = -2 }
        empty = {}
        nested = { a = { b = "c" }, d.e = 1, d.f = [1, { g = true }] }
        """
        XCTAssertEqual(renderParsed(text),
            #"{point={x=1,y=-2},empty={},nested={a={b="c"},d={e=1,f=[1,{g=true}]}}}"#)
        let t = try TOML.parse(text, file: "a.toml")
        guard case .table(let point)? = t["point"]?.value else { return XCTFail() }
        XCTAssertEqual(point.position, pos(1, 9))
        XCTAssertEqual(point["y"]?.position, pos(1, 22))
    }

    func testBasicStringEscapes() throws {
        let text = #"s = "b\b t\t n\n f\f r\r q\" bs\\ u\u00E9 U\U0001F600 end""#
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(t["s"]?.value, .string("b\u{8} t\t n\n f\u{C} r\r q\" bs\\ u\u{E9} U\u{1F600} end"))
    }

    func testLiteralStrings() throws {
        let t = try TOML.parse(#"path = 'C:\Users\nodejs\templates'"# + "\n" + #"re = '<\i\c*\s*>'"#, file: "a.toml")
        XCTAssertEqual(t["path"]?.value, .string(#"C:\Users\nodejs\templates"#))
        XCTAssertEqual(t["re"]?.value, .string(#"<\i\c*\s*>"#))
    }

    func testMultilineBasicStrings() throws {
        let text = "a = \"\"\"\nRoses are red\n\tViolets\"\"\"\n" +
            "b = \"\"\"The quick \\\n\n   brown \\   \n   fox\"\"\"\n" +
            "c = \"\"\"\"quoted\"\"\"\"\n" +
            "d = \"\"\"two\"\"\"\"\"\n" +
            "e = \"\"\"one \" two \"\" \\\"\"\" end\"\"\"\n" +
            "f = \"\"\"\"\"\"\n"
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(t["a"]?.value, .string("Roses are red\n\tViolets"))
        XCTAssertEqual(t["b"]?.value, .string("The quick brown fox"))
        XCTAssertEqual(t["c"]?.value, .string("\"quoted\""))
        XCTAssertEqual(t["d"]?.value, .string("two\"\""))
        XCTAssertEqual(t["e"]?.value, .string("one \" two \"\" \"\"\" end"))
        XCTAssertEqual(t["f"]?.value, .string(""))
        XCTAssertEqual(t["b"]?.position, pos(4, 5))
        XCTAssertEqual(t["c"]?.position, pos(8, 5))
    }

    func testMultilineLiteralStrings() throws {
        let text = "a = '''\nfirst \\n\n  second'''\nb = ''''quoted'''''\nc = '''I [dw]on't need \\d{2}'''\n"
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(t["a"]?.value, .string("first \\n\n  second"))
        XCTAssertEqual(t["b"]?.value, .string("'quoted''"))
        XCTAssertEqual(t["c"]?.value, .string("I [dw]on't need \\d{2}"))
    }

    func testIntegers() throws {
        let text = """
        a = 99
        b = +17
        c = -17
        d = 0
        e = -0
        f = 1_000_000
        g = 0xDEAD_beef
        h = 0o755
        i = 0b1101_0110
        j = 9223372036854775807
        k = -9223372036854775808
        l = 0x7FFFFFFFFFFFFFFF
        m = 0x0
        """
        let t = try TOML.parse(text, file: "a.toml")
        let expected: [String: Int64] = [
            "a": 99, "b": 17, "c": -17, "d": 0, "e": 0, "f": 1_000_000, "g": 0xDEADBEEF,
            "h": 0o755, "i": 0b1101_0110, "j": .max, "k": .min, "l": .max, "m": 0,
        ]
        XCTAssertEqual(t.keys.count, expected.count)
        for (key, value) in expected {
            XCTAssertEqual(t[key]?.value, .integer(value), key)
        }
    }

    func testFloats() throws {
        let text = """
        a = +1.0
        b = 3.1415
        c = -0.01
        d = 5e+22
        e = 1e06
        f = -2E-2
        g = 6.626e-34
        h = 224_617.445_991_228
        i = inf
        j = +inf
        k = -inf
        l = nan
        m = -nan
        n = 0.0
        o = 0e0
        """
        let t = try TOML.parse(text, file: "a.toml")
        let expected: [String: Double] = [
            "a": 1.0, "b": 3.1415, "c": -0.01, "d": 5e22, "e": 1e6, "f": -2e-2, "g": 6.626e-34,
            "h": 224_617.445_991_228, "i": .infinity, "j": .infinity, "k": -.infinity, "n": 0, "o": 0,
        ]
        for (key, value) in expected {
            XCTAssertEqual(t[key]?.value, .float(value), key)
        }
        for key in ["l", "m"] {
            guard case .float(let v)? = t[key]?.value else { return XCTFail(key) }
            XCTAssertTrue(v.isNaN, key)
        }
        XCTAssertEqual(t["a"]?.value.typeName, "float")
    }

    func testBooleans() throws {
        let t = try TOML.parse("t = true\nf = false", file: "a.toml")
        XCTAssertEqual(t["t"]?.value, .bool(true))
        XCTAssertEqual(t["f"]?.value, .bool(false))
        XCTAssertEqual(t["t"]?.value.typeName, "boolean")
    }

    func testArrays() throws {
        let text = """
        empty = []
        ints = [1, 2, 3,]
        mixed = [ 1, "two", 3.0, [4], { five = 5 }, true, 1979-05-27 ]
        multi = [
          "a",   # comment after element
          # a whole comment line

          "b"
          ,
        ]
        nested = [[1, 2], [[3]], []]
        """
        XCTAssertEqual(renderParsed(text),
            #"{empty=[],ints=[1,2,3],mixed=[1,"two",f:3.0,[4],{five=5},true,dt:1979-05-27],multi=["a","b"],nested=[[1,2],[[3]],[]]}"#)
        let t = try TOML.parse(text, file: "a.toml")
        guard case .array(let multi)? = t["multi"]?.value else { return XCTFail() }
        XCTAssertEqual(t["multi"]?.position, pos(4, 9))
        XCTAssertEqual(multi.map(\.position), [pos(5, 3), pos(8, 3)])
    }

    func testArraysInsideInlineTablesMaySpanLines() throws {
        // Only the inline table itself must stay on one line (TOML 1.0).
        let text = "t = { a = [\n  1, # one\n  2,\n], s = \"\"\"x\ny\"\"\" }\nafter = 1"
        XCTAssertEqual(renderParsed(text), #"{t={a=[1,2],s="x\ny"},after=1}"#)
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(t["after"]?.position, pos(6, 9))
    }

    func testBuildingTablesByHand() {
        var table = TOMLTable()
        table.set("b", TOMLNode(value: .integer(1), position: pos(1, 5)))
        table.set("a", TOMLNode(.bool(true), at: pos(2, 5)))
        table.set("b", TOMLNode(.integer(2), at: pos(3, 5)))
        XCTAssertEqual(table.keys, ["b", "a"])
        XCTAssertEqual(table["b"]?.value, .integer(2))
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table, try TOML.parse("b = 2\na = true", file: "x").withPositionsOf(table))
    }

    func testDateTimes() throws {
        let text = """
        odt1 = 1979-05-27T07:32:00Z
        odt2 = 1979-05-27T00:32:00-07:00
        odt3 = 1979-05-27T00:32:00.999999+07:30
        odt4 = 1979-05-27 07:32:00z
        ldt1 = 1979-05-27T07:32:00
        ldt2 = 1979-05-27t00:32:00.999999
        ld = 2024-02-29
        lt1 = 07:32:00
        lt2 = 00:32:00.999999
        leap = 1990-12-31T23:59:60Z
        """
        let t = try TOML.parse(text, file: "a.toml")
        for key in t.keys {
            guard case .datetime(let raw)? = t[key]?.value else { return XCTFail(key) }
            let line = text.split(separator: "\n").first { $0.hasPrefix(key + " ") }
            XCTAssertEqual(line.map { String($0.split(separator: "=", maxSplits: 1)[1].dropFirst()) }, raw)
        }
        XCTAssertEqual(t["odt4"]?.value, .datetime("1979-05-27 07:32:00z"))
        XCTAssertEqual(t["ld"]?.value.typeName, "datetime")
        XCTAssertEqual(t.keys.count, 10)
    }

    func testCRLFLineEndings() throws {
        let text = "a = 1\r\n[t]\r\nb = \"\"\"x\r\ny\"\"\"\r\nc = [\r\n 1,\r\n 2 ] # c\r\n"
        let t = try TOML.parse(text, file: "a.toml")
        XCTAssertEqual(render(t), #"{a=1,t={b="x\ny",c=[1,2]}}"#)
        guard case .table(let sub)? = t["t"]?.value, case .array(let c)? = sub["c"]?.value else { return XCTFail() }
        XCTAssertEqual(sub.position, pos(2, 1))
        XCTAssertEqual(sub["c"]?.position, pos(5, 5))
        XCTAssertEqual(c.map(\.position), [pos(6, 2), pos(7, 2)])
    }

    func testColumnsCountUnicodeScalars() throws {
        let t = try TOML.parse("\"é€😀\" = 'ü'; x = 1".replacingOccurrences(of: "; ", with: "\n"), file: "a.toml")
        XCTAssertEqual(t["é€😀"]?.position, pos(1, 9))
        XCTAssertEqual(t["x"]?.position, pos(2, 5))
        XCTAssertEqual(t["é€😀"]?.value, .string("ü"))
    }

    func testByteOrderMarkAndEmptyDocuments() throws {
        let t = try TOML.parse("\u{FEFF}a = 1", file: "a.toml")
        XCTAssertEqual(t["a"], TOMLNode(.integer(1), at: pos(1, 5)))
        XCTAssertTrue(try TOML.parse("", file: "a.toml").isEmpty)
        XCTAssertTrue(try TOML.parse("\n# only a comment\n\n   \t\n", file: "a.toml").isEmpty)
    }

    func testTypeNames() {
        let names = [TOMLValue.string(""), .integer(0), .float(0), .bool(true), .datetime("07:00:00"),
                     .array([]), .table(TOMLTable())].map(\.typeName)
        XCTAssertEqual(names, ["string", "integer", "float", "boolean", "datetime", "array", "table"])
    }

    func testErrorDescription() {
        let e = TOMLError(file: "dev.toml", line: 3, column: 7, message: "boom")
        XCTAssertEqual(e.description, "dev.toml:3:7: boom")
    }

    func testDocumentEqualsItself() throws {
        let text = "a = nan\nb = [1, {c = 2}]\n[d]\ne = 1979-05-27"
        XCTAssertEqual(try TOML.parse(text, file: "a"), try TOML.parse(text, file: "b"))
        XCTAssertNotEqual(try TOML.parse("a = 1", file: "a"), try TOML.parse("a  = 1", file: "a"))
    }
}

private extension TOMLTable {
    /// The same keys and values, with positions copied from `other`, so a
    /// parsed table can be compared with one built by hand.
    func withPositionsOf(_ other: TOMLTable) -> TOMLTable {
        var result = TOMLTable(position: other.position)
        for key in keys {
            guard let node = self[key] else { continue }
            result.set(key, TOMLNode(node.value, at: other[key]?.position ?? node.position))
        }
        return result
    }
}
