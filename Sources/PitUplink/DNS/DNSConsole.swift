import Glibc
import PitProcess

/// `pit console-dns`: the receiving end of the DNS transport, an authoritative server for the console's zone.
/// It verifies and decrypts each fragment as it arrives, reassembles messages, and writes each completed one as a
/// JSON line (stdout or a file, appended and fsynced before the acknowledgement that completes it):
///
///     {"device":"pit-07","received":"2026-…Z","event":{…the event's JSON line…}}
///     {"device":"pit-07","received":"2026-…Z","heartbeat":"<the device's clock>"}
///
/// Replay (version 2): per device, the current spool epoch with its mark (the highest seq written) and the digests of
/// the seqs written within `window` below it, the epochs it replaced (retired), and the heartbeat and test sessions,
/// kept in `<state dir>/<device>.state`, written atomically after the output line and before the answer. A fragment
/// of a message written before is answered `duplicate` only if its digest matches, else `conflict`; a retired epoch
/// or session is answered `retired`; the device alarms on both (see `DNSTunnel.AckStatus`). An event whose previous
/// seq is not written yet is held whole in memory and written when that one is (seq order with pipelining). A crash
/// between the output line and the state file writes that event once more on retry: at-least-once, as everywhere in
/// Pit; the event id tells duplicates apart. Partial messages live in memory only: after a restart the device sends
/// the message again (see `DNSClient`). Version 1 fragments keep version 1's rule (one mark per device and kind).
/// Key files are re-read when they change (one stat per query): replacing or removing one needs no restart.
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

    /// A device's key as loaded, and what identified its file then: a file replaced, rewritten or removed is
    /// noticed at the next query (one stat), so revoking or rotating a key needs no restart.
    struct LoadedKey {
        var key: [UInt8]
        var stamp: [Int]
    }

    /// A device's replay state.
    struct Device {
        // Version 1: one mark per device for events (seq) and one for heartbeats and tests (wall-clock ms).
        var lastEvent: UInt64 = 0
        var lastClock: UInt64 = 0
        // Version 2, events: the device's current spool epoch, the highest seq written in it, and the digests of
        // the seqs written within `window` below that (a retransmission is `duplicate` only if its digest matches).
        var epoch: UInt64 = 0
        var mark: UInt64 = 0
        var written: [UInt64: UInt64] = [:]
        /// Epochs this device id used before its current one, newest last, at most `maxRetired`.
        var retiredEpochs: [UInt64] = []
        /// Version 2, heartbeats (kind 2) and tests (kind 3): the current session, its highest counter, and the
        /// sessions it replaced.
        var sessions: [UInt8: Session] = [:]
        /// Messages being reassembled; at most `maxPartials`, the oldest dropped first.
        var partials: [Partial] = []
        /// Version 2 events whole but not written yet: the event sent before each (`previous`) is not written yet.
        /// Memory only, at most `maxPartials`; a device that does not get `complete` sends them again.
        var held: [Held] = []
    }

    struct Held {
        var header: DNSTunnel.Header
        var previous: UInt64
        var line: [UInt8]
    }

    struct Session: Equatable {
        var id: UInt32 = 0
        var counter: UInt32 = 0
        var retired: [UInt32] = []
    }

    struct Partial {
        var header: DNSTunnel.Header
        var slices: [[UInt8]?]
        var held = 0

        func matches(_ h: DNSTunnel.Header) -> Bool {
            header.version == h.version && header.kind == h.kind && header.epoch == h.epoch
                && header.messageID == h.messageID && header.digest == h.digest && header.count == h.count
        }
    }

    /// How far below its mark the console remembers which message each seq was. A device keeps at most
    /// `DNSClient.maxUncommitted` events acknowledged but not yet committed to its cursor, so its retransmissions
    /// always fall inside; older ones are answered `conflict`, never `duplicate`.
    static let window: UInt64 = 512
    static let maxRetired = 32
    static let maxPartials = DNSConsoleLimits.held
    static let refusalsPerSecond = 20
    var refusalSecond: Int64 = 0
    var refusalsLogged = 0
    var refusalsSuppressed = 0

    public let config: Config
    var devices: [String: Device] = [:]
    var keys: [String: LoadedKey] = [:]
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
        guard let key = loadKey(deviceID) else { return .failure(.rejected(.unknownDevice(deviceID))) }
        let fragment: DNSTunnel.Fragment
        do { fragment = try DNSTunnel.openFragment(data, device: deviceID, zone: config.zone, key: key) } catch {
            return .failure(.rejected(error))
        }
        guard var device = loadState(deviceID) else {
            return .failure(.invalid("replay state \(statePath(deviceID)) does not read: not answering for \(deviceID)"))
        }
        defer { devices[deviceID] = device }
        let header = fragment.header
        func ack(_ status: DNSTunnel.AckStatus, held: Int) -> [UInt8] {
            DNSTunnel.sealAck(.init(status: status, messageID: header.messageID, held: held, count: header.count,
                                    mark: header.kind == .event ? device.mark : 0),
                              version: header.version, device: deviceID, zone: config.zone, key: key, queryNonce: fragment.nonce)
        }
        if let verdict = header.version == 1 ? Self.verdictV1(header, device) : Self.verdict(header, &device) {
            if verdict == .duplicate || verdict == .stored {
                if config.verbose { log("\(verdict == .stored ? "waiting" : "duplicate") \(header.kind) \(header.messageID) from \(deviceID)") }
            } else {
                logRefusal("\(verdict): \(header.kind) \(header.messageID) epoch \(Spool.epochText(header.epoch)) from \(deviceID) (mark \(device.mark) of epoch \(Spool.epochText(device.epoch)))")
            }
            return .success(ack(verdict, held: header.count))
        }
        var slot = device.partials.firstIndex { $0.matches(header) }
        if slot == nil {
            if device.partials.count >= Self.maxPartials { device.partials.removeFirst() }
            device.partials.append(Partial(header: header, slices: Array(repeating: nil, count: header.count)))
            slot = device.partials.count - 1
        }
        var partial = device.partials[slot!]
        if partial.slices[header.index] == nil {
            partial.slices[header.index] = fragment.plaintext
            partial.held += 1
        }
        if config.verbose {
            log("stored \(header.kind) \(header.messageID) fragment \(header.index + 1)/\(header.count) (\(partial.held) held) from \(deviceID)")
        }
        if partial.held < header.count {
            device.partials[slot!] = partial
            return .success(ack(.stored, held: partial.held))
        }
        device.partials.remove(at: slot!)
        let line: [UInt8], previous: UInt64
        switch decode(partial, device: deviceID) {
        case .failure(let why): return .failure(why)
        case .success(let decoded): (line, previous) = decoded
        }
        if header.kind == .event && previous != 0 && !Self.isWritten(previous, device) {
            // Full: the one furthest from being written goes (this one, if it is that); the device sends it again.
            if device.held.count >= Self.maxPartials, let last = device.held.indices.max(by: {
                device.held[$0].header.messageID < device.held[$1].header.messageID }) {
                if device.held[last].header.messageID < header.messageID { return .success(ack(.stored, held: 0)) }
                device.held.remove(at: last)
            }
            device.held.append(Held(header: header, previous: previous, line: line))
            if config.verbose { log("holding event \(header.messageID) from \(deviceID) until \(previous) is written") }
            return .success(ack(.stored, held: header.count))
        }
        if case .failure(let why) = write(line) { return .failure(why) }
        if config.verbose { log("completed \(header.kind) \(header.messageID) from \(deviceID)") }
        Self.record(header, &device)
        // The events that were waiting for this one, in turn.
        var last = header.messageID
        while header.kind == .event, let next = device.held.firstIndex(where: { $0.previous == last }) {
            let waiting = device.held.remove(at: next)
            if case .failure(let why) = write(waiting.line) { saveState(deviceID, device); return .failure(why) }
            if config.verbose { log("completed \(waiting.header.kind) \(waiting.header.messageID) from \(deviceID)") }
            Self.record(waiting.header, &device)
            last = waiting.header.messageID
        }
        saveState(deviceID, device)
        return .success(ack(.complete, held: header.count))
    }

    /// Whether `seq` of the current epoch is written, or so far below the mark that the console cannot tell (then
    /// it does not hold the next one back: it would wait for ever).
    static func isWritten(_ seq: UInt64, _ device: Device) -> Bool {
        device.written[seq] != nil || (device.mark >= window && seq <= device.mark - window)
    }

    /// Version 1's rule: nothing at or below the device's mark is taken (and the device counts it delivered).
    static func verdictV1(_ header: DNSTunnel.Header, _ device: Device) -> DNSTunnel.AckStatus? {
        header.messageID <= (header.kind == .event ? device.lastEvent : device.lastClock) ? .duplicate : nil
    }

    /// Version 2: nil to take the fragment, or the answer that refuses it. An unseen epoch or session replaces the
    /// current one (only the key's holder can seal one), which is retired; a retired one is refused from then on.
    static func verdict(_ header: DNSTunnel.Header, _ device: inout Device) -> DNSTunnel.AckStatus? {
        guard header.kind == .event else {
            let sessionID = UInt32(truncatingIfNeeded: header.messageID >> 32)
            let counter = UInt32(truncatingIfNeeded: header.messageID)
            var session = device.sessions[header.kind.rawValue] ?? Session()
            defer { device.sessions[header.kind.rawValue] = session }
            if session.retired.contains(sessionID) { return .retired }
            if sessionID != session.id {
                if session.id != 0 || session.counter != 0 { session.retired.append(session.id) }
                if session.retired.count > maxRetired { session.retired.removeFirst() }
                session.id = sessionID
                session.counter = 0
            }
            return counter <= session.counter ? .duplicate : nil
        }
        if device.retiredEpochs.contains(header.epoch) { return .retired }
        if header.epoch != device.epoch {
            if device.epoch != 0 { device.retiredEpochs.append(device.epoch) }
            if device.retiredEpochs.count > maxRetired { device.retiredEpochs.removeFirst() }
            device.epoch = header.epoch
            device.mark = 0
            device.written = [:]
            device.partials.removeAll { $0.header.kind == .event }
            device.held = []
        }
        if let digest = device.written[header.messageID] { return digest == header.digest ? .duplicate : .conflict }
        if let held = device.held.first(where: { $0.header.messageID == header.messageID }) {
            // Whole already, waiting for the event before it: stored (with every fragment held).
            return held.header.digest == header.digest ? .stored : .conflict
        }
        if device.mark >= window && header.messageID <= device.mark - window { return .conflict }
        return nil
    }

    /// A completed message moves the marks.
    static func record(_ header: DNSTunnel.Header, _ device: inout Device) {
        switch (header.version, header.kind) {
        case (1, .event): device.lastEvent = header.messageID
        case (1, _): device.lastClock = header.messageID
        case (_, .event):
            device.written[header.messageID] = header.digest
            device.mark = max(device.mark, header.messageID)
            if device.mark > window { device.written = device.written.filter { $0.key > device.mark - window } }
        default:
            let counter = UInt32(truncatingIfNeeded: header.messageID)
            device.sessions[header.kind.rawValue, default: Session()].counter =
                max(device.sessions[header.kind.rawValue]?.counter ?? 0, counter)
        }
    }

    /// Decodes a whole message into its output line (and, version 2, the seq it must follow).
    func decode(_ partial: Partial, device: String) -> Result<(line: [UInt8], previous: UInt64), Outcome> {
        let message = partial.slices.reduce(into: [UInt8]()) { $0 += $1! }
        let id = partial.header.messageID
        let body: [UInt8]
        var previous: UInt64 = 0
        if partial.header.version >= 2 {
            guard DNSTunnel.digest(message) == partial.header.digest else {
                return .failure(.invalid("message \(id) does not match its digest"))
            }
            guard let opened = DNSTunnel.openMessage(message) else { return .failure(.invalid("message \(id) does not decompress")) }
            (previous, body) = opened
        } else {
            guard let opened = DNSTunnel.unframe(message) else { return .failure(.invalid("message \(id) does not decompress")) }
            body = opened
        }
        var line = "{\"device\":\"\(device)\",\"received\":\"\(EventTime.now())\","
        switch partial.header.kind {
        case .event, .unsequenced:
            let event: PitEvent
            do { event = try PitEvent.decode(jsonBytes: body) } catch {
                return .failure(.invalid("message \(id) is not an event: \(error)"))
            }
            if partial.header.kind == .event && event.seq != id {
                return .failure(.invalid("event seq \(event.seq.map(String.init) ?? "none") differs from message id \(id)"))
            }
            // Written as Pit encodes it, not as received: one line whatever whitespace the sender put in.
            line += "\"event\":" + event.jsonLine() + "}\n"
        case .heartbeat:
            // The device's clock as text; only the characters an RFC 3339 time has, so it needs no JSON escaping.
            guard body.count <= 40, body.allSatisfy({ (0x30...0x3A).contains($0) || [0x2D, 0x2E, 0x54, 0x5A, 0x2B].contains($0) }) else {
                return .failure(.invalid("heartbeat \(id) carries no time"))
            }
            line += "\"heartbeat\":\"" + String(decoding: body, as: UTF8.self) + "\"}\n"
        }
        return .success((Array(line.utf8), partial.header.kind == .event ? previous : 0))
    }

    /// Appends one output line; a file is fsynced before the ack (the device then forgets the event), a pipe or
    /// terminal cannot be.
    func write(_ bytes: [UInt8]) -> Result<Void, Outcome> {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(outputFD, $0.baseAddress! + written, $0.count - written) }
            if n > 0 { written += n } else if n < 0 && errno != EINTR {
                return .failure(.invalid("write output: \(String(cString: strerror(errno)))"))
            }
        }
        if fsync(outputFD) != 0 && errno != EINVAL && errno != EROFS {
            return .failure(.invalid("fsync output: \(String(cString: strerror(errno)))"))
        }
        return .success(())
    }

    // MARK: Devices

    /// The device's key, reloaded when its file changed (replaced, rewritten, removed: one stat per query); nil
    /// when there is none or it does not read (logged, rate-limited). A changed key drops the partial messages
    /// sealed under the old one; the replay state stays (it is the device's, not the key's).
    mutating func loadKey(_ id: String) -> [UInt8]? {
        // The id is a checked DNS label ([a-z0-9-], no leading '-'), so it cannot leave the directory.
        let path = config.keysDirectory + "/" + id + ".key"
        var st = stat()
        guard stat(path, &st) == 0 else {
            if keys.removeValue(forKey: id) != nil { log("key of \(id) removed: its queries are refused from now on") }
            return nil
        }
        let stamp = [Int(st.st_dev), Int(st.st_ino), Int(st.st_size), Int(st.st_mode), st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                     st.st_ctim.tv_sec, st.st_ctim.tv_nsec]
        if let loaded = keys[id], loaded.stamp == stamp { return loaded.key }
        let key: [UInt8]
        do { key = try DNSTunnel.readKey(path) } catch {
            keys[id] = nil
            logRefusal("\(error)")
            return nil
        }
        if let old = keys[id], old.key != key {
            log("key of \(id) changed: queries sealed with the old one are refused from now on")
            devices[id]?.partials.removeAll()
        }
        keys[id] = LoadedKey(key: key, stamp: stamp)
        return key
    }

    /// The device's replay state (from its state file the first time); nil if that file exists but does not read
    /// (logged as file:line): replay protection is not silently reset, the device's queries are refused until fixed.
    mutating func loadState(_ id: String) -> Device? {
        if let device = devices[id] { return device }
        let path = statePath(id)
        var device = Device()
        let bytes: [UInt8]
        do { bytes = try FileIO.readRegularFile(path, limit: 1 << 20, what: "a replay state file") } catch {
            if error.errno == ENOENT { devices[id] = device; return device }
            logRefusal("\(path): \(error)")
            return nil
        }
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.isEmpty {
            let w = line.split(separator: " ").map(String.init)
            let ok: Bool
            switch (w.first, w.count) {
            case ("event", 2): device.lastEvent = UInt64(w[1]) ?? 0; ok = UInt64(w[1]) != nil
            case ("clock", 2): device.lastClock = UInt64(w[1]) ?? 0; ok = UInt64(w[1]) != nil
            case ("epoch", 3):
                device.epoch = UInt64(w[1], radix: 16) ?? 0
                device.mark = UInt64(w[2]) ?? 0
                ok = UInt64(w[1], radix: 16) != nil && UInt64(w[2]) != nil
            case ("written", 3):
                if let seq = UInt64(w[1]), let digest = UInt64(w[2], radix: 16) { device.written[seq] = digest; ok = true } else { ok = false }
            case ("retired", 2):
                if let epoch = UInt64(w[1], radix: 16) { device.retiredEpochs.append(epoch); ok = true } else { ok = false }
            case ("session", 4), ("retired-session", 3):
                if let kind = UInt8(w[1]), [2, 3].contains(kind), let sid = UInt32(w[2], radix: 16) {
                    if w[0] == "session", let counter = UInt32(w[3]) {
                        device.sessions[kind, default: Session()].id = sid
                        device.sessions[kind, default: Session()].counter = counter
                        ok = true
                    } else if w[0] == "retired-session" {
                        device.sessions[kind, default: Session()].retired.append(sid)
                        ok = true
                    } else { ok = false }
                } else { ok = false }
            default: ok = false
            }
            guard ok else {
                logRefusal("\(path):\(number + 1):1: not a replay state line: \(Self.printable(line)) (fix or remove it: removing forgets which messages were written)")
                return nil
            }
        }
        devices[id] = device
        return device
    }

    static func printable(_ line: Substring) -> String {
        String(line.prefix(80).map { $0.isASCII && !$0.isNewline && $0 >= " " ? $0 : "?" })
    }

    func statePath(_ id: String) -> String { config.stateDirectory + "/" + id + ".state" }

    func saveState(_ id: String, _ device: Device) {
        var text = "event \(device.lastEvent)\nclock \(device.lastClock)\n"
        if device.epoch != 0 { text += "epoch \(Spool.epochText(device.epoch)) \(device.mark)\n" }
        for (seq, digest) in device.written.sorted(by: { $0.key < $1.key }) { text += "written \(seq) \(Spool.epochText(digest))\n" }
        for epoch in device.retiredEpochs { text += "retired \(Spool.epochText(epoch))\n" }
        for (kind, session) in device.sessions.sorted(by: { $0.key < $1.key }) {
            text += "session \(kind) \(String(session.id, radix: 16)) \(session.counter)\n"
            for old in session.retired { text += "retired-session \(kind) \(String(old, radix: 16))\n" }
        }
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
