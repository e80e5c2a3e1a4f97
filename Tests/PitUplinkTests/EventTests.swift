import XCTest
@testable import PitUplink

final class EventTests: XCTestCase {
    func testEveryKindRoundTripsThroughItsJSONLine() throws {
        let events = sampleEvents()
        XCTAssertEqual(Set(events.map(\.kind)), Set(PitEvent.Kind.allCases), "the samples cover every kind")
        for var event in events {
            event.seq = 77
            let line = event.jsonLine()
            XCTAssertEqual(try PitEvent.decode(jsonLine: line), event, line)
        }
    }

    func testJSONLineIsOneLineWithSortedKeysNoSpacesAndNoAbsentFields() throws {
        var event = PitEvent.serviceExit(jail: "nmbd", exitStatus: 1, message: "line one\nline two")
        event.id = "0123456789abcdef0123456789abcdef"
        event.time = "2026-11-29T01:02:03.456Z"
        event.seq = 5
        XCTAssertEqual(event.jsonLine(),
                       #"{"exit_status":1,"id":"0123456789abcdef0123456789abcdef","jail":"nmbd","kind":"service_exit","#
                       + #""message":"line one\nline two","seq":5,"time":"2026-11-29T01:02:03.456Z","v":1}"#)
    }

    func testEveryDocumentedFieldNameDecodesFromALiteralLine() throws {
        // Written by hand from the table in EVENTS.md: if a key is renamed in code, this stops decoding.
        let line = #"{"action":"errno","arch":"aarch64","args":[1,2,3,4,5,18446744073709551615],"client":"192.0.2.9","#
            + #""client_port":50123,"comm":"smbd","details":{"a":"b"},"device":"canary-7","domain":"ACME","#
            + #""exe":"/usr/sbin/smbd","exit_status":3,"file":"x.doc","guest":true,"#
            + #""id":"ffffffffffffffffffffffffffffffff","jail":"smbd","kind":"violation","message":"m","nr":117,"#
            + #""operation":"open","pid":99,"policy":"/etc/pit/smbd.policy","policy_hash":"abc","restarts":2,"#
            + #""seq":18446744073709551615,"share":"s","signal":31,"status":"ok","success":false,"syscall":"ptrace","#
            + #""time":"2026-11-29T01:02:03.456Z","user":"bob","v":1,"workstation":"KALI"}"#
        let e = try PitEvent.decode(jsonLine: line)
        XCTAssertEqual(e.v, 1)
        XCTAssertEqual(e.id, "ffffffffffffffffffffffffffffffff")
        XCTAssertEqual(e.seq, UInt64.max)
        XCTAssertEqual(e.time, "2026-11-29T01:02:03.456Z")
        XCTAssertEqual(e.kind, .violation)
        XCTAssertEqual(e.device, "canary-7")
        XCTAssertEqual(e.jail, "smbd")
        XCTAssertEqual(e.pid, 99)
        XCTAssertEqual(e.comm, "smbd")
        XCTAssertEqual(e.exe, "/usr/sbin/smbd")
        XCTAssertEqual(e.arch, "aarch64")
        XCTAssertEqual(e.syscall, "ptrace")
        XCTAssertEqual(e.nr, 117)
        XCTAssertEqual(e.args, [1, 2, 3, 4, 5, UInt64.max])
        XCTAssertEqual(e.action, .errno)
        XCTAssertEqual(e.policy, "/etc/pit/smbd.policy")
        XCTAssertEqual(e.policyHash, "abc")
        XCTAssertEqual(e.domain, "ACME")
        XCTAssertEqual(e.workstation, "KALI")
        XCTAssertEqual(e.clientPort, 50123)
        XCTAssertEqual(e.success, false)
        XCTAssertEqual(e.guest, true)
        XCTAssertEqual(e.exitStatus, 3)
        XCTAssertEqual(e.signal, 31)
        XCTAssertEqual(e.restarts, 2)
        XCTAssertEqual(e.user, "bob")
        XCTAssertEqual(e.client, "192.0.2.9")
        XCTAssertEqual(e.share, "s")
        XCTAssertEqual(e.file, "x.doc")
        XCTAssertEqual(e.operation, "open")
        XCTAssertEqual(e.status, "ok")
        XCTAssertEqual(e.message, "m")
        XCTAssertEqual(e.details, ["a": "b"])
        // And back: the same keys, byte for byte.
        XCTAssertEqual(e.jsonLine(), line)
    }

    func testKindsHaveTheirDocumentedWireNames() {
        XCTAssertEqual(PitEvent.Kind.allCases.map(\.rawValue),
                       ["violation", "service_exit", "restart", "crash_loop", "watchdog_reset", "config_error",
                        "smb_access", "smb_logon", "smb_enumeration", "uplink_test", "boot", "safe_mode", "health", "config_applied", "control_refused",
                        "spool_damage", "violations_suppressed", "smb_alerts_suppressed", "runtime_fault", "decoy_access",
                        "uplink_alarm", "dhcp_lease", "dhcp_lost"])
        XCTAssertEqual(PitEvent.Action.allCases.map(\.rawValue), ["kill", "errno", "log"])
    }

    func testDecodingRejectsGarbageAndUnknownKinds() {
        XCTAssertThrowsError(try PitEvent.decode(jsonLine: "{"))
        XCTAssertThrowsError(try PitEvent.decode(jsonLine:
            #"{"id":"00000000000000000000000000000000","kind":"teleport","time":"x","v":1}"#))
    }

    func testViolationAlwaysCarriesSixArguments() {
        let short = PitEvent.violation(jail: nil, pid: 1, comm: nil, exe: nil, arch: "x86_64", syscall: "kill", nr: 62,
                                       args: [9], action: .log, policy: nil, policyHash: nil)
        XCTAssertEqual(short.args, [9, 0, 0, 0, 0, 0])
    }

    func testIdsAre32HexCharactersAndUnique() {
        let ids = (0..<2000).map { _ in EventID.make() }
        XCTAssertTrue(ids.allSatisfy(EventID.isValid), "\(ids.first { !EventID.isValid($0) } ?? "")")
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertFalse(EventID.isValid("0123456789ABCDEF0123456789ABCDEF"), "uppercase is not the format")
    }

    func testTimesAreRFC3339UTCWithMilliseconds() {
        // Expected values from `date -u -d @SECONDS`.
        XCTAssertEqual(EventTime.format(seconds: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(EventTime.format(seconds: 951_782_400, nanoseconds: 1_000_000), "2000-02-29T00:00:00.001Z")
        XCTAssertEqual(EventTime.format(seconds: 1_795_915_590, nanoseconds: 456_999_999), "2026-11-29T01:26:30.456Z")
        XCTAssertEqual(EventTime.format(seconds: -1, nanoseconds: 999_000_000), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(EventTime.format(seconds: 1_709_251_199), "2024-02-29T23:59:59.000Z")
        XCTAssertEqual(EventTime.format(seconds: 4_102_444_800), "2100-01-01T00:00:00.000Z")
        XCTAssertEqual(EventTime.format(seconds: 253_402_300_799), "9999-12-31T23:59:59.000Z")
    }

    func testNowIsTheCurrentTimeInTheDocumentedShape() {
        let now = EventTime.now()
        let shape = Array(now.utf8).map { (0x30...0x39).contains($0) ? UInt8(ascii: "9") : $0 }
        XCTAssertEqual(String(decoding: shape, as: UTF8.self), "9999-99-99T99:99:99.999Z", now)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        XCTAssertEqual(String(now.prefix(16)), String(EventTime.format(seconds: Int64(ts.tv_sec)).prefix(16)),
                       "same minute (may flake only across a minute boundary)")
    }
}
