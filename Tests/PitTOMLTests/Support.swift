import XCTest
@testable import PitTOML

/// Canonical text for a value, ignoring positions, so expected results can
/// be written compactly: strings are JSON-quoted, floats are tagged with
/// "f:", date-times with "dt:", tables keep document order.
func render(_ value: TOMLValue) -> String {
    switch value {
    case .string(let s): return quote(s)
    case .integer(let i): return String(i)
    case .float(let d):
        if d.isNaN { return "f:nan" }
        if d.isInfinite { return d < 0 ? "f:-inf" : "f:inf" }
        return "f:\(d)"
    case .bool(let b): return b ? "true" : "false"
    case .datetime(let s): return "dt:\(s)"
    case .array(let items): return "[" + items.map { render($0.value) }.joined(separator: ",") + "]"
    case .table(let t): return render(t)
    }
}

func render(_ table: TOMLTable) -> String {
    "{" + table.keys.map { key in
        "\(quote(key).dropFirst().dropLast())=\(table[key].map { render($0.value) } ?? "?")"
    }.joined(separator: ",") + "}"
}

func quote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let h = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func pos(_ line: Int, _ column: Int) -> TOMLPosition { TOMLPosition(line: line, column: column) }

/// Parses and returns the canonical rendering, failing the test on error.
func renderParsed(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
    do {
        return render(try TOML.parse(text, file: "t.toml"))
    } catch {
        XCTFail("unexpected error: \(error)", file: file, line: line)
        return nil
    }
}

/// Asserts that parsing fails at exactly `line`:`column` with a message
/// containing `contains`.
func assertTOMLError(_ text: String, _ expectedLine: Int, _ expectedColumn: Int, _ contains: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        let table = try TOML.parse(text, file: "bad.toml")
        XCTFail("expected an error, parsed \(render(table))", file: file, line: line)
    } catch {
        XCTAssertEqual(error.file, "bad.toml", file: file, line: line)
        XCTAssertEqual("\(error.line):\(error.column)", "\(expectedLine):\(expectedColumn)",
                       "position for \(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(contains), "message \"\(error.message)\" lacks \"\(contains)\"",
                      file: file, line: line)
    }
}
