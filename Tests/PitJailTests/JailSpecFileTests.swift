import Glibc
import PitJail
import XCTest

/// `JailSpecFile.parse` (text, used by the fuzz harness) decodes exactly as `load` (a file) does.
final class JailSpecFileTests: XCTestCase {
    static let samba: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/policies/samba"
    }()

    func test_parsedTextDecodesAsTheLoadedFile() throws {
        for name in ["smbd.toml", "nmbd.toml", "dcerpcd.toml"] {
            let path = Self.samba + "/" + name
            let loaded = try JailSpecFile.load(path)
            var text = ""
            let file = try XCTUnwrap(fopen(path, "r"))
            defer { fclose(file) }
            var buffer = [CChar](repeating: 0, count: 4096)
            while fgets(&buffer, Int32(buffer.count), file) != nil { text += String(cString: buffer) }
            XCTAssertEqual(try JailSpecFile.parse(text, file: path), loaded, name)
        }
    }

    func test_parseErrorNamesTheFileLineAndField() {
        XCTAssertThrowsError(try JailSpecFile.parse("name = \"a\"\nbinds = 3\n", file: "/etc/pit/jails/a.toml")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("/etc/pit/jails/a.toml:2:"), text)
            XCTAssertTrue(text.contains("binds"), text)
        }
    }
}
