import XCTest
@testable import PitSupervisor

final class ViolationLimiterTests: XCTestCase {
    func test_theFirstBurstIsRecordedTheRestCountedAndSummarisedOncePerWindow() {
        var limiter = ViolationLimiter()
        limiter.burst = 3
        limiter.windowMs = 1000
        var admitted = 0
        for i in 0..<20_000 { if limiter.admit(jail: "flood", syscall: "bpf", now: Int64(i % 500)) { admitted += 1 } }
        var unameAdmitted = 0
        for _ in 0..<5 { if limiter.admit(jail: "flood", syscall: "uname", now: 10) { unameAdmitted += 1 } }
        XCTAssertEqual(unameAdmitted, 3, "each syscall has its own burst")
        XCTAssertTrue(limiter.admit(jail: "quiet", syscall: "bpf", now: 10), "another jail has its own window")
        XCTAssertEqual(admitted, 3)
        XCTAssertEqual(limiter.nextDeadline, 1000)
        XCTAssertEqual(limiter.due(now: 999), [], "nothing before the window ends")
        let due = limiter.due(now: 1000)
        XCTAssertEqual(due, [.init(jail: "flood", counts: [("bpf", 19_997)], windowMs: 1000)])
        XCTAssertEqual(due.first?.total, 19_997)
        XCTAssertTrue(due.first?.message.hasPrefix("flood: 19997 more violations in 1 s counted") ?? false, due.first?.message ?? "")
        // uname's window began later (at 10): its summary is due when that window ends.
        XCTAssertEqual(limiter.nextDeadline, 1010)
        XCTAssertEqual(limiter.due(now: 1010), [.init(jail: "flood", counts: [("uname", 2)], windowMs: 1000)])
        XCTAssertEqual(limiter.due(now: 5000), [], "summarised once")
        XCTAssertTrue(limiter.admit(jail: "flood", syscall: "bpf", now: 5000), "a new window records in full again")
    }
}
