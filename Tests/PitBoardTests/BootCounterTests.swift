import Glibc
import XCTest
@testable import PitBoard

final class BootCounterTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = makeTemporaryDirectory() }
    override func tearDown() { removeTree(dir) }

    func testFreshDeviceStartsAtZero() throws {
        let counter = BootCounter(directory: dir, threshold: 3)
        XCTAssertEqual(try counter.load().consecutiveWatchdogResets, 0)
        XCTAssertEqual(try counter.load().safeMode, false)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: false),
                       BootRecord(consecutiveWatchdogResets: 0, safeMode: false, enteredSafeModeNow: false))
        XCTAssertEqual(readFile(counter.path), "consecutive_watchdog_resets=0\nsafe_mode=0\n")
    }

    func testConsecutiveWatchdogBootsEnterSafeMode() throws {
        let counter = BootCounter(directory: dir, threshold: 3)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true),
                       BootRecord(consecutiveWatchdogResets: 1, safeMode: false, enteredSafeModeNow: false))
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true).consecutiveWatchdogResets, 2)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true),
                       BootRecord(consecutiveWatchdogResets: 3, safeMode: true, enteredSafeModeNow: true))
        // Already in safe mode: not "entered" again.
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true),
                       BootRecord(consecutiveWatchdogResets: 4, safeMode: true, enteredSafeModeNow: false))
        XCTAssertEqual(readFile(counter.path), "consecutive_watchdog_resets=4\nsafe_mode=1\n")
    }

    /// init respawns Pit within one kernel boot: the boot is counted once, whatever it was (a watchdog reset
    /// followed by one restart of Pit is one reset, not two in a row).
    func testOneKernelBootIsCountedOnceWhateverPitRestarts() throws {
        let counter = BootCounter(directory: dir, threshold: 2)
        let first = "0b6e5ad6-7d1c-4a1e-9c55-1f3a4c1e2d01", second = "7f2c0d9e-1111-4b2a-8e0f-0a9b8c7d6e5f"
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true, bootID: first).consecutiveWatchdogResets, 1)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true, bootID: first),
                       BootRecord(consecutiveWatchdogResets: 1, safeMode: false, enteredSafeModeNow: false, countedBefore: true))
        XCTAssertEqual(readFile(counter.path), "consecutive_watchdog_resets=1\nsafe_mode=0\nboot_id=\(first)\n")
        // The next boot is a new one: counted.
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true, bootID: second),
                       BootRecord(consecutiveWatchdogResets: 2, safeMode: true, enteredSafeModeNow: true))
        // Clearing safe mode keeps this boot recorded: a restart of Pit after it does not count it again.
        try counter.clearSafeMode()
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true, bootID: second).safeMode, false)
        XCTAssertEqual(try counter.load().consecutiveWatchdogResets, 0)
        XCTAssertNotNil(BootCounter.currentBootID(), "the kernel's boot_id")
        XCTAssertNil(BootCounter.currentBootID("/nonexistent"))
        writeFile(counter.path, "consecutive_watchdog_resets=1\nsafe_mode=0\nboot_id=../../etc\n")
        XCTAssertThrowsError(try counter.load())
    }

    func testCleanBootResetsCount() throws {
        let counter = BootCounter(directory: dir, threshold: 3)
        _ = try counter.recordBoot(watchdogReset: true)
        _ = try counter.recordBoot(watchdogReset: true)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: false).consecutiveWatchdogResets, 0)
        // Two more watchdog boots do not reach 3: the clean boot broke the streak.
        _ = try counter.recordBoot(watchdogReset: true)
        XCTAssertFalse(try counter.recordBoot(watchdogReset: true).safeMode)
    }

    func testSafeModeLatchesUntilCleared() throws {
        let counter = BootCounter(directory: dir, threshold: 2)
        _ = try counter.recordBoot(watchdogReset: true)
        XCTAssertTrue(try counter.recordBoot(watchdogReset: true).safeMode)
        // A clean boot resets the count but not the latch.
        XCTAssertEqual(try counter.recordBoot(watchdogReset: false),
                       BootRecord(consecutiveWatchdogResets: 0, safeMode: true, enteredSafeModeNow: false))
        try counter.clearSafeMode()
        XCTAssertEqual(try counter.recordBoot(watchdogReset: false),
                       BootRecord(consecutiveWatchdogResets: 0, safeMode: false, enteredSafeModeNow: false))
    }

    func testThresholdOfOne() throws {
        let counter = BootCounter(directory: dir, threshold: 1)
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true),
                       BootRecord(consecutiveWatchdogResets: 1, safeMode: true, enteredSafeModeNow: true))
    }

    func testWriteLeavesNoTemporaryFile() throws {
        let counter = BootCounter(directory: dir, threshold: 3)
        _ = try counter.recordBoot(watchdogReset: true)
        XCTAssertEqual(listDirectory(dir), [BootCounter.fileName])
        var info = stat()
        XCTAssertEqual(stat(counter.path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o644)
    }

    func testStaleTemporaryFileIsReplaced() throws {
        // A power cut between create and rename leaves the temporary behind; the next write wins.
        let counter = BootCounter(directory: dir, threshold: 3)
        writeFile(counter.temporaryPath, "garbage")
        XCTAssertEqual(try counter.recordBoot(watchdogReset: true).consecutiveWatchdogResets, 1)
        XCTAssertEqual(listDirectory(dir), [BootCounter.fileName])
    }

    func testCorruptFileIsAnErrorNamingIt() {
        let counter = BootCounter(directory: dir, threshold: 3)
        writeFile(counter.path, "consecutive_watchdog_resets=lots\nsafe_mode=0\n")
        assertBoardError(try counter.load(),
                         "parse \(counter.path): needs consecutive_watchdog_resets=N and safe_mode=0|1")
        writeFile(counter.path, "hello\n")
        assertBoardError(try counter.recordBoot(watchdogReset: true), "parse \(counter.path): unexpected line 'hello'")
        writeFile(counter.path, "consecutive_watchdog_resets=-2\nsafe_mode=0\n")
        assertBoardError(try counter.load(),
                         "parse \(counter.path): needs consecutive_watchdog_resets=N and safe_mode=0|1")
        writeFile(counter.path, "consecutive_watchdog_resets=2\nsafe_mode=yes\n")
        assertBoardError(try counter.load(), "parse \(counter.path): unexpected line 'safe_mode=yes'")
        // The operator's clear repairs it.
        XCTAssertNoThrow(try counter.clearSafeMode())
        XCTAssertEqual(try counter.load().consecutiveWatchdogResets, 0)
    }

    func testMissingDirectoryNamesTheFile() {
        let counter = BootCounter(directory: dir + "/missing", threshold: 3)
        assertBoardError(try counter.recordBoot(watchdogReset: true),
                         "open \(dir)/missing/.watchdog-boots.tmp: No such file or directory")
    }

    func testUnreadableCounterIsAnError() {
        // A directory where the file should be: reading fails with EISDIR, not a silent zero.
        let counter = BootCounter(directory: dir, threshold: 3)
        XCTAssertEqual(mkdir(counter.path, 0o755), 0)
        assertBoardError(try counter.load(), "read \(counter.path): Is a directory")
    }
}
