import XCTest
@testable import PitSupervisor

final class SmbAlertLimiterTests: XCTestCase {
    func test_eachClientAndKindHasItsBurstTheRestIsCountedInOneSummaryPerClient() {
        var limiter = SmbAlertLimiter()
        limiter.burst = 3
        limiter.windowMs = 1000
        var admitted = 0
        for i in 0..<5000 { if limiter.admit(jail: "smbd", client: "192.0.2.7", kind: "smb_logon", now: Int64(i % 500)) { admitted += 1 } }
        XCTAssertEqual(admitted, 3, "a password spray: its first logons in full, the rest counted")
        var enumerations = 0
        for _ in 0..<5 { if limiter.admit(jail: "smbd", client: "192.0.2.7", kind: "smb_enumeration", now: 10) { enumerations += 1 } }
        XCTAssertEqual(enumerations, 3, "each kind has its own burst")
        XCTAssertTrue(limiter.admit(jail: "smbd", client: "192.0.2.8", kind: "smb_logon", now: 20), "another client has its own window")
        XCTAssertEqual(limiter.nextDeadline, 1000)
        XCTAssertEqual(limiter.due(now: 999), [], "nothing before the window ends")
        // Both kinds of the client in one summary, once the later window (from 10) has ended too.
        XCTAssertEqual(limiter.due(now: 1000), [.init(jail: "smbd", client: "192.0.2.7", counts: [("smb_logon", 4997)], windowMs: 1000)])
        let due = limiter.due(now: 1010)
        XCTAssertEqual(due, [.init(jail: "smbd", client: "192.0.2.7", counts: [("smb_enumeration", 2)], windowMs: 1000)])
        XCTAssertEqual(due.first?.message, "smbd: 2 more SMB alerts from 192.0.2.7 in 1 s counted, not recorded one by one: smb_enumeration 2")
        XCTAssertEqual(limiter.due(now: 5000), [], "summarised once; the quiet client had nothing to summarise")
        XCTAssertTrue(limiter.admit(jail: "smbd", client: "192.0.2.7", kind: "smb_logon", now: 5000), "a new window records in full again")
    }

    func test_summaryGroupsKindsOfOneClientEndingTogether() {
        var limiter = SmbAlertLimiter()
        limiter.burst = 1
        for kind in ["smb_logon", "smb_access", "smb_logon", "smb_access", "smb_access"] { _ = limiter.admit(jail: "smbd", client: "c", kind: kind, now: 0) }
        XCTAssertEqual(limiter.due(now: Int64.max / 2), [.init(jail: "smbd", client: "c", counts: [("smb_access", 2), ("smb_logon", 1)], windowMs: 60_000)])
    }

    /// Attacker-chosen source addresses cannot grow the table without bound: past `maxWindows`, ended windows with
    /// nothing counted go, and then new clients share one window; every alert is still recorded or counted.
    func test_manyClientsShareOneWindowPastTheLimitAndNothingIsLost() {
        var limiter = SmbAlertLimiter()
        limiter.burst = 2
        limiter.maxWindows = 100
        var admitted = 0
        for i in 0..<10_000 { if limiter.admit(jail: "smbd", client: "2001:db8::\(String(i, radix: 16))", kind: "smb_logon", now: 0) { admitted += 1 } }
        let due = limiter.due(now: 60_000)
        XCTAssertEqual(due.map(\.client), [SmbAlertLimiter.otherClients])
        XCTAssertEqual(admitted + due.reduce(0) { $0 + $1.total }, 10_000, "every alert an event or a count")
        XCTAssertEqual(admitted, 100 + 2, "100 clients in full (one alert each), then the shared window's burst")
        // Once their windows ended with nothing counted, new clients get windows of their own again.
        XCTAssertTrue(limiter.admit(jail: "smbd", client: "192.0.2.1", kind: "smb_logon", now: 120_000))
        XCTAssertTrue(limiter.admit(jail: "smbd", client: "192.0.2.1", kind: "smb_logon", now: 120_000))
        XCTAssertFalse(limiter.admit(jail: "smbd", client: "192.0.2.1", kind: "smb_logon", now: 120_000))
        XCTAssertEqual(limiter.due(now: 180_000).map(\.client), ["192.0.2.1"])
    }

    /// Fresh client addresses are cheap: per jail and kind, past `jailBurst` in a window, alerts are counted
    /// whatever their client, under one summary.
    func test_manyClientsShareTheJailsLimit() {
        var limiter = SmbAlertLimiter()
        limiter.windowMs = 1000
        limiter.jailBurst = 200
        var admitted = 0
        for i in 0..<300 where limiter.admit(jail: "smbd", client: "2001:db8::\(i)", kind: "smb_logon", now: 0) { admitted += 1 }
        XCTAssertEqual(admitted, 200)
        XCTAssertEqual(limiter.nextDeadline, 1000)
        XCTAssertEqual(limiter.due(now: 1000), [.init(jail: "smbd", client: SmbAlertLimiter.overJailLimit, counts: [("smb_logon", 100)], windowMs: 1000)])
        XCTAssertNil(limiter.nextDeadline)
    }
}
