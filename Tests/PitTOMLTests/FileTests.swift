import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import PitTOML

/// Outside the test class, where `write` is not shadowed by a method.
private func posixWrite(_ fd: Int32, _ bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

final class FileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/pittoml-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        directory = try XCTUnwrap(made)
    }

    override func tearDown() {
        for name in ["good.toml", "bad.toml", "crlf.toml"] { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    func makeFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let written = posixWrite(fd, bytes)
        XCTAssertEqual(written, bytes.count)
        return path
    }

    func testReadsFile() throws {
        let path = try makeFile("good.toml", Array("[jail]\nname = \"web\"\n".utf8))
        let table = try TOML.parse(contentsOf: path)
        XCTAssertEqual(render(table), #"{jail={name="web"}}"#)
        let crlf = try makeFile("crlf.toml", Array("a = 1\r\nb = 'x'\r\n".utf8))
        XCTAssertEqual(try TOML.parse(contentsOf: crlf)["b"], TOMLNode(.string("x"), at: pos(2, 5)))
    }

    func testErrorsNameTheFile() throws {
        let path = try makeFile("bad.toml", Array("a = 1\nb = \n".utf8))
        XCTAssertThrowsError(try TOML.parse(contentsOf: path)) { error in
            XCTAssertEqual((error as? TOMLError)?.description, "\(path):2:5: expected a value, found end of line")
        }
    }

    func testMissingFile() {
        let path = directory + "/absent.toml"
        do {
            _ = try TOML.parse(contentsOf: path)
            XCTFail("read a missing file")
        } catch {
            XCTAssertEqual(error.file, path)
            XCTAssertEqual(error.line, 0)
            XCTAssertEqual(error.message, "cannot open: No such file or directory")
        }
    }

    func testDirectoryIsAnError() {
        do {
            _ = try TOML.parse(contentsOf: directory)
            XCTFail("read a directory")
        } catch {
            XCTAssertEqual(error.line, 0)
            XCTAssertEqual(error.message, "not a regular file (a directory): a config is read from a file only")
        }
    }

    func testInvalidUTF8IsPositioned() throws {
        let path = try makeFile("bad.toml", Array("a = 1\nb = \"x".utf8) + [0xFF] + Array("\"\n".utf8))
        do {
            _ = try TOML.parse(contentsOf: path)
            XCTFail("accepted invalid UTF-8")
        } catch {
            XCTAssertEqual("\(error.line):\(error.column)", "2:7")
            XCTAssertEqual(error.message, "invalid UTF-8")
        }
    }

    func testUTF8Validator() {
        XCTAssertNil(TOML.firstInvalidUTF8(Array("aé€😀".utf8)))
        XCTAssertEqual(TOML.firstInvalidUTF8([0x61, 0xC0, 0x80]), 1)        // overlong
        XCTAssertEqual(TOML.firstInvalidUTF8([0xED, 0xA0, 0x80]), 0)        // surrogate
        XCTAssertEqual(TOML.firstInvalidUTF8([0xF4, 0x90, 0x80, 0x80]), 0)  // past U+10FFFF
        XCTAssertEqual(TOML.firstInvalidUTF8([0x61, 0x62, 0xE2, 0x82]), 2)  // truncated
        XCTAssertEqual(TOML.firstInvalidUTF8([0x80]), 0)                    // stray continuation
    }
}
