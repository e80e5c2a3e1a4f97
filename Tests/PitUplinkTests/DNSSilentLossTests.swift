import Glibc
import PitTestSupport
import XCTest
@testable import PitUplink

/// Issue 24's silent-loss paths, each end to end through the real resolver (`DNSRig`): after a spool reset, with two
/// devices cloned under one id, after a console state reset plus a replay of captured old queries, after a
/// far-future clock, and with a key replaced while the console runs. In every one the event is written by the
/// console, or the device raises an alarm and keeps it; it is never counted delivered without a line.
final class DNSSilentLossTests: XCTestCase {
    /// A spool of its own in the rig's directory (a second device, or the same device after a reset).
    func openSpool(_ rig: DNSRig, _ name: String) throws -> Spool {
        try Spool.open(directory: rig.directory + "/" + name, limitBytes: 16 << 20)
    }

    func append(_ spool: Spool, _ count: Int, tag: String) throws -> [PitEvent] {
        try (0..<count).map { i in
            var event = sampleEvents()[i % sampleEvents().count]
            event.id = EventID.make()
            event.message = "\(tag) \(i)"
            return try spool.append(event)
        }
    }

    /// The reproduction: the spool is reset (seqs start over at 1), the device keeps its id and key. The
    /// new seqs are a new epoch for the console, so they are written, not answered `duplicate`.
    func testSpoolResetStartsANewEpochAndEveryEventIsWritten() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let directory = rig.directory + "/spool-reset"
        var first: [PitEvent]
        var oldEpoch: UInt64
        do {
            let spool = try openSpool(rig, "spool-reset")
            oldEpoch = spool.epoch
            first = try append(spool, 5, tag: "before reset")
            var client = try rig.client(port: rig.resolverPort, spool: directory)
            XCTAssertEqual(client.deliver(first), .all(5), rig.consoleLog)
        }
        // The reset: the events and cursors removed (`rm spool/*.log spool/cursor.*`), the epoch file left behind:
        // nothing bounds the seqs any more, so the spool must make a new epoch (a wiped directory has none anyway).
        for name in try FileIO.list(directory) where name != "epoch" { unlink(directory + "/" + name) }
        XCTAssertEqual(Spool.readEpoch(directory: directory), oldEpoch)
        let spool = try openSpool(rig, "spool-reset")
        XCTAssertNotEqual(spool.epoch, oldEpoch, "a reset spool has a new epoch")
        XCTAssertEqual(Spool.readEpoch(directory: directory), spool.epoch)
        let second = try append(spool, 4, tag: "after reset")
        XCTAssertEqual(second.map(\.seq), [1, 2, 3, 4], "seqs start over")
        var client = try rig.client(port: rig.resolverPort, spool: directory)
        XCTAssertEqual(client.deliver(second), .all(4), rig.consoleLog)
        XCTAssertNil(client.alarm)
        XCTAssertEqual(rig.events(), first + second, "every event written, once: " + rig.consoleLog)

        // Reopened without a reset, the epoch stays (seqs go on).
        let reopenedEpoch = spool.epoch
        let more = try append(spool, 1, tag: "same spool")
        XCTAssertEqual(more[0].seq, 5)
        XCTAssertEqual(Spool.readEpoch(directory: directory), reopenedEpoch)
    }

    /// Two boxes cloned with one device id. Same spool (an image copied with its spool): the clone's own event under
    /// a seq the console already holds from the other is a `conflict`, and a clone that is behind sees a mark above
    /// anything its spool assigned; either way an alarm, the event kept. Different spools (different epochs): the
    /// second epoch retires the first, whose device then gets `retired` and alarms.
    func testClonedDevicesRaiseAnAlarmAndKeepTheirEvents() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let a = try openSpool(rig, "spool-a")
        let common = try append(a, 2, tag: "before cloning")
        // The clone: a copy of A's spool directory (its epoch file too), opened by the second box.
        XCTAssertEqual(Process.run(["/bin/cp", "-a", rig.directory + "/spool-a", rig.directory + "/spool-b"]).status, 0)
        unlink(rig.directory + "/spool-b/lock")
        let b = try openSpool(rig, "spool-b")
        XCTAssertEqual(a.epoch, b.epoch, "cloned with its spool")
        let aOwn = try append(a, 3, tag: "box A")
        let bOwn = try append(b, 1, tag: "box B")
        XCTAssertEqual(bOwn[0].seq, 3)

        var clientA = try rig.client(port: rig.resolverPort, spool: rig.directory + "/spool-a")
        XCTAssertEqual(clientA.deliver(common + aOwn), .all(5))
        var clientB = try rig.client(port: rig.resolverPort, spool: rig.directory + "/spool-b")
        let delivery = clientB.deliver(common + bOwn)
        // B's seqs 1-2 are the very messages A sent (same digest), but the console's mark (5) is above anything B's
        // spool assigned (3): an alarm at once, nothing counted delivered.
        XCTAssertEqual(delivery.acknowledged, 0, "\(delivery)")
        XCTAssertEqual(delivery.error?.operation, "alarm")
        XCTAssertTrue(clientB.alarm?.contains("above anything this spool assigned (3)") == true, clientB.alarm ?? "no alarm")
        // B's own seq 3, alone: a different message than the console wrote as seq 3: conflict, kept.
        var clientB2 = try rig.client(port: rig.resolverPort, spool: rig.directory + "/spool-b")
        _ = try append(b, 3, tag: "box B later")   // B's spool now reaches seq 6: the mark is no longer above it
        let own = clientB2.deliver(bOwn)
        XCTAssertEqual(own.acknowledged, 0)
        XCTAssertTrue(clientB2.alarm?.contains("holds another message as seq 3") == true, clientB2.alarm ?? "no alarm")
        XCTAssertEqual(rig.events(), common + aOwn, "B's event was not taken for A's")
        XCTAssertFalse(rig.events().contains { $0.id == bOwn[0].id })

        // Different spools, one id: C (a fresh spool, its own epoch) is taken and retires A's epoch; A then alarms.
        let c = try openSpool(rig, "spool-c")
        XCTAssertNotEqual(c.epoch, a.epoch)
        let cOwn = try append(c, 1, tag: "box C")
        var clientC = try rig.client(port: rig.resolverPort, spool: rig.directory + "/spool-c")
        XCTAssertEqual(clientC.deliver(cOwn), .all(1))
        let aNext = try append(a, 1, tag: "box A again")
        var clientA2 = try rig.client(port: rig.resolverPort, spool: rig.directory + "/spool-a")
        let retired = clientA2.deliver(aNext)
        XCTAssertEqual(retired.acknowledged, 0)
        XCTAssertTrue(clientA2.alarm?.contains("retired epoch") == true, clientA2.alarm ?? "no alarm")
        XCTAssertEqual(rig.events(), common + aOwn + cOwn)
    }

    /// The agent shows the alarm: state.json says `alarm` with the reason, `pit uplink status` prints it, and the
    /// cursor does not move past the kept event.
    func testAgentShowsTheAlarmAndKeepsTheEvent() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        // Another device under d1's id has already written seqs 1-3 of this spool's epoch (a clone).
        let stored = rig.h.append(1)
        let twin = try openSpool(rig, "twin")
        _ = try append(twin, 3, tag: "twin")
        for name in ["epoch"] {
            let bytes = Files.read(rig.h.spoolDirectory + "/" + name)
            unlink(rig.directory + "/twin/" + name)
            Files.write(rig.directory + "/twin/" + name, bytes)
        }
        var twinClient = try rig.client(port: rig.resolverPort, spool: rig.directory + "/twin")
        XCTAssertEqual(twinClient.deliver(try Spool.read(directory: rig.directory + "/twin")).acknowledged, 3)
        rig.configureAgent(port: rig.resolverPort, extra: "heartbeat_s = 0")
        rig.h.startAgent()
        XCTAssertTrue(Proc.waitUntil(20) { rig.h.transportState("console")?.state == "alarm" }, rig.h.agentLog + rig.consoleLog)
        let state = try XCTUnwrap(rig.h.transportState("console"))
        // The twin's mark (3) is above anything this spool assigned (1).
        XCTAssertTrue(state.alarm?.contains("is seq 3, above anything this spool assigned (1)") == true, state.alarm ?? "")
        XCTAssertEqual(rig.h.cursor("console"), 0, "kept")
        XCTAssertFalse(rig.events().contains { $0.id == stored[0].id })
        let status = Process.run([Shell.built("pit"), "uplink", "status", "--data-dir", rig.h.dataDirectory])
        XCTAssertTrue(status.stdout.contains("console (dns): alarm"), status.stdout + status.stderr)
        XCTAssertTrue(status.stdout.contains("ALARM: the console's mark for device d1"), status.stdout + status.stderr)
    }

    /// The replay: queries of an old spool's seqs are captured on the path; the spool is reset and the
    /// console's state file removed (its process restarted). The replayed queries may write their old events once
    /// more (the console cannot tell: that is what its state was for), but they can no longer make the console
    /// swallow the device's real new seqs, and once the new epoch is seen the old one is refused for good.
    func testConsoleStateResetPlusReplayNeverSwallowsNewEvents() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let capture = rig.directory + "/captured.hex"
        let relay = rig.startRelay(loss: 0, capture: capture)
        let directory = rig.directory + "/spool-r"
        var old: [PitEvent]
        do {
            let spool = try openSpool(rig, "spool-r")
            old = try append(spool, 7, tag: "a month ago")
            var client = try rig.client(port: relay, spool: directory)
            XCTAssertEqual(client.deliver(old), .all(7))
        }
        let captured = DNSRig.captured(capture)
        XCTAssertGreaterThanOrEqual(captured.count, 7)
        // Replayed with the state intact: `duplicate`, nothing written.
        for query in captured { _ = DNSRig.exchange(query, host: "127.0.0.2", port: rig.consolePort) }
        XCTAssertEqual(rig.events(), old)

        // Spool reset, console state reset.
        for name in try FileIO.list(directory) { unlink(directory + "/" + name) }
        let spool = try openSpool(rig, "spool-r")
        rig.stopConsole()
        unlink(rig.keys + "/d1.state")
        rig.startConsole()
        for query in captured { _ = DNSRig.exchange(query, host: "127.0.0.2", port: rig.consolePort) }
        let replayed = rig.events().count - old.count
        let fresh = try append(spool, 4, tag: "today")
        var client = try rig.client(port: rig.resolverPort, spool: directory)
        XCTAssertEqual(client.deliver(fresh), .all(4), rig.consoleLog)
        XCTAssertNil(client.alarm)
        XCTAssertEqual(Array(rig.events().suffix(4)), fresh, "the device's real seqs 1-4 are all written")
        // Now the old epoch is retired: a second replay writes nothing.
        let before = rig.events().count
        for query in captured {
            let answer = DNSRig.exchange(query, host: "127.0.0.2", port: rig.consolePort)
            XCTAssertEqual(answer?.rcode, DNSRcode.noError)
        }
        XCTAssertEqual(rig.events().count, before, "a retired epoch writes nothing")
        XCTAssertTrue(rig.consoleLog.contains("retired: event"), rig.consoleLog.suffix(800).description)
        // What the reset let through: the old events once more, the same ids (a receiver drops them by id).
        XCTAssertLessThanOrEqual(replayed, old.count)
        XCTAssertTrue(rig.events().dropFirst(old.count).prefix(replayed).allSatisfy { e in old.contains { $0.id == e.id } })
    }

    /// A device whose clock once read far in the future (a bad clock at boot, spoofed NTP) sent a heartbeat then;
    /// version 2 takes no id from the clock, so later heartbeats and `pit uplink test` are written, and `uplink
    /// test` says OK only when the console wrote its line. The same for a version 1 heartbeat with a far-future id
    /// (an old device): it cannot poison version 2's heartbeats.
    func testFarFutureClockCannotPoisonHeartbeatsOrTests() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let future = Array("2099-12-31T23:59:59.000Z".utf8)
        // Version 1's id: wall-clock milliseconds of 2099.
        let v1 = rig.query(id: 4_102_444_799_000, body: future, version: 1)
        XCTAssertEqual(rig.ack(DNSRig.exchange(v1.bytes, host: "127.0.0.1", port: rig.resolverPort), nonce: v1.nonce, version: 1)?.status,
                       .complete)
        // Version 2: the agent that ran with the bad clock sent its heartbeat (its body says 2099).
        var bad = try rig.client(port: rig.resolverPort)
        let message = DNSTunnel.message(future)
        let header = DNSTunnel.Header(kind: .heartbeat, epoch: rig.h.spool.epoch, messageID: bad.nextSessionID(.heartbeat),
                                      digest: DNSTunnel.digest(message), index: 0, count: 1)
        XCTAssertEqual(try bad.send(header, slices: [message]).status, .complete)
        // The clock is right again; the same agent, then a new one (a restart), send heartbeats: all written.
        XCTAssertNil(bad.heartbeat())
        var good = try rig.client(port: rig.resolverPort)
        XCTAssertNil(good.heartbeat())
        XCTAssertNil(good.heartbeat())
        XCTAssertEqual(rig.lines().filter { $0.heartbeat != nil }.count, 5, rig.consoleLog)
        // `pit uplink test`, twice: written each time, OK each time.
        rig.configureAgent(port: rig.resolverPort)
        for _ in 0..<2 {
            let test = Process.run([Shell.built("pit"), "uplink", "test", "--config", rig.h.configPath])
            XCTAssertEqual(test.status, 0, test.stdout + test.stderr)
            XCTAssertTrue(test.stdout.contains("console (dns): OK"), test.stdout)
        }
        XCTAssertEqual(rig.events().filter { $0.kind == .uplinkTest }.count, 2)
    }

    /// The console runs; d1's key file is replaced, then removed. The old key stops working at once (no restart):
    /// its queries are refused, the device counts nothing delivered and keeps the event; the new key delivers it.
    /// Partial messages sealed under the old key are dropped, not completed with new-key fragments.
    func testKeyReplacedOrRemovedWhileTheConsoleRunsTakesEffect() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let stored = rig.h.append(3)
        var oldClient = try rig.client(port: rig.resolverPort, timeoutMs: 2000)
        XCTAssertEqual(oldClient.deliver([stored[0]]), .all(1))

        // Rotation: the operator writes a new key for d1 (a new file renamed over the old one).
        let newKey = DNSTunnel.keyFileText()
        Files.write(rig.keys + "/d1.key.new", Array(newKey.utf8))
        chmod(rig.keys + "/d1.key.new", 0o600)
        rename(rig.keys + "/d1.key.new", rig.keys + "/d1.key")
        let refused = oldClient.deliver([stored[1]])
        XCTAssertEqual(refused.acknowledged, 0, "the old key is revoked at once")
        XCTAssertNotNil(refused.error)
        XCTAssertEqual(rig.events(), [stored[0]])
        XCTAssertTrue(rig.consoleLog.contains("does not verify under d1's key"), rig.consoleLog)

        Files.write(rig.directory + "/device2.key", Array(newKey.utf8))
        chmod(rig.directory + "/device2.key", 0o600)
        var newClient = try rig.client(port: rig.resolverPort, keyFile: rig.directory + "/device2.key")
        XCTAssertEqual(newClient.deliver([stored[1]]), .all(1), rig.consoleLog)
        XCTAssertEqual(rig.events(), [stored[0], stored[1]])

        // Revocation: the key file removed. Nothing of d1's is taken any more; the event stays with the device.
        unlink(rig.keys + "/d1.key")
        var revoked = try rig.client(port: rig.resolverPort, timeoutMs: 2000, keyFile: rig.directory + "/device2.key")
        XCTAssertEqual(revoked.deliver([stored[2]]).acknowledged, 0)
        XCTAssertEqual(rig.events(), [stored[0], stored[1]])
        XCTAssertTrue(rig.consoleLog.contains("key of d1 removed"), rig.consoleLog)

        // A bad key file put back (32 raw bytes) is refused with its file:line:column, not taken as a key.
        Files.write(rig.keys + "/d1.key", [0xFF] + EventID.randomBytes(31))
        chmod(rig.keys + "/d1.key", 0o600)
        XCTAssertEqual(revoked.deliver([stored[2]]).acknowledged, 0)
        XCTAssertTrue(rig.consoleLog.contains(rig.keys + "/d1.key:1:"), rig.consoleLog)
        // And the new key back: delivered.
        unlink(rig.keys + "/d1.key")
        Files.write(rig.keys + "/d1.key", Array(newKey.utf8))
        chmod(rig.keys + "/d1.key", 0o600)
        XCTAssertEqual(revoked.deliver([stored[2]]), .all(1), rig.consoleLog)
        XCTAssertEqual(rig.events(), stored)
    }
}

extension DNSSilentLossTests {
    /// The whole device: `pit supervise` with a DNS uplink whose console holds a mark far above anything the
    /// device's spool assigned (the console's state is another device's). The agent alarms instead of counting its
    /// events delivered, the supervisor raises `uplink_alarm` into the spool, and `pit status` says `alarm` and
    /// exits 1.
    func testSupervisorRaisesUplinkAlarmAndStatusShowsIt() throws {
        let rig = DNSRig()
        // The device's spool exists with its epoch (and a cursor, so opening it keeps that epoch).
        let spool = rig.directory + "/sdata/spool"
        XCTAssertEqual(Process.run(["/bin/mkdir", "-p", spool]).status, 0)
        let epoch: UInt64 = 0x5eed_0000_0000_0024
        Files.write(spool + "/epoch", Array((Spool.epochText(epoch) + "\n").utf8))
        try Spool.commitCursor(directory: spool, transport: "console", seq: 0)
        // The console's state says seqs up to 300 of that epoch were written for d1.
        Files.write(rig.keys + "/d1.state", Array("epoch \(Spool.epochText(epoch)) 300\n".utf8))
        rig.startConsole()
        try rig.startResolver()
        let (supervisor, log) = superviseViolationProbe(in: rig.directory, config: "supervised.toml", dataDirectory: "sdata", uplink: """
            type = "dns"
            name = "console"
            zone = "\(DNSRig.zone)"
            device = "d1"
            key_file = "device.key"
            resolver = "127.0.0.1:\(rig.resolverPort)"
            backoff_base_ms = 200
            backoff_max_ms = 1000
            """)
        defer { Proc.kill(supervisor, SIGTERM) }
        XCTAssertEqual(Spool.readEpoch(directory: spool), epoch)
        var raised: [PitEvent] = []
        XCTAssertTrue(Proc.waitUntil(30) {
            raised = ((try? Spool.read(directory: spool)) ?? []).filter { $0.kind == .uplinkAlarm }
            return !raised.isEmpty
        }, log() + rig.consoleLog)
        XCTAssertEqual(raised.first?.details?["transport"], "console")
        XCTAssertTrue(raised.first?.message?.contains("is seq 300, above anything this spool assigned") == true, raised.first?.message ?? "")
        XCTAssertEqual(try Spool.readCursor(directory: spool, transport: "console"), 0, "nothing counted delivered")
        let status = Process.run([Shell.built("pit"), "status", "--config", rig.directory + "/supervised.toml"])
        XCTAssertTrue(status.stdout.contains("uplink: alarm"), status.stdout + status.stderr)
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stderr.contains("uplink alarm"), status.stderr)
        Proc.sleepMs(6000)
        let again = ((try? Spool.read(directory: spool)) ?? []).filter { $0.kind == .uplinkAlarm }
        XCTAssertEqual(again.count, 1, "one event per alarm, not one per retry")
    }
}

extension DNSSilentLossTests {
    /// What a passive observer of the customer's DNS reads from captured queries without the key: the version byte,
    /// the device label and sizes. The kind, the spool epoch, the seqs, the digests and the fragment indexes are
    /// sealed: none of their bytes appear in any query. (Still plain: the device label; see README's threat model.)
    func testObserverReadsNoHeaderFieldFromCapturedQueries() throws {
        let rig = DNSRig()
        rig.startConsole()
        try rig.startResolver()
        let capture = rig.directory + "/observed.hex"
        let relay = rig.startRelay(loss: 0, capture: capture)
        let stored = rig.h.append(3)
        var client = try rig.client(port: relay)
        XCTAssertEqual(client.deliver(stored), .all(3))
        XCTAssertNil(client.heartbeat())
        let zone = DNSName(DNSRig.zone)!
        var epochBytes: [UInt8] = []
        DNSTunnel.put64(&epochBytes, rig.h.spool.epoch)
        let secrets: [[UInt8]] = [epochBytes] + stored.map { e in var b: [UInt8] = []; DNSTunnel.put64(&b, e.seq!); return b }
        var seen = 0
        for datagram in DNSRig.captured(capture) {
            let query = try DNSMessage.parse(datagram)
            let (device, data) = try XCTUnwrap(DNSTunnel.splitName(query.questions[0].name, zone: zone))
            XCTAssertEqual(device, "d1", "the label is what still leaks")
            XCTAssertEqual(data[0], 0x20, "only the version is in the clear")
            for secret in secrets {
                XCTAssertFalse((0...(data.count - secret.count)).contains { Array(data[$0..<($0 + secret.count)]) == secret },
                               "a header field is readable in \(Hex.encode(data))")
            }
            seen += 1
        }
        XCTAssertGreaterThanOrEqual(seen, 4)
    }
}
