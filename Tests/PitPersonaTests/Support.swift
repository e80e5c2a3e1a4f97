import Glibc
import PitTestSupport
import XCTest

// Helpers for PitPersonaTests: a throwaway network namespace per test and a small JSON reader (no
// Foundation in this project); processes and scratch directories come from PitTestSupport.

/// The package root (Tests/PitPersonaTests/Support.swift is two levels down).
let packageRoot: String = {
    var parts = #filePath.split(separator: "/").map(String.init)
    parts.removeLast(3)
    return "/" + parts.joined(separator: "/")
}()

let testsDirectory = packageRoot + "/Tests/PitPersonaTests"

enum Probe {
    /// `persona-probe` is built beside the test bundle (the test target depends on it).
    static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var parts = exe.split(separator: "/").map(String.init)
        while let last = parts.last, !last.hasSuffix(".xctest") && parts.count > 1 { parts.removeLast() }
        parts.removeLast()
        return "/" + parts.joined(separator: "/") + "/persona-probe"
    }
}

func currentHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    _ = gethostname(&buffer, buffer.count - 1)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A named network namespace holding `eth0` (one end of a veth pair whose other end, `peer0`, is
/// up so eth0 gets a carrier and IPv6 link-local). Deleted by `remove()`. The machine's own links
/// are never touched: every `ip` and probe call runs inside it.
final class TestNamespace {
    let name: String

    init() throws {
        guard geteuid() == 0 else { throw XCTSkip("network namespace tests need root") }
        name = "pitpersona-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let add = Process.run(["ip", "netns", "add", name])
        guard add.status == 0 else { throw XCTSkip("cannot create a network namespace (ip netns add): \(add.stderr)") }
        try ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
        try ip("link", "set", "peer0", "up")
    }

    func remove() { _ = Process.run(["ip", "netns", "del", name]) }

    /// Runs `argv` in the namespace, in a fresh UTS namespace too so sethostname stays private.
    func run(_ argv: [String]) -> Captured {
        Process.run(["ip", "netns", "exec", name, "unshare", "--uts", "--"] + argv)
    }

    /// `ip ARGS` in the namespace; fails the setup if it fails.
    @discardableResult
    func ip(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = Process.run(["ip", "-n", name] + args)
        guard result.status == 0 else {
            XCTFail("ip \(args.joined(separator: " ")): \(result.stderr)", file: file, line: line)
            throw XCTSkip("setup failed")
        }
        return result.stdout
    }

    /// `ip -j ARGS` parsed.
    func ipJSON(_ args: String...) throws -> JSONValue {
        let result = Process.run(["ip", "-n", name, "-j"] + args)
        guard result.status == 0 else { throw JSONValue.Failure(message: "ip -j \(args): \(result.stderr)") }
        return try JSONValue.parse(result.stdout)
    }

    /// Applies a persona with the probe; returns its parsed output or the failure.
    func apply(_ personaPath: String, _ extra: [String] = []) -> (Captured, JSONValue?) {
        let result = run([Probe.executable, "apply", personaPath] + extra)
        return (result, result.status == 0 ? try? JSONValue.parse(result.stdout) : nil)
    }
}

/// Parsed JSON, enough for `ip -j` and the probe's output.
indirect enum JSONValue: Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    struct Failure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    subscript(key: String) -> JSONValue? { if case .object(let o) = self { return o[key] } else { return nil } }
    var array: [JSONValue] { if case .array(let a) = self { return a } else { return [] } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    var int: Int? { if case .number(let n) = self { return Int(n) } else { return nil } }

    static func parse(_ text: String) throws -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.offset == parser.bytes.count else { throw Failure(message: "trailing text at \(parser.offset) in \(text)") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0

        mutating func skipSpace() { while offset < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[offset]) { offset += 1 } }

        mutating func value() throws -> JSONValue {
            skipSpace()
            guard offset < bytes.count else { throw Failure(message: "unexpected end of JSON") }
            switch bytes[offset] {
            case UInt8(ascii: "{"):
                offset += 1
                var object: [String: JSONValue] = [:]
                skipSpace()
                if bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(object) }
                while true {
                    skipSpace()
                    guard case .string(let key) = try value() else { throw Failure(message: "object key at \(offset)") }
                    skipSpace()
                    try expect(":")
                    object[key] = try value()
                    skipSpace()
                    if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                    try expect("}")
                    return .object(object)
                }
            case UInt8(ascii: "["):
                offset += 1
                var items: [JSONValue] = []
                skipSpace()
                if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
                    try expect("]")
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                offset += 1
                var out: [UInt8] = []
                while offset < bytes.count, bytes[offset] != UInt8(ascii: "\"") {
                    if bytes[offset] == UInt8(ascii: "\\") {
                        offset += 1
                        switch bytes[offset] {
                        case UInt8(ascii: "n"): out.append(0x0A)
                        case UInt8(ascii: "t"): out.append(0x09)
                        case UInt8(ascii: "r"): out.append(0x0D)
                        case UInt8(ascii: "u"):
                            let hex = String(decoding: bytes[(offset + 1)...(offset + 4)], as: UTF8.self)
                            out.append(contentsOf: Array(String(Character(Unicode.Scalar(UInt32(hex, radix: 16)!) ?? "?")).utf8))
                            offset += 4
                        default: out.append(bytes[offset])
                        }
                    } else {
                        out.append(bytes[offset])
                    }
                    offset += 1
                }
                try expect("\"")
                return .string(String(decoding: out, as: UTF8.self))
            case UInt8(ascii: "t"): offset += 4; return .bool(true)
            case UInt8(ascii: "f"): offset += 5; return .bool(false)
            case UInt8(ascii: "n"): offset += 4; return .null
            default:
                let start = offset
                while offset < bytes.count, "+-0123456789.eE".utf8.contains(bytes[offset]) { offset += 1 }
                guard let n = Double(String(decoding: bytes[start..<offset], as: UTF8.self)) else {
                    throw Failure(message: "bad JSON at \(start)")
                }
                return .number(n)
            }
        }

        mutating func expect(_ c: Character) throws {
            guard offset < bytes.count, bytes[offset] == c.asciiValue! else { throw Failure(message: "expected \(c) at \(offset)") }
            offset += 1
        }
    }
}
