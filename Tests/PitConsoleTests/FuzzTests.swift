import Glibc
import XCTest
@testable import PitConsole

/// Seeded mutation fuzzing of the line discipline and the command layer behind it: deterministic (fixed
/// seed, replays exactly), ≥100k inputs, asserting no crash, bounded memory and well-formed answers.
final class FuzzTests: XCTestCase {
    static let seeds: [String] = [
        "status\r", "json status\r\n", "jails\n", "jail smbd\r", "violations 5\r", "events 100\r", "watchdog\r",
        "leds test pin 8642\r", "uplink test\r", "policy smbd\r", "restart smbd pin 8642\r", "safe-mode clear\r",
        "reboot pin 0000\r", "pin 8642\r", "lock\r", "help\r", "json jail sshd\r", "sta\u{8}tus\r", "x\u{3}jails\r",
        "\u{15}persona\r\n", "json\r", "   \r", "PIN 1\u{7F}8642\r",
    ]

    func testSeededMutationFuzz() {
        var rng = SplitMix64(seed: 20261129)
        let supervisor = FakeSupervisor()
        var commands = ConsoleCommands(pin: "8642")
        var editor = LineEditor(maxLineBytes: 256, echo: true, prompt: "pit> ")
        let interesting: [UInt8] = [0x00, 0x03, 0x08, 0x09, 0x0A, 0x0D, 0x15, 0x1B, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x5C]
        var feedNs: UInt64 = 0, execNs: UInt64 = 0
        var context = supervisor.context()   // built once: the closures read the fake's live state
        let started = monotonicNs()
        var cpu0 = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0)
        var inputs = 0, requests = 0, jsonChecked = 0, maxAnswer = 0, maxPending = 0
        var violations: [String] = []   // plain checks in the hot loop (XCTAssert per call is slow), reported once
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition && violations.count < 20 { violations.append(message()) }
        }
        while inputs < 110_000 {
            var input = Array(Self.seeds[Int.random(in: 0..<Self.seeds.count, using: &rng)].utf8)
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                switch Int.random(in: 0..<7, using: &rng) {
                case 0 where !input.isEmpty: input[Int.random(in: 0..<input.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
                case 1: input.insert(interesting.randomElement(using: &rng)!, at: Int.random(in: 0...input.count, using: &rng))
                case 2 where !input.isEmpty: input.remove(at: Int.random(in: 0..<input.count, using: &rng))
                case 3: input += Array(Self.seeds.randomElement(using: &rng)!.utf8)
                case 4: input += [UInt8](repeating: UInt8.random(in: 0x20...0x7E, using: &rng), count: Int.random(in: 0...300, using: &rng))
                case 5: input.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...input.count, using: &rng))
                default: input = input.reversed()
                }
            }
            inputs += 1
            context.nowMs += Int64.random(in: 0...3_000, using: &rng)
            // Feed in random slices with random per-call caps, like successive readAvailable calls.
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + Int.random(in: 1...64, using: &rng))
                let tf = monotonicNs()
                let out = editor.feed(input[offset..<end], maxRequests: Int.random(in: 1...16, using: &rng))
                offset += out.consumed
                feedNs += monotonicNs() - tf
                maxPending = max(maxPending, editor.pendingLineBytes)
                check(out.echo.withUnsafeBytes { $0.isEmpty || memchr($0.baseAddress!, 0x1B, $0.count) == nil }, "echoed ESC for \(input)")
                for request in out.requests {
                    requests += 1
                    if case let .line(text) = request {
                        check(!text.isEmpty && text.utf8.count <= 256, "bad line length \(text.utf8.count)")
                        check(isPrintableASCII(text), "non-printable reached commands: \(text)")
                    }
                    let te = monotonicNs()
                    let answer = commands.execute(request, context: context)
                    execNs += monotonicNs() - te
                    maxAnswer = max(maxAnswer, answer.utf8.count)
                    check(!answer.isEmpty, "empty answer")
                    if answer.hasPrefix("{") {
                        check(!answer.contains("\n"), "multi-line JSON: \(answer)")
                        if jsonChecked < 5_000 {
                            jsonChecked += 1
                            XCTAssertNoThrow(try JSONAny.parse(answer), answer)
                        }
                    }
                }
            }
        }
        let seconds = Double(monotonicNs() - started) / 1e9
        var cpu1 = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1)
        // The budget is checked on this thread's CPU time: wall time on a shared 2-core builder also
        // counts other processes' work.
        let cpuSeconds = Double(cpu1.tv_sec - cpu0.tv_sec) + Double(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9
        print("fuzz: feed \(feedNs / 1_000_000) ms, execute \(execNs / 1_000_000) ms; \(inputs) inputs, \(requests) requests, \(jsonChecked) JSON answers parsed, longest answer \(maxAnswer) B, \(seconds) s wall, \(cpuSeconds) s CPU; reboots \(supervisor.reboots), restarts \(supervisor.restarted.count)")
        XCTAssertEqual(violations, [])
        XCTAssertLessThanOrEqual(maxPending, 256, "the line never exceeded its bound")
        XCTAssertGreaterThanOrEqual(inputs, 100_000)
        XCTAssertLessThanOrEqual(editor.bufferCapacity, 512, "the line buffer never grew")
        XCTAssertLessThan(maxAnswer, 8_192)
        XCTAssertLessThan(cpuSeconds, 10)
    }

    private func isPrintableASCII(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                if bytes[i] < 0x20 || bytes[i] >= 0x7F { return false }
                i += 1
            }
            return true
        }
    }
}
