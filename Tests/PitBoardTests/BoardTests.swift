import PitTOML
import XCTest
@testable import PitBoard

final class ShippedBoardTests: XCTestCase {
    let boardDirectory = packageRoot + "/board"

    func load(_ name: String) throws -> Board {
        try Board.load(contentsOf: boardDirectory + "/" + name + ".toml")
    }

    func testEveryShippedBoardParses() throws {
        let files = listDirectory(boardDirectory).filter { $0.hasSuffix(".toml") }
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for file in files {
            do {
                let board = try Board.load(contentsOf: boardDirectory + "/" + file)
                // The file name is the board name, so `--board NAME` finds it.
                XCTAssertEqual(board.name + ".toml", file)
                XCTAssertNotNil(board.watchdog, file)
                XCTAssertNotNil(board.console, file)
                XCTAssertFalse(board.nics.isEmpty, file)
                XCTAssertNotNil(board.leds[.status], file)
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testQemu() throws {
        let board = try load("qemu-x86_64")
        XCTAssertEqual(board.watchdog, WatchdogConfig(device: "/dev/watchdog0", timeoutSeconds: 30, pretimeoutSeconds: 0, nowayout: false))
        XCTAssertEqual(board.leds, [
            .status: .gpio(chip: "gpio-sim.0-node0", line: 0, activeLow: false),
            .alert: .gpio(chip: "gpio-sim.0-node0", line: 1, activeLow: false),
            .uplink: .gpio(chip: "gpio-sim.0-node0", line: 2, activeLow: false),
        ])
        XCTAssertEqual(board.console, ConsoleConfig(tty: "/dev/hvc0", baud: 38400))
        XCTAssertEqual(board.nics, ["eth0"])
    }

    func testRaspberryPi4() throws {
        let board = try load("raspberrypi4")
        XCTAssertEqual(board.watchdog, WatchdogConfig(device: "/dev/watchdog0", timeoutSeconds: 15, pretimeoutSeconds: 0, nowayout: true))
        XCTAssertEqual(board.leds, [.status: .ledClass(names: ["ACT", "led0"]), .alert: .ledClass(names: ["PWR", "led1"])])
        XCTAssertEqual(board.console, ConsoleConfig(tty: "/dev/ttyS0", baud: 115200))
        XCTAssertEqual(board.nics, ["eth0"])
    }

    func testBeagleBoneBlack() throws {
        let board = try load("beaglebone-black")
        XCTAssertEqual(board.watchdog?.timeoutSeconds, 60)
        XCTAssertEqual(board.leds[.status], .ledClass(names: ["beaglebone:green:usr0", "beaglebone:green:heartbeat"]))
        XCTAssertEqual(board.leds[.alert], .ledClass(names: ["beaglebone:green:usr3"]))
        XCTAssertEqual(board.leds[.uplink], .ledClass(names: ["beaglebone:green:usr1", "beaglebone:green:mmc0"]))
        XCTAssertEqual(board.console, ConsoleConfig(tty: "/dev/ttyS0", baud: 115200))
    }

    func testNanoPiR2S() throws {
        let board = try load("nanopi-r2s")
        XCTAssertEqual(board.console, ConsoleConfig(tty: "/dev/ttyS2", baud: 1_500_000))
        XCTAssertEqual(board.nics, ["eth0", "eth1"])
        XCTAssertEqual(board.leds.count, 3)
    }

    /// The LED-class boards drive a fake sysfs laid out with their names, end to end.
    func testRaspberryPiLedsOnFakeSysfsWithOldNames() throws {
        let sysfs = FakeLedClass()
        defer { sysfs.remove() }
        sysfs.add("led0", maxBrightness: "255")
        sysfs.add("led1", maxBrightness: "255")
        var leds = try Leds.open(try load("raspberrypi4").leds, ledClassRoot: sysfs.root)
        XCTAssertEqual(leds.indicators, [.status, .alert])
        try leds.show(.safeMode, now: 0)
        XCTAssertEqual(sysfs.attribute("led0", "trigger"), "timer")
        XCTAssertEqual(sysfs.attribute("led0", "delay_off"), "900")
        XCTAssertEqual(sysfs.attribute("led1", "brightness"), "255")
    }
}

final class BoardFormatTests: XCTestCase {
    func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let board = try Board.parse(text, file: "b.toml")
            XCTFail("expected \(expected), got \(board)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }

    func testMinimalBoard() throws {
        let board = try Board.parse("name = \"bare\"\n", file: "b.toml")
        XCTAssertEqual(board, Board(name: "bare"))
    }

    func testDefaults() throws {
        let board = try Board.parse("""
            name = "x"
            [watchdog]
            device = "/dev/watchdog1"
            timeout_s = 10
            [leds.alert]
            gpio = { chip = "gpiochip2", line = 5 }
            [leds.status]
            led = "ACT"
            """, file: "b.toml")
        XCTAssertEqual(board.watchdog, WatchdogConfig(device: "/dev/watchdog1", timeoutSeconds: 10, pretimeoutSeconds: 0, nowayout: false))
        XCTAssertEqual(board.leds, [.alert: .gpio(chip: "gpiochip2", line: 5, activeLow: false), .status: .ledClass(names: ["ACT"])])
    }

    func testFileErrors() {
        do {
            _ = try Board.load(contentsOf: "/nonexistent/board.toml")
            XCTFail("loaded a missing file")
        } catch {
            XCTAssertEqual(error.file, "/nonexistent/board.toml")
            XCTAssertEqual(error.line, 0)
        }
        assertError("name = \n", "b.toml:1:8: expected a value, found end of line")
    }

    func testRootErrors() {
        assertError("nics = []\n", "b.toml:1:1: missing required field 'name'")
        assertError("name = 3\n", "b.toml:1:8: name: expected a string, found integer")
        assertError("name = \"Pi 4\"\n", "b.toml:1:8: name: must be non-empty and use only a-z, 0-9, '.', '_', '-'")
        assertError("name = \"\"\n", "b.toml:1:8: name: must be non-empty and use only a-z, 0-9, '.', '_', '-'")
        assertError("name = \"x\"\nnic = [\"eth0\"]\n", "b.toml:2:7: unknown field 'nic' (did you mean 'nics'?)")
        assertError("name = \"x\"\nwatchdog = 1\n", "b.toml:2:12: watchdog: expected a table, found integer")
    }

    func testWatchdogErrors() {
        let head = "name = \"x\"\n[watchdog]\n"
        assertError(head + "timeout_s = 10\n", "b.toml:2:1: missing required field 'watchdog.device'")
        assertError(head + "device = \"/dev/watchdog0\"\n", "b.toml:2:1: missing required field 'watchdog.timeout_s'")
        assertError(head + "device = \"watchdog0\"\ntimeout_s = 10\n",
                    "b.toml:3:10: watchdog.device: must be a device path under /dev/, got 'watchdog0'")
        assertError(head + "device = \"/dev/\"\ntimeout_s = 10\n",
                    "b.toml:3:10: watchdog.device: must be a device path under /dev/, got '/dev/'")
        assertError(head + "device = \"/dev/../etc/passwd\"\ntimeout_s = 10\n",
                    "b.toml:3:10: watchdog.device: must be a device path under /dev/, got '/dev/../etc/passwd'")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = 0\n",
                    "b.toml:4:13: watchdog.timeout_s: must be between 1 and 3600 seconds, got 0")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = 3601\n",
                    "b.toml:4:13: watchdog.timeout_s: must be between 1 and 3600 seconds, got 3601")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = \"30\"\n",
                    "b.toml:4:13: watchdog.timeout_s: expected an integer, found string")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = 30\npretimeout_s = 30\n",
                    "b.toml:5:16: watchdog.pretimeout_s: must be at least 0 and less than timeout_s (30), got 30")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = 30\npretimeout_s = -1\n",
                    "b.toml:5:16: watchdog.pretimeout_s: must be at least 0 and less than timeout_s (30), got -1")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout_s = 30\nnowayout = 1\n",
                    "b.toml:5:12: watchdog.nowayout: expected a boolean, found integer")
        assertError(head + "device = \"/dev/watchdog0\"\ntimeout = 30\n",
                    "b.toml:4:11: unknown field 'watchdog.timeout' (did you mean 'timeout_s'?)")
    }

    func testLedErrors() {
        let head = "name = \"x\"\n"
        assertError(head + "leds = []\n", "b.toml:2:8: leds: expected a table, found array")
        assertError(head + "[leds.staus]\nled = \"ACT\"\n",
                    "b.toml:2:1: unknown field 'leds.staus' (did you mean 'status'?)")
        assertError(head + "[leds.status]\n", "b.toml:2:1: leds.status: needs 'gpio = { chip, line }' or 'led = \"NAME\"'")
        assertError(head + "[leds]\nstatus = 1\n", "b.toml:3:10: leds.status: expected a table, found integer")
        assertError(head + "[leds.status]\nled = \"ACT\"\ngpio = { chip = \"c\", line = 1 }\n",
                    "b.toml:3:7: leds.status.led: give either 'gpio' or 'led', not both")
        assertError(head + "[leds.status]\ncolour = \"red\"\n",
                    "b.toml:3:10: unknown field 'leds.status.colour'")
        // led
        assertError(head + "[leds.status]\nled = 7\n", "b.toml:3:7: leds.status.led: expected an array, found integer")
        assertError(head + "[leds.status]\nled = []\n", "b.toml:3:7: leds.status.led: must name at least one LED")
        assertError(head + "[leds.status]\nled = [\"ACT\", 0]\n", "b.toml:3:15: leds.status.led[1]: expected a string, found integer")
        assertError(head + "[leds.status]\nled = \"../ACT\"\n",
                    "b.toml:3:7: leds.status.led: '../ACT' is not an LED-class name (a directory under /sys/class/leds)")
        assertError(head + "[leds.status]\nled = [\"ACT\", \"\"]\n",
                    "b.toml:3:7: leds.status.led: '' is not an LED-class name (a directory under /sys/class/leds)")
        // gpio
        assertError(head + "[leds.status]\ngpio = \"gpiochip0\"\n",
                    "b.toml:3:8: leds.status.gpio: expected a table, found string")
        assertError(head + "[leds.status]\ngpio = { line = 1 }\n", "b.toml:3:8: missing required field 'leds.status.gpio.chip'")
        assertError(head + "[leds.status]\ngpio = { chip = \"\", line = 1 }\n",
                    "b.toml:3:17: leds.status.gpio.chip: must not be empty")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\" }\n", "b.toml:3:8: missing required field 'leds.status.gpio.line'")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\", line = -1 }\n",
                    "b.toml:3:29: leds.status.gpio.line: must be a line offset between 0 and 65535, got -1")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\", line = 65536 }\n",
                    "b.toml:3:29: leds.status.gpio.line: must be a line offset between 0 and 65535, got 65536")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\", line = 1, active_low = \"yes\" }\n",
                    "b.toml:3:45: leds.status.gpio.active_low: expected a boolean, found string")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\", line = 1, activelow = true }\n",
                    "b.toml:3:44: unknown field 'leds.status.gpio.activelow' (did you mean 'active_low'?)")
    }

    func testTwoIndicatorsOnOneLed() {
        let head = "name = \"x\"\n"
        assertError(head + "[leds.status]\nled = \"ACT\"\n[leds.alert]\nled = [\"ACT\", \"led0\"]\n",
                    "b.toml:4:1: leds.alert: uses the same LED as leds.status")
        assertError(head + "[leds.status]\ngpio = { chip = \"c\", line = 1 }\n[leds.uplink]\ngpio = { chip = \"c\", line = 1, active_low = true }\n",
                    "b.toml:4:1: leds.uplink: uses the same LED as leds.status")
    }

    func testConsoleErrors() {
        let head = "name = \"x\"\n[console]\n"
        assertError(head + "baud = 115200\n", "b.toml:2:1: missing required field 'console.tty'")
        assertError(head + "tty = \"/dev/ttyS0\"\n", "b.toml:2:1: missing required field 'console.baud'")
        assertError(head + "tty = \"ttyS0\"\nbaud = 115200\n",
                    "b.toml:3:7: console.tty: must be a device path under /dev/, got 'ttyS0'")
        assertError(head + "tty = \"/dev/ttyS0\"\nbaud = 115201\n",
                    "b.toml:4:8: console.baud: 115201 is not a rate termios can set (e.g. 115200, 1500000)")
        // Beyond 32 bits: Int(_:) of it traps on armv7 (found by fuzzing review; Int(exactly:) now).
        assertError(head + "tty = \"/dev/ttyS0\"\nbaud = 9223372036854775807\n",
                    "b.toml:4:8: console.baud: 9223372036854775807 is not a rate termios can set (e.g. 115200, 1500000)")
        assertError(head + "tty = \"/dev/ttyS0\"\nbaud = 115200\nparity = \"n\"\n",
                    "b.toml:5:10: unknown field 'console.parity'")
    }

    func testNicErrors() {
        let head = "name = \"x\"\n"
        assertError(head + "nics = \"eth0\"\n", "b.toml:2:8: nics: expected an array, found string")
        assertError(head + "nics = [1]\n", "b.toml:2:9: nics[0]: expected a string, found integer")
        assertError(head + "nics = [\"eth0\", \"averyveryverylongname\"]\n",
                    "b.toml:2:17: nics[1]: 'averyveryverylongname' is not a network interface name (1-15 characters, no '/', ':' or spaces)")
        assertError(head + "nics = [\"eth/0\"]\n",
                    "b.toml:2:9: nics[0]: 'eth/0' is not a network interface name (1-15 characters, no '/', ':' or spaces)")
        assertError(head + "nics = [\"\"]\n",
                    "b.toml:2:9: nics[0]: '' is not a network interface name (1-15 characters, no '/', ':' or spaces)")
        assertError(head + "nics = [\"eth0\", \"eth0\"]\n", "b.toml:2:17: nics[1]: 'eth0' is listed twice")
    }
}
