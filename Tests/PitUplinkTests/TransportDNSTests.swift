import Glibc
import PitTestSupport
import XCTest
@testable import PitUplink

/// The DNS transport end to end through a real resolver (see `DNSRig`). Needs root only for nothing in particular,
/// but unbound must be installed (image/install-deps).
final class TransportDNSTests: XCTestCase {
    /// A violation, spooled, reaches the console through unbound exactly once and byte-identical; the agent's first
    /// heartbeat arrives too, and the cursor moves only after the console's acknowledgement.
    func testViolationArrivesOnceIntact() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let stored = rig.h.append(1)
        XCTAssertEqual(stored[0].kind, .violation)
        rig.configureAgent(port: rig.resolverPort)
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(20) { rig.events().count >= 1 && rig.h.cursor("console") == 1 },
                      rig.h.agentLog + rig.consoleLog)
        XCTAssertTrue(Proc.waitUntil(10) { rig.lines().contains { $0.heartbeat != nil } }, "heartbeat: " + rig.consoleLog)
        Proc.sleepMs(300)
        XCTAssertEqual(rig.events(), stored)
        XCTAssertEqual(rig.events().map { $0.jsonLine() }, stored.map { $0.jsonLine() })
        XCTAssertTrue(rig.lines().allSatisfy { $0.device == "d1" })
        XCTAssertEqual(rig.h.transportState("console")?.state, "up")
    }

    /// A resolver that never answers (a real UDP socket that reads nothing): each delivery attempt spends one
    /// timeout, and the heartbeat is not sent over the failing link to spend another.
    func testNoHeartbeatIsSentWhileDeliveriesFail() throws {
        let rig = DNSRig()
        let (silent, port) = loopbackSocket(SOCK_DGRAM)
        defer { close(silent) }
        XCTAssertNotEqual(port, 0, "no loopback socket for the silent resolver")
        rig.h.append(1)
        rig.configureAgent(port: port, extra: "timeout_ms = 300\nheartbeat_s = 60")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { (rig.h.transportState("console")?.consecutiveFailures ?? 0) >= 3 }, rig.h.agentLog)
        XCTAssertFalse(rig.h.agentLog.contains("heartbeat"), rig.h.agentLog)
    }

    /// The whole device path: `pit supervise` runs a jail whose grandchild makes a reported syscall; the uplink agent
    /// the supervisor spawned sends the violation over DNS through unbound to the console, once, with its arguments.
    func testSupervisedViolationReachesTheConsoleOverDNS() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let dir = rig.directory
        let (supervisor, log) = superviseViolationProbe(in: dir, config: "supervised.toml", dataDirectory: "sdata", uplink: """
            type = "dns"
            name = "console"
            zone = "\(DNSRig.zone)"
            device = "d1"
            key_file = "device.key"
            resolver = "127.0.0.1:\(rig.resolverPort)"
            """)
        defer { Proc.kill(supervisor, SIGTERM) }
        XCTAssertTrue(Proc.waitUntil(20) { rig.events().contains { $0.kind == .violation } }, log() + rig.consoleLog)
        Proc.sleepMs(500)
        let violations = rig.events().filter { $0.kind == .violation }
        XCTAssertEqual(violations.count, 1)
        XCTAssertEqual(violations.first?.syscall, "uname")
        XCTAssertEqual(violations.first?.args?.first, 0x1234abcd)
        XCTAssertEqual(violations.first?.jail, "probe")
        XCTAssertEqual(Set(rig.events().map(\.seq)).count, rig.events().count, "no event twice")
        XCTAssertTrue(rig.lines().contains { $0.heartbeat != nil }, "the agent's heartbeat")
    }

    /// An event of several KB needs dozens of fragments; they are reassembled into the identical event.
    func testLargeEventIsFragmentedAndReassembled() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        var event = sampleEvents()[0]
        // Random hex: zlib halves it at best, so the message stays several KB after compression.
        event.message = (0..<90).map { _ in EventID.make() + EventID.make() + "\n" }.joined()
        let stored = try rig.h.spool.append(event)
        XCTAssertGreaterThan(stored.jsonBytes().count, 5000)
        var client = try rig.client(port: rig.resolverPort)
        XCTAssertEqual(client.deliver([stored]), .all(1))
        XCTAssertEqual(rig.events(), [stored])
        let fragments = rig.consoleLog.split(separator: "\n").filter { $0.contains("stored event \(stored.seq!) fragment") }
        XCTAssertGreaterThan(fragments.count, 20, "fragmented: " + rig.consoleLog.suffix(500))
        XCTAssertGreaterThan(client.stats.queries, 20)
    }

    /// 30% of datagrams dropped each way between the device and the resolver: every event still arrives, once,
    /// in seq order, large ones included.
    func testThirtyPercentLossDeliversEverythingInOrder() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let port = rig.startRelay(loss: 0.3, seed: 11)
        var stored = rig.h.append(12)
        var big = sampleEvents()[6]
        big.message = (0..<25).map { _ in EventID.make() + EventID.make() }.joined(separator: " ")
        stored.append(try rig.h.spool.append(big))
        stored += rig.h.append(3)
        rig.configureAgent(port: port, extra: "batch = 4")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(60) { rig.h.cursor("console") == stored.last?.seq }, rig.h.agentLog)
        Proc.sleepMs(300)
        XCTAssertEqual(rig.events().map(\.seq), stored.map(\.seq), "once, in order")
        XCTAssertEqual(rig.events(), stored, "intact")
        // The loss really happened: the relay dropped datagrams, and forwarded more queries than events.
        XCTAssertGreaterThan(rig.relayDropped, 0)
        XCTAssertGreaterThan(rig.relayCount, stored.count + 10)
    }

    /// 30% dropped each way between the resolver and the console: the resolver's own retries and timeouts are in
    /// the path. unbound's defaults declare a server that loses this much down (its retransmit timeout climbs to
    /// two minutes; SERVFAIL meanwhile), so this resolver caps it at one second and keeps probing, as a network
    /// carrying such a link would have to. Everything arrives once, in order.
    func testThirtyPercentLossBetweenResolverAndConsole() throws {
        let rig = DNSRig()
        rig.startConsole()
        let relay = rig.startRelay(loss: 0.3, seed: 5, upstream: "127.0.0.2:\(rig.consolePort)")
        try rig.startResolver(stub: "127.0.0.1@\(relay)", extra: ["infra-cache-max-rtt: 1000", "infra-keep-probing: yes"])
        var stored = rig.h.append(5)
        var big = sampleEvents()[0]
        big.message = (0..<12).map { _ in EventID.make() + EventID.make() }.joined(separator: " ")
        stored.append(try rig.h.spool.append(big))
        stored += rig.h.append(2)
        rig.configureAgent(port: rig.resolverPort, extra: "heartbeat_s = 0\ntimeout_ms = 20000")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(60) { rig.h.cursor("console") == stored.last?.seq }, rig.h.agentLog)
        Proc.sleepMs(300)
        XCTAssertEqual(rig.events(), stored, "once, in order, intact")
        XCTAssertGreaterThan(rig.relayDropped, 0, "the relay dropped nothing")
        XCTAssertGreaterThan(rig.relayCount, stored.count * 2, "the resolver had to retry")
    }

    /// The console is killed while it holds part of a message and comes back empty-handed: the device notices
    /// that no answer completes the message and sends it again; the event arrives once.
    func testConsoleRestartMidMessage() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let port = rig.startRelay(loss: 0)
        // The relay lets 10 queries through, then goes silent both ways: the console is left with a partial message.
        Files.write(rig.relayControl, Array("pass 10".utf8))
        var event = sampleEvents()[0]
        event.message = (0..<30).map { _ in EventID.make() + EventID.make() }.joined(separator: ",")
        let stored = try rig.h.spool.append(event)
        rig.configureAgent(port: port, extra: "heartbeat_s = 0")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(20) { rig.relayCount >= 10 && rig.consoleLog.contains("stored event 1 fragment") },
                      rig.consoleLog)
        Proc.sleepMs(300)
        XCTAssertFalse(rig.consoleLog.contains("completed event"), "the message must still be partial")
        XCTAssertEqual(rig.events(), [])
        rig.stopConsole()
        rig.startConsole()
        Files.write(rig.relayControl, Array("pass -1".utf8))
        XCTAssertTrue(Proc.waitUntil(40) { rig.h.cursor("console") == 1 }, rig.h.agentLog + rig.consoleLog.suffix(1000))
        Proc.sleepMs(300)
        XCTAssertEqual(rig.events(), [stored])
        // The second console received the message from its first fragment on, not only the ones the first lacked.
        let second = String(decoding: Files.read(rig.consoleLogPath(2)), as: UTF8.self)
        XCTAssertTrue(second.contains("completed event 1 from d1"), second)
    }

    /// A replayed query is answered `duplicate` and writes nothing, also after a console restart; a tampered label,
    /// a query for device d2 sealed with d1's key, and an unknown device are refused (the resolver turns REFUSED
    /// into SERVFAIL) and write nothing.
    func testReplayTamperAndForeignKeyAreRejected() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let time = Array("2026-11-29T00:00:00.000Z".utf8)
        let first = rig.query(id: 1_000, body: time)
        let answer = DNSRig.exchange(first.bytes, host: "127.0.0.1", port: rig.resolverPort)
        XCTAssertEqual(rig.ack(answer, nonce: first.nonce)?.status, .complete, rig.consoleLog)
        XCTAssertEqual(rig.lines().count, 1)

        // Replay: the same bytes straight to the console (a recorded query can be sent anywhere).
        let replay = DNSRig.exchange(first.bytes, host: "127.0.0.2", port: rig.consolePort)
        XCTAssertEqual(rig.ack(replay, nonce: first.nonce)?.status, .duplicate)
        rig.stopConsole()
        rig.startConsole()
        let replayAfterRestart = DNSRig.exchange(first.bytes, host: "127.0.0.2", port: rig.consolePort)
        XCTAssertEqual(rig.ack(replayAfterRestart, nonce: first.nonce)?.status, .duplicate)
        XCTAssertEqual(rig.lines().count, 1, "a replay writes nothing")

        // Tampered: one Base32 character of the first label changed.
        var tampered = rig.query(id: 2_000, body: time)
        var label = tampered.name.labels[0]
        label[5] = label[5] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        tampered.name.labels[0] = label
        var message = try DNSMessage.parse(tampered.bytes)
        message.questions[0].name = tampered.name
        XCTAssertEqual(DNSRig.exchange(message.encoded(), host: "127.0.0.2", port: rig.consolePort)?.rcode, DNSRcode.refused)
        XCTAssertEqual(DNSRig.exchange(message.encoded(), host: "127.0.0.1", port: rig.resolverPort)?.rcode, DNSRcode.servFail)

        // Device d2 has a key of its own; a query in d2's name sealed with d1's key fails.
        let foreign = rig.query(id: 3_000, body: time, device: "d2")
        XCTAssertEqual(DNSRig.exchange(foreign.bytes, host: "127.0.0.2", port: rig.consolePort)?.rcode, DNSRcode.refused)
        XCTAssertEqual(DNSRig.exchange(foreign.bytes, host: "127.0.0.1", port: rig.resolverPort)?.rcode, DNSRcode.servFail)
        let unknown = rig.query(id: 4_000, body: time, device: "d9")
        XCTAssertEqual(DNSRig.exchange(unknown.bytes, host: "127.0.0.2", port: rig.consolePort)?.rcode, DNSRcode.refused)

        XCTAssertEqual(rig.lines().count, 1, "nothing rejected was written")
        XCTAssertTrue(rig.consoleLog.contains("does not verify under d2's key"), rig.consoleLog)
        XCTAssertTrue(rig.consoleLog.contains("no key for device d9"), rig.consoleLog)
        // The untouched query still works: the rejections did not poison the device's state.
        let good = rig.query(id: 2_000, body: time)
        XCTAssertEqual(rig.ack(DNSRig.exchange(good.bytes, host: "127.0.0.1", port: rig.resolverPort), nonce: good.nonce)?.status,
                       .complete)
        XCTAssertEqual(rig.lines().count, 2)
    }

    /// unbound limits its UDP answers below the size of the console's answer: the device gets TC and asks again
    /// over TCP; the event arrives.
    func testTruncatedAnswerIsFetchedOverTCP() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver(maxUDP: 300)
        let stored = rig.h.append(2)
        var client = try rig.client(port: rig.resolverPort)
        XCTAssertEqual(client.deliver(stored), .all(2))
        XCTAssertEqual(rig.events(), stored)
        XCTAssertGreaterThanOrEqual(client.stats.tcpFallbacks, 2, "every answer came truncated")
    }

    /// Pipelined delivery under 30% loss, the agent killed with SIGKILL three times while the console had written
    /// events its cursor did not cover yet: those are sent again and answered `duplicate` (same digest), so every
    /// event is written exactly once and in seq order, though answers complete messages out of order.
    func testPipelinedAgentKilledMidBatchWritesEveryEventOnceInOrder() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let port = rig.startRelay(loss: 0.3, seed: 3)
        let stored = rig.h.append(60)
        rig.configureAgent(port: port, extra: "batch = 60\nheartbeat_s = 0")
        var aheadOfCursor = 0
        for round in 1...3 {
            rig.h.startAgent()
            _ = Proc.waitUntil(30) { rig.events().count >= round * 12 }
            rig.h.stopAgent()
            if rig.events().count > Int(rig.h.cursor("console") ?? 0) { aheadOfCursor += 1 }
        }
        XCTAssertGreaterThan(aheadOfCursor, 0, "no kill found the console ahead of the cursor: the test proved nothing")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(90) { rig.h.cursor("console") == 60 }, rig.h.agentLog)
        Proc.sleepMs(300)
        XCTAssertEqual(rig.events().map(\.seq), stored.map(\.seq), "once each, in seq order")
        XCTAssertEqual(rig.events(), stored)
        XCTAssertTrue(rig.consoleLog.contains("duplicate event"), "re-sent after a kill: " + rig.consoleLog.suffix(500))
        XCTAssertTrue(rig.consoleLog.contains("holding event"), "answers completed out of order at least once")
    }
}
