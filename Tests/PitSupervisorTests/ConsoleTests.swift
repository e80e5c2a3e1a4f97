import func PitProcess.monotonicMilliseconds
import PitTestSupport
import CPitShim
import PitSupervisor
import Glibc
import XCTest

/// The serial console as the supervisor serves it, over a real pseudo-terminal pair: the supervisor opens the
/// slave by path like a tty; the test types on the master as a technician would.
final class SupervisorConsoleTests: XCTestCase {
    var master: Int32 = -1
    var slavePath = ""

    override func setUp() {
        var slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        XCTAssertEqual(pit_tty_openpty(&master, &slave, &name, 128), 0)
        slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        close(slave)   // the supervisor opens it by path
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    override func tearDown() { if master >= 0 { close(master) } }

    func type(_ text: String) { _ = text.withCString { write(master, $0, strlen($0)) } }

    /// Everything the console printed until `needle` shows up (or the time runs out).
    func readUntil(_ needle: String, seconds: Double = 5) -> String {
        var seen = ""
        _ = waitUntil(seconds) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                seen += String(decoding: buffer[0..<n], as: UTF8.self)
            }
            return seen.contains(needle)
        }
        return seen
    }

    func harness(pin: String = "4321", top: String = "", script: String = "exec sleep 1000",
                 in h: SupervisorHarness = SupervisorHarness()) -> SupervisorHarness {
        h.writeJail("svc", script)
        h.writeConfig("""
            [console]
            tty = "\(slavePath)"
            baud = 115200
            pin = "\(pin)"
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            stop_grace_s = 1
            """, top: top, watchdogTimeout: 2)
        return h
    }

    func test_consoleAnswersStatusJailsAndJSON() {
        let h = harness()
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        XCTAssertTrue(readUntil("for commands.").contains("Pit console on"), h.log)
        type("jails\r")
        let jails = readUntil("svc")
        XCTAssertTrue(jails.contains("running"))
        XCTAssertFalse(jails.lowercased().contains("console on"), "greeted twice: \(jails)")
        type("status\n")
        let version = Process.run([Pit.executable, "--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(readUntil("uptime").contains("pit \(version), uptime"), "the console's status says the version")
        type("json watchdog\n")
        XCTAssertTrue(readUntil("\"problems\"").contains("\"problems\":[]"), "problems is a list, as in json status")
        type("json status\r\n")
        let json = readUntil("\"safe_mode\"")
        XCTAssertTrue(json.contains("{\"config\""), json)
        type("watchdog\n")
        XCTAssertTrue(readUntil("health").contains("healthy"))
        _ = h.stop()
    }

    /// `logs NAME` shows the jail's last lines with what could drive the technician's terminal escaped.
    func test_logsShowsAJailsLinesEscaped() {
        let h = harness(script: "echo hello; printf 'bad\\033]0;title\\007end\\n'; exec sleep 1000")
        h.start()
        XCTAssertTrue(waitUntil(5) { h.request("logs svc").contains("end") }, h.log)
        _ = readUntil("for commands.")
        type("logs svc\r")
        let shown = readUntil("end")
        XCTAssertTrue(shown.contains("hello\r\nbad\\x1b]0;title\\x07end"), shown)
        type("logs nosuch\r")
        XCTAssertTrue(readUntil("no jail named").contains("no jail named 'nosuch'"))
        _ = h.stop()
    }

    func test_changingCommandsNeedThePinAndRestartWorksWithIt() {
        let h = harness()
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        let before = h.jail("svc")?.pid
        _ = readUntil("for commands.")
        type("restart svc\r")
        let refused = readUntil("PIN", seconds: 3)
        XCTAssertTrue(refused.lowercased().contains("pin"), refused)
        XCTAssertEqual(h.jail("svc")?.pid, before)
        type("pin 4321\r")
        _ = readUntil("unlock", seconds: 3)
        type("restart svc\r")
        _ = readUntil("restart", seconds: 3)
        XCTAssertTrue(waitUntil(6) { h.jail("svc")?.state == "running" && h.jail("svc")?.pid != before }, h.log)
        _ = h.stop()
    }

    func test_garbageAndFloodOnTheLineNeverDelayTheWatchdogFeed() {
        let h = harness()
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("svc")?.state == "running" }, h.log)
        // 3 s of binary garbage and long command floods, written as fast as the pty takes them; the test
        // reads nothing back, so the console's output buffer fills and drops too.
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        let end = monotonicMilliseconds() + 3000
        var written = 0
        while monotonicMilliseconds() < end {
            var chunk = [UInt8](repeating: 0, count: 4096)
            for i in chunk.indices {
                random = random &* 6364136223846793005 &+ 1442695040888963407
                chunk[i] = i % 3 == 0 ? UInt8(truncatingIfNeeded: random >> 33) : Array("status\r\njails\n".utf8)[i % 14]
            }
            let n = write(master, chunk, chunk.count)
            if n > 0 { written += n } else { usleep(1000) }
        }
        usleep(1_500_000)
        let feeds = h.feeds()
        let gaps = zip(feeds.dropFirst(), feeds).map { $0 - $1 }
        XCTAssertGreaterThan(written, 100_000, "the flood was not delivered")
        XCTAssertGreaterThanOrEqual(feeds.count, 4, h.log)
        XCTAssertLessThan(gaps.max() ?? 99, 1.5, "feed interval 1 s: \(gaps)")
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "healthy")
        // And the console still answers afterwards.
        type("\r\nstatus\r")
        XCTAssertTrue(readUntil("uptime").contains("uptime"))
        _ = h.stop()
    }

    /// `leds test` walks every LED of the board, each lit alone, then the pattern comes back. The LEDs are
    /// LED-class devices: a directory of attribute files bind-mounted at /sys/class/leds (on a tmpfs over
    /// /sys/class: this machine has no LED class) in the supervisor's own mount namespace, so the real sysfs is never touched and the test reads the files
    /// the supervisor writes.
    func test_ledsTestLightsEachLedAloneThenRestoresThePattern() {
        let h = SupervisorHarness()
        let names = ["status", "alert", "uplink"]
        for name in names {
            h.dir.write("leds/\(name)/max_brightness", "1\n")
            h.dir.write("leds/\(name)/brightness", "0\n")
            h.dir.write("leds/\(name)/trigger", "[none] timer heartbeat\n")
            h.dir.write("leds/\(name)/delay_on", "500\n")
            h.dir.write("leds/\(name)/delay_off", "500\n")
        }
        h.dir.write("board.toml", """
            name = "fake-leds"
            [leds.status]
            led = "status"
            [leds.alert]
            led = "alert"
            [leds.uplink]
            led = "uplink"
            """)
        _ = harness(top: "board = \"board.toml\"", in: h)
        h.start(prefix: ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                         "mount -t tmpfs pit-test /sys/class && mkdir /sys/class/leds && mount --bind \"$0\" /sys/class/leds && exec \"$@\"", h.dir.path + "/leds"])
        XCTAssertTrue(waitUntil(5) { h.statusOrNil()?.leds.pattern == "ok" }, h.log)
        let before = h.statusOrNil()?.leds
        XCTAssertEqual(before?.status, "heartbeat", "the LEDs were not wired: \(h.log)")
        _ = readUntil("for commands.")
        type("leds test\r")
        XCTAssertTrue(readUntil("PIN", seconds: 3).lowercased().contains("pin"))
        XCTAssertEqual(h.statusOrNil()?.leds.pattern, "ok", "the walk started without the PIN")
        type("pin 4321\r")
        _ = readUntil("unlock", seconds: 3)
        type("leds test\r")
        XCTAssertTrue(readUntil("lighting").contains("status, alert, uplink"))
        // Sample the brightness files as the walk goes; each distinct combination is recorded once.
        var seen: [String] = []
        var sawTestPattern = false
        let walked = waitUntil(6) {
            let lit = names.map { (readText(h.dir.path + "/leds/\($0)/brightness") ?? "?").filter { !$0.isWhitespace } }
            let trigger = readText(h.dir.path + "/leds/status/trigger") ?? ""
            let sample = lit.joined()
            if trigger == "none" && seen.last != sample { seen.append(sample) }
            if h.statusOrNil()?.leds.pattern == "test" { sawTestPattern = true }
            return seen.contains("001") && trigger == "heartbeat"
        }
        XCTAssertTrue(walked, "walk: \(seen) \(h.log)")
        XCTAssertTrue(sawTestPattern)
        let alone = seen.filter { ["100", "010", "001"].contains($0) }
        XCTAssertEqual(alone, ["100", "010", "001"], "each LED alone, in order: \(seen)")
        XCTAssertTrue(waitUntil(3) { h.statusOrNil()?.leds.pattern == "ok" })
        XCTAssertEqual(h.statusOrNil()?.leds, before, "the pattern came back")
        XCTAssertEqual(readText(h.dir.path + "/leds/uplink/brightness")?.filter { !$0.isWhitespace },
                       before?.uplink == "on" ? "1" : "0")
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "healthy")
        _ = h.stop()
    }

    /// A USB gadget serial port disappears when the cable is pulled and comes back as the same path. Here the
    /// path is a symlink to a pty: closing the master hangs the tty up, the supervisor drops it and keeps
    /// running (fed), then the link is pointed at a fresh pty and the console greets on it.
    func test_ttyThatDisappearsAndComesBackIsReopened() {
        let h = SupervisorHarness()
        let link = h.dir.path + "/ttyGS0"
        symlink(slavePath, link)
        h.writeJail("svc", "exec sleep 1000")
        h.writeConfig("""
            [console]
            tty = "\(link)"
            baud = 115200
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            stop_grace_s = 1
            """, watchdogTimeout: 2)
        h.start()
        XCTAssertTrue(readUntil("for commands.").contains("Pit console on"), h.log)
        // Pull the cable: the master goes away, the slave reads EIO/hangup.
        close(master)
        master = -1
        unlink(link)
        usleep(2_500_000)   // longer than one reopen delay, while the device is absent
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "healthy", h.log)
        // Plug it back in.
        var slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        XCTAssertEqual(pit_tty_openpty(&master, &slave, &name, 128), 0)
        close(slave)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        symlink(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), link)
        XCTAssertTrue(readUntil("for commands.", seconds: 6).contains("Pit console on"), "no greeting after the tty came back: \(h.log)")
        type("status\r")
        XCTAssertTrue(readUntil("uptime").contains("uptime"))
        let feeds = h.feeds()
        let gaps = zip(feeds.dropFirst(), feeds).map { $0 - $1 }
        XCTAssertLessThan(gaps.max() ?? 99, 1.5, "the feed went on while the tty was away: \(gaps)")
        _ = h.stop()
    }
}
