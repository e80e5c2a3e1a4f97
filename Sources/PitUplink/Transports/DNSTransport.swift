import Glibc
import PitProcess

/// Delivery over DNS queries through the network's ordinary resolver, for networks that allow nothing else out.
/// The protocol is `DNSTunnel`'s; this is the device's half.
///
/// Each event is one message, its id the event's seq. Up to `maxMessagesInFlight` messages go at once, their
/// fragments as TXT queries, up to `window` in flight over one UDP socket to the resolver; a fragment whose answer does not come back within the retransmission
/// timeout is sent again as a new query (fresh nonce, so a new name no cache has seen), the timeout growing by half
/// up to `maxRTOms` while answers stay away and following the measured round trip when one arrives. An answer with TC set is fetched again over
/// TCP from the same resolver. Answers must verify under the device key and be bound to the query's nonce, so a
/// resolver (or anyone on the path) cannot acknowledge in the console's place. The event counts as delivered only
/// when an answer says the console holds the whole message (`complete`) or had it already (`duplicate`); if every
/// fragment was acknowledged but none completed it, the console lost its partial copy (it restarted) and the whole
/// message is sent again. Messages may complete out of order (the console writes each as it completes); the cursor
/// moves only over the prefix that is complete, so a device that stops early sends the rest again (at-least-once),
/// and the console's window of digests answers those `duplicate` (its output stays exactly-once).
public struct DNSClient {
    let config: TransportConfig.DNS
    let zone: DNSName
    let key: [UInt8]
    let resolver: ResolverAddress
    let timeoutMs: Int
    let payload: Int
    /// The spool whose events this client sends: its epoch goes into every fragment, and the highest seq it ever
    /// assigned is what a console's mark is checked against. nil (a test's bare client): a random epoch of this
    /// client's own, and the highest seq this client has seen.
    let spoolDirectory: String?
    let ownEpoch: UInt64
    var stats = DNSClientStats()
    /// Heartbeats and `pit uplink test` events: a random session per client and a counter in it. No clock: one
    /// far-future clock reading must not make every later heartbeat look old.
    let session: UInt32
    var counters: [UInt8: UInt32] = [:]
    var highestSeen: UInt64 = 0
    /// Set when the console answered something that means an event could be lost (see `DNSTunnel.AckStatus`, and
    /// a mark above anything the spool assigned); the agent shows it and raises `uplink_alarm`.
    public private(set) var alarm: String?
    /// The retransmission timeout, kept from one message to the next: what the path taught the last message holds
    /// for the next one too.
    var rto = DNSClient.initialRTOms

    /// Queries in flight at once, over all messages.
    static let window = 48
    /// Messages in flight at once (the console keeps up to `DNSConsole.maxPartials` partial ones per device).
    static let maxMessagesInFlight = DNSConsoleLimits.held - 4
    static let initialRTOms: Int64 = 400
    static let minRTOms: Int64 = 150
    static let maxLossRTOms: Int64 = 1000
    static let maxRTOms: Int64 = 3000
    /// What queries advertise in EDNS(0) (the DNS flag day 2020 value: no IP fragmentation on common paths).
    static let ednsSize = 1232
    /// At most this many events are acknowledged per `deliver` before the agent commits its cursor: a device that
    /// crashes before the commit sends them again, and they must still be inside the console's window
    /// (`DNSConsole.window`) to be recognised as `duplicate`.
    static let maxUncommitted = 256

    init(config: TransportConfig.DNS, timeoutMs: Int, spoolDirectory: String? = nil) throws(UplinkError) {
        self.config = config
        self.timeoutMs = timeoutMs
        self.spoolDirectory = spoolDirectory
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
        var random = SystemRandomNumberGenerator()
        session = UInt32.random(in: 1...UInt32.max, using: &random)
        ownEpoch = UInt64.random(in: 1...UInt64.max, using: &random)
    }

    var target: String { "\(config.zone) via \(resolver)" }

    /// The spool's epoch, read for every delivery (a reset spool has a new one).
    func epoch() throws(UplinkError) -> UInt64 {
        guard let directory = spoolDirectory else { return ownEpoch }
        guard let epoch = Spool.readEpoch(directory: directory) else {
            throw UplinkError(operation: "read epoch", target: directory + "/epoch",
                              reason: "missing or not 16 hex digits (the supervisor writes it when it opens the spool)")
        }
        return epoch
    }

    /// Sends `events` (seq order) pipelined, at most `maxUncommitted` of them per call, and reports the prefix the
    /// console wrote: an event counts only when it and every event before it were answered `complete` or
    /// `duplicate` (the cursor cannot skip one). A `conflict` or `retired` answer, or a mark above anything the
    /// spool assigned, stops there with an alarm; the events from it on stay in the spool.
    mutating func deliver(_ events: [PitEvent]) -> Delivery {
        var messages: [Outgoing] = []
        do throws(UplinkError) {
            let epoch = try epoch()
            var previous: UInt64 = 0
            for event in events.prefix(Self.maxUncommitted) {
                let message = DNSTunnel.message(Self.body(for: event, payload: payload), after: previous)
                previous = event.seq ?? 0
                var header = DNSTunnel.Header(kind: .event, epoch: epoch, messageID: 0, digest: DNSTunnel.digest(message),
                                              index: 0, count: 0)
                if let seq = event.seq {
                    header.messageID = seq
                    highestSeen = max(highestSeen, seq)
                } else {
                    // `pit uplink test`: not from the spool, so no seq; a session id like heartbeats.
                    header.kind = .unsequenced
                    header.messageID = nextSessionID(.unsequenced)
                }
                messages.append(Outgoing(header: header, slices: DNSTunnel.slices(message, payload: payload)))
            }
        } catch {
            return .none(error)
        }
        var failure: UplinkError?
        do throws(UplinkError) { try sendMany(&messages) } catch { failure = error }
        var delivered = 0
        for message in messages {
            guard let ack = message.final else { break }
            do throws(UplinkError) { try check(ack, message.header) } catch {
                return Delivery(acknowledged: delivered, error: error)
            }
            delivered += 1
        }
        return Delivery(acknowledged: delivered, error: delivered == messages.count ? nil : failure)
    }

    /// What the final answer to a message means: delivered (`complete`, or `duplicate` of the same digest), or an
    /// alarm: the event stays in the spool and the lane fails until someone looks.
    mutating func check(_ ack: DNSTunnel.Ack, _ header: DNSTunnel.Header) throws(UplinkError) {
        let what = header.kind == .event ? "seq \(header.messageID)" : "\(header.kind) message"
        let epoch = Spool.epochText(header.epoch)
        switch ack.status {
        case .complete, .duplicate, .stored:
            return
        case .conflict:
            throw raise("the console holds another message as \(what) of epoch \(epoch) for device \(config.device), or it is "
                        + "below its window: another device sends with this id and spool (a clone), or the console's state is not this "
                        + "device's; kept, not counted delivered")
        case .retired:
            throw raise("the console retired \(header.kind == .event ? "epoch \(epoch)" : "this \(header.kind) session") of device "
                        + "\(config.device): another device sends with this id (a clone), or an older console state; \(what) kept, "
                        + "not counted delivered")
        }
    }

    /// Checks a console's mark against the highest seq this device's spool ever assigned (read from the spool when
    /// the mark is above anything seen here). A mark above it: another device wrote under this id and epoch, or the
    /// console's state is not this device's: whatever this device sends may be taken for old.
    mutating func checkMark(_ ack: DNSTunnel.Ack, _ header: DNSTunnel.Header) throws(UplinkError) {
        guard header.kind == .event, ack.mark > highestSeen else { return }
        if let directory = spoolDirectory {
            do {
                if let highest = try Spool.highestAssignedSeq(directory: directory) { highestSeen = max(highestSeen, highest) }
            } catch {
                throw UplinkError(operation: "read spool", target: directory, errno: error.errno,
                                  reason: error.errno == nil ? error.description : nil)
            }
        }
        guard ack.mark > highestSeen else { return }
        throw raise("the console's mark for device \(config.device), epoch \(Spool.epochText(header.epoch)) is seq \(ack.mark), above "
                    + "anything this spool assigned (\(highestSeen)): another device sends with this id and spool (a clone), or the "
                    + "console's state is not this device's; seq \(header.messageID) kept, not counted delivered")
    }

    mutating func raise(_ text: String) -> UplinkError {
        alarm = text
        return UplinkError(operation: "alarm", target: target, reason: text)
    }

    /// The event's JSON, or, if even compressed it needs more than `maxFragments` queries (a spool record may be up
    /// to 1 MiB), a stand-in with the same id, seq, time, kind, device and jail and a message saying so. Sending it
    /// keeps the lane moving; refusing would block every later event behind this one for good.
    static func body(for event: PitEvent, payload: Int) -> [UInt8] {
        let full = event.jsonBytes()
        if DNSTunnel.slices(DNSTunnel.frame(full), payload: payload).count <= DNSTunnel.maxFragments { return full }
        var stub = PitEvent(kind: event.kind, id: event.id, time: event.time, device: event.device, jail: event.jail,
                            message: "too large for the DNS uplink (\(full.count) bytes of JSON): fields left out")
        stub.seq = event.seq
        return stub.jsonBytes()
    }

    /// One heartbeat: the device's current time, so the console sees both that it lives and how its clock runs.
    mutating func heartbeat() -> UplinkError? {
        do throws(UplinkError) {
            let message = DNSTunnel.message(Array(EventTime.now().utf8))
            let header = DNSTunnel.Header(kind: .heartbeat, epoch: try epoch(), messageID: nextSessionID(.heartbeat),
                                          digest: DNSTunnel.digest(message), index: 0, count: 0)
            try check(try send(header, slices: DNSTunnel.slices(message, payload: payload)), header)
            return nil
        } catch {
            return error
        }
    }

    /// The session in the high 32 bits, the next counter of `kind` in the low ones.
    mutating func nextSessionID(_ kind: DNSTunnel.Kind) -> UInt64 {
        let counter = (counters[kind.rawValue] ?? 0) &+ 1
        counters[kind.rawValue] = counter
        return UInt64(session) << 32 | UInt64(counter)
    }

    struct InFlight {
        var message: Int
        var index: Int
        var name: DNSName
        var nonce: [UInt8]
        var query: [UInt8]
        var sentAt: Int64
        var timeout: Int64
    }

    /// One message being sent: its header (index and count filled in per fragment), its fragments, which of them
    /// the console holds, and its final answer once there is one.
    struct Outgoing {
        var header: DNSTunnel.Header
        var slices: [[UInt8]]
        var stored = Set<Int>()
        var final: DNSTunnel.Ack?
        /// Queries sent per fragment so far: each retransmission of a fragment waits half as long again.
        var attempts: [Int: Int] = [:]
    }

    /// Sends one message and returns the console's final answer to it; throws at the deadline (`timeout_ms`).
    mutating func send(_ template: DNSTunnel.Header, slices: [[UInt8]]) throws(UplinkError) -> DNSTunnel.Ack {
        var messages = [Outgoing(header: template, slices: slices)]
        try sendMany(&messages)
        return messages[0].final!
    }

    /// Sends `messages` (already framed and cut into fragments) pipelined: up to `maxMessagesInFlight` of them at
    /// once, the earliest first, with up to `window` queries in flight over one UDP socket. Returns once every
    /// message has a final answer, or as soon as one has an answer that is an alarm (conflict, retired: the caller
    /// stops there) or the console's mark fails `checkMark` (thrown). Throws at the deadline, which is `timeout_ms`
    /// after the start or after the last message that completed; `final` says which were answered by then.
    /// Answers may complete messages out of order; the caller counts only the prefix delivered.
    mutating func sendMany(_ messages: inout [Outgoing]) throws(UplinkError) {
        for m in messages where m.slices.count > DNSTunnel.maxFragments {
            throw UplinkError(operation: "fragment", target: target,
                              reason: "message \(m.header.messageID) needs \(m.slices.count) fragments, more than \(DNSTunnel.maxFragments)")
        }
        var deadline = monotonicMilliseconds() + Int64(timeoutMs)
        let socket = try Socket.connect(host: resolver.host, port: resolver.port, datagram: true, deadline: deadline)
        var inFlight: [UInt16: InFlight] = [:]
        // Queries given up on still count if their answer turns up late (a slow resolver, not a lost packet).
        var late: [UInt16: InFlight] = [:]
        var problem: String?
        var random = SystemRandomNumberGenerator()
        var buffer = [UInt8](repeating: 0, count: DNSMessage.maxSize)
        var first = 0  // messages before this one all have a final answer
        var lastAnswer: Int64 = 0
        while true {
            while first < messages.count && messages[first].final != nil { first += 1 }
            if first == messages.count { return }
            var now = monotonicMilliseconds()
            if now >= deadline {
                let m = messages[first]
                throw UplinkError(operation: "deliver", target: target,
                                  reason: "timed out with \(m.stored.count) of \(m.slices.count) fragments of message \(m.header.messageID) acknowledged"
                                    + (problem.map { " (last: \($0))" } ?? ""))
            }
            for (qid, f) in inFlight where now - f.sentAt >= f.timeout {
                inFlight[qid] = nil
                late[qid] = f
            }
            for (qid, f) in late where now - f.sentAt >= Self.maxRTOms * 3 { late[qid] = nil }
            var busy = Set(inFlight.values.map { $0.message << 16 | $0.index })
            var active = 0
            var sendFailed = false
            var m = first
            // Every message without a final answer counts, also those the console holds whole (waiting for the
            // one before them): the console holds at most `DNSConsoleLimits.held` per device, and evicting one
            // of them would cost all its fragments again.
            while m < messages.count && active < Self.maxMessagesInFlight && inFlight.count < Self.window && !sendFailed {
                defer { m += 1 }
                if messages[m].final != nil { continue }
                active += 1
                // Whole at the console, waiting for the event before it: nothing to send.
                if m > first && messages[m].stored.count == messages[m].slices.count { continue }
                for candidate in messages[m].slices.indices where inFlight.count < Self.window {
                    if messages[m].stored.contains(candidate) || busy.contains(m << 16 | candidate) { continue }
                    var header = messages[m].header
                    header.index = candidate
                    header.count = messages[m].slices.count
                    let (name, nonce) = DNSTunnel.queryName(header, slice: messages[m].slices[candidate], device: config.device,
                                                            zone: zone, key: key)
                    var qid = UInt16.random(in: 0...UInt16.max, using: &random)
                    while inFlight[qid] != nil || late[qid] != nil { qid = UInt16.random(in: 0...UInt16.max, using: &random) }
                    var query = DNSMessage(id: qid, questions: [DNSQuestion(name: name, type: DNSType.txt)],
                                           additional: [.opt(udpSize: Self.ednsSize)])
                    query.recursionDesired = true
                    let bytes = query.encoded()
                    do throws(UplinkError) { try socket.sendDatagram(bytes, deadline: deadline) } catch {
                        // ECONNREFUSED from an earlier datagram (no resolver listening) surfaces here; retried like loss.
                        problem = error.description
                        sendFailed = true
                        break
                    }
                    stats.queries += 1
                    stats.bytesSent += bytes.count
                    // Each fragment backs off on its own: with many queries in flight, one lost query must not
                    // slow every other one down. Gentle growth (half again per loss): loss on a DNS path is mostly
                    // random, rarely our own load, and doubling turned a few losses in a row into seconds of
                    // silence. Capped lower than a measured timeout may be: a long silence on a fast path is loss.
                    // While answers keep coming (one within the last second) the path is up and a lost query was
                    // bad luck, not congestion: it is sent again after the plain timeout.
                    let attempt = messages[m].attempts[candidate, default: 0]
                    messages[m].attempts[candidate] = attempt + 1
                    var timeout = rto
                    if now - lastAnswer >= Self.maxLossRTOms {
                        for _ in 0..<min(attempt, 8) { timeout = max(timeout, min(timeout * 3 / 2, Self.maxLossRTOms)) }
                    }
                    inFlight[qid] = InFlight(message: m, index: candidate, name: name, nonce: nonce, query: bytes,
                                             sentAt: now, timeout: timeout)
                    busy.insert(m << 16 | candidate)
                }
            }
            let earliest = inFlight.values.map { $0.sentAt + $0.timeout }.min() ?? (now + rto)
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
                let header = messages[f.message].header
                guard let text = answer.answers.first(where: { $0.type == DNSType.txt })?.txtJoined,
                      let ack = DNSTunnel.openAck(text, device: config.device, zone: zone, key: key, queryNonce: f.nonce),
                      ack.messageID == header.messageID else {
                    problem = "answer without a valid acknowledgement"
                    continue
                }
                inFlight[answer.id] = nil
                late[answer.id] = nil
                lastAnswer = now
                // The timeout follows the path: three round trips of the last answer (the resolver may itself have
                // retried upstream), within bounds, so a fast path recovers from loss quickly and a slow one is
                // not flooded with retransmissions.
                rto = min(Self.maxRTOms, max(Self.minRTOms, (now - f.sentAt) * 3))
                if messages[f.message].final != nil { continue }
                try checkMark(ack, header)
                switch ack.status {
                case .complete, .duplicate:
                    messages[f.message].final = ack
                    if stats.recording { stats.completions.append(now) }
                    deadline = now + Int64(timeoutMs)
                    for (qid, g) in inFlight where g.message == f.message { inFlight[qid] = nil }
                    // Written means every event before it is written too, and the console has written, right after
                    // it, the whole ones that waited for it: ask about those at once (one fragment each), not one
                    // after another as each becomes the first. Only that run: any further one waits on a gap.
                    var j = f.message + 1
                    while j < messages.count && messages[j].final == nil && messages[j].stored.count == messages[j].slices.count {
                        messages[j].stored.remove(messages[j].slices.count - 1)
                        j += 1
                    }
                case .conflict, .retired:
                    messages[f.message].final = ack
                    return
                case .stored:
                    // The console holds fewer than this device saw stored: it restarted and lost them.
                    if ack.held < messages[f.message].stored.count { messages[f.message].stored.removeAll() }
                    messages[f.message].stored.insert(f.index)
                }
            }
            if messages[first].final == nil && messages[first].stored.count == messages[first].slices.count
                && !inFlight.values.contains(where: { $0.message == first }) {
                // Every fragment was stored, and every message before it is answered, yet none completed it: ask again
                // with one fragment. The console answers `duplicate` if it wrote it meanwhile (it was waiting for the
                // one before), `stored` with fewer held if it restarted and lost it (then all go again).
                messages[first].stored.remove(messages[first].slices.count - 1)
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

/// What a console holds per device, which bounds what a device may leave with it.
enum DNSConsoleLimits {
    /// Partial messages, and whole ones waiting for the event before them, each (`DNSConsole.maxPartials`).
    static let held = 32
}

/// Counters for the benchmark and for tests: DNS payload bytes (no IP/UDP headers), queries, fallbacks.
public struct DNSClientStats: Sendable, Equatable {
    public var queries = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    public var tcpFallbacks = 0
    /// When each message completed (monotonic ms), for the benchmark's latencies; kept only while `recording`.
    public var recording = false
    public var completions: [Int64] = []
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
