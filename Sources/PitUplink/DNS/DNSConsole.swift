import Glibc
import PitProcess

/// `pit console-dns`: the receiving end of the DNS transport, an authoritative server for the console's zone.
/// It verifies and decrypts each fragment as it arrives, reassembles messages, and writes each completed one as a
/// JSON line (stdout or a file, appended and fsynced before the acknowledgement that completes it):
///
///     {"device":"pit-07","received":"2026-…Z","event":{…the event's JSON line…}}
///     {"device":"pit-07","received":"2026-…Z","heartbeat":"<the device's clock>"}
///
/// Replay: per device, the highest event seq and the highest clock id (heartbeats, `pit uplink test`) it has
/// completed are kept in `<state dir>/<device>.state`, written atomically after the output line and before the
/// answer. A fragment of a message at or below those is answered `duplicate` (so a device whose ack was lost moves
/// on) and never written again, also after a console restart. A crash between the output line and the state file
/// writes that event once more on retry: at-least-once, as everywhere in Pit; the event id tells duplicates apart.
/// Partial messages live in memory only: after a restart the device sends the message again (see `DNSClient`).
///
/// Queries it refuses (REFUSED, and nothing stored): names outside the zone, fragments for devices without a key
/// file, fragments whose tag does not verify (altered, replayed into another message or device, another device's
/// key). Other names under the zone, including TXT names that are not Base32 of a fragment, get an empty NOERROR
/// answer with the zone's SOA: a resolver doing QNAME minimisation (RFC 9156) needs that to go on to the full name.
public struct DNSConsole {
    public struct Config: Sendable {
        public var zone: DNSName
        public var listen: String
        public var keysDirectory: String
        public var stateDirectory: String
        /// nil: stdout.
        public var output: String?
        /// The largest UDP answer sent; larger ones go out truncated (TC) so the resolver asks again over TCP.
        public var maxUDP: Int = 1232
        public var verbose = false

        public init(zone: DNSName, listen: String, keysDirectory: String, stateDirectory: String? = nil, output: String? = nil) {
            self.zone = zone
            self.listen = listen
            self.keysDirectory = keysDirectory
            self.stateDirectory = stateDirectory ?? keysDirectory
            self.output = output
        }
    }

    struct Device {
        var key: [UInt8]
        var lastEvent: UInt64 = 0
        var lastClock: UInt64 = 0
        /// Messages being reassembled, by kind and id; at most `maxPartials`, the oldest dropped first.
        var partials: [Partial] = []
    }

    struct Partial {
        var kind: DNSTunnel.Kind
        var id: UInt64
        var slices: [[UInt8]?]
        var held = 0
    }

    static let maxPartials = 4
    static let refusalsPerSecond = 20
    var refusalSecond: Int64 = 0
    var refusalsLogged = 0
    var refusalsSuppressed = 0

    public let config: Config
    var devices: [String: Device] = [:]
    var outputFD: Int32 = 1

    public init(config: Config) throws(UplinkError) {
        self.config = config
        if let output = config.output {
            outputFD = Glibc.open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard outputFD >= 0 else { throw .sys("open output", output) }
        }
    }

    // MARK: One query

    /// The answer to one query (nil: send nothing). `udp` applies the size limit; over TCP answers go out whole.
    public mutating func answer(_ query: [UInt8], udp: Bool) -> [UInt8]? {
        let request: DNSMessage
        do { request = try DNSMessage.parse(query) } catch {
            guard query.count >= 12, query[2] & 0x80 == 0 else { return nil }
            return errorAnswer(id: UInt16(query[0]) << 8 | UInt16(query[1]), rcode: DNSRcode.formErr)
        }
        if request.isResponse { return nil }
        var reply = DNSMessage(id: request.id)
        reply.isResponse = true
        reply.recursionDesired = request.recursionDesired
        reply.questions = request.questions
        let edns = request.ednsUDPSize
        if edns != nil { reply.additional = [.opt(udpSize: config.maxUDP)] }
        guard request.opcode == 0 else { reply.rcode = DNSRcode.notImp; return reply.encoded() }
        guard request.questions.count == 1, request.questions[0].qclass == 1 else {
            reply.rcode = DNSRcode.formErr
            return reply.encoded()
        }
        let question = request.questions[0]
        guard question.name.isSubdomain(of: config.zone) else {
            reply.rcode = DNSRcode.refused
            return reply.encoded()
        }
        reply.authoritative = true
        let below = question.name.labels.count - config.zone.labels.count
        if question.type != DNSType.txt || below < 2 {
            // No data here, but the name may be on the way to one (QNAME minimisation): NOERROR, empty, SOA.
            reply.authority = [soa()]
            return reply.encoded()
        }
        switch receive(question.name) {
        case .success(let text):
            reply.answers = [.txt(question.name, text)]
        case .failure(.rejected(.malformed)):
            // Not fragment-shaped: may be a resolver minimising label by label with the original type (RFC 9156
            // allows it). An empty answer lets it go on; nothing is stored either way.
            reply.authority = [soa()]
        case .failure(let rejection):
            logRefusal("refused \(Self.printable(question.name)): \(rejection)")
            reply.rcode = DNSRcode.refused
        }
        var bytes = reply.encoded()
        let limit = min(config.maxUDP, max(512, edns ?? 512))
        if udp && bytes.count > limit {
            reply.answers = []
            reply.truncated = true
            bytes = reply.encoded()
        }
        return bytes
    }

    func errorAnswer(id: UInt16, rcode: UInt8) -> [UInt8] {
        var reply = DNSMessage(id: id)
        reply.isResponse = true
        reply.rcode = rcode
        return reply.encoded()
    }

    func soa() -> DNSRecord {
        var rdata: [UInt8] = []
        for name in [["ns"], ["hostmaster"]] {
            for label in name.map({ Array($0.utf8) }) + config.zone.labels { rdata.append(UInt8(label.count)); rdata += label }
            rdata.append(0)
        }
        // serial 1, refresh 3600, retry 600, expire 86400, minimum 0: negative answers are not to be cached.
        for value: UInt32 in [1, 3600, 600, 86400, 0] {
            rdata += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        return DNSRecord(name: config.zone, type: DNSType.soa, ttl: 0, rdata: rdata)
    }

    enum Outcome: Error, CustomStringConvertible {
        case rejected(DNSTunnel.Rejection)
        case invalid(String)
        var description: String {
            switch self {
            case .rejected(.malformed): "not a fragment"
            case .rejected(.unknownDevice(let d)): "no key for device \(d)"
            case .rejected(.forged(let d)): "fragment does not verify under \(d)'s key"
            case .invalid(let why): why
            }
        }
    }

    /// Takes one fragment: verifies it, stores it, completes the message if it was the last; returns the sealed
    /// acknowledgement text for the TXT answer.
    mutating func receive(_ name: DNSName) -> Result<[UInt8], Outcome> {
        guard let (deviceID, data) = DNSTunnel.splitName(name, zone: config.zone) else { return .failure(.rejected(.malformed)) }
        guard var device = loadDevice(deviceID) else { return .failure(.rejected(.unknownDevice(deviceID))) }
        let fragment: DNSTunnel.Fragment
        do { fragment = try DNSTunnel.openFragment(data, device: deviceID, zone: config.zone, key: device.key) } catch {
            return .failure(.rejected(error))
        }
        defer { devices[deviceID] = device }
        func ack(_ status: DNSTunnel.AckStatus, held: Int) -> [UInt8] {
            DNSTunnel.sealAck(.init(status: status, messageID: fragment.messageID, held: held, count: fragment.count),
                              device: deviceID, zone: config.zone, key: device.key, queryNonce: fragment.nonce)
        }
        let last = fragment.kind == .event ? device.lastEvent : device.lastClock
        if fragment.messageID <= last {
            if config.verbose { log("duplicate \(fragment.kind) \(fragment.messageID) from \(deviceID)") }
            return .success(ack(.duplicate, held: fragment.count))
        }
        var slot = device.partials.firstIndex { $0.kind == fragment.kind && $0.id == fragment.messageID }
        if slot == nil {
            if device.partials.count >= Self.maxPartials { device.partials.removeFirst() }
            device.partials.append(Partial(kind: fragment.kind, id: fragment.messageID,
                                           slices: Array(repeating: nil, count: fragment.count)))
            slot = device.partials.count - 1
        }
        var partial = device.partials[slot!]
        guard partial.slices.count == fragment.count else {
            return .failure(.invalid("fragment count \(fragment.count) differs from \(partial.slices.count) for message \(fragment.messageID)"))
        }
        if partial.slices[fragment.index] == nil {
            partial.slices[fragment.index] = fragment.plaintext
            partial.held += 1
        }
        if config.verbose {
            log("stored \(fragment.kind) \(fragment.messageID) fragment \(fragment.index + 1)/\(fragment.count) (\(partial.held) held) from \(deviceID)")
        }
        if partial.held < fragment.count {
            device.partials[slot!] = partial
            return .success(ack(.stored, held: partial.held))
        }
        device.partials.remove(at: slot!)
        switch complete(partial, device: deviceID) {
        case .failure(let why):
            return .failure(why)
        case .success:
            if fragment.kind == .event { device.lastEvent = fragment.messageID } else { device.lastClock = fragment.messageID }
            saveState(deviceID, device)
            return .success(ack(.complete, held: fragment.count))
        }
    }

    /// Decodes a whole message and writes its line.
    mutating func complete(_ partial: Partial, device: String) -> Result<Void, Outcome> {
        let message = partial.slices.reduce(into: [UInt8]()) { $0 += $1! }
        guard let body = DNSTunnel.unframe(message) else { return .failure(.invalid("message \(partial.id) does not decompress")) }
        var line = "{\"device\":\"\(device)\",\"received\":\"\(EventTime.now())\","
        switch partial.kind {
        case .event, .unsequenced:
            let event: PitEvent
            do { event = try PitEvent.decode(jsonBytes: body) } catch {
                return .failure(.invalid("message \(partial.id) is not an event: \(error)"))
            }
            if partial.kind == .event && event.seq != partial.id {
                return .failure(.invalid("event seq \(event.seq.map(String.init) ?? "none") differs from message id \(partial.id)"))
            }
            // Written as Pit encodes it, not as received: one line whatever whitespace the sender put in.
            line += "\"event\":" + event.jsonLine() + "}\n"
        case .heartbeat:
            // The device's clock as text; only the characters an RFC 3339 time has, so it needs no JSON escaping.
            guard body.count <= 40, body.allSatisfy({ (0x30...0x3A).contains($0) || [0x2D, 0x2E, 0x54, 0x5A, 0x2B].contains($0) }) else {
                return .failure(.invalid("heartbeat \(partial.id) carries no time"))
            }
            line += "\"heartbeat\":\"" + String(decoding: body, as: UTF8.self) + "\"}\n"
        }
        let bytes = Array(line.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(outputFD, $0.baseAddress! + written, $0.count - written) }
            if n > 0 { written += n } else if n < 0 && errno != EINTR {
                return .failure(.invalid("write output: \(String(cString: strerror(errno)))"))
            }
        }
        // A file is fsynced before the ack (the device then forgets the event); a pipe or terminal cannot be.
        if fsync(outputFD) != 0 && errno != EINVAL && errno != EROFS {
            return .failure(.invalid("fsync output: \(String(cString: strerror(errno)))"))
        }
        if config.verbose { log("completed \(partial.kind) \(partial.id) from \(device)") }
        return .success(())
    }

    // MARK: Devices

    mutating func loadDevice(_ id: String) -> Device? {
        if let device = devices[id] { return device }
        // The id is a checked DNS label ([a-z0-9-], no leading '-'), so it cannot leave the directory.
        guard let key = try? DNSTunnel.readKey(config.keysDirectory + "/" + id + ".key") else { return nil }
        var device = Device(key: key)
        if let bytes = try? FileIO.readFile(statePath(id)) {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let words = line.split(separator: " ")
                guard words.count == 2, let value = UInt64(words[1]) else { continue }
                if words[0] == "event" { device.lastEvent = value }
                if words[0] == "clock" { device.lastClock = value }
            }
        }
        devices[id] = device
        return device
    }

    func statePath(_ id: String) -> String { config.stateDirectory + "/" + id + ".state" }

    func saveState(_ id: String, _ device: Device) {
        let text = "event \(device.lastEvent)\nclock \(device.lastClock)\n"
        do { try FileIO.atomicWrite(Array(text.utf8), to: statePath(id), directory: config.stateDirectory, operation: "save state") }
        catch {
            // Replay protection across restarts is what is lost; the message itself is delivered. Say so loudly.
            log("cannot save replay state for \(id): \(error)")
        }
    }

    func log(_ text: String) { writeStderr("pit console-dns: \(text)\n") }

    /// Refusals are logged at most `refusalsPerSecond` a second, the rest counted: anyone can send queries, and a
    /// flood of junk must not become a flood of log lines.
    mutating func logRefusal(_ text: String) {
        let second = monotonicMilliseconds() / 1000
        if second != refusalSecond {
            if refusalsSuppressed > 0 { log("\(refusalsSuppressed) more refusals not logged") }
            refusalSecond = second
            refusalsLogged = 0
            refusalsSuppressed = 0
        }
        if refusalsLogged < Self.refusalsPerSecond { refusalsLogged += 1; log(text) } else { refusalsSuppressed += 1 }
    }

    /// A name from the network, made safe for a log line: bytes outside printable ASCII as \DDD (RFC 1035 style).
    static func printable(_ name: DNSName) -> String {
        var out = ""
        for (i, label) in name.labels.enumerated() {
            if i > 0 { out += "." }
            for byte in label {
                if (0x21...0x7E).contains(byte) && byte != 0x5C && byte != 0x2E { out.unicodeScalars.append(UnicodeScalar(byte)) }
                else { let d = String(byte); out += "\\" + String(repeating: "0", count: 3 - d.count) + d }
            }
        }
        return out
    }

    // MARK: Serving

    /// Serves UDP and TCP on `listen` until killed.
    public mutating func run() throws(UplinkError) -> Never {
        signal(SIGPIPE, SIG_IGN)
        guard let address = ResolverAddress(config.listen) else {
            throw UplinkError(operation: "listen", target: config.listen, reason: "must be IPv4:PORT or [IPv6]:PORT")
        }
        let udp = try Self.bind(address, type: SOCK_DGRAM)
        let tcp = try Self.bind(address, type: SOCK_STREAM)
        guard listen(tcp, 64) == 0 else { throw .sys("listen", config.listen) }
        log("serving \(config.zone) on \(address) (udp, tcp)")
        var connections: [(fd: Int32, buffer: [UInt8], last: Int64)] = []
        var buffer = [UInt8](repeating: 0, count: DNSMessage.maxSize)
        while true {
            var fds = [pollfd(fd: udp, events: Int16(POLLIN), revents: 0), pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)]
            fds += connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 1000)
            // UDP: everything waiting.
            while true {
                var peer = sockaddr_storage()
                var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buffer.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(udp, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &peerLength)
                        }
                    }
                }
                if n < 0 { break }
                if let reply = answer(Array(buffer[0..<n]), udp: true) {
                    _ = reply.withUnsafeBytes { raw in
                        withUnsafePointer(to: &peer) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(udp, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, peerLength)
                            }
                        }
                    }
                }
            }
            let now = monotonicMilliseconds()
            if fds[1].revents != 0 {
                // accept4 is a GNU name Swift's Glibc module lacks: accept, then set the flags.
                let fd = accept(tcp, nil, nil)
                if fd >= 0 {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    // Bounded: the oldest connection makes room (a resolver reopens; a slow-loris does not pile up).
                    if connections.count >= 64 { close(connections.removeFirst().fd) }
                    connections.append((fd, [], now))
                }
            }
            var keep: [(fd: Int32, buffer: [UInt8], last: Int64)] = []
            for var connection in connections {
                var open = true
                let n = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { open = false }
                if n > 0 { connection.buffer += buffer[0..<n]; connection.last = now }
                while open && connection.buffer.count >= 2 {
                    let length = Int(connection.buffer[0]) << 8 | Int(connection.buffer[1])
                    guard connection.buffer.count >= 2 + length else { break }
                    let query = Array(connection.buffer[2..<(2 + length)])
                    connection.buffer.removeFirst(2 + length)
                    if let reply = answer(query, udp: false) {
                        let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
                        // Answers are small and the socket buffer empty in practice; a peer that does not read is dropped.
                        let sent = framed.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                        if sent != framed.count { open = false }
                    }
                }
                if now - connection.last > 10_000 { open = false }
                if open { keep.append(connection) } else { close(connection.fd) }
            }
            connections = keep
        }
    }

    static func bind(_ address: ResolverAddress, type: __socket_type) throws(UplinkError) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(type.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let info = list else {
            throw UplinkError(operation: "listen", target: address.description, reason: "not an address")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .sys("socket", address.description) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let error = UplinkError.sys("bind", address.description)
            close(fd)
            throw error
        }
        return fd
    }
}
