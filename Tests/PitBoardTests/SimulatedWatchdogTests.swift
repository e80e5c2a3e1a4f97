import CPitShim
import Glibc
import XCTest
@testable import PitBoard

/// A watchdog driver model following the kernel's watchdog core (drivers/watchdog/watchdog_dev.c):
/// EOPNOTSUPP for features the driver lacks, EINVAL for out-of-range timeouts, timeouts rounded
/// to the hardware step. It sits behind a real FIFO descriptor, so writes (fallback keepalive,
/// magic close) still go through the kernel.
final class SimulatedWatchdog: @unchecked Sendable {
    var identity = "i6300ESB timer"
    var options: WatchdogFlags = [.setTimeout, .keepalivePing, .magicClose]
    var timeout = 30
    var pretimeout = 0
    var maxTimeout = 2046
    /// Hardware step the driver rounds timeouts up to.
    var step = 1
    var bootStatus: WatchdogFlags = []
    var keepalives = 0

    /// What an ioctl returns on failure: -1 with errno set.
    static func fail(_ code: Int32) -> Int32 { errno = code; return -1 }

    var ioctls: WatchdogIoctls {
        let fail = Self.fail
        return WatchdogIoctls(
            getSupport: { _, info in
                info.pointee = watchdog_info()
                info.pointee.options = self.options.rawValue
                info.pointee.firmware_version = 1
                withUnsafeMutableBytes(of: &info.pointee.identity) { raw in
                    for (i, byte) in self.identity.utf8.prefix(31).enumerated() { raw[i] = byte }
                }
                return 0
            },
            getStatus: { _, flags in flags.pointee = 0; return 0 },
            getBootStatus: { _, flags in flags.pointee = Int32(bitPattern: self.bootStatus.rawValue); return 0 },
            keepalive: { _ in
                guard self.options.contains(.keepalivePing) else { return fail(EOPNOTSUPP) }
                self.keepalives += 1
                return 0
            },
            setTimeout: { _, value in
                guard self.options.contains(.setTimeout) else { return fail(EOPNOTSUPP) }
                let requested = Int(value.pointee)
                guard requested >= 1, requested <= self.maxTimeout else { return fail(EINVAL) }
                self.timeout = (requested + self.step - 1) / self.step * self.step
                value.pointee = Int32(self.timeout)
                return 0
            },
            getTimeout: { _, value in value.pointee = Int32(self.timeout); return 0 },
            setPretimeout: { _, value in
                guard self.options.contains(.pretimeout) else { return fail(EOPNOTSUPP) }
                guard value.pointee >= 0, Int(value.pointee) < self.timeout else { return fail(EINVAL) }
                self.pretimeout = Int(value.pointee)
                return 0
            },
            getPretimeout: { _, value in
                guard self.options.contains(.pretimeout) else { return fail(EOPNOTSUPP) }
                value.pointee = Int32(self.pretimeout)
                return 0
            },
            getTimeLeft: { _, _ in fail(EOPNOTSUPP) })
    }
}

final class SimulatedWatchdogTests: XCTestCase {
    var dir = ""
    var device = ""
    var reader: Int32 = -1
    let driver = SimulatedWatchdog()

    override func setUp() {
        dir = makeTemporaryDirectory()
        device = dir + "/watchdog0"
        XCTAssertEqual(mkfifo(device, 0o600), 0)
        reader = open(device, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    }

    override func tearDown() {
        close(reader)
        removeTree(dir)
    }

    func received() -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(reader, &buffer, buffer.count)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    func testOpenReadsSupport() throws {
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertEqual(watchdog.support, WatchdogSupport(identity: "i6300ESB timer", firmwareVersion: 1,
                                                         options: [.setTimeout, .keepalivePing, .magicClose]))
        XCTAssertFalse(watchdog.supportsPretimeout)
        XCTAssertFalse(watchdog.feedsByWrite)
    }

    func testIdentityFillingAllBytesIsCut() throws {
        driver.identity = String(repeating: "x", count: 40)
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertEqual(watchdog.support?.identity.count, 31)
    }

    func testConfigureUsesWhatTheDriverSet() throws {
        driver.step = 4  // e.g. a prescaler: 15 s becomes 16 s
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        let settings = try watchdog.configure(timeoutSeconds: 15, pretimeoutSeconds: 0)
        XCTAssertEqual(settings, WatchdogSettings(timeoutSeconds: 16, pretimeoutSeconds: 0))
        XCTAssertEqual(settings.feedIntervalMilliseconds, 8_000)
        XCTAssertEqual(try watchdog.timeout(), 16)
    }

    func testConfigureWithPretimeout() throws {
        driver.options.insert(.pretimeout)
        driver.pretimeout = 7  // left over from before
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertEqual(try watchdog.configure(timeoutSeconds: 30, pretimeoutSeconds: 10),
                       WatchdogSettings(timeoutSeconds: 30, pretimeoutSeconds: 10))
        XCTAssertEqual(try watchdog.pretimeout(), 10)
        // Asking for none clears the leftover instead of trusting it.
        driver.pretimeout = 7
        XCTAssertEqual(try watchdog.configure(timeoutSeconds: 30, pretimeoutSeconds: 0).pretimeoutSeconds, 0)
        XCTAssertEqual(driver.pretimeout, 0)
        assertBoardError(try watchdog.setPretimeout(seconds: 30), "WDIOC_SETPRETIMEOUT \(device): Invalid argument")
    }

    func testConfigureSkipsWhatTheDriverLacks() throws {
        driver.options = [.keepalivePing]
        driver.timeout = 60
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertEqual(try watchdog.configure(timeoutSeconds: 30, pretimeoutSeconds: 5),
                       WatchdogSettings(timeoutSeconds: 60, pretimeoutSeconds: 0,
                                        ignored: ["timeout_s (fixed by the driver)", "pretimeout_s (no WDIOF_PRETIMEOUT)"]))
        assertBoardError(try watchdog.setTimeout(seconds: 30),
                         "WDIOC_SETTIMEOUT \(device): driver has a fixed timeout (no WDIOF_SETTIMEOUT)")
    }

    func testRefusedTimeoutNamesIoctlAndDevice() throws {
        driver.maxTimeout = 15  // bcm2835_wdt
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        assertBoardError(try watchdog.configure(timeoutSeconds: 30, pretimeoutSeconds: 0),
                         "WDIOC_SETTIMEOUT \(device): Invalid argument")
    }

    func testKeepaliveUsesTheIoctlAndWritesNothing() throws {
        var watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        try watchdog.keepalive()
        try watchdog.keepalive()
        XCTAssertEqual(driver.keepalives, 2)
        XCTAssertFalse(watchdog.feedsByWrite)
        XCTAssertEqual(received(), "")
        XCTAssertEqual(try watchdog.disarm(nowayout: false), .magicClosed(path: device))
        XCTAssertEqual(received(), "V")
    }

    func testDriverWithoutKeepalivePingIsFedByWrite() throws {
        driver.options = [.setTimeout]
        var watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertTrue(watchdog.feedsByWrite)
        try watchdog.keepalive()
        XCTAssertEqual(driver.keepalives, 0)
        XCTAssertEqual(received(), ".")
    }

    func testBootStatusAfterWatchdogReset() throws {
        driver.bootStatus = [.cardReset]
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        XCTAssertTrue(try watchdog.bootStatus().lastBootWasWatchdogReset)
        // Feeding the boot status into the counter is the supervisor's boot sequence.
        let counter = BootCounter(directory: dir, threshold: 1)
        XCTAssertTrue(try counter.recordBoot(watchdogReset: watchdog.bootStatus().lastBootWasWatchdogReset).enteredSafeModeNow)
    }

    func testNowayoutDisarmReportsTheTimeout() throws {
        driver.timeout = 15
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        XCTAssertEqual(try watchdog.disarm(nowayout: true), .leftArmed(path: device, timeoutSeconds: 15))
        XCTAssertEqual(received(), "")
    }

    func testUnsupportedTimeLeft() throws {
        let watchdog = try Watchdog.open(device, ioctls: driver.ioctls)
        defer { try? watchdog.close() }
        assertBoardError(try watchdog.timeLeft(), "WDIOC_GETTIMELEFT \(device): Operation not supported")
    }
}
