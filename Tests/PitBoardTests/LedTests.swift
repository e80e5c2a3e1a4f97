import Glibc
import XCTest
@testable import PitBoard

/// A fake /sys/class/leds: one directory per LED with the attributes the kernel provides.
/// delay_on/delay_off exist from the start here; in the kernel they appear when the timer
/// trigger is selected, which is why the driver writes the trigger first.
struct FakeLedClass {
    let root: String
    init() { root = makeTemporaryDirectory() }

    func add(_ name: String, maxBrightness: String = "255", triggers: String = "[none] timer heartbeat default-on") {
        let dir = root + "/" + name
        mkdir(dir, 0o755)
        writeFile(dir + "/brightness", "0\n")
        writeFile(dir + "/max_brightness", maxBrightness + "\n")
        writeFile(dir + "/trigger", triggers + "\n")
        writeFile(dir + "/delay_on", "500\n")
        writeFile(dir + "/delay_off", "500\n")
    }

    func attribute(_ name: String, _ attribute: String) -> String? {
        readFile(root + "/" + name + "/" + attribute)
    }

    func remove() { removeTree(root) }
}

final class LedPatternTests: XCTestCase {
    func testEveryPatternDefinesEveryIndicator() {
        for pattern in LedPattern.allCases {
            XCTAssertNotNil(LedPattern.table[pattern], pattern.rawValue)
        }
        XCTAssertEqual(Set(LedPattern.urgency), Set(LedPattern.allCases))
        XCTAssertEqual(LedPattern.urgency.count, LedPattern.allCases.count)
    }

    func testTable() {
        XCTAssertEqual(LedPattern.ok.state(of: .status), .heartbeat)
        XCTAssertEqual(LedPattern.ok.state(of: .alert), .off)
        XCTAssertEqual(LedPattern.ok.state(of: .uplink), .on)
        XCTAssertEqual(LedPattern.safeMode.state(of: .alert), .on)
        XCTAssertEqual(LedPattern.uplinkDown.state(of: .uplink), .blink(onMilliseconds: 100, offMilliseconds: 1900))
        XCTAssertEqual(LedPattern(rawValue: "crash_loop"), .crashLoop)
    }

    func testMostUrgent() {
        XCTAssertEqual(LedPattern.mostUrgent(of: [.ok, .uplinkDown, .violation]), .violation)
        XCTAssertEqual(LedPattern.mostUrgent(of: [.crashLoop, .safeMode]), .safeMode)
        XCTAssertEqual(LedPattern.mostUrgent(of: [.ok]), .ok)
        XCTAssertNil(LedPattern.mostUrgent(of: []))
    }

    /// board/README.md repeats the table for operators; it must not drift from the code.
    func testReadmeTableMatchesCode() throws {
        let readme = try FileIO.read(packageRoot + "/board/README.md")
        func cell(_ state: LedState) -> String {
            switch state {
            case .off: return "off"
            case .on: return "on"
            case .heartbeat: return "heartbeat"
            case .blink(let on, let off): return "blink \(on)/\(off) ms"
            }
        }
        for pattern in LedPattern.allCases {
            let row = "| `\(pattern.rawValue)` | \(cell(pattern.state(of: .status))) | \(cell(pattern.state(of: .alert))) | \(cell(pattern.state(of: .uplink))) |"
            XCTAssertTrue(readme.contains(row), "README lacks row: \(row)")
        }
    }
}

final class SoftwareBlinkTests: XCTestCase {
    func testSteadyStatesDoNotBlink() {
        XCTAssertNil(SoftwareBlink(.on, startedAt: 0))
        XCTAssertNil(SoftwareBlink(.off, startedAt: 0))
    }

    func testBlinkPhases() throws {
        let blink = try XCTUnwrap(SoftwareBlink(.blink(onMilliseconds: 100, offMilliseconds: 300), startedAt: 1_000))
        XCTAssertEqual(blink.period, 400)
        XCTAssertTrue(blink.level(at: 1_000) == (true, 1_100))
        XCTAssertTrue(blink.level(at: 1_099) == (true, 1_100))
        XCTAssertTrue(blink.level(at: 1_100) == (false, 1_400))
        XCTAssertTrue(blink.level(at: 1_399) == (false, 1_400))
        XCTAssertTrue(blink.level(at: 1_400) == (true, 1_500))
        // A tick that comes late lands in the right phase: no drift from missed ticks.
        XCTAssertTrue(blink.level(at: 1_000 + 400 * 1000 + 150) == (false, 1_000 + 400 * 1000 + 400))
    }

    func testHeartbeatRhythm() throws {
        let beat = try XCTUnwrap(SoftwareBlink(.heartbeat, startedAt: 0))
        XCTAssertEqual(beat.period, 1260)
        let levels = stride(from: 0, to: 1260, by: 5).map { beat.level(at: Int64($0)).lit }
        // Two flashes per period, 70 ms each.
        XCTAssertEqual(levels.filter { $0 }.count * 5, 140)
        XCTAssertTrue(beat.level(at: 0) == (true, 70))
        XCTAssertTrue(beat.level(at: 70) == (false, 315))
        XCTAssertTrue(beat.level(at: 315) == (true, 385))
        XCTAssertTrue(beat.level(at: 385) == (false, 1260))
    }

    func testBeforeStartIsFirstPhase() throws {
        let blink = try XCTUnwrap(SoftwareBlink(.blink(onMilliseconds: 10, offMilliseconds: 10), startedAt: 100))
        XCTAssertTrue(blink.level(at: 50).lit)
    }
}

final class LedClassTests: XCTestCase {
    var sysfs: FakeLedClass!
    override func setUp() { sysfs = FakeLedClass() }
    override func tearDown() { sysfs.remove() }

    func testOpensFirstPresentName() throws {
        sysfs.add("led0")
        let led = try LedClassLed.open(names: ["ACT", "led0"], root: sysfs.root)
        XCTAssertEqual(led.name, "led0")
        XCTAssertEqual(led.maxBrightness, 255)
        XCTAssertEqual(led.triggers, ["none", "timer", "heartbeat", "default-on"])
        XCTAssertTrue(led.canBlink)
        XCTAssertTrue(led.canHeartbeat)
    }

    func testMissingLedNamesEveryCandidate() {
        assertBoardError(try LedClassLed.open(names: ["ACT", "led0"], root: sysfs.root),
                         "open LED \(sysfs.root)/ACT, \(sysfs.root)/led0: No such file or directory")
    }

    func testBadMaxBrightness() {
        sysfs.add("ACT", maxBrightness: "zero")
        assertBoardError(try LedClassLed.open(names: ["ACT"], root: sysfs.root),
                         "read \(sysfs.root)/ACT/max_brightness: not a positive integer: 'zero'")
    }

    func testMissingAttributeNamesIt() {
        sysfs.add("ACT")
        unlink(sysfs.root + "/ACT/trigger")
        assertBoardError(try LedClassLed.open(names: ["ACT"], root: sysfs.root),
                         "open \(sysfs.root)/ACT/trigger: No such file or directory")
    }

    func testSteadyAndKernelBlinking() throws {
        sysfs.add("ACT", maxBrightness: "1", triggers: "none [mmc0] timer heartbeat")
        let led = try LedClassLed.open(names: ["ACT"], root: sysfs.root)
        try led.set(lit: true)
        XCTAssertEqual(sysfs.attribute("ACT", "trigger"), "none")
        XCTAssertEqual(sysfs.attribute("ACT", "brightness"), "1")
        try led.blink(onMilliseconds: 100, offMilliseconds: 900)
        XCTAssertEqual(sysfs.attribute("ACT", "trigger"), "timer")
        XCTAssertEqual(sysfs.attribute("ACT", "delay_on"), "100")
        XCTAssertEqual(sysfs.attribute("ACT", "delay_off"), "900")
        try led.heartbeat()
        XCTAssertEqual(sysfs.attribute("ACT", "trigger"), "heartbeat")
        try led.set(lit: false)
        XCTAssertEqual(sysfs.attribute("ACT", "trigger"), "none")
        XCTAssertEqual(sysfs.attribute("ACT", "brightness"), "0")
    }

    func testWriteErrorNamesAttribute() throws {
        sysfs.add("ACT")
        let led = try LedClassLed.open(names: ["ACT"], root: sysfs.root)
        unlink(sysfs.root + "/ACT/delay_on")
        assertBoardError(try led.blink(onMilliseconds: 1, offMilliseconds: 1),
                         "open \(sysfs.root)/ACT/delay_on: No such file or directory")
    }
}

final class LedsTests: XCTestCase {
    var sysfs: FakeLedClass!
    override func setUp() { sysfs = FakeLedClass() }
    override func tearDown() { sysfs.remove() }

    func testKernelBlinkingNeedsNoTicks() throws {
        sysfs.add("status")
        sysfs.add("alert")
        sysfs.add("uplink")
        var leds = try Leds.open([.status: .ledClass(names: ["status"]), .alert: .ledClass(names: ["alert"]),
                                  .uplink: .ledClass(names: ["uplink"])], ledClassRoot: sysfs.root)
        try leds.show(.ok, now: 0)
        XCTAssertEqual(leds.pattern, .ok)
        XCTAssertEqual(sysfs.attribute("status", "trigger"), "heartbeat")
        XCTAssertEqual(sysfs.attribute("alert", "brightness"), "0")
        XCTAssertEqual(sysfs.attribute("uplink", "brightness"), "255")
        XCTAssertNil(leds.nextDeadline(after: 0))
        try leds.show(.violation, now: 10)
        XCTAssertEqual(sysfs.attribute("alert", "trigger"), "timer")
        XCTAssertEqual(sysfs.attribute("alert", "delay_on"), "100")
        XCTAssertNil(leds.nextDeadline(after: 10))
    }

    func testSoftwareBlinkWhenKernelLacksTriggers() throws {
        sysfs.add("status", triggers: "[none] default-on")
        var leds = try Leds.open([.status: .ledClass(names: ["status"])], ledClassRoot: sysfs.root)
        XCTAssertEqual(leds.indicators, [.status])
        try leds.show(.booting, now: 1_000)  // status blinks 250/250
        XCTAssertEqual(sysfs.attribute("status", "trigger"), "none")
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "255")
        XCTAssertEqual(leds.nextDeadline(after: 1_000), 1_250)
        try leds.tick(now: 1_250)
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "0")
        XCTAssertEqual(leds.isLit(.status), false)
        XCTAssertEqual(leds.nextDeadline(after: 1_250), 1_500)
        // Software toggles touch only the brightness: the trigger written once stays.
        writeFile(sysfs.root + "/status/trigger", "untouched")
        try leds.tick(now: 1_500)
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "255")
        XCTAssertEqual(sysfs.attribute("status", "trigger"), "untouched")
        // Showing the same pattern again keeps the phase (no restart at 1_600).
        try leds.show(.booting, now: 1_600)
        XCTAssertEqual(leds.nextDeadline(after: 1_600), 1_750)
        // Heartbeat falls back to software too.
        try leds.show(.ok, now: 2_000)
        XCTAssertEqual(leds.state(of: .status), .heartbeat)
        XCTAssertEqual(leds.nextDeadline(after: 2_000), 2_070)
        // A steady pattern stops the ticks.
        try leds.set(.status, .on, now: 2_100)
        XCTAssertNil(leds.nextDeadline(after: 2_100))
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "255")
    }

    func testTickWritesOnlyOnChange() throws {
        sysfs.add("status", triggers: "[none]")
        var leds = try Leds.open([.status: .ledClass(names: ["status"])], ledClassRoot: sysfs.root)
        try leds.show(.degraded, now: 0)  // 1000/1000
        writeFile(sysfs.root + "/status/brightness", "sentinel")
        try leds.tick(now: 500)  // still lit: nothing written
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "sentinel")
        try leds.tick(now: 1_000)
        XCTAssertEqual(sysfs.attribute("status", "brightness"), "0")
    }

    func testIndicatorsWithoutWiringAreSkipped() throws {
        var leds = Leds(drivers: [:])
        try leds.show(.safeMode, now: 0)
        XCTAssertEqual(leds.pattern, .safeMode)
        XCTAssertNil(leds.nextDeadline(after: 0))
        XCTAssertNil(leds.state(of: .alert))
    }

    func testOpenFailureNamesTheLed() {
        sysfs.add("status")
        assertBoardError(try Leds.open([.status: .ledClass(names: ["status"]), .alert: .ledClass(names: ["PWR"])],
                                       ledClassRoot: sysfs.root),
                         "open LED \(sysfs.root)/PWR: No such file or directory")
    }
}

/// This machine has no gpiochip and no configfs to create a gpio-sim one, so the GPIO driver is
/// tested for its failure reporting; driving real lines is proven in the board VM (gpio-sim).
final class GpioLedTests: XCTestCase {
    func testMissingChipByLabelNamesIt() {
        assertBoardError(try GpioLed.open(chip: "gpio-sim.0-node0", line: 0, activeLow: false),
                         "gpiod_chip_open_lookup gpio-sim.0-node0: No such file or directory: no GPIO chip with this name, path, label or number")
    }

    func testMissingChipByPathAndNumber() {
        assertBoardError(try GpioLed.open(chip: "/dev/gpiochip7", line: 3, activeLow: true),
                         "gpiod_chip_open_lookup /dev/gpiochip7: No such file or directory: no GPIO chip with this name, path, label or number")
        assertBoardError(try GpioLed.open(chip: "7", line: 3, activeLow: true),
                         "gpiod_chip_open_lookup 7: No such file or directory: no GPIO chip with this name, path, label or number")
    }

    func testLedsOpenReportsTheChip() {
        assertBoardError(try Leds.open([.uplink: .gpio(chip: "gpiochip0", line: 17, activeLow: false)]),
                         "gpiod_chip_open_lookup gpiochip0: No such file or directory: no GPIO chip with this name, path, label or number")
    }

    func testNotAGpioChip() {
        // An existing character device that is not a GPIO chip: libgpiod checks the device.
        do {
            _ = try GpioLed.open(chip: "/dev/null", line: 0, activeLow: false)
            XCTFail("opened /dev/null as a GPIO chip")
        } catch {
            XCTAssertEqual(error.operation, "gpiod_chip_open_lookup")
            XCTAssertEqual(error.path, "/dev/null")
            XCTAssertNotNil(error.errno)
        }
    }
}

final class LedWalkTests: XCTestCase {
    func testEachIndicatorAloneInTurnThenOver() {
        let walk = LedWalk(indicators: [.status, .alert, .uplink], startedAt: 1000, stepMs: 500)
        XCTAssertEqual(walk.lit(at: 1000), .status)
        XCTAssertEqual(walk.lit(at: 1499), .status)
        XCTAssertEqual(walk.lit(at: 1500), .alert)
        XCTAssertEqual(walk.lit(at: 2499), .uplink)
        XCTAssertNil(walk.lit(at: 2500))
        XCTAssertEqual(walk.nextDeadline(after: 1000), 1500)
        XCTAssertEqual(walk.nextDeadline(after: 2200), 2500)
        XCTAssertNil(walk.nextDeadline(after: 2500))
    }

    func testShowAloneLightsOneAndForgetsThePattern() throws {
        let sysfs = FakeLedClass()
        defer { sysfs.remove() }
        for name in ["a", "b"] { sysfs.add(name) }
        var leds = try Leds.open([.status: .ledClass(names: ["a"]), .alert: .ledClass(names: ["b"])], ledClassRoot: sysfs.root)
        try leds.show(.ok, now: 0)
        XCTAssertEqual(leds.pattern, .ok)
        try leds.showAlone(.alert, now: 10)
        XCTAssertEqual(sysfs.attribute("a", "brightness"), "0")
        XCTAssertEqual(sysfs.attribute("b", "brightness"), "255")
        XCTAssertNil(leds.pattern, "a walk step is no pattern: the supervisor must show its pattern again")
        try leds.show(.ok, now: 20)
        XCTAssertEqual(sysfs.attribute("a", "trigger"), "heartbeat")
        XCTAssertEqual(sysfs.attribute("b", "brightness"), "0")
    }
}
