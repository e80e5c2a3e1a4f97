import Glibc
import PitTOML
import XCTest
@testable import PitUplink

final class TransportSyslogTests: XCTestCase {
    /// The exact bytes of one message: PRI, version, header fields, SD element, JSON MSG, octet-count frame.
    func testMessageFormatIsExact() {
        var event = PitEvent.violation(jail: "smbd", pid: 7, comm: "sh", exe: "/bin/sh", arch: "x86_64", syscall: "ptrace",
                                       nr: 101, args: [1], action: .kill, policy: nil, policyHash: nil)
        event.id = String(repeating: "ab", count: 16)
        event.time = "2026-11-29T01:02:03.456Z"
        event.seq = 42
        let message = SyslogFormat.message(event, hostname: "pit-07", appName: "pit", facility: 21)
        let expected = "<169>1 2026-11-29T01:02:03.456Z pit-07 pit - violation [pit@32473 id=\"\(event.id)\" seq=\"42\" "
            + "kind=\"violation\"] " + event.jsonLine()
        XCTAssertEqual(String(decoding: message, as: UTF8.self), expected)
        XCTAssertEqual(String(decoding: SyslogFormat.octetCounted(message), as: UTF8.self), "\(message.count) " + expected)
        // Severity by kind: informational for a test event, facility configurable.
        var test = PitEvent.uplinkTest(message: "x")
        test.time = event.time
        XCTAssertTrue(String(decoding: SyslogFormat.message(test, hostname: "h", appName: "a", facility: 16), as: UTF8.self)
            .hasPrefix("<134>1 "))
        XCTAssertFalse(String(decoding: SyslogFormat.message(test, hostname: "h", appName: "a", facility: 16), as: UTF8.self)
            .contains("seq="), "no seq outside the spool")
        XCTAssertEqual(SyslogFormat.escapeParam("a\"b\\c]d"), "a\\\"b\\\\c\\]d")
    }

    /// The vendor's own enterprise number in the SD-ID, and Pit's version beside the id; a malformed SD-ID is a
    /// config error naming the field.
    func testSDIDIsConfigurableAndCarriesTheVersion() throws {
        var event = PitEvent.uplinkTest(message: "x")
        event.id = String(repeating: "cd", count: 16)
        event.pitVersion = "0.7.0-dev+g0123456789ab"
        let text = String(decoding: SyslogFormat.message(event, hostname: "h", appName: "pit", facility: 21, sdID: "acme@41234"),
                          as: UTF8.self)
        XCTAssertTrue(text.contains("[acme@41234 id=\"\(event.id)\" kind=\"uplink_test\" version=\"0.7.0-dev+g0123456789ab\"] {"), text)
        let table = "[[uplink]]\ntype = \"syslog\"\nname = \"s\"\nhost = \"127.0.0.1\"\nport = 514\n"
        for good in ["acme@41234", "pit@32473", "x@1.2.3", "x@32473.1"] {
            let fields = try TOMLFields(TOML.parse(table + "sd_id = \"\(good)\"\n", file: "d.toml"), file: "d.toml")
            guard case .syslog(let syslog) = try UplinkConfig.parse(fields.tables("uplink") ?? [])[0].kind else { return XCTFail() }
            XCTAssertEqual(syslog.sdID, good)
        }
        for bad in ["acme", "acme@", "@41234", "ac me@1", "a=b@1", "acme@12x", String(repeating: "a", count: 30) + "@12345", "x@.", "x@1..2", "x@1."] {
            let fields = try TOMLFields(TOML.parse(table + "sd_id = \"\(bad)\"\n", file: "d.toml"), file: "d.toml")
            XCTAssertThrowsError(try UplinkConfig.parse(fields.tables("uplink") ?? []), bad) { error in
                XCTAssertTrue("\(error)".contains("d.toml:6") && "\(error)".contains("sd_id"), "\(error)")
            }
        }
    }

    func testTruncationKeepsHeaderAndCutsAtCharacterBoundary() {
        let message = Array("<169>1 header ".utf8) + Array(String(repeating: "\u{4e2d}", count: 30_000).utf8)  // 3 bytes each
        let cut = SyslogFormat.truncated(message)
        XCTAssertLessThanOrEqual(cut.count, SyslogFormat.maxDatagram)
        XCTAssertGreaterThan(cut.count, SyslogFormat.maxDatagram - 4)
        XCTAssertEqual(String(validating: cut, as: UTF8.self)?.utf8.count, cut.count, "valid UTF-8 after the cut")
        XCTAssertEqual(Array(cut.prefix(14)), Array("<169>1 header ".utf8))
        XCTAssertEqual(SyslogFormat.truncated(Array("short".utf8)), Array("short".utf8))
    }

    func testTCPDeliversOnceInOrderIntact() {
        let h = AgentHarness()
        let receiver = Receiver("syslog-tcp", in: h.temp.path)
        receiver.start()
        let stored = h.append(60)
        h.configure("""
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "tcp"
            host = "127.0.0.1"
            port = \(receiver.port)
            hostname = "pit-test"
            batch = 7
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(15) { receiver.events().count >= 60 }, h.agentLog)
        // A few more while it runs: inotify must wake it.
        let more = h.append(5)
        XCTAssertTrue(Proc.waitUntil(15) { receiver.events().count >= 65 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored + more)
        XCTAssertEqual(receiver.records().filter { $0.bad != nil }.map(\.bad), [])
        XCTAssertEqual(receiver.events().first?.host, "pit-test")
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("siem")?.lastDeliveredSeq == 65 })
        let state = h.transportState("siem")
        XCTAssertEqual(state?.state, "up")
        XCTAssertEqual(state?.queued, 0)
        XCTAssertEqual(state?.type, "syslog")
        XCTAssertNil(state?.lastError)
        XCTAssertEqual(h.cursor("siem"), 65)
    }

    func testUDPOneDatagramPerEventAndOversizedTruncated() {
        let h = AgentHarness()
        let receiver = Receiver("syslog-udp", in: h.temp.path)
        receiver.start()
        var stored = h.append(20)
        var big = PitEvent.configError(message: String(repeating: "x", count: 100_000))
        big.id = EventID.make()
        let bigStored = try! h.spool.append(big)
        stored += h.append(5)
        h.configure("""
            [[uplink]]
            type = "syslog"
            name = "udp1"
            protocol = "udp"
            host = "127.0.0.1"
            port = \(receiver.port)
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(15) { receiver.records().count >= 26 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
        XCTAssertEqual(receiver.records().filter { $0.bad != nil }.map(\.bad), [])
        let truncated = receiver.records().filter { $0.truncated == true }
        XCTAssertEqual(truncated.count, 1)
        XCTAssertEqual(truncated.first?.id, bigStored.id, "the SD element survives truncation")
        XCTAssertEqual(truncated.first?.seq, bigStored.seq)
        XCTAssertLessThanOrEqual(truncated.first?.size ?? .max, SyslogFormat.maxDatagram)
        XCTAssertTrue(Proc.waitUntil(5) { h.cursor("udp1") == 26 })
    }

    /// Receiver down: back-off with the error in state.json; more events meanwhile; receiver up on the same port:
    /// everything arrives, in order, nothing lost.
    func testReceiverDownThenUp() {
        let h = AgentHarness()
        let receiver = Receiver("syslog-tcp", in: h.temp.path)
        receiver.start()
        let port = receiver.port
        receiver.stop()
        var stored = h.append(15)
        h.configure("""
            [[uplink]]
            type = "syslog"
            name = "siem"
            host = "127.0.0.1"
            port = \(port)
            backoff_base_ms = 50
            backoff_max_ms = 200
            down_after = 3
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { h.transportState("siem")?.lastError?.contains("Connection refused") == true },
                      h.agentLog)
        XCTAssertTrue(Proc.waitUntil(10) { h.transportState("siem")?.state == "down" })
        XCTAssertEqual(h.transportState("siem")?.queued, 15)
        XCTAssertEqual(h.transportState("siem")?.lastDeliveredSeq, 0)
        stored += h.append(15)
        Proc.sleepMs(300)
        receiver.start(port: port)
        XCTAssertTrue(Proc.waitUntil(15) { receiver.events().count >= 30 }, h.agentLog)
        Proc.sleepMs(300)
        assertDeliveredOnce(receiver.events(), stored)
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("siem")?.state == "up" })
        XCTAssertNil(h.transportState("siem")?.lastError)
    }

    /// Two transports: one dead receiver does not hold the other back.
    func testTransportsAreIndependent() {
        let h = AgentHarness()
        let good = Receiver("syslog-tcp", in: h.temp.path)
        good.start()
        let stored = h.append(10)
        h.configure("""
            [[uplink]]
            type = "syslog"
            name = "dead"
            host = "127.0.0.1"
            port = 1
            backoff_base_ms = 20
            backoff_max_ms = 100

            [[uplink]]
            type = "syslog"
            name = "good"
            host = "127.0.0.1"
            port = \(good.port)
            """)
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { good.events().count >= 10 }, h.agentLog)
        assertDeliveredOnce(good.events(), stored)
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("dead")?.state != "up" && h.transportState("good")?.state == "up" })
        XCTAssertEqual(h.cursor("dead"), 0, "registered with cursor 0 so eviction waits for it")
    }
}
