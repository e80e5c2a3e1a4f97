import Glibc
import PitProcess

/// Delivery over DNS queries through the network's ordinary resolver, for networks that allow nothing else out.
/// The protocol is `DNSTunnel`'s; this is the device's half.
///
/// Each event is one message, its id the event's seq. Its fragments go out as TXT queries, up to `window` in flight
/// over one UDP socket to the resolver; a fragment whose answer does not come back within the retransmission
/// timeout is sent again as a new query (fresh nonce, so a new name no cache has seen), the timeout growing by half
/// up to `maxRTOms` while answers stay away and following the measured round trip when one arrives. An answer with TC set is fetched again over
/// TCP from the same resolver. Answers must verify under the device key and be bound to the query's nonce, so a
/// resolver (or anyone on the path) cannot acknowledge in the console's place. The event counts as delivered only
/// when an answer says the console holds the whole message (`complete`) or had it already (`duplicate`); if every
/// fragment was acknowledged but none completed it, the console lost its partial copy (it restarted) and the whole
/// message is sent again. Events go one after another, so the console sees them in seq order.
public struct DNSClient {
    let config: TransportConfig.DNS
    let zone: DNSName
    let key: [UInt8]
    let resolver: ResolverAddress
    let timeoutMs: Int
    let payload: Int
    var stats = DNSClientStats()
    var lastUnsequencedID: UInt64 = 0
    /// The retransmission timeout, kept from one message to the next: what the path taught the last message holds
    /// for the next one too.
    var rto = DNSClient.initialRTOms

    static let window = 8
    static let initialRTOms: Int64 = 400
    static let minRTOms: Int64 = 150
    static let maxLossRTOms: Int64 = 1000
    static let maxRTOms: Int64 = 3000
    /// What queries advertise in EDNS(0) (the DNS flag day 2020 value: no IP fragmentation on common paths).
    static let ednsSize = 1232

    init(config: TransportConfig.DNS, timeoutMs: Int) throws(UplinkError) {
        self.config = config
        self.timeoutMs = timeoutMs
        guard let zone = DNSName(config.zone), let payload = DNSTunnel.fragmentPayload(device: config.device, zone: zone) else {
            throw UplinkError(operation: "configure", target: config.zone, reason: "zone leaves no room for data")
        }
        self.zone = zone
        self.payload = payload
        key = try DNSTunnel.readKey(config.keyFile)
        if let text = config.resolver, let address = ResolverAddress(text) {
            resolver = address
        } else if let address = config.resolvConfPaths.lazy.compactMap({ ResolverAddress.fromResolvConf($0) }).first {
            resolver = address
        } else {
            throw UplinkError(operation: "find resolver", target: config.resolvConfPaths.joined(separator: ", "), reason: "no nameserver line")
        }
    }

    var target: String { "\(config.zone) via \(resolver)" }

    mutating func deliver(_ events: [PitEvent]) -> Delivery {
        var delivered = 0
        for event in events {
            do throws(UplinkError) {
                let slices = Self.message(for: event, payload: payload).slices
                if let seq = event.seq {
                    try send(kind: .event, id: seq, slices: slices)
                } else {
                    // `pit uplink test`: not from the spool, so no seq; it takes an id from the clock like heartbeats.
                    try send(kind: .unsequenced, id: nextClockID(), slices: slices)
                }
            } catch {
                return Delivery(acknowledged: delivered, error: error)
            }
            delivered += 1
        }
        return .all(delivered)
    }

    /// The event's JSON, or, if even compressed it needs more than `maxFragments` queries (a spool record may be up
    /// to 1 MiB), a stand-in with the same id, seq, time, kind, device and jail and a message saying so. Sending it
    /// keeps the lane moving; refusing would block every later event behind this one for good.
    /// Returned framed (compressed when that helps) and cut into fragments, so it is compressed once.
    static func message(for event: PitEvent, payload: Int) -> (body: [UInt8], slices: [[UInt8]]) {
        let full = event.jsonBytes()
        let slices = DNSTunnel.slices(DNSTunnel.frame(full), payload: payload)
        if slices.count <= DNSTunnel.maxFragments { return (full, slices) }
        var stub = PitEvent(kind: event.kind, id: event.id, time: event.time, device: event.device, jail: event.jail,
                            message: "too large for the DNS uplink (\(full.count) bytes of JSON): fields left out")
        stub.seq = event.seq
        let body = stub.jsonBytes()
        return (body, DNSTunnel.slices(DNSTunnel.frame(body), payload: payload))
    }

    /// One heartbeat: the device's current time, so the console sees both that it lives and how its clock runs.
    mutating func heartbeat() -> UplinkError? {
        do throws(UplinkError) {
            try send(kind: .heartbeat, id: nextClockID(),
                     slices: DNSTunnel.slices(DNSTunnel.frame(Array(EventTime.now().utf8)), payload: payload))
            return nil
        } catch {
            return error
        }
    }

    /// Wall-clock milliseconds, strictly increasing within this process: the console accepts a heartbeat only
    /// above the last one it took from this device, which is what keeps a recorded heartbeat from being replayed.
    mutating func nextClockID() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let now = UInt64(max(0, Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000))
        lastUnsequencedID = max(now, lastUnsequencedID + 1)
        return lastUnsequencedID
    }

    struct InFlight {
        var index: Int
        var name: DNSName
        var nonce: [UInt8]
        var query: [UInt8]
        var sentAt: Int64
    }

    /// Sends one message, already framed and cut into fragments, and returns once the console holds all of it;
    /// throws at the deadline (`timeout_ms`).
    mutating func send(kind: DNSTunnel.Kind, id: UInt64, slices: [[UInt8]]) throws(UplinkError) {
        let deadline = monotonicMilliseconds() + Int64(timeoutMs)
        guard slices.count <= DNSTunnel.maxFragments else {
            throw UplinkError(operation: "fragment", target: target,
                              reason: "message \(id) needs \(slices.count) fragments, more than \(DNSTunnel.maxFragments)")
        }
        let socket = try Socket.connect(host: resolver.host, port: resolver.port, datagram: true, deadline: deadline)
        var acked = Set<Int>()
        var inFlight: [UInt16: InFlight] = [:]
        // Queries given up on still count if their answer turns up late (a slow resolver, not a lost packet).
        var late: [UInt16: InFlight] = [:]
        var problem: String?
        var random = SystemRandomNumberGenerator()
        var buffer = [UInt8](repeating: 0, count: DNSMessage.maxSize)
        while true {
            var now = monotonicMilliseconds()
            if now >= deadline {
                throw UplinkError(operation: "deliver", target: target,
                                  reason: "timed out with \(acked.count) of \(slices.count) fragments of message \(id) acknowledged"
                                    + (problem.map { " (last: \($0))" } ?? ""))
            }
            var expired = false
            for (qid, f) in inFlight where now - f.sentAt >= rto {
                inFlight[qid] = nil
                late[qid] = f
                expired = true
            }
            for (qid, f) in late where now - f.sentAt >= Self.maxRTOms * 3 { late[qid] = nil }
            // Gentle growth: loss on a DNS path is mostly random (a resolver dropping, a lossy link), rarely our own
            // load, and doubling turned a few losses in a row into seconds of silence in the 30% loss test.
            // Capped lower than a measured timeout may be: a long silence on a fast path is loss, to be retried soon.
            if expired { rto = max(rto, min(rto * 3 / 2, Self.maxLossRTOms)) }
            let busy = Set(inFlight.values.map(\.index))
            var candidate = 0
            while inFlight.count < Self.window && candidate < slices.count {
                defer { candidate += 1 }
                if acked.contains(candidate) || busy.contains(candidate) { continue }
                let (name, nonce) = DNSTunnel.queryName(kind: kind, messageID: id, index: candidate, count: slices.count,
                                                        slice: slices[candidate], device: config.device, zone: zone, key: key)
                var qid = UInt16.random(in: 0...UInt16.max, using: &random)
                while inFlight[qid] != nil || late[qid] != nil { qid = UInt16.random(in: 0...UInt16.max, using: &random) }
                var query = DNSMessage(id: qid, questions: [DNSQuestion(name: name, type: DNSType.txt)],
                                       additional: [.opt(udpSize: Self.ednsSize)])
                query.recursionDesired = true
                let bytes = query.encoded()
                do throws(UplinkError) { try socket.sendDatagram(bytes, deadline: deadline) } catch {
                    // ECONNREFUSED from an earlier datagram (no resolver listening) surfaces here; retried like loss.
                    problem = error.description
                    break
                }
                stats.queries += 1
                stats.bytesSent += bytes.count
                inFlight[qid] = InFlight(index: candidate, name: name, nonce: nonce, query: bytes, sentAt: now)
            }
            let earliest = (inFlight.values.map(\.sentAt).min() ?? now) + rto
            var p = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, Int32(max(1, min(earliest, deadline) - now)))
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno != EAGAIN { problem = UplinkError.sys("receive", resolver.description).description }
                    break
                }
                stats.bytesReceived += n
                guard var answer = try? DNSMessage.parse(Array(buffer[0..<n])), answer.isResponse,
                      let f = inFlight[answer.id] ?? late[answer.id], answer.questions.count == 1,
                      answer.questions[0].name.equalsIgnoringCase(f.name) else { continue }
                now = monotonicMilliseconds()
                if answer.truncated {
                    stats.tcpFallbacks += 1
                    do throws(UplinkError) { answer = try exchangeTCP(f.query, deadline: min(deadline, now + Self.maxRTOms * 2)) } catch {
                        problem = "over TCP: \(error)"
                        continue
                    }
                }
                guard answer.rcode == DNSRcode.noError else {
                    // SERVFAIL or REFUSED from the resolver: the entry stays in flight and is retried when its
                    // timer runs out, not at once, or a failing path would be hammered.
                    problem = "answer rcode \(answer.rcode)"
                    continue
                }
                guard let text = answer.answers.first(where: { $0.type == DNSType.txt })?.txtJoined,
                      let ack = DNSTunnel.openAck(text, device: config.device, zone: zone, key: key, queryNonce: f.nonce),
                      ack.messageID == id else {
                    problem = "answer without a valid acknowledgement"
                    continue
                }
                inFlight[answer.id] = nil
                late[answer.id] = nil
                // The timeout follows the path: three round trips of the last answer (the resolver may itself have
                // retried upstream), within bounds, so a fast path recovers from loss quickly and a slow one is
                // not flooded with retransmissions.
                rto = min(Self.maxRTOms, max(Self.minRTOms, (now - f.sentAt) * 3))
                switch ack.status {
                case .complete, .duplicate:
                    return
                case .stored:
                    acked.insert(f.index)
                }
            }
            if acked.count == slices.count && inFlight.isEmpty {
                // Every fragment was stored once, yet nothing completed the message: the console lost what it held.
                acked.removeAll()
            }
        }
    }

    /// RFC 7766: the query again over TCP, two-byte length prefix, when the UDP answer came back truncated.
    mutating func exchangeTCP(_ query: [UInt8], deadline: Int64) throws(UplinkError) -> DNSMessage {
        let socket = try Socket.connect(host: resolver.host, port: resolver.port, deadline: deadline)
        try socket.sendAll([UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query, deadline: deadline)
        stats.bytesSent += query.count + 2
        var received: [UInt8] = []
        while true {
            if received.count >= 2 {
                let length = Int(received[0]) << 8 | Int(received[1])
                if received.count >= 2 + length {
                    stats.bytesReceived += 2 + length
                    do { return try DNSMessage.parse(Array(received[2..<(2 + length)])) } catch {
                        throw UplinkError(operation: "parse TCP answer", target: socket.peer, reason: error.description)
                    }
                }
            }
            let chunk = try socket.receive(max: 65537, deadline: deadline, operation: "TCP answer")
            if chunk.isEmpty { throw UplinkError(operation: "TCP answer", target: socket.peer, reason: "closed early") }
            received += chunk
        }
    }
}

/// Counters for the benchmark and for tests: DNS payload bytes (no IP/UDP headers), queries, fallbacks.
public struct DNSClientStats: Sendable, Equatable {
    public var queries = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var tcpFallbacks = 0
}

/// The resolver the device asks: an IP literal and port (no name: resolving the resolver would need a resolver).
struct ResolverAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    /// `1.2.3.4`, `1.2.3.4:5353`, `[::1]:53`, `::1`.
    init?(_ text: String) {
        guard let (host, port) = splitHostPort(Substring(text), defaultPort: 53) else { return nil }
        var scratch = in6_addr()
        let literal = String(host)
        guard inet_pton(AF_INET, literal, &scratch) == 1 || inet_pton(AF_INET6, literal, &scratch) == 1 else { return nil }
        self.host = literal
        self.port = port
    }

    /// The first `nameserver` line of resolv.conf (what glibc's stub would ask first).
    static func fromResolvConf(_ path: String = "/etc/resolv.conf") -> ResolverAddress? {
        guard let bytes = try? FileIO.readFile(path) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 2, words[0] == "nameserver" {
                // A scoped IPv6 address (fe80::1%eth0) is not supported; skip to the next line.
                if let address = ResolverAddress(String(words[1])) { return address }
            }
        }
        return nil
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
