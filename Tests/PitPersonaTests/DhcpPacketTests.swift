import XCTest
@testable import PitPersona

/// The DHCPv4 codec and the IPv4/UDP framing: round trips, the RFC's corner cases (overload, RFC 3396
/// concatenation, option 121) and refusals of what a hostile server could send.
final class DhcpPacketTests: XCTestCase {
    let mac: [UInt8] = [0x00, 0x11, 0x32, 0xAA, 0xBB, 0xCC]

    func offer() -> DhcpPacket {
        DhcpPacket(op: 2, xid: 0xDEAD_BEEF, flags: 0x8000, yiaddr: IPv4(192, 0, 2, 50), siaddr: IPv4(192, 0, 2, 1), chaddr: mac, options: [
            DhcpOption(53, [2]), DhcpOption(54, [192, 0, 2, 1]), DhcpOption(51, [0, 0, 0x0E, 0x10]),
            DhcpOption(1, [255, 255, 255, 0]), DhcpOption(3, [192, 0, 2, 1]), DhcpOption(6, [192, 0, 2, 53, 192, 0, 2, 54]),
        ])
    }

    func testRoundTrip() throws {
        let packet = offer()
        let bytes = packet.encoded()
        XCTAssertGreaterThanOrEqual(bytes.count, DhcpPacket.minimumSentBytes)
        XCTAssertEqual(Array(bytes[236..<240]), [99, 130, 83, 99])
        let parsed = try DhcpPacket.parse(bytes)
        XCTAssertEqual(parsed, packet)
        XCTAssertEqual(parsed.messageType, .offer)
        XCTAssertEqual(parsed.address(54), IPv4(192, 0, 2, 1))
        XCTAssertEqual(parsed.addresses(6), [IPv4(192, 0, 2, 53), IPv4(192, 0, 2, 54)])
        XCTAssertEqual(parsed.seconds(51), 3600)
    }

    func testLongOptionIsSplitAndConcatenatedBack() throws {
        let long = (0..<600).map { UInt8(truncatingIfNeeded: $0) }
        let packet = DhcpPacket(op: 1, xid: 1, chaddr: mac, options: [DhcpOption(53, [1]), DhcpOption(43, long), DhcpOption(55, [1, 3])])
        let bytes = packet.encoded()
        // 600 bytes go out as 255 + 255 + 90 (RFC 3396).
        XCTAssertEqual(bytes[240 + 3], 43)
        XCTAssertEqual(bytes[240 + 4], 255)
        XCTAssertEqual(try DhcpPacket.parse(bytes).option(43), long)
        XCTAssertEqual(try DhcpPacket.parse(bytes).options.map(\.code), [53, 43, 55])
    }

    func testOverloadReadsFileThenSname() throws {
        var bytes = DhcpPacket(op: 2, xid: 7, yiaddr: IPv4(10, 0, 0, 9), chaddr: mac, options: [DhcpOption(53, [5]), DhcpOption(52, [3])]).encoded()
        // file (108...235): the server identifier; sname (44...107): the lease time and a second part of 6.
        bytes.replaceSubrange(108..<115, with: [54, 4, 10, 0, 0, 1, 255])
        bytes.replaceSubrange(44..<56, with: [51, 4, 0, 0, 1, 0, 6, 4, 10, 0, 0, 2])
        bytes[56] = 255
        let parsed = try DhcpPacket.parse(bytes)
        XCTAssertEqual(parsed.options.map(\.code), [53, 52, 54, 51, 6])
        XCTAssertEqual(parsed.address(54), IPv4(10, 0, 0, 1))
        XCTAssertEqual(parsed.seconds(51), 256)
        // An overload option outside the options area is ignored, and 52 with a bad value is refused.
        var bad = DhcpPacket(op: 2, xid: 7, chaddr: mac, options: [DhcpOption(53, [5]), DhcpOption(52, [4])]).encoded()
        XCTAssertThrowsError(try DhcpPacket.parse(bad))
        bad = DhcpPacket(op: 2, xid: 7, chaddr: mac, options: [DhcpOption(53, [5]), DhcpOption(52, [1])]).encoded()
        bad.replaceSubrange(108..<112, with: [52, 1, 2, 255])
        XCTAssertEqual(try DhcpPacket.parse(bad).option(52), [1])
        // Two 52s in the options area are one two-byte option (RFC 3396): refused, as its re-encoding would be
        // (found by fuzz-dhcp: the parse accepted each part and the round trip failed).
        let twice = DhcpPacket(op: 2, xid: 7, chaddr: mac, options: [DhcpOption(53, [5]), DhcpOption(52, [3])]).encoded()
        var twiceBytes = Array(twice.prefix(243)) + [52, 1, 3] + Array(twice.dropFirst(243))
        twiceBytes.removeLast(3)
        XCTAssertThrowsError(try DhcpPacket.parse(twiceBytes)) { XCTAssertTrue("\($0)".contains("option 52"), "\($0)") }
    }

    func testTruncatedAndLyingLengthsAreRefusedNotRead() {
        let good = offer().encoded()
        XCTAssertThrowsError(try DhcpPacket.parse(Array(good.prefix(239))))
        var lying = Array(good.prefix(241))
        lying[240] = 54
        XCTAssertThrowsError(try DhcpPacket.parse(lying)) { XCTAssertTrue("\($0)".contains("no length byte"), "\($0)") }
        lying = Array(good.prefix(240)) + [6, 200, 1, 2, 3]
        XCTAssertThrowsError(try DhcpPacket.parse(lying)) { XCTAssertTrue("\($0)".contains("claims 200 bytes"), "\($0)") }
        var cookie = good
        cookie[236] = 0
        XCTAssertThrowsError(try DhcpPacket.parse(cookie))
        var hlen = good
        hlen[2] = 17
        XCTAssertThrowsError(try DhcpPacket.parse(hlen))
        XCTAssertThrowsError(try DhcpPacket.parse(good + [UInt8](repeating: 0, count: DhcpPacket.maxMessageBytes)))
        // Every prefix of a valid message parses or is refused; none traps.
        for n in 0...good.count { _ = try? DhcpPacket.parse(Array(good.prefix(n))) }
    }

    func testClasslessRoutes() throws {
        var packet = offer()
        // 0/0 via 192.0.2.1, 10.0.0.0/8 via 192.0.2.2, 198.51.100.128/25 on-link, 203.0.113.7/32 via 192.0.2.3.
        packet.options.append(DhcpOption(121, [0, 192, 0, 2, 1, 8, 10, 192, 0, 2, 2, 25, 198, 51, 100, 128, 0, 0, 0, 0,
                                               32, 203, 0, 113, 7, 192, 0, 2, 3]))
        let routes = try XCTUnwrap(try DhcpPacket.parse(packet.encoded()).classlessRoutes())
        XCTAssertEqual(routes.map(\.description), ["0.0.0.0/0 via 192.0.2.1", "10.0.0.0/8 via 192.0.2.2",
                                                   "198.51.100.128/25 on-link", "203.0.113.7/32 via 192.0.2.3"])
        packet.options[packet.options.count - 1] = DhcpOption(121, [33, 1, 2, 3, 4, 5, 1, 2, 3, 4])
        XCTAssertThrowsError(try packet.classlessRoutes())
        packet.options[packet.options.count - 1] = DhcpOption(121, [24, 10, 0, 0, 192, 0, 2])
        XCTAssertThrowsError(try packet.classlessRoutes())
        // Host bits beyond the width are cleared, not taken as a different route.
        packet.options[packet.options.count - 1] = DhcpOption(121, [9, 10, 255, 192, 0, 2, 1])
        XCTAssertEqual(try packet.classlessRoutes()?.first?.destination, IPv4(10, 128, 0, 0))
    }

    func testFrameRoundTripAndChecksums() throws {
        let payload = offer().encoded()
        let frame = DhcpFrame.encode(payload, from: .zero, to: .broadcast)
        XCTAssertEqual(DhcpFrame.checksum(Array(frame[0..<20])), 0)
        let datagram = try DhcpFrame.decode(frame)
        XCTAssertEqual(datagram.payload, payload)
        XCTAssertEqual(datagram.destinationPort, 67)
        XCTAssertEqual(datagram.source, .zero)
        XCTAssertEqual(datagram.destination, .broadcast)
        var bad = frame
        bad[frame.count - 1] ^= 0xFF
        XCTAssertThrowsError(try DhcpFrame.decode(bad)) { XCTAssertTrue("\($0)".contains("UDP checksum"), "\($0)") }
        bad = frame
        bad[8] = 1                                   // TTL changed without the header checksum
        XCTAssertThrowsError(try DhcpFrame.decode(bad)) { XCTAssertTrue("\($0)".contains("header checksum"), "\($0)") }
        bad = frame
        bad[2] = 0xFF                                // total length beyond the bytes received
        XCTAssertThrowsError(try DhcpFrame.decode(bad))
        bad = frame
        bad[6] = 0x20                                // more fragments
        XCTAssertThrowsError(try DhcpFrame.decode(bad))
        for n in 0...frame.count { _ = try? DhcpFrame.decode(Array(frame.prefix(n))) }
    }

    func testServerTextIsPrintable() {
        var packet = offer()
        packet.options.append(DhcpOption(56, Array("bad\u{1B}[2J\\\n".utf8) + [0xFF]))
        XCTAssertEqual(packet.serverMessage, "bad\\x1b[2J\\x5c\\x0a\\xff")
    }
}
