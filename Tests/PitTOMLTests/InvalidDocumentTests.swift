import XCTest
@testable import PitTOML

/// Every rejection path, with the exact position reported.
final class InvalidDocumentTests: XCTestCase {
    func testDuplicateKeys() {
        assertTOMLError("a = 1\nb = 2\na = 3", 3, 1, "duplicate key 'a' (first defined at 1:5)")
        assertTOMLError("a.b = 1\na.b = 2", 2, 3, "duplicate key 'a.b'")
        assertTOMLError("t = { x = 1, x = 2 }", 1, 14, "duplicate key 'x'")
        assertTOMLError("\"a\" = 1\na = 2", 2, 1, "duplicate key 'a'")
        assertTOMLError("'a b' = 1\n\"a b\" = 2", 2, 1, "duplicate key '\"a b\"'")
        assertTOMLError("[a.b]\n[a]\nb = 1", 3, 1, "duplicate key 'b'")
    }

    func testRedefiningTables() {
        assertTOMLError("[a]\nb = 1\n[a]", 3, 1, "table 'a' is already defined")
        assertTOMLError("[a.b]\n[a]\n[a]", 3, 1, "table 'a' is already defined")
        assertTOMLError("[a]\n[a.b]\n[ a . b ]", 3, 1, "table 'a.b' is already defined")
        assertTOMLError("a.b = 1\n[a]", 2, 1, "table 'a' is already defined by dotted keys")
        assertTOMLError("[a]\nb.c = 1\n[a.b]", 3, 1, "table 'a.b' is already defined by dotted keys")
        assertTOMLError("[[a]]\n[a]", 2, 1, "cannot define table 'a': it is already defined as an array of tables")
        assertTOMLError("[a]\n[[a]]", 2, 1, "cannot define array of tables 'a': it is already defined as a table")
    }

    func testKeyVersusTable() {
        assertTOMLError("a = 1\n[a]", 2, 1, "cannot define table 'a': key is already defined as an integer")
        assertTOMLError("a = 1\n[a.b]", 2, 2, "key 'a' is already defined as an integer")
        assertTOMLError("[a]\nb = 'x'\n[a.b]", 3, 1, "cannot define table 'a.b': key is already defined as a string")
        assertTOMLError("a = 1\na.b = 2", 2, 1, "key 'a' is already defined as an integer")
        assertTOMLError("[a.b]\nx = 1\n[a]\nb.y = 2", 4, 1, "cannot add keys to table 'b' with dotted keys")
        assertTOMLError("[a]\nb = 1\nb.c = 2", 3, 1, "key 'b' is already defined as an integer")
        assertTOMLError("[[a]]\n[b]\n[c]\n[x]\na.y = 1\n[a.b]\nz = 1\n[a]", 8, 1, "array of tables")
    }

    func testInlineTablesAreClosed() {
        assertTOMLError("a = {b = 1}\n[a]", 2, 1, "already defined as an inline table")
        assertTOMLError("a = {b = 1}\na.c = 2", 2, 1, "key 'a' is already defined as an inline table")
        assertTOMLError("a = {b = 1}\n[a.c]", 2, 2, "key 'a' is already defined as an inline table")
        assertTOMLError("a = {b = {c = 1}, b.d = 2}", 1, 19, "key 'b' is already defined as an inline table")
    }

    func testAppendingToStaticArray() {
        assertTOMLError("a = [1]\n[[a]]", 2, 1, "cannot append to static array 'a'")
        assertTOMLError("a = []\n[[a]]", 2, 1, "cannot append to static array 'a'")
        assertTOMLError("a = [{b = 1}]\n[[a]]", 2, 1, "cannot append to static array 'a'")
        assertTOMLError("a = 'x'\n[[a]]", 2, 1, "cannot define array of tables 'a': key is already defined as a string")
    }

    func testInvalidEscapes() {
        assertTOMLError(#"s = "a\qb""#, 1, 7, #"invalid escape sequence '\q'"#)
        assertTOMLError(#"s = "\e""#, 1, 6, #"invalid escape sequence '\e'"#)
        assertTOMLError(#"s = "\x41""#, 1, 6, #"invalid escape sequence '\x'"#)
        assertTOMLError(#"s = "\u12""#, 1, 6, "expected 4 hex digits")
        assertTOMLError(#"s = "\U0001F60""#, 1, 6, "expected 8 hex digits")
        assertTOMLError(#"s = "\uD800""#, 1, 6, "U+D800 is not a unicode scalar value")
        assertTOMLError(#"s = "\U00110000""#, 1, 6, "U+110000 is not a unicode scalar value")
        assertTOMLError(#"s = "a\ b""#, 1, 7, "a backslash must be followed by an escape character")
        assertTOMLError("s = \"\"\"a\\ b\"\"\"", 1, 9, "line-ending backslash")
        assertTOMLError("s = \"\"\"a\\q\"\"\"", 1, 9, #"invalid escape sequence '\q'"#)
        assertTOMLError("k\\n = 1", 1, 2, "invalid character '\\' in bare key")
    }

    func testControlCharacters() {
        assertTOMLError("s = \"a\u{01}b\"", 1, 7, "control character U+0001 is not allowed in a string")
        assertTOMLError("s = 'a\u{7F}'", 1, 7, "control character U+007F is not allowed in a string")
        assertTOMLError("s = \"\"\"a\u{0}\"\"\"", 1, 9, "control character U+0000")
        assertTOMLError("s = '''\n\u{1B}'''", 2, 1, "control character U+001B")
        assertTOMLError("s = \"\"\"a\rb\"\"\"", 1, 9, "control character U+000D")
        assertTOMLError("s = 'a\rb'", 1, 7, "control character U+000D")
        assertTOMLError("# a\u{01}", 1, 4, "control character U+0001 is not allowed in a comment")
        assertTOMLError("a = 1 # x\u{7F}", 1, 10, "not allowed in a comment")
        assertTOMLError("a = 1\rb = 2", 1, 6, "found a carriage return")
    }

    func testBadKeys() {
        assertTOMLError("a$b = 1", 1, 2, "invalid character '$' in bare key")
        assertTOMLError("ké = 1", 1, 2, "invalid character 'é' in bare key")
        assertTOMLError("[a!]", 1, 3, "invalid character '!' in bare key")
        assertTOMLError("= 1", 1, 1, "expected a key, found '='")
        assertTOMLError("a. = 1", 1, 4, "expected a key, found '='")
        assertTOMLError(".a = 1", 1, 1, "expected a key, found '.'")
        assertTOMLError("\"\"\"a\"\"\" = 1", 1, 1, "multi-line strings cannot be used as keys")
        assertTOMLError("\"a\nb\" = 1", 1, 1, "unterminated string")
        assertTOMLError("[]", 1, 2, "expected a key, found ']'")
        assertTOMLError("[ [a] ]", 1, 3, "expected a key, found '['")
    }

    func testMissingEquals() {
        assertTOMLError("a 1", 1, 3, "expected '=' after key 'a', found '1'")
        assertTOMLError("a", 1, 2, "expected '=' after key 'a', found end of file")
        assertTOMLError("a\nb = 1", 1, 2, "found end of line")
        assertTOMLError("a.b 1", 1, 5, "expected '=' after key 'a.b'")
        assertTOMLError("a: 1", 1, 2, "invalid character ':' in bare key")
        assertTOMLError("t = { a 1 }", 1, 9, "expected '=' after key 'a'")
    }

    func testTrailingGarbage() {
        assertTOMLError("a = 1 2", 1, 7, "expected end of line after value, found '2'")
        assertTOMLError("a = \"x\" y", 1, 9, "found 'y'")
        assertTOMLError("a = \"x\"y", 1, 8, "found 'y'")
        assertTOMLError("a = true false", 1, 10, "found 'f'")
        assertTOMLError("a = [1] ]", 1, 9, "found ']'")
        assertTOMLError("a = 1,", 1, 6, "found ','")
        assertTOMLError("a = \"\"\"x\"\"\"\"\"\"", 1, 14, "found '\"'")
        assertTOMLError("[t] x = 1", 1, 5, "expected end of line after table header, found 'x'")
        assertTOMLError("[a]]", 1, 4, "after table header")
        assertTOMLError("a = {} {}", 1, 8, "found '{'")
    }

    func testUnterminated() {
        assertTOMLError("a = \"abc", 1, 5, "unterminated string")
        assertTOMLError("a = \"abc\nb = 1", 1, 5, "unterminated string")
        assertTOMLError("a = 'abc\r\n", 1, 5, "unterminated string")
        assertTOMLError("a = \"abc\\", 1, 9, "unterminated string")
        assertTOMLError("x = 1\na = \"\"\"abc\n\"\"", 2, 5, "unterminated multi-line string")
        assertTOMLError("a = '''abc\n''", 1, 5, "unterminated multi-line string")
        assertTOMLError("a = [1, 2", 1, 5, "unterminated array")
        assertTOMLError("a = [1,\n2,\n# c\n", 1, 5, "unterminated array")
        assertTOMLError("a = { b = 1", 1, 5, "unterminated inline table")
        assertTOMLError("a = { b = ", 1, 11, "expected a value, found end of file")
        assertTOMLError("[a", 1, 3, "expected ']' to close table header, found end of file")
        assertTOMLError("[[a]", 1, 5, "expected ']]' to close table header")
        assertTOMLError("[[a] ]", 1, 5, "expected ']]' to close table header")
    }

    func testInlineTableLayout() {
        assertTOMLError("a = { b = 1,\n c = 2 }", 1, 13, "newlines are not allowed inside an inline table")
        assertTOMLError("a = {\n}", 1, 6, "newlines are not allowed inside an inline table")
        assertTOMLError("a = { b = 1\r\n}", 1, 12, "newlines are not allowed inside an inline table")
        assertTOMLError("a = { b = 1 # c\n}", 1, 13, "comments are not allowed inside an inline table")
        assertTOMLError("a = { b = 1, }", 1, 14, "trailing comma is not allowed in an inline table")
        assertTOMLError("a = { b = 1 c = 2 }", 1, 13, "expected ',' or '}' in inline table, found 'c'")
        assertTOMLError("a = {,}", 1, 6, "expected a key, found ','")
    }

    func testBadNumbers() {
        assertTOMLError("a = 01", 1, 5, "leading zeros are not allowed")
        assertTOMLError("a = +01", 1, 5, "leading zeros are not allowed")
        assertTOMLError("a = 00.5", 1, 5, "leading zeros are not allowed")
        assertTOMLError("a = 0_1", 1, 5, "leading zeros are not allowed")
        assertTOMLError("a = 9223372036854775808", 1, 5, "integer does not fit in 64 bits")
        assertTOMLError("a = -9223372036854775809", 1, 5, "integer does not fit in 64 bits")
        assertTOMLError("a = 0x8000000000000000", 1, 5, "integer does not fit in 64 bits")
        assertTOMLError("a = 0b1111111111111111111111111111111111111111111111111111111111111111", 1, 5, "64 bits")
        assertTOMLError("a = 0xG", 1, 5, "invalid digit 'G' for base 16")
        assertTOMLError("a = 0b102", 1, 5, "invalid digit '2' for base 2")
        assertTOMLError("a = 0o8", 1, 5, "invalid digit '8' for base 8")
        assertTOMLError("a = 0x", 1, 5, "expected digits after the prefix")
        assertTOMLError("a = +0x1", 1, 5, "a sign is not allowed")
        assertTOMLError("a = 0X1F", 1, 5, "unexpected character 'X'")
        assertTOMLError("a = 1__0", 1, 5, "an underscore must be between two digits")
        assertTOMLError("a = 1_", 1, 5, "an underscore must be between two digits")
        assertTOMLError("a = 0x_1", 1, 5, "an underscore must be between two digits")
        assertTOMLError("a = _1", 1, 5, "invalid value '_1'")
        assertTOMLError("a = 1.", 1, 5, "expected digits after the decimal point")
        assertTOMLError("a = 1._5", 1, 5, "expected digits after the decimal point")
        assertTOMLError("a = .5", 1, 5, "invalid value '.5'")
        assertTOMLError("a = 1e", 1, 5, "expected digits in the exponent")
        assertTOMLError("a = 1.5e+", 1, 5, "expected digits in the exponent")
        assertTOMLError("a = 1e400", 1, 5, "float is out of range")
        assertTOMLError("a = 1.2.3", 1, 5, "unexpected character '.'")
        assertTOMLError("a = -", 1, 5, "expected digits")
        assertTOMLError("a = infinity", 1, 5, "invalid value 'infinity'")
        assertTOMLError("a = NaN", 1, 5, "invalid value 'NaN'")
    }

    func testBadDateTimes() {
        assertTOMLError("a = 1979-13-01", 1, 5, "month must be 01 to 12")
        assertTOMLError("a = 1979-00-01", 1, 5, "month must be 01 to 12")
        assertTOMLError("a = 1979-02-29", 1, 5, "day is out of range for the month")
        assertTOMLError("a = 1900-02-29", 1, 5, "day is out of range for the month")
        assertTOMLError("a = 1979-04-31", 1, 5, "day is out of range")
        assertTOMLError("a = 1979-5-27", 1, 5, "invalid number")
        assertTOMLError("a = 24:00:00", 1, 5, "hour must be 00 to 23")
        assertTOMLError("a = 07:60:00", 1, 5, "minute must be 00 to 59")
        assertTOMLError("a = 07:32:61", 1, 5, "second must be 00 to 60")
        assertTOMLError("a = 07:32", 1, 5, "expected a time as HH:MM:SS")
        assertTOMLError("a = 07:32:00Z", 1, 5, "unexpected text after the time")
        assertTOMLError("a = 1979-05-27T07:32:00+25:00", 1, 5, "time offset is out of range")
        assertTOMLError("a = 1979-05-27T07:32:00+0700", 1, 5, "expected a time offset as +HH:MM")
        assertTOMLError("a = 1979-05-27X07:32:00", 1, 5, "expected 'T' or a space")
        assertTOMLError("a = 1979-05-27T07:32:00.", 1, 5, "expected digits after the decimal point")
        assertTOMLError("a = 1979-05-27T07:32:00Zx", 1, 5, "unexpected text after the offset")
        assertTOMLError("a = 1979-05-27 07:32", 1, 5, "expected a time as HH:MM:SS")
        assertTOMLError("a = 1979-05-27  07:32:00", 1, 17, "expected end of line after value")
    }

    func testBadValues() {
        assertTOMLError("a = ", 1, 5, "expected a value, found end of file")
        assertTOMLError("a = \nb = 1", 1, 5, "expected a value, found end of line")
        assertTOMLError("a = # c", 1, 5, "expected a value, found '#'")
        assertTOMLError("a = hello", 1, 5, "invalid value 'hello' (strings must be quoted)")
        assertTOMLError("a = tru", 1, 5, "invalid value 'tru'")
        assertTOMLError("a = TRUE", 1, 5, "invalid value 'TRUE'")
        assertTOMLError("a = @", 1, 5, "expected a value, found '@'")
        assertTOMLError("a = [1 2]", 1, 8, "expected ',' or ']' after array element, found '2'")
        assertTOMLError("a = [,]", 1, 6, "expected a value, found ','")
        assertTOMLError("a = [1,,2]", 1, 8, "expected a value, found ','")
    }

    func testPositionsWithCRLFAndByteOrderMark() {
        assertTOMLError("a = 1\r\nb = \r\n", 2, 5, "expected a value, found end of line")
        assertTOMLError("a = 1\r\n\r\n  [t]\r\n  x = 1 2\r\n", 4, 9, "found '2'")
        assertTOMLError("\u{FEFF}a = ", 1, 5, "expected a value, found end of file")
        assertTOMLError("s = \"é€😀\" x", 1, 11, "found 'x'")
        assertTOMLError("a = 1 é", 1, 7, "found 'é'")
    }

    func testNestingIsLimited() {
        let arrays = "a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        assertTOMLError(arrays, 1, 69, "values are nested too deeply (limit 64)")
        let inline = "a = " + String(repeating: "{b = ", count: 100) + "1" + String(repeating: "}", count: 100)
        assertTOMLError(inline, 1, 325, "nested too deeply")
        let dotted = Array(repeating: "a", count: 100).joined(separator: ".") + " = 1"
        assertTOMLError(dotted, 1, 129, "tables are nested too deeply (limit 64)")
        let header = "[" + Array(repeating: "a", count: 100).joined(separator: ".") + "]"
        assertTOMLError(header, 1, 130, "tables are nested too deeply (limit 64)")
        // Exactly at the limit is fine.
        let deepest = "a = " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try TOML.parse(deepest, file: "ok.toml"))
        XCTAssertNoThrow(try TOML.parse(Array(repeating: "a", count: 63).joined(separator: ".") + " = 1", file: "ok"))
    }
}
