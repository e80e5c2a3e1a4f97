import XCTest
import PitTOML
@testable import PitUplink

/// The DNS message parser, Base32 and the tunnel's fragment format, without a network.
final class DNSWireTests: XCTestCase {
    func testBase32RoundTripsAndDecodesEitherCase() {
        var rng = SplitMix64(state: 9)
        for length in 0..<70 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base32.encode(data)
            XCTAssertEqual(Base32.decode(text), data)
            XCTAssertEqual(Base32.decode(Array(String(decoding: text, as: UTF8.self).uppercased().utf8)), data)
        }
        XCTAssertEqual(String(decoding: Base32.encode(Array("foobar".utf8)), as: UTF8.self), "mzxw6ytboi")  // RFC 4648 §10
        XCTAssertNil(Base32.decode(Array("mzxw6ytbo1".utf8)), "1 is not in the alphabet")
        XCTAssertNil(Base32.decode(Array("mzxw6ytboj".utf8)), "non-zero padding bits")
        XCTAssertNil(Base32.decode(Array("a".utf8)), "impossible length")
    }

    func testMessageRoundTripsAndAnswerNamePointsAtQuestion() throws {
        let name = DNSName("ab.D1.abc123.console.example")!
        var message = DNSMessage(id: 0xBEEF, questions: [DNSQuestion(name: name, type: DNSType.txt)],
                                 answers: [.txt(name, Array(repeating: 0x61, count: 300))], additional: [.opt(udpSize: 1232)])
        message.isResponse = true
        message.authoritative = true
        let bytes = message.encoded()
        XCTAssertEqual(Array(bytes[(12 + name.wireLength + 4)..<(12 + name.wireLength + 6)]), [0xC0, 0x0C])
        let parsed = try DNSMessage.parse(bytes)
        XCTAssertEqual(parsed, message)
        XCTAssertEqual(parsed.answers[0].txtJoined, Array(repeating: 0x61, count: 300))
        XCTAssertEqual(parsed.ednsUDPSize, 1232)
        XCTAssertTrue(name.isSubdomain(of: DNSName("ABC123.Console.Example")!))
    }

    func testParserRefusesLoopsForwardPointersAndGarbage() {
        let header: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        func reason(_ bytes: [UInt8]) -> String {
            do { _ = try DNSMessage.parse(bytes); return "parsed" } catch { return error.reason }
        }
        // A pointer to itself, and one pointing forwards.
        XCTAssertEqual(reason(header + [0xC0, 12, 0, 16, 0, 1]), "compression pointer does not point backwards")
        XCTAssertEqual(reason(header + [0xC0, 14, 0, 16, 0, 1]), "compression pointer does not point backwards")
        XCTAssertEqual(reason(header + [0x40, 0, 0, 16, 0, 1]), "unsupported label type")
        XCTAssertEqual(reason(header + [6, 0x61, 0x62, 0, 16, 0]), "label truncated")
        XCTAssertEqual(reason(header + [0, 0, 16, 0, 1, 9]), "1 bytes after the last record")
        XCTAssertEqual(reason([0, 1, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]), "section counts exceed the message")
        // A name of 5 × 63-byte labels is longer than 255.
        var long = header
        for _ in 0..<5 { long += [63] + Array(repeating: 0x61, count: 63) }
        XCTAssertEqual(reason(long + [0, 0, 16, 0, 1]), "name longer than 255")
        // A pointer back to the label before it would loop forever; the 255-byte name limit stops it.
        var chain = header + [0, 0, 16, 0, 1]
        chain[5] = 2
        chain += [60] + Array(repeating: 0x62, count: 60) + [0xC0, UInt8(chain.count)]
        XCTAssertEqual(reason(chain + [0, 16, 0, 1]), "name longer than 255")
    }

    /// For zones and device ids of every length the names stay within 253 characters and 63 per label, and a
    /// fragment opens only with its own key, device, zone and header.
    func testFragmentNamesFitAndBindDeviceZoneAndHeader() throws {
        let key = EventID.randomBytes(32)
        var noRoom: [String] = []
        for zoneLength in [5, 22, 60, 120, 180] {
            let zone = DNSName(String(repeating: "z", count: zoneLength).split(every: 50).joined(separator: "."))!
            for device in ["d", "pit-07", String(repeating: "x", count: 63)] {
                guard let payload = DNSTunnel.fragmentPayload(device: device, zone: zone) else {
                    noRoom.append("\(zoneLength)/\(device.count)")
                    continue
                }
                let slice = EventID.randomBytes(payload)
                let sent = DNSTunnel.Header(kind: .event, epoch: 0x0123_4567_89ab_cdef, messageID: 7, digest: 99, index: 2, count: 3)
                let (name, _) = DNSTunnel.queryName(sent, slice: slice, device: device, zone: zone, key: key)
                XCTAssertLessThanOrEqual(name.description.utf8.count, 253, "\(zoneLength) \(device)")
                XCTAssertTrue(name.labels.allSatisfy { $0.count <= 63 })
                let (d, data) = try XCTUnwrap(DNSTunnel.splitName(name, zone: zone))
                XCTAssertEqual(d, device)
                let fragment = try DNSTunnel.openFragment(data, device: device, zone: zone, key: key)
                XCTAssertEqual(fragment.header, sent)
                XCTAssertEqual(fragment.plaintext, slice)
                XCTAssertThrowsError(try DNSTunnel.openFragment(data, device: device, zone: zone, key: EventID.randomBytes(32)))
                XCTAssertThrowsError(try DNSTunnel.openFragment(data, device: device + "a", zone: zone, key: key))
                for (byte, what) in [(2, "another epoch"), (16, "another message id"), (20, "another digest"), (26, "another index")] {
                    var header = data
                    header[byte] ^= 1
                    XCTAssertThrowsError(try DNSTunnel.openFragment(header, device: device, zone: zone, key: key), what)
                }
            }
        }
        // The combinations that leave no room for a fragment's data within 253 characters, and only those.
        XCTAssertEqual(noRoom, ["120/63", "180/1", "180/6", "180/63"])
    }

    func testFrameCompressesOnlyWhenShorter() {
        let short = Array("{\"v\":1}".utf8)
        XCTAssertEqual(DNSTunnel.frame(short), [0] + short)
        let repetitive = Array(String(repeating: "smbd ptrace ", count: 100).utf8)
        let framed = DNSTunnel.frame(repetitive)
        XCTAssertEqual(framed.first, 1)
        XCTAssertLessThan(framed.count, repetitive.count / 4)
        XCTAssertEqual(DNSTunnel.unframe(framed), repetitive)
        var corrupt = framed
        corrupt[corrupt.count - 1] ^= 0xFF
        XCTAssertNil(DNSTunnel.unframe(corrupt), "zlib's Adler-32 catches it")
    }

    /// Resolvers randomise the case of the names they forward (0x20) and drop answers that do not echo it: the
    /// console decodes the mixed-case fragment, and its answer carries the question exactly as asked.
    func testConsoleDecodesMixedCaseNamesAndEchoesThem() throws {
        let temp = TemporaryDirectory("pit-dns-case")
        let key = EventID.randomBytes(32)
        Files.write(temp.path + "/d1.key", Array(Hex.encode(key).utf8))
        var console = try DNSConsole(config: .init(zone: DNSName("abc123.console.example")!, listen: "127.0.0.1:1",
                                                   keysDirectory: temp.path, output: temp.path + "/out.jsonl"))
        let zone = DNSName("abc123.console.example")!
        let message = DNSTunnel.message(Array("2026-11-29T00:00:00.000Z".utf8))
        let (name, nonce) = DNSTunnel.queryName(.init(kind: .heartbeat, epoch: 1, messageID: 1 << 32 | 5, digest: DNSTunnel.digest(message),
                                                      index: 0, count: 1),
                                                slice: message, device: "d1", zone: zone, key: key)
        var flipped = 0
        let mixed = DNSName(labels: name.labels.map { label in
            label.map { c in
                flipped += 1
                return flipped % 2 == 0 && (0x61...0x7A).contains(c) ? c - 0x20 : c
            }
        })
        XCTAssertNotEqual(mixed, name)
        let query = DNSMessage(id: 7, questions: [DNSQuestion(name: mixed, type: DNSType.txt)])
        let reply = try DNSMessage.parse(try XCTUnwrap(console.answer(query.encoded(), udp: true)))
        XCTAssertEqual(reply.rcode, DNSRcode.noError)
        XCTAssertEqual(reply.questions.first?.name, mixed, "the question echoed byte for byte")
        let text = try XCTUnwrap(reply.answers.first?.txtJoined)
        XCTAssertEqual(DNSTunnel.openAck(text, device: "d1", zone: zone, key: key, queryNonce: nonce)?.status, .complete)
        XCTAssertTrue(reply.authoritative)
    }

    /// An event too large for 1024 fragments goes as a stand-in with its identity, not as an error that would
    /// block the lane for good.
    func testOversizeEventIsSentAsAStandIn() throws {
        var event = sampleEvents()[0]
        event.seq = 42
        event.message = (0..<8000).map { _ in EventID.make() }.joined()  // 256 KB of random hex, ~130 KB compressed
        let body = DNSClient.body(for: event, payload: 99)
        let sent = try PitEvent.decode(jsonBytes: body)
        XCTAssertEqual([sent.id, sent.time, sent.kind.rawValue], [event.id, event.time, event.kind.rawValue])
        XCTAssertEqual(sent.seq, 42)
        XCTAssertTrue(sent.message?.hasPrefix("too large for the DNS uplink") == true)
        event.message = "small"
        XCTAssertEqual(DNSClient.body(for: event, payload: 99), event.jsonBytes())
    }

    /// A key file is 64 hex digits and a newline, nothing else: 32 raw bytes (or a truncated, garbled or
    /// padded hex file) is refused with file:line:column and what to do, never taken as some other key.
    func testKeyFileFormatIsCheckedToTheColumn() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/device.key"
        let hex = Hex.encode(EventID.randomBytes(32))
        func error(_ bytes: [UInt8]) -> String {
            unlink(path)
            Files.write(path, bytes)
            chmod(path, 0o600)
            do { _ = try DNSTunnel.readKey(path); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(error(Array(hex.utf8)), "accepted")
        XCTAssertEqual(error(Array((hex + "\n").utf8)), "accepted")
        var raw = EventID.randomBytes(32)
        raw[0] = 0xFF
        XCTAssertTrue(error(raw).contains("\(path):1:1: 32 bytes that are not hex digits (raw key bytes are not accepted)"), error(raw))
        XCTAssertTrue(error(Array(hex.dropLast().utf8)).contains("\(path):1:64: 63 hex digits, 64 needed"), error(Array(hex.dropLast().utf8)))
        XCTAssertTrue(error(Array((hex + "\nxyz\n").utf8)).contains("\(path):2:1: a second line"),
                      error(Array((hex + "\nxyz\n").utf8)))
        XCTAssertTrue(error(Array((hex + "00").utf8)).contains("\(path):1:65: 66 hex digits"), error(Array((hex + "00").utf8)))
        XCTAssertTrue(error(Array(hex.utf8)).contains("accepted"))
        XCTAssertTrue(error([]).contains("keygen"), error([]))
        // A FIFO is not waited on.
        unlink(path)
        mkfifo(path, 0o600)
        XCTAssertThrowsError(try DNSTunnel.readKey(path))
    }

    /// A version 1 fragment (devices in the field) still opens, and its ack is sealed as version 1.
    func testVersionOneFragmentsStillOpen() throws {
        let key = EventID.randomBytes(32)
        let zone = DNSName("abc123.console.example")!
        let v1 = DNSTunnel.Header(version: 1, kind: .event, messageID: 9, index: 0, count: 1)
        let (name, nonce) = DNSTunnel.queryName(v1, slice: [0] + Array("x".utf8), device: "d1", zone: zone, key: key)
        let (_, data) = try XCTUnwrap(DNSTunnel.splitName(name, zone: zone))
        XCTAssertEqual(data[0], 0x11)
        XCTAssertEqual(try DNSTunnel.openFragment(data, device: "d1", zone: zone, key: key).header, v1)
        let ack = DNSTunnel.sealAck(.init(status: .complete, messageID: 9, held: 1, count: 1), version: 1, device: "d1",
                                    zone: zone, key: key, queryNonce: nonce)
        XCTAssertEqual(DNSTunnel.openAck(ack, version: 1, device: "d1", zone: zone, key: key, queryNonce: nonce)?.status, .complete)
        XCTAssertNil(DNSTunnel.openAck(ack, device: "d1", zone: zone, key: key, queryNonce: nonce), "a v1 ack is no v2 ack")
    }

    /// A key anyone on the box can read lets them forge alerts: such a file is refused, naming the fix.
    func testKeyFileReadableByOthersIsRefused() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/device.key"
        Files.write(path, Array(Hex.encode(EventID.randomBytes(32)).utf8))
        XCTAssertEqual(try DNSTunnel.readKey(path).count, 32)
        chmod(path, 0o644)
        XCTAssertThrowsError(try DNSTunnel.readKey(path)) { error in
            XCTAssertTrue("\(error)".contains("chmod 600"), "\(error)")
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }

    func testConfigParsesDNSTransportAndPointsAtMistakes() throws {
        func parse(_ text: String) throws(TOMLError) -> [TransportConfig] {
            let fields = TOMLFields(try TOML.parse(text, file: "/etc/pit/device.toml"), file: "/etc/pit/device.toml")
            return try UplinkConfig.parse(fields.tables("uplink") ?? [])
        }
        let base = """
            [[uplink]]
            type = "dns"
            name = "console"
            zone = "abc123.console.example"
            device = "pit-07"
            key_file = "dns.key"
            """
        let configs = try parse(base + "\nresolver = \"[::1]:5353\"\nheartbeat_s = 60")
        XCTAssertEqual(configs[0].kind, .dns(.init(zone: "abc123.console.example", device: "pit-07",
                                                   keyFile: "/etc/pit/dns.key", resolver: "[::1]:5353", heartbeatMs: 60_000)))
        XCTAssertEqual(ResolverAddress("[::1]:5353"), ResolverAddress("::1").map { var a = $0; a.port = 5353; return a })
        XCTAssertEqual(ResolverAddress("[::1]:5353")?.host, "::1")
        XCTAssertEqual(ResolverAddress("[::1]:5353")?.port, 5353)
        func error(_ text: String) -> String {
            do { _ = try parse(text); return "no error" } catch { return error.description }
        }
        XCTAssertTrue(error(base.swapping("pit-07", with: "Pit_07")).contains("device: must be 1-63 of [a-z0-9-]"))
        XCTAssertTrue(error(base + "\nresolver = \"ns1.example\"").contains("resolver: must be IPv4[:PORT]"))
        XCTAssertTrue(error(base.swapping("abc123.console.example", with: String(repeating: "a.", count: 120) + "x"))
                        .contains("zone"))
    }

    /// Heartbeats go out a period apart give or take a quarter, not at an exact period an observer can pick out.
    func testHeartbeatPeriodIsJittered() {
        var random = SystemRandomNumberGenerator()
        let periods = (0..<200).map { _ in UplinkAgent.jittered(300_000, using: &random) }
        XCTAssertTrue(periods.allSatisfy { (225_000...375_000).contains($0) })
        XCTAssertGreaterThan(Set(periods).count, 150, "not one fixed period")
        XCTAssertGreaterThan(periods.max()! - periods.min()!, 100_000)
    }
}

extension String {
    func split(every n: Int) -> [String] {
        stride(from: 0, to: count, by: n).map {
            String(self[index(startIndex, offsetBy: $0)..<index(startIndex, offsetBy: min($0 + n, count))])
        }
    }

    func swapping(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
