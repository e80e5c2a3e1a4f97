import CPitShim
import Glibc
import SystemPackage
import XCTest
@testable import PitBoard

/// This machine has no watchdog. The ioctl paths are exercised against descriptors that are not
/// watchdogs (the kernel answers ENOTTY exactly as it would for a wrong device node), and the
/// write-based keepalive and magic close against a socketpair whose peer sees every byte.
final class WatchdogTests: XCTestCase {
    /// A stand-in "device": Pit's end wrapped as a Watchdog, the test reads the other end.
    func standIn(path: String = "/dev/watchdog-standin") -> (Watchdog, peer: Int32) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds), 0)
        return (Watchdog(adopting: FileDescriptor(rawValue: fds[0]), path: path), fds[1])
    }

    /// Everything the peer has received so far (non-blocking), "EOF" once Pit's end is closed.
    func drain(_ peer: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(peer, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if n == 0 { return "EOF" }
        if n < 0 { return "" }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    func testSettingsFeedInterval() {
        XCTAssertEqual(WatchdogSettings(timeoutSeconds: 15, pretimeoutSeconds: 0).feedIntervalMilliseconds, 7_500)
        XCTAssertEqual(WatchdogSettings(timeoutSeconds: 30, pretimeoutSeconds: 10).feedIntervalMilliseconds, 10_000)
        // A driver reporting 0 must not crash the policy.
        XCTAssertEqual(WatchdogSettings(timeoutSeconds: 0, pretimeoutSeconds: 0).feedIntervalMilliseconds, 500)
    }

    func testIoctlNumbersMatchLinuxWatchdogHeader() {
        // _IOR('W', n, int) = 0x8004_57nn, _IOWR('W', n, int) = 0xC004_57nn,
        // _IOR('W', 0, struct watchdog_info) with sizeof 40 = 0x8028_5700.
        XCTAssertEqual(pit_wdt_request(0), 0x8028_5700)  // GETSUPPORT
        XCTAssertEqual(pit_wdt_request(2), 0x8004_5702)  // GETBOOTSTATUS
        XCTAssertEqual(pit_wdt_request(5), 0x8004_5705)  // KEEPALIVE
        XCTAssertEqual(pit_wdt_request(6), 0xC004_5706)  // SETTIMEOUT
        XCTAssertEqual(pit_wdt_request(7), 0x8004_5707)  // GETTIMEOUT
        XCTAssertEqual(pit_wdt_request(8), 0xC004_5708)  // SETPRETIMEOUT
        XCTAssertEqual(pit_wdt_request(9), 0x8004_5709)  // GETPRETIMEOUT
        XCTAssertEqual(pit_wdt_request(10), 0x8004_570A) // GETTIMELEFT
        XCTAssertEqual(pit_wdt_request(11), 0)
        XCTAssertEqual(MemoryLayout<watchdog_info>.size, 40)
    }

    func testOpenMissingDeviceNamesPath() {
        assertBoardError(try Watchdog.open("/dev/watchdog-missing"), "open /dev/watchdog-missing: No such file or directory")
    }

    func testOpenNonWatchdogNamesTheIoctl() {
        // /dev/null opens fine but is not a watchdog: GETSUPPORT must say so, naming the device.
        assertBoardError(try Watchdog.open("/dev/null"), "WDIOC_GETSUPPORT /dev/null: Inappropriate ioctl for device")
    }

    func testOpenFifoNamesTheIoctl() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let fifo = dir + "/watchdog0"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // A reader must exist or opening the FIFO for writing blocks.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        defer { close(reader) }
        assertBoardError(try Watchdog.open(fifo), "WDIOC_GETSUPPORT \(fifo): Inappropriate ioctl for device")
    }

    func testIoctlErrorsNameIoctlAndPath() throws {
        let fd = try FileDescriptor.open("/dev/null", .writeOnly, options: .closeOnExec)
        defer { try? fd.close() }
        let watchdog = Watchdog(adopting: fd, path: "/dev/null")
        assertBoardError(try watchdog.setTimeout(seconds: 30), "WDIOC_SETTIMEOUT /dev/null: Inappropriate ioctl for device")
        assertBoardError(try watchdog.timeout(), "WDIOC_GETTIMEOUT /dev/null: Inappropriate ioctl for device")
        assertBoardError(try watchdog.bootStatus(), "WDIOC_GETBOOTSTATUS /dev/null: Inappropriate ioctl for device")
        assertBoardError(try watchdog.status(), "WDIOC_GETSTATUS /dev/null: Inappropriate ioctl for device")
        assertBoardError(try watchdog.timeLeft(), "WDIOC_GETTIMELEFT /dev/null: Inappropriate ioctl for device")
    }

    func testPretimeoutOnlyWhereSupported() throws {
        let (watchdog, peer) = standIn()
        defer { close(peer); try? watchdog.close() }
        XCTAssertFalse(watchdog.supportsPretimeout)
        XCTAssertNil(try watchdog.pretimeout())
        assertBoardError(try watchdog.setPretimeout(seconds: 5),
                         "WDIOC_SETPRETIMEOUT /dev/watchdog-standin: driver has no pretimeout (no WDIOF_PRETIMEOUT)")
        // configure() skips the unsupported pretimeout; the stand-in then fails on SETTIMEOUT.
        assertBoardError(try watchdog.configure(timeoutSeconds: 30, pretimeoutSeconds: 5),
                         "WDIOC_SETTIMEOUT /dev/watchdog-standin: Inappropriate ioctl for device")
    }

    func testOutOfRangeTimeoutIsRefusedBeforeTheIoctl() throws {
        let (watchdog, peer) = standIn()
        defer { close(peer); try? watchdog.close() }
        assertBoardError(try watchdog.setTimeout(seconds: Int(Int32.max) + 1),
                         "WDIOC_SETTIMEOUT /dev/watchdog-standin: 2147483648 s is out of range")
    }

    func testKeepaliveFallsBackToWrite() throws {
        let (standInWatchdog, peer) = standIn()
        var watchdog = standInWatchdog
        defer { close(peer) }
        XCTAssertFalse(watchdog.feedsByWrite)
        try watchdog.keepalive()
        // The socket refused WDIOC_KEEPALIVE with ENOTTY: from now on every feed is a write.
        XCTAssertTrue(watchdog.feedsByWrite)
        XCTAssertEqual(drain(peer), ".")
        try watchdog.keepalive()
        try watchdog.keepalive()
        XCTAssertEqual(drain(peer), "..")
        try watchdog.close()
        XCTAssertEqual(drain(peer), "EOF")
    }

    func testKeepaliveOnFifo() throws {
        let dir = makeTemporaryDirectory()
        defer { removeTree(dir) }
        let fifo = dir + "/watchdog0"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        defer { close(reader) }
        let fd = try FileDescriptor.open(FilePath(fifo), .writeOnly, options: .closeOnExec)
        var watchdog = Watchdog(adopting: fd, path: fifo)
        try watchdog.keepalive()
        var byte: UInt8 = 0
        XCTAssertEqual(read(reader, &byte, 1), 1)
        XCTAssertEqual(byte, UInt8(ascii: "."))
        XCTAssertEqual(try watchdog.disarm(nowayout: false), .magicClosed(path: fifo))
        XCTAssertEqual(read(reader, &byte, 1), 1)
        XCTAssertEqual(byte, UInt8(ascii: "V"))
        XCTAssertEqual(read(reader, &byte, 1), 0)  // writer closed
    }

    func testKeepaliveWriteErrorNamesPath() throws {
        // Read-only descriptor: the ioctl fails with ENOTTY, then the fallback write with EBADF.
        let fd = try FileDescriptor.open("/dev/null", .readOnly, options: .closeOnExec)
        defer { try? fd.close() }
        var watchdog = Watchdog(adopting: fd, path: "/dev/null")
        assertBoardError(try watchdog.keepalive(), "write /dev/null: Bad file descriptor")
    }

    func testKeepaliveOtherIoctlErrorsAreReported() throws {
        // EBADF is not "unsupported": it must surface rather than silently switch to writes.
        let fd = try FileDescriptor.open("/dev/null", .writeOnly, options: .closeOnExec)
        try fd.close()
        var watchdog = Watchdog(adopting: fd, path: "/dev/watchdog0")
        assertBoardError(try watchdog.keepalive(), "WDIOC_KEEPALIVE /dev/watchdog0: Bad file descriptor")
        XCTAssertFalse(watchdog.feedsByWrite)
    }

    func testDisarmWritesMagicCharacterThenCloses() throws {
        let (watchdog, peer) = standIn()
        defer { close(peer) }
        let outcome = try watchdog.disarm(nowayout: false)
        XCTAssertEqual(outcome, .magicClosed(path: "/dev/watchdog-standin"))
        XCTAssertEqual(drain(peer), "V")
        XCTAssertEqual(drain(peer), "EOF")
    }

    func testDisarmOnNowayoutBoardLeavesItArmed() throws {
        let (watchdog, peer) = standIn()
        defer { close(peer) }
        let outcome = try watchdog.disarm(nowayout: true)
        // The stand-in cannot report its timeout, so the message has no deadline.
        XCTAssertEqual(outcome, .leftArmed(path: "/dev/watchdog-standin", timeoutSeconds: nil))
        XCTAssertEqual(outcome.description,
                       "/dev/watchdog-standin: nowayout board, watchdog left armed; it resets the board unless fed again")
        XCTAssertEqual(WatchdogDisarm.leftArmed(path: "/dev/watchdog0", timeoutSeconds: 15).description,
                       "/dev/watchdog0: nowayout board, watchdog left armed; it resets the board within 15 s unless fed again")
        // No 'V' reached the device: closed straight away.
        XCTAssertEqual(drain(peer), "EOF")
    }

    func testBootStatusDecodesCardReset() {
        let watchdogReset = WatchdogBootStatus(flags: [.cardReset])
        XCTAssertTrue(watchdogReset.lastBootWasWatchdogReset)
        XCTAssertEqual(watchdogReset.description, "last boot was caused by the watchdog (CARDRESET)")
        let clean = WatchdogBootStatus(flags: [])
        XCTAssertFalse(clean.lastBootWasWatchdogReset)
        XCTAssertEqual(clean.description, "clean boot (none)")
        XCTAssertEqual(WatchdogFlags.cardReset.rawValue, 0x20)
        XCTAssertFalse(WatchdogBootStatus(flags: [.overheat, .powerUnder]).lastBootWasWatchdogReset)
    }

    func testFlagsDescriptionShowsUnknownBits() {
        XCTAssertEqual(WatchdogFlags(rawValue: 0x8180).description, "SETTIMEOUT|MAGICCLOSE|KEEPALIVEPING")
        XCTAssertEqual(WatchdogFlags(rawValue: 0x10020).description, "CARDRESET|0x10000")
    }
}

final class FeedPolicyTests: XCTestCase {
    func testHalfTheTimeoutWithoutPretimeout() {
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 30), 15_000)
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 15), 7_500)
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 1), 500)
    }

    func testHalfTheWindowBeforeThePretimeout() {
        // systemd: (timeout - pretimeout) / 2.
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 30, pretimeoutSeconds: 10), 10_000)
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 60, pretimeoutSeconds: 59), 500)
    }

    func testInvalidPretimeoutIsIgnored() {
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 30, pretimeoutSeconds: 30), 15_000)
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 30, pretimeoutSeconds: 45), 15_000)
        XCTAssertEqual(FeedPolicy.intervalMilliseconds(timeoutSeconds: 30, pretimeoutSeconds: -1), 15_000)
    }

    func testShippedBoardsLeaveMarginForEveryTimeout() throws {
        // procd's 5 s / 30 s is a sixth of the timeout; Pit's half must still be well above the
        // event loop's own latency limits (at least a second on every shipped board).
        for file in listDirectory(packageRoot + "/board") where file.hasSuffix(".toml") {
            let board = try Board.load(contentsOf: packageRoot + "/board/" + file)
            guard let watchdog = board.watchdog else { continue }
            let interval = FeedPolicy.intervalMilliseconds(timeoutSeconds: watchdog.timeoutSeconds,
                                                           pretimeoutSeconds: watchdog.pretimeoutSeconds)
            XCTAssertGreaterThanOrEqual(interval, 1000, file)
            XCTAssertLessThan(interval, Int64(watchdog.timeoutSeconds) * 1000, file)
        }
    }
}
