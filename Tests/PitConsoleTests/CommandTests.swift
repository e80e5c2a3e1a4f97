import Glibc
import XCTest
@testable import PitConsole

/// Every command through a real pty: the technician's bytes go in on the master, the console reads the
/// slave, the real ConsoleCommands answers from fake supervisor data, and the answer comes back out.
final class CommandTests: XCTestCase {
    func testBannerOnOpen() throws {
        let pty = try Pty.make()
        var console = try Console.open(path: pty.slavePath, baud: 115200)
        defer { console.close(); close(pty.master) }
        XCTAssertTrue(console.wantsWrite)
        console.flush()
        let text = String(decoding: pty.readAvailable(timeoutMs: 500), as: UTF8.self)
        XCTAssertTrue(text.contains("Type 'help' for commands."), text)
        XCTAssertTrue(text.hasSuffix("pit> "))
    }

    func testEveryReadOnlyCommandInText() throws {
        var s = try Session()
        defer { s.console.close() }
        let help = s.ask("help")
        XCTAssertTrue(help.contains { $0.contains("restart NAME") })
        XCTAssertTrue(help.contains { $0.contains("pin NNNN") }, "the help text documents the PIN")
        XCTAssertTrue(help.contains { $0.contains("5 wrong PINs lock the console for 10 min") })
        XCTAssertEqual(s.ask("status"), ["health: ok", "jails: 2", "safe mode: no"])
        let jails = s.ask("jails")
        XCTAssertEqual(jails.count, 3)
        XCTAssertTrue(jails[0].hasPrefix("NAME"))
        XCTAssertTrue(jails[1].hasPrefix("smbd  running     101"), jails[1])
        XCTAssertTrue(jails[2].hasPrefix("sshd  crash-loop  -"), jails[2])
        let jail = s.ask("jail sshd")
        XCTAssertTrue(jail.contains("last exit: signal 11"))
        XCTAssertTrue(s.ask("jail smbd").contains("uptime_s: 3600"))
        XCTAssertEqual(s.ask("jail nosuch"), ["error: no jail named 'nosuch' (type 'jails' for the names)"])
        XCTAssertEqual(s.ask("violations").count, 10)
        XCTAssertEqual(s.ask("violations 3"), [
            "2026-11-29T01:00:28Z  violation  smbd  syscall ptrace #28",
            "2026-11-29T01:00:29Z  violation  smbd  syscall ptrace #29",
            "2026-11-29T01:00:30Z  violation  smbd  syscall ptrace #30",
        ])
        XCTAssertEqual(s.ask("events 30").count, 30)
        XCTAssertEqual(s.ask("events 1"), ["2026-11-29T00:00:30Z  exit  sshd  exit 30"])
        XCTAssertEqual(s.ask("watchdog"), ["device: /dev/watchdog0", "timeout_s: 30", "health: ok"])
        XCTAssertEqual(s.ask("leds"), ["pattern: steady", "alert: -"])
        XCTAssertEqual(s.ask("persona"), ["Synology DS918+ DSM 6.2 (smbd, sshd)"])
        XCTAssertEqual(s.ask("uplink"), ["state: offline", "queued: 12"])
        XCTAssertEqual(s.ask("policy smbd"), ["file: smbd.policy", "allowed_syscalls: 142", "default: kill"])
        XCTAssertEqual(s.ask("policy x"), ["error: no policy for 'x' (type 'jails' for the names)"])
        XCTAssertEqual(s.ask("  STATUS  "), ["health: ok", "jails: 2", "safe mode: no"], "case and spaces are forgiven")
        s.supervisor.violationLog = []
        XCTAssertEqual(s.ask("violations"), ["no violations recorded"])
    }

    func testUnknownCommandsAndBadArgumentsGiveOneLineWithHint() throws {
        var s = try Session()
        defer { s.console.close() }
        XCTAssertEqual(s.ask("frobnicate now"), ["error: unknown command 'frobnicate' (type 'help' for the list)"])
        XCTAssertEqual(s.ask("violations 0"), ["error: bad count '0' (use a number from 1 to 100, e.g. violations 20)"])
        XCTAssertEqual(s.ask("events lots"), ["error: bad count 'lots' (use a number from 1 to 100, e.g. events 20)"])
        XCTAssertEqual(s.ask("events 101").count, 1)
        XCTAssertEqual(s.ask("jail"), ["error: usage: jail NAME (type 'help' for all commands)"])
        XCTAssertEqual(s.ask("status now"), ["error: usage: status (type 'help' for all commands)"])
        XCTAssertEqual(s.ask("leds blink"), ["error: usage: leds | leds test (type 'help' for all commands)"])
        XCTAssertEqual(s.ask("safe-mode"), ["error: usage: safe-mode clear [pin NNNN] (type 'help' for all commands)"])
        XCTAssertEqual(s.ask("json"), ["{\"ok\":false,\"command\":\"json\",\"error\":\"json needs a command\",\"hint\":\"e.g. json status\"}"])
    }

    func testJsonPrefixGivesExactlyOneParsableLine() throws {
        var s = try Session()
        defer { s.console.close() }
        let commands = ["help", "status", "jails", "jail smbd", "jail sshd", "violations 5", "events", "watchdog", "leds",
                        "persona", "uplink", "policy smbd", "jail nope", "bogus", "restart smbd", "violations x"]
        for command in commands {
            let lines = s.ask("json " + command)
            XCTAssertEqual(lines.count, 1, "\(command): \(lines)")
            let value = try JSONAny.parse(lines[0])
            guard case .bool = value["ok"] else { return XCTFail("\(command): no ok field in \(lines[0])") }
            XCTAssertNotNil(value["command"])
        }
        let status = try JSONAny.parse(s.ask("json status")[0])
        XCTAssertEqual(status["data"]?["health"], .string("ok"), "the supervisor's JSON is embedded, folded to one line")
        let jails = try JSONAny.parse(s.ask("json jails")[0])
        guard case let .array(list)? = jails["data"] else { return XCTFail("jails data is not an array") }
        XCTAssertEqual(list.count, 2)
        XCTAssertEqual(list[1]["pid"], .null)
        XCTAssertEqual(list[1]["last_exit"], .string("signal 11"))
        let error = try JSONAny.parse(s.ask("json jail nope")[0])
        XCTAssertEqual(error["ok"], .bool(false))
        XCTAssertEqual(error["error"], .string("no jail named 'nope'"))
        XCTAssertEqual(try JSONAny.parse(s.ask("JSON watchdog")[0])["data"]?["timeout_s"], .number(30))
    }

    func testHostileStringsCannotReachTheTerminalAsEscapes() throws {
        var s = try Session()
        defer { s.console.close() }
        s.supervisor.eventLog = [ConsoleEvent(time: "t", kind: "exec", jail: "smbd", detail: "rm -rf \u{1B}]0;pwned\u{7}\u{1B}[2J\nfake prompt\u{9B}")]
        let text = s.exchangeRaw(Array("events 1\r".utf8))
        XCTAssertFalse(text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{9B}" }, text)
        let json = s.ask("json events 1")
        XCTAssertEqual(json.count, 1, "an embedded newline does not split the JSON line")
        XCTAssertFalse(json[0].unicodeScalars.contains { $0.value < 0x20 })
        guard case let .array(events)? = try JSONAny.parse(json[0])["data"] else { return XCTFail() }
        XCTAssertEqual(events[0]["detail"], .string("rm -rf \u{1B}]0;pwned\u{7}\u{1B}[2J\nfake prompt\u{9B}"), "escaped, not lost")
    }

    func testPrivilegedCommandsNeedThePin() throws {
        var s = try Session(pin: "1234")
        defer { s.console.close() }
        XCTAssertEqual(s.ask("reboot"), ["error: 'reboot' needs the PIN (add 'pin NNNN' to the command, or type 'pin NNNN' to unlock for 5 min)"])
        XCTAssertEqual(s.ask("restart smbd"), ["error: 'restart' needs the PIN (add 'pin NNNN' to the command, or type 'pin NNNN' to unlock for 5 min)"])
        XCTAssertEqual(s.supervisor.reboots + s.supervisor.restarted.count, 0)

        // Inline PIN: the echo masks it and no answer repeats it.
        let raw = s.exchangeRaw(Array("restart smbd pin 1234\r".utf8))
        XCTAssertFalse(raw.contains("1234"), raw)
        XCTAssertTrue(raw.contains("restart smbd pin ****"), raw)
        XCTAssertTrue(raw.contains("restarting smbd"))
        XCTAssertEqual(s.supervisor.restarted, ["smbd"])

        // A right PIN unlocks for 5 minutes: no PIN needed meanwhile.
        XCTAssertEqual(s.ask("leds test"), ["LED test started"])
        XCTAssertEqual(s.ask("uplink test"), ["error: uplink test failed: no route"])
        XCTAssertEqual(s.ask("safe-mode clear"), ["safe mode cleared"])
        XCTAssertEqual(s.ask("json reboot"), ["{\"ok\":true,\"command\":\"reboot\",\"data\":{\"message\":\"rebooting\"}}"])
        XCTAssertEqual(s.ask("restart nosuch pin 1234"), ["error: no jail named 'nosuch' (type 'jails' for the names)"])
        XCTAssertEqual([s.supervisor.ledTests, s.supervisor.uplinkTests, s.supervisor.safeModeClears, s.supervisor.reboots], [1, 1, 1, 1])

        s.supervisor.now += 5 * 60_000
        XCTAssertTrue(s.ask("reboot")[0].contains("needs the PIN"), "the unlock window expired")
        s.supervisor.now += 2_000
        let unlock = s.exchangeRaw(Array("pin 1234\r".utf8))
        XCTAssertFalse(unlock.contains("1234"), unlock)
        XCTAssertTrue(unlock.contains("unlocked for 5 min"))
        XCTAssertEqual(s.ask("restart sshd"), ["restarting sshd"])
        XCTAssertEqual(s.ask("lock"), ["locked: privileged commands need the PIN again"])
        XCTAssertTrue(s.ask("restart sshd")[0].contains("needs the PIN"))
        XCTAssertEqual(s.ask("status pin 1234"), ["error: 'status' does not take a PIN (only commands that change the device do; see 'help')"])
        XCTAssertEqual(s.supervisor.restarted, ["smbd", "sshd"])
    }

    func testWrongPinsRateLimitAndLockout() throws {
        var s = try Session(pin: "1234")
        defer { s.console.close() }
        var transcript = ""
        XCTAssertEqual(s.ask("reboot pin 0000"), ["error: wrong PIN (4 attempts left before a 10 min lockout)"])
        // Same millisecond: refused unchecked, even though it is right.
        XCTAssertEqual(s.ask("reboot pin 1234"), ["error: PIN attempts are limited to one per 2 s (try again in 2 s)"])
        XCTAssertEqual(s.supervisor.reboots, 0)
        for (i, guess) in ["1111", "2222", "3333"].enumerated() {
            s.supervisor.now += 2_000
            XCTAssertEqual(s.ask("pin \(guess)"), ["error: wrong PIN (\(3 - i) attempt\(3 - i == 1 ? "" : "s") left before a 10 min lockout)"])
        }
        s.supervisor.now += 2_000
        XCTAssertEqual(s.ask("restart smbd pin 4444"), ["error: wrong PIN; console locked for 10 min (wait, then try again)"])
        s.supervisor.now += 60_000
        transcript += s.exchangeRaw(Array("reboot pin 1234\r".utf8))
        XCTAssertTrue(transcript.contains("error: console locked after 5 wrong PINs (try again in 9 min)"), transcript)
        XCTAssertTrue(s.ask("reboot")[0].contains("console locked"), "locked even without a PIN attempt")
        // The lockout survives the cable being pulled: ConsoleCommands outlives the Console.
        s.console.close()
        s.commands.disconnected()
        s.console = try Console.open(path: s.pty.slavePath, baud: 115200)
        _ = s.exchangeRaw(nil)
        XCTAssertTrue(s.ask("pin 1234")[0].contains("console locked"))
        s.supervisor.now += 9 * 60_000
        XCTAssertEqual(s.ask("reboot pin 1234"), ["rebooting"])
        XCTAssertEqual(s.supervisor.reboots, 1)
        XCTAssertFalse(transcript.contains("1234"))
    }

    func testNoConfiguredPinDisablesPrivilegedCommands() throws {
        var s = try Session(pin: nil)
        defer { s.console.close() }
        XCTAssertEqual(s.ask("reboot pin 1234"), ["error: privileged commands are disabled: no console PIN is configured (set the console PIN in the device config)"])
        XCTAssertEqual(s.ask("reboot"), ["error: privileged commands are disabled: no console PIN is configured (set the console PIN in the device config)"])
        XCTAssertEqual(s.supervisor.reboots, 0)
    }

    func testLineEndingsBackspaceAndErrorsOverThePty() throws {
        var s = try Session()
        defer { s.console.close() }
        XCTAssertEqual(s.ask("persona", ending: "\n"), ["Synology DS918+ DSM 6.2 (smbd, sshd)"])
        XCTAssertEqual(s.ask("persona", ending: "\r\n"), ["Synology DS918+ DSM 6.2 (smbd, sshd)"], "CRLF answers once")
        XCTAssertEqual(s.ask("ledz\u{7F}s"), ["pattern: steady", "alert: -"])
        XCTAssertEqual(s.ask("led\u{8}\u{8}\u{8}uplink"), ["state: offline", "queued: 12"])
        XCTAssertEqual(s.ask("sta\u{1B}[Atus"), ["error: binary input ignored"])
        XCTAssertEqual(s.ask(String(repeating: "x", count: 300)), ["error: line longer than 256 bytes"])
        let cleared = s.exchangeRaw(Array("reboot\u{3}".utf8))
        XCTAssertTrue(cleared.hasSuffix("^C\r\npit> "), cleared)
        XCTAssertEqual(s.ask("status").first, "health: ok")
        // Three commands in one write: three answers, in order.
        let text = s.exchangeRaw(Array("persona\rleds\njails\r\n".utf8))
        XCTAssertTrue(text.hasPrefix("persona\r\nleds\r\njails\r\nSynology DS918+ DSM 6.2 (smbd, sshd)\r\npattern: steady\r\n"), text)
        XCTAssertEqual(text.crlfLines().filter { $0.contains("pit> ") }, ["pit> "], "one prompt, after the last answer")
    }

    func testEchoOffForScripts() throws {
        var s = try Session(echo: false)
        defer { s.console.close() }
        let text = s.exchangeRaw(Array("json persona\r".utf8)) { $0.hasSuffix("\r\n") }
        XCTAssertEqual(text, "{\"ok\":true,\"command\":\"persona\",\"data\":{\"persona\":\"Synology DS918+ DSM 6.2 (smbd, sshd)\"}}\r\n")
    }
}
