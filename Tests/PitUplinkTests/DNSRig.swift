import Glibc
import XCTest
import FoundationEssentials
@testable import PitUplink

/// The DNS uplink's real path on loopback: the device (the uplink agent, or a `DNSClient` in the test) asks a real
/// unbound on 127.0.0.1, which has a stub zone for the console's zone pointing at `pit console-dns` on 127.0.0.2;
/// optionally a lossy UDP relay (Tests/Benchmarks/udp-relay.py) sits between the device and unbound. unbound runs
/// with 0x20 case randomisation on, QNAME minimisation on (its default), no cache tricks: what a network's resolver does.
final class DNSRig {
    static let zone = "abc123.console.example"
    let h = AgentHarness()
    var directory: String { h.temp.path }
    var keys: String { directory + "/keys" }
    var output: String { directory + "/console.jsonl" }
    let key: [UInt8] = EventID.randomBytes(32)
    let consolePort: Int
    let resolverPort: Int
    private(set) var consolePID: pid_t = 0
    private(set) var unboundPID: pid_t = 0
    private(set) var relayPID: pid_t = 0
    private var consoleStarts = 0

    init() {
        consolePort = DNSRig.freePort("127.0.0.2")
        resolverPort = DNSRig.freePort("127.0.0.1")
        mkdir(keys, 0o700)
        Files.write(keys + "/d1.key", Array((Hex.encode(key) + "\n").utf8))
        Files.write(keys + "/d2.key", Array((Hex.encode(EventID.randomBytes(32)) + "\n").utf8))
        Files.write(directory + "/device.key", Array(Hex.encode(key).utf8))
    }

    deinit {
        h.stopAgent()
        for pid in [consolePID, unboundPID, relayPID] where pid > 0 { Proc.kill(pid) }
    }

    /// A port free for both UDP and TCP on `host`.
    static func freePort(_ host: String) -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20000...60000)
            var ok = true
            for type in [SOCK_DGRAM, SOCK_STREAM] {
                let fd = socket(AF_INET, Int32(type.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                inet_pton(AF_INET, host, &address.sin_addr)
                let rc = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                close(fd)
                if rc != 0 { ok = false }
            }
            if ok { return port }
        }
        preconditionFailure("no free port on \(host)")
    }

    // MARK: The console

    func startConsole() {
        consoleStarts += 1
        let log = consoleLogPath(consoleStarts)
        consolePID = Proc.spawn([Shell.built("pit"), "console-dns", "--zone", Self.zone, "--listen", "127.0.0.2:\(consolePort)",
                                 "--keys", keys, "--output", output, "--verbose"], log: log)
        precondition(Proc.waitUntil(10) { String(decoding: Files.read(log), as: UTF8.self).contains("serving") },
                     "console did not start: \(String(decoding: Files.read(log), as: UTF8.self))")
    }

    func stopConsole() {
        if consolePID > 0 { Proc.kill(consolePID); consolePID = 0 }
    }

    func consoleLogPath(_ n: Int) -> String { directory + "/console.\(n).log" }

    /// Every console run's stderr, oldest first.
    var consoleLog: String {
        (1...max(consoleStarts, 1)).filter { access(consoleLogPath($0), F_OK) == 0 }
            .map { String(decoding: Files.read(consoleLogPath($0)), as: UTF8.self) }.joined()
    }

    struct Line: Decodable {
        var device: String
        var received: String
        var event: PitEvent?
        var heartbeat: String?
    }

    /// The console's output, parsed; a line that does not parse fails the test.
    func lines(file: StaticString = #filePath, line: UInt = #line) -> [Line] {
        guard access(output, F_OK) == 0 else { return [] }
        return String(decoding: Files.read(output), as: UTF8.self).split(separator: "\n").compactMap {
            do { return try JSONDecoder().decode(Line.self, from: Data($0.utf8)) } catch {
                XCTFail("console line does not parse: \($0)", file: file, line: line)
                return nil
            }
        }
    }

    func events() -> [PitEvent] { lines().compactMap(\.event) }

    // MARK: The resolver

    /// unbound on 127.0.0.1:resolverPort with a stub zone for the console. `maxUDP` lowers its answer size limit
    /// towards clients, so larger answers reach the device truncated.
    /// `stub` replaces the console's address (a relay in front of it); `extra` adds server: lines.
    func startResolver(maxUDP: Int? = nil, stub: String? = nil, extra: [String] = []) throws {
        guard access("/usr/sbin/unbound", X_OK) == 0 else {
            XCTFail("unbound is not installed: run image/install-deps")
            throw XCTSkip("no unbound")
        }
        let template = String(#filePath).split(separator: "/").dropLast(2).joined(separator: "/") + "/Benchmarks/unbound.conf.in"
        var extraLines = extra
        if let maxUDP { extraLines.insert("max-udp-size: \(maxUDP)", at: 0) }
        let config = String(decoding: Files.read("/" + template), as: UTF8.self)
            .replacingOccurrences(of: "@PORT@", with: String(resolverPort))
            .replacingOccurrences(of: "@DIRECTORY@", with: directory)
            .replacingOccurrences(of: "@ZONE@", with: Self.zone)
            .replacingOccurrences(of: "@STUB@", with: stub ?? "127.0.0.2@\(consolePort)")
            .replacingOccurrences(of: "@EXTRA@", with: extraLines.map { "  " + $0 }.joined(separator: "\n"))
        Files.write(directory + "/unbound.conf", Array(config.utf8))
        let log = directory + "/unbound.log"
        unboundPID = Proc.spawn(["/usr/sbin/unbound", "-d", "-c", directory + "/unbound.conf"], log: log)
        precondition(Proc.waitUntil(10) { String(decoding: Files.read(log), as: UTF8.self).contains("start of service") },
                     "unbound did not start: \(String(decoding: Files.read(log), as: UTF8.self))")
    }

    // MARK: The lossy relay

    var relayControl: String { directory + "/relay.control" }
    /// Client datagrams the relay forwarded so far.
    var relayCount: Int { relayCounts(0) }
    /// Datagrams (either way) the relay dropped for loss so far.
    var relayDropped: Int { relayCounts(1) }

    private func relayCounts(_ field: Int) -> Int {
        let file = directory + "/relay.count"
        guard access(file, F_OK) == 0 else { return 0 }
        let fields = String(decoding: Files.read(file), as: UTF8.self).split(separator: " ")
        return field < fields.count ? Int(fields[field]) ?? 0 : 0
    }

    /// The relay, by default between the device and unbound (`upstream`: where it forwards); returns its port.
    @discardableResult
    func startRelay(loss: Double, seed: Int = 7, upstream: String? = nil, capture: String? = nil) -> Int {
        let script = String(#filePath).split(separator: "/").dropLast(2).joined(separator: "/")
        let portFile = directory + "/relay.port"
        relayPID = Proc.spawn(["/usr/bin/python3", "/" + script + "/Benchmarks/udp-relay.py", portFile,
                               upstream ?? "127.0.0.1:\(resolverPort)", String(loss), String(seed), relayControl,
                               directory + "/relay.count"] + (capture.map { [$0] } ?? []), log: directory + "/relay.log")
        precondition(Proc.waitUntil(10) { access(portFile, F_OK) == 0 }, "relay did not start")
        return Int(String(decoding: Files.read(portFile), as: UTF8.self)) ?? 0
    }

    /// The datagrams a relay started with `capture` forwarded, oldest first.
    static func captured(_ path: String) -> [[UInt8]] {
        guard access(path, F_OK) == 0 else { return [] }
        return String(decoding: Files.read(path), as: UTF8.self).split(separator: "\n").compactMap { Hex.decode(String($0)) }
    }

    // MARK: The device

    func configureAgent(port: Int, extra: String = "") {
        // The zone in upper case: the device must not depend on the case the operator wrote.
        h.configure("""
            [[uplink]]
            type = "dns"
            name = "console"
            zone = "\(Self.zone.uppercased())"
            device = "d1"
            key_file = "\(directory)/device.key"
            resolver = "127.0.0.1:\(port)"
            backoff_base_ms = 100
            backoff_max_ms = 500
            \(extra)
            """)
    }

    /// A bare client sending `spool`'s events (default the harness's spool).
    func client(port: Int, timeoutMs: Int = 10_000, spool: String? = nil, keyFile: String? = nil) throws -> DNSClient {
        try DNSClient(config: .init(zone: Self.zone, device: "d1", keyFile: keyFile ?? directory + "/device.key",
                                    resolver: "127.0.0.1:\(port)"), timeoutMs: timeoutMs, spoolDirectory: spool ?? h.spoolDirectory)
    }

    // MARK: Hand-made queries

    /// One query (a single-fragment message, by default a heartbeat of session 1) sealed for `device` with the
    /// rig's key.
    func query(id: UInt64, body: [UInt8], device: String = "d1", kind: DNSTunnel.Kind = .heartbeat, epoch: UInt64 = 1,
               version: Int = DNSTunnel.version) -> (bytes: [UInt8], name: DNSName, nonce: [UInt8]) {
        let zone = DNSName(Self.zone)!
        let framed = version == 1 ? DNSTunnel.frame(body) : DNSTunnel.message(body)
        let header = DNSTunnel.Header(version: version, kind: kind, epoch: version == 1 ? 0 : epoch,
                                      messageID: kind == .heartbeat && version > 1 ? 1 << 32 | id : id,
                                      digest: version == 1 ? 0 : DNSTunnel.digest(framed), index: 0, count: 1)
        let (name, nonce) = DNSTunnel.queryName(header, slice: framed, device: device, zone: zone, key: key)
        var message = DNSMessage(id: UInt16.random(in: 0...UInt16.max), questions: [DNSQuestion(name: name, type: DNSType.txt)],
                                 additional: [.opt(udpSize: 1232)])
        message.recursionDesired = true
        return (message.encoded(), name, nonce)
    }

    /// Sends `query` over UDP to host:port and returns the answer (nil after `timeoutMs`).
    static func exchange(_ query: [UInt8], host: String, port: Int, timeoutMs: Int = 3000) -> DNSMessage? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        _ = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeoutMs)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return try? DNSMessage.parse(Array(buffer[0..<n]))
    }

    func ack(_ answer: DNSMessage?, nonce: [UInt8], version: Int = DNSTunnel.version) -> DNSTunnel.Ack? {
        guard let text = answer?.answers.first(where: { $0.type == DNSType.txt })?.txtJoined else { return nil }
        return DNSTunnel.openAck(text, version: version, device: "d1", zone: DNSName(Self.zone)!, key: key, queryNonce: nonce)
    }
}
