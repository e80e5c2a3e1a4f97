import Glibc
import XCTest

// Helpers for PitPersonaTests: running processes, scratch directories, a throwaway network
// namespace per test, and a small JSON reader (no Foundation in this project).

struct Captured {
    var status: Int32  // exit code, or 128+signal
    var stdout: String
    var stderr: String
}

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

enum Process {
    /// posix_spawn with stdout/stderr captured; PATH is fixed so `ip`, `unshare` and `testparm` resolve.
    static func run(_ argv: [String]) -> Captured {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        pipe(&outPipe)
        pipe(&errPipe)
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), strdup("LC_ALL=C"), nil]
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, env)
        posix_spawn_file_actions_destroy(&actions)
        close(outPipe[1]); close(errPipe[1])
        cArgs.forEach { free($0) }; env.forEach { free($0) }
        if rc != 0 {
            close(outPipe[0]); close(errPipe[0])
            return Captured(status: 127, stdout: "", stderr: "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))")
        }
        let (out, err) = drain(outPipe[0], errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Captured(status: code, stdout: out, stderr: err)
    }

    private static func drain(_ a: Int32, _ b: Int32) -> (String, String) {
        var outputs: [Int32: [UInt8]] = [a: [], b: []]
        var open = [a, b]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; break }
            for p in fds where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, 65536) }
                if n > 0 { outputs[p.fd]!.append(contentsOf: buffer[0..<n]) } else { close(p.fd); open.removeAll { $0 == p.fd } }
            }
        }
        return (String(decoding: outputs[a]!, as: UTF8.self), String(decoding: outputs[b]!, as: UTF8.self))
    }
}

/// A fresh directory under /tmp, removed (recursively) by `remove()`.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/pit-persona-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp: \(String(cString: strerror(errno)))")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @discardableResult
    func write(_ relative: String, _ text: String) -> String {
        let full = path + "/" + relative
        if let slash = full.lastIndex(of: "/") { makeDirectory(String(full[..<slash])) }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "open \(full): \(String(cString: strerror(errno)))")
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return full
    }

    @discardableResult
    func makeDirectory(_ relative: String) -> String {
        let full = relative.hasPrefix("/") ? relative : path + "/" + relative
        var built = ""
        for part in full.split(separator: "/") {
            built += "/" + part
            _ = mkdir(built, 0o755)
        }
        return full
    }

    func remove() { _ = Process.run(["rm", "-rf", "--one-file-system", path]) }
}

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
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
