import Glibc
import XCTest
@testable import PitBoard

/// A fresh directory under /tmp, removed by the returned cleanup.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/pitboard-test-XXXXXX".utf8CString)
    guard let pointer = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: pointer)
}

func removeTree(_ path: String) {
    // Test trees are shallow and only hold files and directories we made.
    if let dir = opendir(path) {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var info = stat()
            if lstat(child, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
    }
    rmdir(path)
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    precondition(fd >= 0, "open \(path)")
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

func readFile(_ path: String) -> String? {
    try? FileIO.read(path)
}

func listDirectory(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// The package root, from this file's path (Tests/PitBoardTests/Support.swift).
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

func assertBoardError<T>(_ body: @autoclosure () throws -> T, _ expected: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    do {
        let value = try body()
        XCTFail("expected error \(expected), got \(value)", file: file, line: line)
    } catch let error as BoardError {
        XCTAssertEqual(error.description, expected, file: file, line: line)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}
