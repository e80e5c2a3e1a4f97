import XCTest
@testable import PitPersona

/// The DHCPv4 client state machine, driven with plain values (no socket, no clock): a scripted server answers,
/// the test moves time, and every step's messages, deadline and actions are checked.
final class DhcpClientTests: XCTestCase {
    let mac: [UInt8] = [0x00, 0x11, 0x32, 0xAA, 0xBB, 0xCC]
    let server = IPv4(192, 0, 2, 1)
    let offered = IPv4(192, 0, 2, 50)

    func client(_ profile: DhcpProfile = .windows10) -> DhcpClient {
        DhcpClient(.init(profile: profile, mac: mac, hostname: "fs01.corp.example"), seed: 7)
    }

    /// A server reply to `client`'s current exchange.
    func reply(_ type: DhcpMessageType, to client: DhcpClient, address: IPv4? = nil, lease: UInt32 = 3600,
               extra: [DhcpOption] = []) -> DhcpPacket {
        var options = [DhcpOption(53, [type.rawValue]), DhcpOption(54, server.bytes)]
        if type != .nak {
            options += [DhcpOption(51, withUnsafeBytes(of: lease.bigEndian) { Array($0) }), DhcpOption(1, [255, 255, 255, 0]),
                        DhcpOption(3, server.bytes), DhcpOption(6, [192, 0, 2, 53])]
        }
        return DhcpPacket(op: 2, xid: client.transactionID, yiaddr: type == .nak ? .zero : (address ?? offered),
                          chaddr: mac, options: options + extra)
    }

    func codes(_ out: DhcpClient.Outgoing) -> [UInt8] { out.packet.options.map(\.code) }

    /// DISCOVER → OFFER → REQUEST → ACK → address check → BOUND, returning the bound client and the time.
    func bound(_ profile: DhcpProfile = .windows10) -> (DhcpClient, Int64) {
        var c = client(profile)
        _ = c.start(now: 0, remembered: nil)
        _ = c.received(reply(.offer, to: c), now: 100)
        _ = c.received(reply(.ack, to: c), now: 200)
        _ = c.checked(conflict: false, now: 300)
        XCTAssertEqual(c.state, .bound)
        return (c, 300)
    }

    func testDiscoverOfferRequestAckBinds() throws {
        var c = client()
        let start = c.start(now: 0, remembered: nil)
        XCTAssertEqual(c.state, .selecting)
        let discover = try XCTUnwrap(start.send.first)
        XCTAssertEqual(discover.destination, .broadcast)
        XCTAssertEqual(discover.source, .zero)
        XCTAssertEqual(discover.packet.messageType, .discover)
        XCTAssertEqual(codes(discover), [53, 61, 12, 60, 55])
        XCTAssertEqual(discover.packet.option(61), [1] + mac)
        XCTAssertEqual(discover.packet.option(12), Array("fs01".utf8))
        XCTAssertEqual(discover.packet.option(60), Array("MSFT 5.0".utf8))
        XCTAssertEqual(discover.packet.option(55), [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])
        XCTAssertEqual(discover.packet.chaddr, mac)
        XCTAssertEqual(try DhcpPacket.parse(discover.packet.encoded()), discover.packet)

        let afterOffer = c.received(reply(.offer, to: c), now: 2_500)
        XCTAssertEqual(c.state, .requesting)
        let request = try XCTUnwrap(afterOffer.send.first)
        XCTAssertEqual(codes(request), [53, 61, 50, 54, 12, 81, 60, 55])
        XCTAssertEqual(request.packet.option(50), offered.bytes)
        XCTAssertEqual(request.packet.option(54), server.bytes)
        XCTAssertEqual(request.packet.option(81), [0, 0, 0] + Array("fs01".utf8))
        XCTAssertEqual(request.packet.secs, 2, "secs counts from the DISCOVER (RFC 2131 §4.4.1)")
        XCTAssertEqual(request.packet.xid, discover.packet.xid)

        let afterAck = c.received(reply(.ack, to: c), now: 2_600)
        XCTAssertEqual(c.state, .checking)
        XCTAssertEqual(afterAck.actions, [.checkAddress(offered)])
        XCTAssertEqual(afterAck.deadline, 2_600 + c.configuration.checkMs)

        // Nobody answered the probes by the deadline: bound.
        let done = c.timeout(now: afterAck.deadline!)
        XCTAssertEqual(c.state, .bound)
        let lease = try XCTUnwrap(c.lease)
        XCTAssertEqual(lease.prefix.description, "192.0.2.50/24")
        XCTAssertEqual(lease.routes.map(\.description), ["0.0.0.0/0 via 192.0.2.1"])
        XCTAssertEqual(lease.dnsServers, [IPv4(192, 0, 2, 53)])
        XCTAssertEqual(done.actions, [.configure(lease, previous: nil), .remember(lease), .leased(lease, renewed: false)])
        XCTAssertEqual(done.deadline, lease.obtainedMs + 1_800_000, "T1 = half the lease")
    }

    func testSynologyProfileOrder() throws {
        var c = client(.synologyDSM7)
        let discover = try XCTUnwrap(c.start(now: 0, remembered: nil).send.first)
        XCTAssertEqual(codes(discover), [53, 12, 55])
        XCTAssertNil(discover.packet.option(60))
        let request = try XCTUnwrap(c.received(reply(.offer, to: c), now: 10).send.first)
        XCTAssertEqual(codes(request), [53, 54, 50, 12, 55])
    }

    func testRetransmissionBacksOffPerRFC2131() {
        var c = client()
        var step = c.start(now: 0, remembered: nil)
        var now: Int64 = 0
        var gaps: [Int64] = []
        for _ in 0..<6 {
            let due = step.deadline!
            gaps.append(due - now)
            now = due
            step = c.timeout(now: now)
            XCTAssertEqual(step.send.first?.packet.messageType, .discover)
        }
        for (gap, base) in zip(gaps, [4_000, 8_000, 16_000, 32_000, 64_000, 64_000] as [Int64]) {
            XCTAssertTrue((base - 1_000)...(base + 1_000) ~= gap, "gap \(gap) not within \(base) ± 1 s: \(gaps)")
        }
        // An early call does nothing.
        XCTAssertTrue(c.timeout(now: now + 1).send.isEmpty)
    }

    func testRenewUnicastThenRebindBroadcastThenExpiryRemovesTheAddress() throws {
        var (c, _) = bound()
        let lease = try XCTUnwrap(c.lease)
        let renew = c.timeout(now: lease.renewMs)
        XCTAssertEqual(c.state, .renewing)
        let unicast = try XCTUnwrap(renew.send.first)
        XCTAssertEqual(unicast.destination, server)
        XCTAssertEqual(unicast.source, offered)
        XCTAssertEqual(unicast.packet.ciaddr, offered)
        XCTAssertNil(unicast.packet.option(50), "no requested address while renewing (RFC 2131 §4.3.2)")
        XCTAssertNil(unicast.packet.option(54))
        XCTAssertLessThanOrEqual(renew.deadline!, lease.rebindMs)

        var now = renew.deadline!
        while now < lease.rebindMs { now = c.timeout(now: now).deadline! }
        XCTAssertEqual(now, lease.rebindMs)
        let rebind = c.timeout(now: now)
        XCTAssertEqual(c.state, .rebinding)
        XCTAssertEqual(rebind.send.first?.destination, .broadcast)

        now = rebind.deadline!
        var last = rebind
        while c.state == .rebinding { last = c.timeout(now: now); now = last.deadline ?? now }
        XCTAssertEqual(c.state, .selecting)
        XCTAssertNil(c.lease)
        XCTAssertEqual(Array(last.actions.prefix(3)), [.deconfigure(lease), .remember(nil), .lost(lease, reason: "lease expired unrenewed")])
        XCTAssertEqual(last.send.first?.packet.messageType, .discover)
    }

    func testRenewalAckKeepsTheAddressAndMovesTheTimers() throws {
        var (c, _) = bound()
        let first = try XCTUnwrap(c.lease)
        _ = c.timeout(now: first.renewMs)
        let ack = c.received(reply(.ack, to: c, lease: 7200), now: first.renewMs + 50)
        XCTAssertEqual(c.state, .bound)
        let second = try XCTUnwrap(c.lease)
        XCTAssertEqual(second.leaseSeconds, 7200)
        XCTAssertEqual(ack.actions, [.configure(second, previous: first), .remember(second), .leased(second, renewed: true)])
        XCTAssertEqual(ack.deadline, first.renewMs + 50 + 3_600_000)
    }

    func testConflictDeclinesAndWaitsTenSeconds() throws {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        _ = c.received(reply(.offer, to: c), now: 100)
        _ = c.received(reply(.ack, to: c), now: 200)
        let step = c.checked(conflict: true, now: 500)
        let decline = try XCTUnwrap(step.send.first)
        XCTAssertEqual(decline.packet.messageType, .decline)
        XCTAssertEqual(codes(decline), [53, 61, 50, 54])
        XCTAssertEqual(decline.packet.option(50), offered.bytes)
        XCTAssertEqual(step.send.count, 1, "no DISCOVER until ten seconds have passed")
        XCTAssertEqual(step.deadline, 10_500)
        XCTAssertEqual(c.state, .selecting)
        XCTAssertNil(c.lease)
        XCTAssertEqual(c.timeout(now: 10_500).send.first?.packet.messageType, .discover)
    }

    func testInitRebootAsksForTheRememberedAddress() throws {
        var c = client()
        let start = c.start(now: 0, remembered: offered)
        XCTAssertEqual(c.state, .rebooting)
        let request = try XCTUnwrap(start.send.first)
        XCTAssertEqual(request.packet.messageType, .request)
        XCTAssertEqual(request.packet.option(50), offered.bytes)
        XCTAssertNil(request.packet.option(54), "INIT-REBOOT has no server identifier (RFC 2131 §4.3.2)")
        _ = c.received(reply(.ack, to: c), now: 100)
        XCTAssertEqual(c.state, .checking)
        _ = c.checked(conflict: false, now: 200)
        XCTAssertEqual(c.lease?.address, offered)

        // Unanswered, INIT-REBOOT gives up after three requests and asks for any address (still naming the old one).
        var quiet = client()
        var step = quiet.start(now: 0, remembered: offered)
        var now: Int64 = 0
        while quiet.state == .rebooting { now = step.deadline!; step = quiet.timeout(now: now) }
        XCTAssertEqual(quiet.state, .selecting)
        XCTAssertEqual(step.send.first?.packet.messageType, .discover)
        XCTAssertNil(step.send.first?.packet.option(50), "the unanswered address is not asked for again")
    }

    func testNakInRebootAndInRenewal() throws {
        var c = client()
        _ = c.start(now: 0, remembered: offered)
        let nak = c.received(reply(.nak, to: c, extra: [DhcpOption(56, Array("wrong net\n".utf8))]), now: 10)
        XCTAssertEqual(c.state, .selecting)
        XCTAssertEqual(nak.actions, [.note("DHCPNAK: wrong net\\x0a")])
        XCTAssertEqual(nak.send.first?.packet.messageType, .discover)

        var (b, _) = bound()
        let lease = try XCTUnwrap(b.lease)
        _ = b.timeout(now: lease.renewMs)
        let lost = b.received(reply(.nak, to: b), now: lease.renewMs + 10)
        XCTAssertEqual(b.state, .selecting)
        XCTAssertEqual(Array(lost.actions.prefix(3)), [.deconfigure(lease), .remember(nil), .lost(lease, reason: "DHCPNAK from 192.0.2.1")])
    }

    func testStopReleasesTheLease() throws {
        var (c, now) = bound()
        let lease = try XCTUnwrap(c.lease)
        let step = c.stop(now: now + 5)
        let release = try XCTUnwrap(step.send.first)
        XCTAssertEqual(release.packet.messageType, .release)
        XCTAssertEqual(release.destination, server)
        XCTAssertEqual(release.packet.ciaddr, offered)
        XCTAssertEqual(codes(release), [53, 61, 54])
        XCTAssertEqual(step.actions, [.deconfigure(lease), .remember(nil), .lost(lease, reason: "released at an orderly stop")])
        XCTAssertEqual(c.state, .stopped)
        now += 10
        XCTAssertTrue(c.stop(now: now).send.isEmpty, "nothing held, nothing released")
    }

    func testGarbageIsRefusedAndChangesNothing() {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        func refused(_ packet: DhcpPacket, _ fragment: String, line: UInt = #line) {
            let step = c.received(packet, now: 50)
            guard case .refused(let why) = step.actions.first else { return XCTFail("not refused: \(step)", line: line) }
            XCTAssertTrue(why.contains(fragment), "\(why) lacks \(fragment)", line: line)
            XCTAssertEqual(c.state, .selecting, line: line)
            XCTAssertTrue(step.send.isEmpty, line: line)
        }
        var wrongXid = reply(.offer, to: c)
        wrongXid.xid &+= 1
        refused(wrongXid, "xid")
        var otherMAC = reply(.offer, to: c)
        otherMAC.chaddr = [2, 0, 0, 0, 0, 1]
        refused(otherMAC, "chaddr")
        refused(reply(.offer, to: c, address: IPv4(224, 0, 0, 1)), "not a usable unicast")
        refused(reply(.offer, to: c, address: IPv4(127, 0, 0, 1)), "not a usable unicast")
        refused(reply(.offer, to: c, address: IPv4(192, 0, 2, 255)), "broadcast address")
        var noServer = reply(.offer, to: c)
        noServer.options.removeAll { $0.code == 54 }
        refused(noServer, "server identifier")
        var badMask = reply(.offer, to: c)
        badMask.options[badMask.options.firstIndex { $0.code == 1 }!] = DhcpOption(1, [255, 0, 255, 0])
        refused(badMask, "not contiguous")
        var noLease = reply(.offer, to: c)
        noLease.options.removeAll { $0.code == 51 }
        refused(noLease, "lease time")
        refused(reply(.ack, to: c), "unexpected in state selecting")
        var noType = reply(.offer, to: c)
        noType.options.removeAll { $0.code == 53 }
        refused(noType, "message type")
    }

    func testAHostileLeaseTimeCannotMakeTheClientSpin() throws {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        _ = c.received(reply(.offer, to: c, lease: 1), now: 0)
        _ = c.received(reply(.ack, to: c, lease: 1), now: 0)
        _ = c.checked(conflict: false, now: 0)
        let lease = try XCTUnwrap(c.lease)
        XCTAssertEqual(lease.leaseSeconds, DhcpLease.minimumSeconds)
        XCTAssertEqual(lease.renewMs, 15_000)
        // Infinite leases never expire and never overflow the clock arithmetic.
        let forever = DhcpLease(address: offered, prefixLength: 24, server: server, routers: [], classlessRoutes: [], dnsServers: [],
                                leaseSeconds: DhcpLease.infinite, obtainedMs: Int64.max / 8)
        XCTAssertGreaterThan(forever.expiresMs, forever.renewMs)
        // T1/T2 from the server are used only when they are in order.
        let ordered = DhcpLease(address: offered, prefixLength: 24, server: server, routers: [], classlessRoutes: [], dnsServers: [],
                                leaseSeconds: 100, obtainedMs: 0, t1: 40, t2: 80)
        XCTAssertEqual([ordered.renewMs, ordered.rebindMs], [40_000, 80_000])
        let swapped = DhcpLease(address: offered, prefixLength: 24, server: server, routers: [], classlessRoutes: [], dnsServers: [],
                                leaseSeconds: 100, obtainedMs: 0, t1: 90, t2: 20)
        XCTAssertEqual([swapped.renewMs, swapped.rebindMs], [50_000, 87_500])
    }

    func testClasslessRoutesReplaceTheRouterOption() throws {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        let routes = DhcpOption(121, [8, 10, 192, 0, 2, 9, 0, 192, 0, 2, 254])
        _ = c.received(reply(.offer, to: c, extra: [routes]), now: 0)
        _ = c.received(reply(.ack, to: c, extra: [routes]), now: 0)
        _ = c.checked(conflict: false, now: 0)
        XCTAssertEqual(try XCTUnwrap(c.lease).routes.map(\.description), ["10.0.0.0/8 via 192.0.2.9", "0.0.0.0/0 via 192.0.2.254"])
    }

    /// A hostile server's routes into loopback, multicast or 240/4, through loopback/multicast gateways or this host
    /// itself, and its loopback or multicast resolvers are dropped; on-link (router 0) and ordinary routes stay.
    func testHostileRoutesRoutersAndResolversAreDropped() throws {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        let routes = DhcpOption(121, [8, 127, 192, 0, 2, 9,          // 127.0.0.0/8: refused
                                      4, 224, 192, 0, 2, 9,          // 224.0.0.0/4: refused
                                      4, 240, 192, 0, 2, 9,          // 240.0.0.0/4: refused
                                      8, 10, 127, 0, 0, 1,           // via loopback: refused
                                      16, 172, 16, 224, 0, 0, 1,     // via multicast: refused
                                      24, 198, 51, 100, 192, 0, 2, 50, // via this host: refused
                                      24, 203, 0, 113, 0, 0, 0, 0,   // on the link: kept
                                      1, 128, 192, 0, 2, 9,          // 128.0.0.0/1: kept
                                      8, 10, 192, 0, 2, 9])          // kept
        let dns = DhcpOption(6, [127, 0, 0, 1, 224, 0, 0, 251, 192, 0, 2, 53])
        let router = DhcpOption(3, [127, 0, 0, 1, 192, 0, 2, 1])
        _ = c.received(reply(.offer, to: c, extra: [routes]), now: 0)
        var ack = reply(.ack, to: c, extra: [routes])
        ack.options.removeAll { $0.code == 6 || $0.code == 3 }
        ack.options += [dns, router]
        _ = c.received(ack, now: 0)
        _ = c.checked(conflict: false, now: 0)
        let lease = try XCTUnwrap(c.lease)
        XCTAssertEqual(lease.routes.map(\.description), ["203.0.113.0/24 on-link", "128.0.0.0/1 via 192.0.2.9", "10.0.0.0/8 via 192.0.2.9"])
        XCTAssertEqual(lease.dnsServers.map(\.description), ["192.0.2.53"])
        XCTAssertEqual(lease.routers.map(\.description), ["192.0.2.1"])
    }

    func testStoredLeaseRoundTripAndRefusals() throws {
        let (c, _) = bound()
        let lease = try XCTUnwrap(c.lease)
        XCTAssertEqual(DhcpLease.rememberedAddress(in: Array(lease.storedText.utf8)), offered)
        XCTAssertEqual(DhcpLease.rememberedPrefix(in: Array(lease.storedText.utf8))?.description, "192.0.2.50/24")
        for bad in ["", "address=", "address=224.0.0.1/4\n", "address=127.0.0.1/8\n", "address=2001:db8::1/64\n",
                    String(repeating: "x", count: 200) + "\naddress=192.0.2.50/24\n"] {
            XCTAssertNil(DhcpLease.rememberedAddress(in: Array(bad.utf8)), bad)
        }
    }

    func testLinkUpConfirmsAHeldLeaseWithInitReboot() throws {
        var (c, now) = bound()
        let lease = try XCTUnwrap(c.lease)
        let step = c.linkUp(now: now + 1_000)
        XCTAssertEqual(c.state, .rebooting)
        let request = try XCTUnwrap(step.send.first)
        XCTAssertEqual(request.packet.messageType, .request)
        XCTAssertEqual(request.packet.option(50), offered.bytes)
        XCTAssertNil(request.packet.option(54))
        XCTAssertEqual(request.packet.ciaddr, .zero)
        XCTAssertFalse(step.actions.contains { if case .deconfigure = $0 { return true } else { return false } }, "the lease stays meanwhile")
        now += 1_100
        _ = c.received(reply(.ack, to: c), now: now)
        XCTAssertEqual(c.state, .checking)
        let done = c.checked(conflict: false, now: now + 10)
        let renewed = try XCTUnwrap(c.lease)
        XCTAssertEqual(done.actions, [.configure(renewed, previous: lease), .remember(renewed), .leased(renewed, renewed: true)])
    }

    func testLinkUpNakEndsTheLeaseAndSilenceKeepsIt() throws {
        var (c, now) = bound()
        let lease = try XCTUnwrap(c.lease)
        _ = c.linkUp(now: now)
        let nak = c.received(reply(.nak, to: c), now: now + 10)
        XCTAssertEqual(Array(nak.actions.prefix(2)), [.deconfigure(lease), .remember(nil)])
        XCTAssertEqual(c.state, .selecting)

        var (quiet, t) = bound()
        let held = try XCTUnwrap(quiet.lease)
        var step = quiet.linkUp(now: t)
        var gaveUp = step
        while quiet.state == .rebooting { t = step.deadline!; step = quiet.timeout(now: t); gaveUp = step }
        XCTAssertEqual(quiet.state, .bound, "no answer is no NAK: the lease is kept")
        XCTAssertEqual(quiet.lease, held)
        XCTAssertFalse(gaveUp.actions.contains { if case .deconfigure = $0 { return true } else { return false } })
        XCTAssertEqual(gaveUp.deadline, held.renewMs)
    }

    func testLinkUpConflictRemovesTheHeldLease() throws {
        var (c, now) = bound()
        let lease = try XCTUnwrap(c.lease)
        _ = c.linkUp(now: now)
        now += 10
        _ = c.received(reply(.ack, to: c), now: now)
        let step = c.checked(conflict: true, now: now + 10)
        let acted = step.actions.filter { if case .note = $0 { return false } else { return true } }
        XCTAssertEqual(Array(acted.prefix(3)), [.deconfigure(lease), .remember(nil), .lost(lease, reason: "address in use by another host")])
        XCTAssertEqual(step.send.first?.packet.messageType, .decline)
        XCTAssertNil(c.lease)
    }

    func testLinkUpWhileSelectingSkipsTheBackoff() {
        var c = client()
        var step = c.start(now: 0, remembered: nil)
        for _ in 0..<4 { step = c.timeout(now: step.deadline!) }
        let waiting = step.deadline!
        let now = waiting - 30_000
        let up = c.linkUp(now: now)
        XCTAssertEqual(up.send.first?.packet.messageType, .discover)
        XCTAssertLessThanOrEqual(up.deadline!, now + 5_000, "the backoff starts again from 4 s")
    }

    func testAServerThatAlwaysNaksCannotSpinTheClient() {
        var c = client()
        _ = c.start(now: 0, remembered: nil)
        var now: Int64 = 0
        var delays: [Int64] = []
        for _ in 0..<7 {
            _ = c.received(reply(.offer, to: c), now: now)
            let nak = c.received(reply(.nak, to: c), now: now)
            XCTAssertEqual(c.state, .selecting)
            if nak.send.first?.packet.messageType == .discover {
                delays.append(0)
            } else {
                XCTAssertTrue(nak.send.isEmpty)
                delays.append(nak.deadline! - now)
                now = nak.deadline!
                XCTAssertEqual(c.timeout(now: now).send.first?.packet.messageType, .discover)
            }
        }
        XCTAssertEqual(delays, [0, 4_000, 8_000, 16_000, 32_000, 64_000, 64_000])
    }
}
