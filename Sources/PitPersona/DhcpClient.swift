/// The DHCPv4 client (RFC 2131 §4.4) as a value: the supervisor's event loop feeds it the time, the messages that
/// arrive and the outcome of the address check, and gets back what to send, the next deadline and what to do to
/// the interface. No socket, clock or thread lives here, so every transition is testable with plain values, and
/// the loop never blocks on DHCP.
///
/// States: INIT → SELECTING (DISCOVER, first valid OFFER) → REQUESTING (REQUEST, ACK) → CHECKING (the loop probes
/// the address with ARP; a conflict is a DECLINE and INIT after 10 s) → BOUND → RENEWING at T1 (unicast REQUEST)
/// → REBINDING at T2 (broadcast REQUEST) → expiry (address removed, INIT). With a remembered address the client
/// starts in INIT-REBOOT (REQUEST with option 50, no 54) and falls back to INIT after two retransmissions. A NAK
/// ends the lease in any state. `stop` releases a held lease (DHCPRELEASE).
///
/// Every message that arrives is checked before it changes anything: op, xid, chaddr, message type, server
/// identifier, an offered address that is a usable unicast one, a contiguous subnet mask, and timers that make
/// sense. Anything else is a `.refused` action (one log line) and the state is unchanged.
public struct DhcpClient: Sendable {
    public enum State: String, Sendable {
        case stopped, selecting, requesting, checking, bound, renewing, rebinding, rebooting
    }

    public struct Configuration: Sendable {
        public var profile: DhcpProfile
        public var mac: [UInt8]
        /// Option 12 and 81's name: the hostname's first label, as Windows and dhclient send it.
        public var hostname: String
        /// How long the loop listens for an answer to its ARP probes before taking the address (RFC 5227's
        /// PROBE_WAIT + probes + ANNOUNCE_WAIT is about 7 s; the loop may shorten it, not the state machine).
        public var checkMs: Int64

        public init(profile: DhcpProfile, mac: [UInt8], hostname: String, checkMs: Int64 = 2_000) {
            self.profile = profile
            self.mac = mac
            self.hostname = String(hostname.split(separator: ".").first ?? "")
            self.checkMs = checkMs
        }
    }

    /// A message to send. `destination` broadcast: from 0.0.0.0 (or the lease's address) to 255.255.255.255;
    /// otherwise unicast to the server from `source`.
    public struct Outgoing: Equatable, Sendable {
        public var packet: DhcpPacket
        public var source: IPv4
        public var destination: IPv4
    }

    public enum Action: Equatable, Sendable {
        /// Probe the address with ARP (RFC 5227) and report with `checked(conflict:now:)`.
        case checkAddress(IPv4)
        /// Put the lease's address, routes and DNS servers on the interface (replacing `previous` if any).
        case configure(DhcpLease, previous: DhcpLease?)
        /// Remove the lease's address and routes from the interface.
        case deconfigure(DhcpLease)
        /// Remember the address for INIT-REBOOT; nil forgets it.
        case remember(DhcpLease?)
        /// Events: a lease obtained or renewed (`renewed`), a lease lost and why.
        case leased(DhcpLease, renewed: Bool)
        case lost(DhcpLease, reason: String)
        /// A received message that was not taken, with why (for the log; never an event, a LAN can send many).
        case refused(String)
        /// Something the operator may want in the log (a DECLINE, a NAK's text, INIT-REBOOT given up).
        case note(String)
    }

    public struct Step: Equatable, Sendable {
        public var send: [Outgoing] = []
        public var actions: [Action] = []
        /// When `timeout(now:)` must be called next; nil: only a message or `stop` moves the client.
        public var deadline: Int64?
    }

    public private(set) var state: State = .stopped
    public private(set) var lease: DhcpLease?
    public let configuration: Configuration
    private var random: SplitMix64
    private var xid: UInt32 = 0
    /// When this exchange began (for `secs`, RFC 2131 §4.4.1: the same in DISCOVER and the REQUEST after it).
    private var exchangeStartMs: Int64 = 0
    private var attempt = 0
    private var deadline: Int64?
    private var offer: DhcpLease?
    /// The address INIT-REBOOT asks for again, and DISCOVER puts in option 50.
    private var remembered: IPv4?
    /// NAKs since the last lease: a server (or an impostor) that offers and then refuses every time would
    /// otherwise hold the client in a DISCOVER-NAK loop at network speed. The first NAK restarts at once (RFC
    /// 2131 §3.1.4), later ones after 4, 8 ... 64 s.
    private var naksInARow = 0

    /// The xid replies must carry (for the loop's log lines and for tests and the fuzz harness that answer).
    public var transactionID: UInt32 { xid }

    public init(_ configuration: Configuration, seed: UInt64) {
        self.configuration = configuration
        self.random = SplitMix64(seed: seed)
    }

    // MARK: Inputs

    /// Starts (or restarts) the client; `remembered` is the address of the lease kept from before a restart.
    public mutating func start(now: Int64, remembered address: IPv4?) -> Step {
        remembered = address
        if let address {
            return enterRebooting(now: now, address: address)
        }
        return enterSelecting(now: now, after: 0)
    }

    /// The deadline passed.
    public mutating func timeout(now: Int64) -> Step {
        guard let due = deadline, now >= due else { return Step(deadline: deadline) }
        switch state {
        case .stopped:
            return Step()
        case .selecting:
            return sendDiscover(now: now)
        case .requesting:
            if attempt >= 4 { return enterSelecting(now: now, after: 0, note: "no DHCPACK after \(attempt) requests; starting over") }
            return sendRequest(now: now)
        case .rebooting:
            if attempt >= 3, lease != nil {
                // Confirming a held lease after a link change: no answer is no NAK; its own timers go on.
                state = .bound
                deadline = now
                return timeout(now: now)
            }
            if attempt >= 3 {
                remembered = nil
                return enterSelecting(now: now, after: 0, note: "INIT-REBOOT unanswered; asking for any address")
            }
            return sendRequest(now: now)
        case .checking:
            // Nobody answered the probes: the address is ours.
            return bind(now: now)
        case .bound, .renewing, .rebinding:
            guard let lease else { return enterSelecting(now: now, after: 0) }
            if now >= lease.expiresMs { return expire(now: now, reason: "lease expired unrenewed") }
            if now >= lease.rebindMs {
                if state != .rebinding { state = .rebinding; xid = random.next32(); attempt = 0 }
                return sendRequest(now: now)
            }
            if now >= lease.renewMs {
                if state != .renewing { state = .renewing; xid = random.next32(); exchangeStartMs = now; attempt = 0 }
                return sendRequest(now: now)
            }
            deadline = lease.renewMs
            return Step(deadline: deadline)
        }
    }

    /// The interface's carrier came back (a cable plugged in, possibly into another network). RFC 2131 §3.2: a
    /// client that may have moved confirms its lease with INIT-REBOOT (a NAK ends it; silence keeps it until its
    /// timers say otherwise); one without a lease starts DISCOVER again at once instead of waiting out the backoff.
    public mutating func linkUp(now: Int64) -> Step {
        switch state {
        case .stopped, .checking, .requesting:
            return Step(deadline: deadline)
        case .bound, .renewing, .rebinding:
            guard let held = lease else { return enterSelecting(now: now, after: 0) }
            remembered = held.address
            var step = enterRebooting(now: now, address: held.address)
            step.actions.insert(.note("link up: confirming \(held.address) (INIT-REBOOT)"), at: 0)
            return step
        case .selecting, .rebooting:
            if let address = remembered { return enterRebooting(now: now, address: address) }
            return enterSelecting(now: now, after: 0)
        }
    }

    /// The ARP check of an offered address ended early with a conflict (another host answered for it).
    public mutating func checked(conflict: Bool, now: Int64) -> Step {
        guard state == .checking, let offered = offer else { return Step(deadline: deadline) }
        if !conflict { return bind(now: now) }
        let decline = Outgoing(packet: message(.decline, requested: offered.address, server: offered.server, ciaddr: .zero, now: now),
                               source: .zero, destination: .broadcast)
        remembered = nil
        offer = nil
        // A held lease being confirmed after a link change is on the interface: it goes too.
        let held = lease
        lease = nil
        // RFC 2131 §3.1.5: wait at least ten seconds before starting over.
        var step = enterSelecting(now: now, after: 10_000)
        if let held { step.actions = [.deconfigure(held), .remember(nil), .lost(held, reason: "address in use by another host")] + step.actions }
        step.send.insert(decline, at: 0)
        step.actions.insert(.note("\(offered.address) is in use by another host (ARP); DHCPDECLINE sent to \(offered.server)"), at: 0)
        return step
    }

    /// A DHCP message arrived (already unwrapped from IPv4/UDP, port 68).
    public mutating func received(_ packet: DhcpPacket, now: Int64) -> Step {
        if let problem = commonCheck(packet) { return Step(actions: [.refused(problem)], deadline: deadline) }
        guard let type = packet.messageType else { return refuse("no message type (option 53)") }
        switch (state, type) {
        case (.selecting, .offer):
            let candidate: DhcpLease
            do throws(DhcpParseError) { candidate = try DhcpLease(packet, now: now, mac: configuration.mac) } catch {
                return refuse("DHCPOFFER: \(error.reason)")
            }
            offer = candidate
            state = .requesting
            attempt = 0
            return sendRequest(now: now)
        case (.requesting, .ack), (.rebooting, .ack), (.renewing, .ack), (.rebinding, .ack):
            let acked: DhcpLease
            do throws(DhcpParseError) { acked = try DhcpLease(packet, now: now, mac: configuration.mac) } catch {
                return refuse("DHCPACK: \(error.reason)")
            }
            let expected = state == .requesting ? offer?.address : (state == .rebooting ? remembered : lease?.address)
            guard acked.address == expected else { return refuse("DHCPACK for \(acked.address), asked for \(expected.map(\.description) ?? "none")") }
            if state == .renewing || state == .rebinding, let held = lease {
                let previous = held
                lease = acked
                state = .bound
                deadline = acked.renewMs
                var step = Step(deadline: deadline)
                step.actions = [.configure(acked, previous: previous), .remember(acked), .leased(acked, renewed: true)]
                return step
            }
            offer = acked
            state = .checking
            deadline = now + configuration.checkMs
            return Step(actions: [.checkAddress(acked.address)], deadline: deadline)
        case (.requesting, .nak), (.rebooting, .nak), (.renewing, .nak), (.rebinding, .nak):
            let text = packet.serverMessage.map { ": \($0)" } ?? ""
            remembered = nil
            if lease != nil {
                return expire(now: now, reason: "DHCPNAK from \(packet.address(DhcpOptionCode.serverID).map(\.description) ?? "?")\(text)")
            }
            offer = nil
            naksInARow += 1
            let delay = naksInARow <= 1 ? 0 : Int64(4_000) << Int64(min(naksInARow - 2, 4))
            return enterSelecting(now: now, after: delay, note: "DHCPNAK\(text)" + (delay > 0 ? " (\(naksInARow) in a row: DISCOVER in \(delay / 1_000) s)" : ""))
        default:
            return refuse("\(type) unexpected in state \(state.rawValue)")
        }
    }

    /// Orderly stop: releases a held lease (DHCPRELEASE, RFC 2131 §4.4.6) and removes its address.
    public mutating func stop(now: Int64) -> Step {
        var step = Step()
        if let held = lease, state == .bound || state == .renewing || state == .rebinding {
            xid = random.next32()
            var packet = message(.release, requested: nil, server: held.server, ciaddr: held.address, now: now)
            packet.secs = 0
            step.send.append(Outgoing(packet: packet, source: held.address, destination: held.server))
            step.actions.append(.deconfigure(held))
            step.actions.append(.remember(nil))
            step.actions.append(.lost(held, reason: "released at an orderly stop"))
        }
        state = .stopped
        lease = nil
        offer = nil
        deadline = nil
        return step
    }

    // MARK: Transitions

    private mutating func refuse(_ reason: String) -> Step { Step(actions: [.refused(reason)], deadline: deadline) }

    private mutating func enterSelecting(now: Int64, after delayMs: Int64, note: String? = nil) -> Step {
        state = .selecting
        attempt = 0
        offer = nil
        xid = random.next32()
        var step = Step()
        if let note { step.actions.append(.note(note)) }
        if delayMs > 0 {
            deadline = now + delayMs
            step.deadline = deadline
            return step
        }
        exchangeStartMs = now
        let sent = sendDiscover(now: now)
        step.send = sent.send
        step.deadline = sent.deadline
        return step
    }

    private mutating func enterRebooting(now: Int64, address: IPv4) -> Step {
        state = .rebooting
        attempt = 0
        xid = random.next32()
        exchangeStartMs = now
        return sendRequest(now: now)
    }

    private mutating func sendDiscover(now: Int64) -> Step {
        if attempt == 0 { exchangeStartMs = now }
        let packet = message(.discover, requested: remembered, server: nil, ciaddr: .zero, now: now)
        attempt += 1
        deadline = now + backoffMs()
        return Step(send: [Outgoing(packet: packet, source: .zero, destination: .broadcast)], deadline: deadline)
    }

    private mutating func sendRequest(now: Int64) -> Step {
        var out: Outgoing
        switch state {
        case .requesting:
            guard let offered = offer else { return enterSelecting(now: now, after: 0) }
            out = Outgoing(packet: message(.request, requested: offered.address, server: offered.server, ciaddr: .zero, now: now),
                           source: .zero, destination: .broadcast)
            deadline = now + backoffMs()
        case .rebooting:
            guard let address = remembered else { return enterSelecting(now: now, after: 0) }
            out = Outgoing(packet: message(.request, requested: address, server: nil, ciaddr: .zero, now: now),
                           source: .zero, destination: .broadcast)
            deadline = now + backoffMs()
        case .renewing, .rebinding:
            guard let held = lease else { return enterSelecting(now: now, after: 0) }
            // RFC 2131 §4.3.2: ciaddr is the lease's address; neither 50 nor 54.
            let packet = message(.request, requested: nil, server: nil, ciaddr: held.address, now: now)
            out = Outgoing(packet: packet, source: held.address, destination: state == .renewing ? held.server : .broadcast)
            // RFC 2131 §4.4.5: retransmit after half the time left (to T2 when renewing, to expiry when
            // rebinding), at least 60 s apart unless less than that is left.
            let end = state == .renewing ? held.rebindMs : held.expiresMs
            let left = end - now
            deadline = now + (left / 2 >= 60_000 ? left / 2 : min(60_000, left))
        default:
            return Step(deadline: deadline)
        }
        attempt += 1
        return Step(send: [out], deadline: deadline)
    }

    private mutating func bind(now: Int64) -> Step {
        guard let taken = offer else { return enterSelecting(now: now, after: 0) }
        let previous = lease
        lease = taken
        offer = nil
        naksInARow = 0
        remembered = taken.address
        state = .bound
        deadline = taken.renewMs
        var step = Step(deadline: deadline)
        step.actions = [.configure(taken, previous: previous), .remember(taken), .leased(taken, renewed: previous?.address == taken.address)]
        return step
    }

    private mutating func expire(now: Int64, reason: String) -> Step {
        guard let held = lease else { return enterSelecting(now: now, after: 0) }
        lease = nil
        remembered = nil
        var step = enterSelecting(now: now, after: 0)
        step.actions = [.deconfigure(held), .remember(nil), .lost(held, reason: reason)] + step.actions
        return step
    }

    /// RFC 2131 §4.1: 4 s, doubling to 64 s, each randomized by ±1 s.
    private mutating func backoffMs() -> Int64 {
        let base = Int64(4_000) << Int64(min(max(attempt - 1, 0), 4))
        return base - 1_000 + Int64(random.next32() % 2_001)
    }

    // MARK: Messages

    /// A client message with the profile's options in the profile's order, after option 53.
    func message(_ type: DhcpMessageType, requested: IPv4?, server: IPv4?, ciaddr: IPv4, now: Int64) -> DhcpPacket {
        let profile = configuration.profile
        let name = Array(configuration.hostname.utf8.prefix(63))
        var options = [DhcpOption(DhcpOptionCode.messageType, [type.rawValue])]
        let order: [UInt8]
        switch type {
        case .discover: order = profile.discoverOptions
        case .request: order = profile.requestOptions
        // RFC 2131 table 5: DECLINE carries 50 and 54, RELEASE 54; both carry the client identifier if the
        // other messages did.
        case .decline: order = [61, 50, 54].filter { $0 != 61 || (profile.discoverOptions + profile.requestOptions).contains(61) }
        default: order = [61, 54].filter { $0 != 61 || (profile.discoverOptions + profile.requestOptions).contains(61) }
        }
        for code in order {
            switch code {
            case DhcpOptionCode.clientID: options.append(DhcpOption(code, [1] + configuration.mac))
            case DhcpOptionCode.requestedAddress: if let requested { options.append(DhcpOption(code, requested.bytes)) }
            case DhcpOptionCode.serverID: if let server { options.append(DhcpOption(code, server.bytes)) }
            case DhcpOptionCode.hostname: if !name.isEmpty && type != .decline && type != .release { options.append(DhcpOption(code, name)) }
            case DhcpOptionCode.fqdn: if !name.isEmpty && type == .request { options.append(DhcpOption(code, [0, 0, 0] + name)) }
            case DhcpOptionCode.parameterRequestList: options.append(DhcpOption(code, profile.parameterRequestList))
            case DhcpOptionCode.vendorClass: if let vendor = profile.vendorClass { options.append(DhcpOption(code, vendor)) }
            case DhcpOptionCode.maxMessageSize:
                if let size = profile.maxMessageSize { options.append(DhcpOption(code, [UInt8(size >> 8), UInt8(size & 0xFF)])) }
            default: break
            }
        }
        let elapsed = max(0, (now - exchangeStartMs) / 1_000)
        return DhcpPacket(op: 1, xid: xid, secs: UInt16(min(elapsed, Int64(UInt16.max))), ciaddr: ciaddr,
                          chaddr: configuration.mac, options: options)
    }

    /// What every reply must satisfy before its type is looked at.
    private func commonCheck(_ packet: DhcpPacket) -> String? {
        guard state != .stopped else { return "client stopped" }
        guard packet.op == 2 else { return "not a BOOTREPLY" }
        guard packet.xid == xid else { return "xid \(packet.xid) is not this exchange's" }
        guard packet.chaddr.count >= configuration.mac.count, Array(packet.chaddr.prefix(configuration.mac.count)) == configuration.mac else {
            return "chaddr is not this interface's MAC"
        }
        return nil
    }
}

/// A lease as the client holds it. Times are the loop's monotonic milliseconds.
public struct DhcpLease: Equatable, Sendable {
    public var address: IPv4
    public var prefixLength: Int
    public var server: IPv4
    public var routers: [IPv4]
    /// Option 121; when present, option 3 is ignored (RFC 3442).
    public var classlessRoutes: [DhcpRoute]
    public var dnsServers: [IPv4]
    public var leaseSeconds: UInt32
    public var obtainedMs: Int64
    public var renewMs: Int64
    public var rebindMs: Int64
    public var expiresMs: Int64

    public static let infinite: UInt32 = 0xFFFF_FFFF
    /// Shorter leases are taken as this long: a hostile or broken server must not make the client spin.
    public static let minimumSeconds: UInt32 = 30

    public init(address: IPv4, prefixLength: Int, server: IPv4, routers: [IPv4], classlessRoutes: [DhcpRoute], dnsServers: [IPv4],
                leaseSeconds: UInt32, obtainedMs: Int64, t1: UInt32? = nil, t2: UInt32? = nil) {
        self.address = address
        self.prefixLength = prefixLength
        self.server = server
        self.routers = routers
        self.classlessRoutes = classlessRoutes
        self.dnsServers = dnsServers
        let seconds = max(leaseSeconds, Self.minimumSeconds)
        self.leaseSeconds = seconds
        self.obtainedMs = obtainedMs
        // Infinite: "renew" once a day, never expire (Int64 max / 4 keeps additions safe).
        if seconds == Self.infinite {
            renewMs = obtainedMs + 86_400_000
            rebindMs = Int64.max / 4
            expiresMs = Int64.max / 4
            return
        }
        let leaseMs = Int64(seconds) * 1_000
        // RFC 2131 §4.4.5 defaults 0.5 and 0.875; a server's T1/T2 are taken only when 0 < T1 < T2 < lease.
        var renew = leaseMs / 2, rebind = leaseMs * 7 / 8
        if let t1, let t2, t1 > 0, t1 < t2, t2 < seconds { renew = Int64(t1) * 1_000; rebind = Int64(t2) * 1_000 }
        else if let t2, t2 > 0, t2 < seconds, leaseMs / 2 < Int64(t2) * 1_000 { rebind = Int64(t2) * 1_000 }
        renewMs = obtainedMs + renew
        rebindMs = obtainedMs + rebind
        expiresMs = obtainedMs + leaseMs
    }

    /// The routes to install: option 121's, else a default route per option 3 router (the first only; Linux
    /// keeps one default route per metric).
    public var routes: [DhcpRoute] {
        if !classlessRoutes.isEmpty { return classlessRoutes }
        return routers.prefix(1).map { DhcpRoute(destination: .zero, prefixLength: 0, router: $0) }
    }

    public var prefix: IPPrefix { IPPrefix(address: address.address, length: prefixLength) }

    /// Reads an OFFER or ACK, refusing what a client must not configure.
    init(_ packet: DhcpPacket, now: Int64, mac: [UInt8]) throws(DhcpParseError) {
        let address = packet.yiaddr
        let first = UInt8(address.value >> 24)
        guard !address.isZero, address != .broadcast, first != 0, first != 127, first < 224 else {
            throw DhcpParseError("offered address \(address) is not a usable unicast address")
        }
        guard let server = packet.address(DhcpOptionCode.serverID), !server.isZero, server != .broadcast else {
            throw DhcpParseError("no usable server identifier (option 54)")
        }
        var length: Int
        if let mask = packet.address(DhcpOptionCode.subnetMask) {
            length = mask.value.nonzeroBitCount
            guard mask.value == IPv4.mask(length) else { throw DhcpParseError("subnet mask \(mask) is not contiguous") }
            guard (8...30).contains(length) || length == 32 else { throw DhcpParseError("subnet mask /\(length) leaves no usable network") }
        } else {
            // RFC 2131 does not require option 1; the classful mask is what clients fall back to.
            length = first < 128 ? 8 : (first < 192 ? 16 : 24)
        }
        if length <= 30 {
            let host = address.value & ~IPv4.mask(length)
            guard host != 0, host != ~IPv4.mask(length) else { throw DhcpParseError("offered address \(address) is the network or broadcast address of its /\(length)") }
        }
        guard let seconds = packet.seconds(DhcpOptionCode.leaseTime) else { throw DhcpParseError("no lease time (option 51)") }
        // A hostile server may offer anything: only unicast hosts become gateways and resolvers, and no route may
        // lead into loopback, multicast or the reserved 240/4 (nor through this host itself).
        let routers = (packet.addresses(DhcpOptionCode.router) ?? []).filter { Self.isUnicastHost($0) && $0 != address }
        var classless: [DhcpRoute] = []
        if let routes = try? packet.classlessRoutes() {
            classless = Array(routes.filter { route in
                // Router 0.0.0.0 in option 121 means on the link (RFC 3442).
                (route.router.isZero || (Self.isUnicastHost(route.router) && route.router != address))
                    && (Self.isUnicastHost(route.destination) || (route.prefixLength < 8 && route.destination.value >> 24 < 224))
            }.prefix(64))
        }
        let dns = (packet.addresses(DhcpOptionCode.dnsServer) ?? []).filter { Self.isUnicastHost($0) }
        self.init(address: address, prefixLength: length, server: server, routers: Array(routers.prefix(8)),
                  classlessRoutes: classless, dnsServers: Array(dns.prefix(8)), leaseSeconds: seconds, obtainedMs: now,
                  t1: packet.seconds(DhcpOptionCode.renewalTime), t2: packet.seconds(DhcpOptionCode.rebindingTime))
    }
}

extension DhcpLease {
    /// Not 0/8, loopback, multicast, 240/4 or the limited broadcast.
    static func isUnicastHost(_ a: IPv4) -> Bool {
        let first = UInt8(a.value >> 24)
        return first != 0 && first != 127 && first < 224
    }

    /// What is kept in the data directory for INIT-REBOOT: one `address=A.B.C.D/N` line (the server and times are
    /// not needed: INIT-REBOOT asks any server, RFC 2131 §3.2).
    public var storedText: String { "address=\(address)/\(prefixLength)\n" }

    /// The address in a stored lease; nil for anything else (the file may be damaged or planted: only a usable
    /// unicast IPv4 address in the first 128 bytes is taken).
    public static func rememberedAddress(in text: [UInt8]) -> IPv4? {
        rememberedPrefix(in: text).flatMap { IPv4($0.address) }
    }

    /// The address with its prefix length, as it was put on the interface (what `Persona.apply` keeps).
    public static func rememberedPrefix(in text: [UInt8]) -> IPPrefix? {
        let head = String(decoding: text.prefix(128), as: UTF8.self)
        for line in head.split(separator: "\n") where line.hasPrefix("address=") {
            let value = line.dropFirst("address=".count)
            guard let prefix = IPPrefix(String(value)), let address = IPv4(prefix.address) else { return nil }
            let first = UInt8(address.value >> 24)
            guard first != 0, first != 127, first < 224 else { return nil }
            return prefix
        }
        return nil
    }
}

/// SplitMix64: xids and retransmission jitter. Seeded from getrandom by the loop, fixed by tests.
struct SplitMix64: Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next32() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 16) }
}
