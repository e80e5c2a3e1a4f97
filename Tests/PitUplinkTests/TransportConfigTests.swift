import XCTest
import PitTOML
@testable import PitUplink

final class TransportConfigTests: XCTestCase {
    func parse(_ text: String) throws(TOMLError) -> [TransportConfig] {
        let fields = TOMLFields(try TOML.parse(text, file: "/etc/pit/device.toml"), file: "/etc/pit/device.toml")
        return try UplinkConfig.parse(fields.tables("uplink") ?? [])
    }

    func error(_ text: String) -> String {
        do { _ = try parse(text); return "no error" } catch { return error.description }
    }

    func testParsesAllThreeKinds() throws {
        let configs = try parse("""
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "udp"
            host = "10.0.0.5"
            port = 514
            facility = 16
            backoff_base_ms = 200

            [[uplink]]
            type = "https"
            name = "cloud"
            url = "https://collector.example:8443/v1/events"
            ca_file = "ca.pem"
            hmac_key_file = "/etc/pit/uplink.key"
            batch = 50

            [[uplink]]
            type = "unix"
            name = "local-agent"
            path = "agent.sock"
            """)
        XCTAssertEqual(configs.map(\.name), ["siem", "cloud", "local-agent"])
        XCTAssertEqual(configs[0].kind, .syslog(.init(protocol: .udp, host: "10.0.0.5", port: 514, hostname: nil,
                                                      appName: "pit", facility: 16)))
        XCTAssertEqual(configs[0].backoffBaseMs, 200)
        XCTAssertEqual(configs[1].kind, .https(.init(url: "https://collector.example:8443/v1/events",
                                                     host: "collector.example", port: 8443, path: "/v1/events",
                                                     caFile: "/etc/pit/ca.pem", pinSHA256: nil,
                                                     hmacKeyFile: "/etc/pit/uplink.key", device: nil)))
        XCTAssertEqual(configs[1].batch, 50)
        XCTAssertEqual(configs[2].kind, .unix(.init(path: "/etc/pit/agent.sock")))
    }

    func testErrorsPointAtTheValue() {
        XCTAssertEqual(error("""
            [[uplink]]
            type = "syslog"
            name = "siem"
            host = "h"
            port = 70000
            """), "/etc/pit/device.toml:5:8: uplink[0].port: must be from 1 to 65535")
        XCTAssertEqual(error("""
            [[uplink]]
            type = "syslog"
            name = "Bad Name"
            host = "h"
            port = 1
            """), "/etc/pit/device.toml:3:8: uplink[0].name: must be 1-32 of [a-z0-9_-]")
        XCTAssertEqual(error("""
            [[uplink]]
            type = "carrier-pigeon"
            name = "p"
            """), "/etc/pit/device.toml:2:8: uplink[0].type: must be \"syslog\", \"https\", \"unix\" or \"dns\", found \"carrier-pigeon\"")
        XCTAssertTrue(error("""
            [[uplink]]
            type = "unix"
            name = "a"
            path = "/x"
            [[uplink]]
            type = "unix"
            name = "a"
            path = "/y"
            """).hasPrefix("/etc/pit/device.toml:7:8: uplink[1].name: a transport named 'a' is already defined"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "https"
            name = "c"
            url = "https://h/p"
            hmac_key_file = "k"
            """).contains("uplink[0].url: needs ca_file or pin_sha256"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "https"
            name = "c"
            url = "http://h/p"
            pin_sha256 = "00"
            hmac_key_file = "k"
            """).contains("uplink[0].url: must be https://"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "https"
            name = "c"
            url = "https://h/p"
            pin_sha256 = "00"
            hmac_key_file = "k"
            """).contains("uplink[0].pin_sha256: must be 64 hex digits"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "syslog"
            name = "s"
            host = "h"
            port = 1
            protocl = "udp"
            """).contains("unknown field 'uplink[0].protocl' (did you mean 'protocol'?)"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "syslog"
            name = "s"
            port = 1
            """).contains("missing required field 'uplink[0].host'"))
        XCTAssertTrue(error("""
            [[uplink]]
            type = "syslog"
            name = "s"
            host = "h"
            port = 1
            backoff_base_ms = 5000
            backoff_max_ms = 100
            """).contains("uplink[0].backoff_max_ms: must not be below backoff_base_ms"))
    }

    func testURLParsing() {
        let plain = HTTPURL("https://h")
        XCTAssertEqual([plain?.host, plain.map { String($0.port) }, plain?.path], ["h", "443", "/"])
        let v6 = HTTPURL("https://[::1]:8443/x?y=1")
        XCTAssertEqual([v6?.host, v6.map { String($0.port) }, v6?.path], ["::1", "8443", "/x?y=1"])
        XCTAssertNil(HTTPURL("https://h:0/"))
        XCTAssertNil(HTTPURL("https://u@h/"))
        XCTAssertNil(HTTPURL("https://h/a b"))
    }

    func testHTTPStatusLine() throws {
        XCTAssertNil(try HTTPClient.parseStatus(Array("HTTP/1.1 200".utf8), target: "t"))
        XCTAssertEqual(try HTTPClient.parseStatus(Array("HTTP/1.1 401 Unauthorized\r\n".utf8), target: "t")?.status, 401)
        XCTAssertThrowsError(try HTTPClient.parseStatus(Array("SSH-2.0-OpenSSH\r\n".utf8), target: "t"))
        XCTAssertThrowsError(try HTTPClient.parseStatus([UInt8](repeating: 0x41, count: 20_000), target: "t"))
    }

    func testBackoffGrowsWithJitterWithinBounds() {
        var agent = UplinkAgent(config: UplinkAgentConfig(file: "", dataDirectory: "/nonexistent", transports: []))
        var config = TransportConfig(name: "t", kind: .unix(.init(path: "/x")))
        config.backoffBaseMs = 100
        config.backoffMaxMs = 1000
        for failures in 1...70 {
            let nominal = min(1000, 100 << min(failures - 1, 20))
            let delay = agent.backoff(failures: failures, config: config)
            XCTAssertGreaterThanOrEqual(delay, Int64(nominal / 2), "failures \(failures)")
            XCTAssertLessThanOrEqual(delay, Int64(nominal), "failures \(failures)")
        }
        let samples = Set((0..<20).map { _ in agent.backoff(failures: 3, config: config) })
        XCTAssertGreaterThan(samples.count, 1, "jittered")
    }

    /// The spool's owner sees cursors the agent committed from another process before it evicts.
    func testReloadCursorsSeesAgentCommits() throws {
        let temp = TemporaryDirectory("pit-transport")
        let spool = try Spool.open(directory: temp.spool, limitBytes: 1 << 20)
        for _ in 0..<3 { try spool.append(.boot()) }
        try Spool.commitCursor(directory: temp.spool, transport: "siem", seq: 2)
        XCTAssertEqual(spool.cursor(for: "siem"), 0)
        try spool.reloadCursors()
        XCTAssertEqual(spool.cursor(for: "siem"), 2)
        XCTAssertEqual(try Spool.readCursor(directory: temp.spool, transport: "siem"), 2)
        XCTAssertNil(try Spool.readCursor(directory: temp.spool, transport: "other"))
        XCTAssertEqual(try Spool.pendingCount(directory: temp.spool, after: 1), 2)
    }

    /// readPending returns what Spool.read returns, for every cursor, while skipping delivered segments.
    func testReadPendingMatchesReadAcrossSegments() throws {
        let temp = TemporaryDirectory("pit-transport")
        let spool = try Spool.open(directory: temp.spool, limitBytes: 64 << 10)  // rolls every 8 KiB
        var events = sampleEvents()
        for i in 0..<150 { events[i % events.count].id = EventID.make(); try spool.append(events[i % events.count]) }
        XCTAssertGreaterThan(spool.segmentCount, 3)
        let all = try Spool.read(directory: temp.spool)
        for after in [0, 1, 37, 75, 120, 149, 150, 400] as [UInt64] {
            for limit in [1, 7, Int.max] {
                XCTAssertEqual(try Spool.readPending(directory: temp.spool, after: after, limit: limit),
                               try Spool.read(directory: temp.spool, after: after, limit: limit), "after \(after)")
            }
            XCTAssertEqual(try Spool.pendingCount(directory: temp.spool, after: after),
                           all.filter { $0.seq! > after }.count)
        }
        XCTAssertLessThan(try Spool.segmentsAbove(directory: temp.spool, seq: 140).count, spool.segmentCount,
                          "delivered segments are skipped")
    }

    func testStatusCommandReadsState() {
        let temp = TemporaryDirectory("pit-transport")
        XCTAssertNotEqual(Shell.run([Shell.built("pit"), "uplink", "status", "--data-dir", temp.path]).status, 0,
                          "no state file: an error, not an empty listing")
        let state = UplinkState(pid: 1, updated: "2026-11-29T01:02:03.456Z", transports: [
            .init(name: "siem", type: "syslog", state: "backoff", lastError: "connect h:1: Connection refused",
                  lastDeliveredSeq: 4, queued: 2, nextAttemptInMs: 800, consecutiveFailures: 1)])
        try! state.write(dataDirectory: temp.path)
        XCTAssertEqual(try? UplinkState.load(dataDirectory: temp.path), state)
        let json = Shell.run([Shell.built("pit"), "uplink", "status", "--data-dir", temp.path, "--json"])
        XCTAssertEqual(json.status, 0)
        XCTAssertTrue(json.stdout.contains("\"last_error\":\"connect h:1: Connection refused\""), json.stdout)
        XCTAssertTrue(json.stdout.contains("\"next_attempt_in_ms\":800"), json.stdout)
        let text = Shell.run([Shell.built("pit"), "uplink", "status", "--data-dir", temp.path])
        XCTAssertTrue(text.stdout.contains("siem (syslog): backoff, delivered up to seq 4, 2 queued"), text.stdout)
    }
}
