// pit_tty_openpty lives in the scratch package's CConsoleShim; merged into the project it is in CPitShim.
#if canImport(CConsoleShim)
import CConsoleShim
#else
import CPitShim
#endif
import FoundationEssentials
import Glibc
import XCTest
@testable import PitConsole

func monotonicMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

func monotonicNs() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A real pseudo-terminal pair. The console opens `slavePath` by name like /dev/ttyGS0; the test plays
/// the technician on `master`.
struct Pty {
    var master: Int32
    let slavePath: String

    static func make(file: StaticString = #filePath, line: UInt = #line) throws -> Pty {
        var master: Int32 = -1, slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard pit_tty_openpty(&master, &slave, &name, name.count) == 0 else {
            throw XCTSkip("openpty failed: errno \(errno)")
        }
        // Only the console should hold the slave, as on a real device.
        close(slave)
        let path = name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return Pty(master: master, slavePath: path)
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            precondition(n > 0, "write to pty master failed: errno \(errno)")
            offset += n
        }
    }

    /// Everything readable from the master within `timeoutMs` (stops early once it goes quiet).
    func readAvailable(timeoutMs: Int32 = 0) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        while poll(&pfd, 1, result.isEmpty ? timeoutMs : 0) > 0 && pfd.revents & Int16(POLLIN) != 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            result += buffer[0..<n]
        }
        return result
    }

    mutating func closeMaster() {
        close(master)
        master = -1
    }
}

/// The supervisor's side, faked: data and action logs. The console logic under test is the real one.
final class FakeSupervisor {
    var jails = [
        ConsoleJail(name: "smbd", state: "running", pid: 101, restarts: 2, violations: 1, required: true,
                    details: [ConsoleField("uptime_s", 3600), ConsoleField("policy", "smbd.policy")]),
        ConsoleJail(name: "sshd", state: "crash-loop", pid: nil, restarts: 5, violations: 0, required: false,
                    lastExit: "signal 11"),
    ]
    var violationLog = (1...30).map { ConsoleEvent(time: "2026-11-29T01:00:\(String(format2: $0))Z", kind: "violation", jail: "smbd", detail: "syscall ptrace #\($0)") }
    var eventLog = (1...30).map { ConsoleEvent(time: "2026-11-29T00:00:\(String(format2: $0))Z", kind: "exit", jail: "sshd", detail: "exit \($0)") }
    var restarted: [String] = []
    var ledTests = 0
    var uplinkTests = 0
    var safeModeClears = 0
    var reboots = 0
    var now: Int64 = 1_000_000

    func context() -> ConsoleContext {
        var c = ConsoleContext(nowMs: now)
        c.status = { [unowned self] in
            ConsoleReport(text: "health: ok\njails: \(self.jails.count)\nsafe mode: no",
                          json: "{\"health\":\"ok\",\n\"jails\":\(self.jails.count),\"safe_mode\":false}")
        }
        c.jails = { [unowned self] in self.jails }
        c.jail = { [unowned self] name in self.jails.first { $0.name == name } }
        c.violations = { [unowned self] n in Array(self.violationLog.suffix(n)) }
        c.events = { [unowned self] n in Array(self.eventLog.suffix(n)) }
        c.watchdog = { [ConsoleField("device", "/dev/watchdog0"), ConsoleField("timeout_s", 30), ConsoleField("health", "ok")] }
        c.leds = { [ConsoleField("pattern", "steady"), ConsoleField("alert", .null)] }
        c.ledsTest = { [unowned self] in self.ledTests += 1; return ConsoleActionResult(ok: true, message: "LED test started") }
        c.persona = { "Synology DS918+ DSM 6.2 (smbd, sshd)" }
        c.uplink = { [ConsoleField("state", "offline"), ConsoleField("queued", 12)] }
        c.uplinkTest = { [unowned self] in self.uplinkTests += 1; return ConsoleActionResult(ok: false, message: "uplink test failed: no route") }
        c.policy = { [unowned self] name in
            self.jails.contains { $0.name == name }
                ? [ConsoleField("file", "\(name).policy"), ConsoleField("allowed_syscalls", 142), ConsoleField("default", "kill")] : nil
        }
        c.restart = { [unowned self] name in self.restarted.append(name); return ConsoleActionResult(ok: true, message: "restarting \(name)") }
        c.clearSafeMode = { [unowned self] in self.safeModeClears += 1; return ConsoleActionResult(ok: true, message: "safe mode cleared") }
        c.reboot = { [unowned self] in self.reboots += 1; return ConsoleActionResult(ok: true, message: "rebooting") }
        return c
    }
}

extension String {
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : String(value) }
}

/// The console as the supervisor would run it: a Console on the pty slave, ConsoleCommands, a fake supervisor.
struct Session {
    var pty: Pty
    var console: Console
    var commands: ConsoleCommands
    let supervisor = FakeSupervisor()

    init(pin: String? = "1234", echo: Bool = true, policy: PinGuard.Policy = PinGuard.Policy()) throws {
        pty = try Pty.make()
        console = try Console.open(path: pty.slavePath, baud: 115200, options: Console.Options(echo: echo))
        commands = ConsoleCommands(pin: pin, policy: policy)
        if echo { _ = exchangeRaw(nil) }   // swallow the banner (none without echo)
    }

    /// One event-loop iteration: read, execute, queue, flush.
    mutating func pump() {
        for request in console.readAvailable(now: supervisor.now) {
            console.queue(commands.execute(request, context: supervisor.context()))
        }
        console.flush()
    }

    /// Types `input` (nil: nothing) and collects output until it ends with the prompt (or 2 s pass).
    mutating func exchangeRaw(_ input: [UInt8]?, until done: (String) -> Bool = { $0.hasSuffix("pit> ") }) -> String {
        if let input { pty.write(input) }
        var collected: [UInt8] = []
        let deadline = monotonicMs() + 2000
        while monotonicMs() < deadline {
            var pfd = pollfd(fd: console.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 5)
            pump()
            collected += pty.readAvailable(timeoutMs: 5)
            let text = String(decoding: collected, as: UTF8.self)
            if !console.hasPendingInput && done(text) { return text }
        }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Sends one command line (ended with CR) and returns the answer lines (echo and prompt removed).
    mutating func ask(_ line: String, ending: String = "\r") -> [String] {
        let text = exchangeRaw(Array((line + ending).utf8))
        var lines = text.crlfLines()
        if !lines.isEmpty { lines.removeFirst() }   // the echo of what was typed
        if lines.last == "pit> " { lines.removeLast() }
        return lines
    }
}

/// Any JSON value, decoded by FoundationEssentials' real parser: proves the console's hand-written JSON parses.
enum JSONAny: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONAny]), object([String: JSONAny])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Double.self) { self = .number(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONAny].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONAny].self)) }
    }

    static func parse(_ text: String) throws -> JSONAny {
        try JSONDecoder().decode(JSONAny.self, from: Data(text.utf8))
    }

    subscript(key: String) -> JSONAny? {
        if case let .object(members) = self { return members[key] }
        return nil
    }
}

extension String {
    /// Splits on CRLF ("\r\n" is one Character in Swift, so this is exact).
    func crlfLines() -> [String] {
        split(separator: "\r\n" as Character, omittingEmptySubsequences: false).map(String.init)
    }
}

/// Deterministic PRNG (SplitMix64) so fuzz and garbage tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
