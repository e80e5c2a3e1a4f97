import XCTest
@testable import PitConsole

final class PinGuardTests: XCTestCase {
    let policy = PinGuard.Policy(minIntervalMs: 2000, maxFailures: 3, lockoutMs: 600_000, unlockMs: 300_000)

    func testRightPinUnlocksForTheWindow() {
        var guardian = PinGuard(pin: "1234", policy: policy)
        XCTAssertFalse(guardian.isUnlocked(now: 0))
        XCTAssertEqual(guardian.attempt("1234", now: 10_000), .accepted(unlockedUntilMs: 310_000))
        XCTAssertTrue(guardian.isUnlocked(now: 309_999))
        XCTAssertFalse(guardian.isUnlocked(now: 310_000))
        guardian.lock()
        XCTAssertFalse(guardian.isUnlocked(now: 20_000))
    }

    func testRateLimitRefusesWithoutCounting() {
        var guardian = PinGuard(pin: "1234", policy: policy)
        XCTAssertEqual(guardian.attempt("0000", now: 10_000), .wrong(attemptsLeft: 2))
        XCTAssertEqual(guardian.attempt("1234", now: 11_999), .tooSoon(retryAtMs: 12_000))
        XCTAssertEqual(guardian.failures, 1, "a refused-too-soon attempt is not a failure")
        XCTAssertEqual(guardian.attempt("1234", now: 12_000), .accepted(unlockedUntilMs: 312_000))
        XCTAssertEqual(guardian.failures, 0)
    }

    func testLockoutAfterKWrongAndRecovery() {
        var guardian = PinGuard(pin: "1234", policy: policy)
        XCTAssertEqual(guardian.attempt("1", now: 0), .wrong(attemptsLeft: 2))
        XCTAssertEqual(guardian.attempt("2", now: 2_000), .wrong(attemptsLeft: 1))
        XCTAssertEqual(guardian.attempt("3", now: 4_000), .lockedOutNow(untilMs: 604_000))
        XCTAssertEqual(guardian.attempt("1234", now: 10_000), .lockedOut(untilMs: 604_000), "even the right PIN")
        XCTAssertEqual(guardian.attempt("1234", now: 603_999), .lockedOut(untilMs: 604_000))
        XCTAssertEqual(guardian.attempt("9", now: 604_000), .wrong(attemptsLeft: 2), "budget restored after lockout")
        XCTAssertEqual(guardian.attempt("1234", now: 606_000), .accepted(unlockedUntilMs: 906_000))
    }

    func testLockoutCancelsAnEarlierUnlock() {
        var guardian = PinGuard(pin: "1234", policy: policy)
        _ = guardian.attempt("1234", now: 0)
        for i in 1...3 { _ = guardian.attempt("x", now: Int64(i) * 2000) }
        XCTAssertFalse(guardian.isUnlocked(now: 7000))
    }

    func testNoPinDisablesEverything() {
        for pin in [nil, ""] as [String?] {
            var guardian = PinGuard(pin: pin, policy: policy)
            XCTAssertEqual(guardian.attempt("", now: 0), .disabled)
            XCTAssertFalse(guardian.isUnlocked(now: 0))
        }
    }

    func testConstantTimeCompare() {
        XCTAssertTrue(PinGuard.constantTimeEqual(Array("1234".utf8), Array("1234".utf8)))
        XCTAssertFalse(PinGuard.constantTimeEqual(Array("1234".utf8), Array("12345".utf8)))
        XCTAssertFalse(PinGuard.constantTimeEqual(Array("1234".utf8), Array("1235".utf8)))
        XCTAssertFalse(PinGuard.constantTimeEqual([], Array("1".utf8)))
        // Length difference of 256 truncates to 0 in a byte: must still differ.
        XCTAssertFalse(PinGuard.constantTimeEqual([UInt8](repeating: 0, count: 256), []))
    }
}
