import CPitShim
import Glibc
import PitPersona
import PitProcess
import PitUplink

/// The persona's DHCPv4 client as one more part of the loop: the sockets (opened at start, before any jail), the
/// `DhcpClient` state machine, the ARP check of an offered address, and what a lease does to the interface
/// (DhcpApply, rtnetlink) and to the record (`dhcp_lease`, `dhcp_lost`). No thread and no external client:
/// every packet is read when epoll says so, every retransmission is a deadline in `nextDeadline`.
///
/// Sockets: an AF_PACKET/SOCK_DGRAM socket for IPv4 with a BPF filter keeping UDP to port 68 only (the client has
/// no address to bind a UDP socket to before its first lease, and a server may answer to the offered address);
/// one for ARP, read only while an address is being checked; and a UDP socket bound to port 68, never read for
/// DHCP but drained, so a unicast reply to the leased address does not make the kernel answer the server with an
/// ICMP port unreachable that no real client would send.
final class DhcpLink {
    let interface: String
    let leasePath: String
    let resolvPath: String
    let emit: (SupervisorEvent) -> Void
    var say: (String) -> Void = { _ in }
    private(set) var client: DhcpClient
    private var ifindex: Int32 = 0
    private var mac: [UInt8] = []
    private(set) var ipFD: Int32 = -1
    private(set) var arpFD: Int32 = -1
    private(set) var udpFD: Int32 = -1
    /// The interface's carrier (rtnetlink RTMGRP_LINK): a link coming back up is an INIT-REBOOT.
    private var linkWatch: LinkWatch?
    /// The server's MAC, from the frame that carried its last accepted reply: unicast renewals and the release go
    /// to it (a packet socket has no ARP of its own).
    private var serverMAC: [UInt8]?
    private var checking: IPv4?
    private var probesLeft = 0
    private var nextProbeMs: Int64?
    private var deadline: Int64?
    /// For `pit status`: the latest lease change and refusal.
    private(set) var lastEvent: String?
    private(set) var refused = 0

    static let broadcastMAC: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    static let ethertypeIPv4: UInt16 = 0x0800
    static let ethertypeARP: UInt16 = 0x0806

    init(persona: Persona, settings: DhcpSettings, dataDirectory: String, emit: @escaping (SupervisorEvent) -> Void) {
        interface = persona.interface
        leasePath = dataDirectory + "/dhcp-lease"
        resolvPath = dataDirectory + "/dhcp-resolv.conf"
        self.emit = emit
        var random = SystemRandomNumberGenerator()   // getrandom(2)
        let seed = random.next()
        // The MAC is only known once the link is read; `open` rebuilds the client with it.
        client = DhcpClient(.init(profile: settings.profile, mac: [], hostname: persona.hostname), seed: seed)
        profile = settings.profile
        hostname = persona.hostname
        self.seed = seed
    }

    private let profile: DhcpProfile
    private let hostname: String
    private let seed: UInt64

    /// The address (with its prefix length) the last run kept, for `ApplyOptions.keepAddress` and INIT-REBOOT.
    var remembered: IPPrefix? {
        guard let text = readText(leasePath, limit: 256) else { return nil }
        return DhcpLease.rememberedPrefix(in: Array(text.utf8))
    }

    /// Opens the sockets and starts the client. A failure is a runtime fault: the jails still start (the
    /// canary is up but has no IPv4 address, which its events say).
    func open(eventLoop: EventLoop, now: Int64) {
        do throws(PersonaError) {
            (ifindex, mac) = try DhcpApply.linkIdentity(interface)
        } catch {
            emit(.fault(.dhcp, "DHCP on \(interface): \(error)"))
            return
        }
        ipFD = pit_packet_open(ifindex, Self.ethertypeIPv4, 1)
        guard ipFD >= 0 else {
            emit(.fault(.dhcp, "DHCP on \(interface): socket(AF_PACKET, IPv4): \(String(cString: strerror(errno)))"))
            return
        }
        arpFD = pit_packet_open(ifindex, Self.ethertypeARP, 0)
        udpFD = Self.openUDP(interface)
        eventLoop.add(ipFD, .dhcp)
        if arpFD >= 0 { eventLoop.add(arpFD, .dhcpARP) }
        if udpFD >= 0 { eventLoop.add(udpFD, .dhcpUDP) }
        do throws(PersonaError) {
            let watch = try LinkWatch(interface: interface)
            linkWatch = watch
            eventLoop.add(watch.fd, .dhcpCarrier)
        } catch {
            say("dhcp \(interface): not watching the link's carrier (\(error)): a replugged cable waits for the lease's timers")
        }
        client = DhcpClient(.init(profile: profile, mac: mac, hostname: hostname), seed: seed)
        handle(client.start(now: now, remembered: remembered.flatMap { IPv4($0.address) }), now: now)
    }

    private static func openUDP(_ interface: String) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(interface.utf8.count)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = DhcpFrame.clientPort.bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { close(fd); return -1 }
        return fd
    }

    func nextDeadline(now: Int64) -> Int64? {
        [deadline, nextProbeMs].compactMap { $0 }.min()
    }

    /// Deadlines due by `now`: the client's timers and the second ARP probe.
    func tick(now: Int64) {
        if let probe = nextProbeMs, now >= probe, let address = checking {
            sendProbe(address)
            probesLeft -= 1
            nextProbeMs = probesLeft > 0 ? now + 500 : nil
        }
        if let due = deadline, now >= due { handle(client.timeout(now: now), now: now) }
    }

    /// The IPv4 socket is readable: at most 64 datagrams per wakeup, so a flood cannot hold the loop.
    func serviceIP(now: Int64) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var source = [UInt8](repeating: 0, count: 6)
        for _ in 0..<64 {
            var type: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { pit_packet_recv(ipFD, $0.baseAddress, $0.count, &source, &type) }
            if n < 0 { return }
            if type == 4 { continue }   // PACKET_OUTGOING: our own
            let datagram: DhcpFrame.Datagram
            let packet: DhcpPacket
            do throws(DhcpParseError) {
                datagram = try DhcpFrame.decode(Array(buffer[0..<Int(n)]), verifyUDPChecksum: false)
                guard datagram.destinationPort == DhcpFrame.clientPort, datagram.sourcePort == DhcpFrame.serverPort else { continue }
                packet = try DhcpPacket.parse(datagram.payload)
            } catch {
                refuse("from \(DhcpLink.macText(source)): \(error.reason)")
                continue
            }
            let step = client.received(packet, now: now)
            if step.actions.contains(where: { if case .refused = $0 { return false } else { return true } }) || !step.send.isEmpty {
                serverMAC = source
            }
            handle(step, now: now)
        }
    }

    /// The ARP socket is readable: while an address is checked, a reply or probe naming it from another MAC is a
    /// conflict (RFC 5227 §2.1.1); otherwise ARP is read and dropped.
    func serviceARP(now: Int64) {
        var buffer = [UInt8](repeating: 0, count: 128)
        var source = [UInt8](repeating: 0, count: 6)
        for _ in 0..<64 {
            var type: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { pit_packet_recv(arpFD, $0.baseAddress, $0.count, &source, &type) }
            if n < 0 { return }
            guard let address = checking, n >= 28, type != 4 else { continue }
            let senderMAC = Array(buffer[8..<14])
            let senderIP = IPv4(buffer[14], buffer[15], buffer[16], buffer[17]), targetIP = IPv4(buffer[24], buffer[25], buffer[26], buffer[27])
            let probeForIt = senderIP.isZero && targetIP == address
            guard senderMAC != mac, senderIP == address || probeForIt else { continue }
            checking = nil
            nextProbeMs = nil
            handle(client.checked(conflict: true, now: now), now: now)
            return
        }
    }

    /// The link's carrier changed: on its way back up, the client confirms its lease or starts again at once.
    func serviceCarrier(now: Int64) {
        guard let watch = linkWatch else { return }
        for up in watch.carrierChanges(interface: interface) {
            say("dhcp \(interface): carrier \(up ? "up" : "down")")
            if up { handle(client.linkUp(now: now), now: now) }
        }
    }

    /// The UDP socket is only there to keep the kernel from answering unicast replies with ICMP: drain it.
    func drainUDP() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<64 where recv(udpFD, &buffer, buffer.count, 0) >= 0 {}
    }

    /// Orderly stop: DHCPRELEASE and the address removed.
    func stop(now: Int64) {
        guard ipFD >= 0 else { return }
        handle(client.stop(now: now), now: now)
    }

    // MARK: Steps

    private func handle(_ step: DhcpClient.Step, now: Int64) {
        for out in step.send { send(out) }
        for action in step.actions { perform(action, now: now) }
        deadline = step.deadline
    }

    private func send(_ out: DhcpClient.Outgoing) {
        let frame = DhcpFrame.encode(out.packet.encoded(), from: out.source, to: out.destination)
        let destinationMAC = out.destination == .broadcast ? Self.broadcastMAC : (serverMAC ?? Self.broadcastMAC)
        let sent = frame.withUnsafeBytes { pit_packet_send(ipFD, ifindex, Self.ethertypeIPv4, destinationMAC, $0.baseAddress, $0.count) }
        if sent < 0 { say("dhcp: sending \(out.packet.messageType.map(\.description) ?? "?") on \(interface): \(String(cString: strerror(errno)))") }
    }

    private func perform(_ action: DhcpClient.Action, now: Int64) {
        switch action {
        case .checkAddress(let address):
            checking = address
            sendProbe(address)
            probesLeft = 1
            nextProbeMs = now + 500
        case .configure(let lease, let previous):
            checking = nil
            nextProbeMs = nil
            do throws(PersonaError) {
                let changes = try DhcpApply.configure(lease, previous: previous, interface: interface)
                if !changes.isEmpty { say("dhcp \(interface): " + changes.joined(separator: "; ")) }
            } catch {
                emit(.fault(.dhcp, "DHCP lease \(lease.prefix) on \(interface): \(error)"))
            }
            writeResolv(lease)
        case .deconfigure(let lease):
            unlink(resolvPath)   // the DNS uplink falls back to /etc/resolv.conf, not to a lost lease's server
            do throws(PersonaError) {
                let changes = try DhcpApply.deconfigure(lease, interface: interface)
                if !changes.isEmpty { say("dhcp \(interface): " + changes.joined(separator: "; ")) }
            } catch {
                emit(.fault(.dhcp, "removing DHCP lease \(lease.prefix) from \(interface): \(error)"))
            }
        case .remember(let lease):
            if let lease { writeFile(leasePath, lease.storedText) } else { unlink(leasePath) }
        case .leased(let lease, let renewed):
            lastEvent = "\(renewed ? "renewed" : "leased") \(lease.prefix) from \(lease.server)"
            emit(SupervisorEvent(kind: .dhcpLease,
                                 message: "DHCP \(renewed ? "renewed" : "lease") \(lease.prefix) from \(lease.server) on \(interface) for \(lease.leaseSeconds) s",
                                 details: ["address": lease.prefix.description, "server": lease.server.description,
                                           "lease_seconds": String(lease.leaseSeconds), "renewed": String(renewed),
                                           "routes": lease.routes.map(\.description).joined(separator: ","),
                                           "dns": lease.dnsServers.map(\.description).joined(separator: ",")]))
        case .lost(let lease, let reason):
            lastEvent = "lost \(lease.prefix): \(reason)"
            emit(SupervisorEvent(kind: .dhcpLost, message: "DHCP lease \(lease.prefix) on \(interface) lost: \(reason)",
                                 details: ["address": lease.prefix.description, "server": lease.server.description, "reason": reason]))
        case .refused(let reason):
            refuse(reason)
        case .note(let text):
            say("dhcp \(interface): \(text)")
        }
    }

    private func refuse(_ reason: String) {
        refused += 1
        // A LAN can send many; one line per 100 after the first ten keeps the log readable.
        if refused <= 10 || refused % 100 == 0 { say("dhcp \(interface): refused (\(refused)): \(reason)") }
    }

    private func sendProbe(_ address: IPv4) {
        guard arpFD >= 0 else { return }
        // RFC 5227 §2.1.1: an ARP request with sender IP 0.0.0.0 and the address as target.
        let packet: [UInt8] = [0, 1, 8, 0, 6, 4, 0, 1] + mac + [0, 0, 0, 0] + [0, 0, 0, 0, 0, 0] + address.bytes
        _ = packet.withUnsafeBytes { pit_packet_send(arpFD, ifindex, Self.ethertypeARP, Self.broadcastMAC, $0.baseAddress, $0.count) }
    }

    /// The lease's DNS servers for whoever resolves through the customer's network: the DNS uplink without a
    /// `resolver` reads it before /etc/resolv.conf (`TransportConfig.DNS.resolvConfPaths`).
    private func writeResolv(_ lease: DhcpLease) {
        writeFile(resolvPath, lease.dnsServers.map { "nameserver \($0)\n" }.joined())
    }

    private func writeFile(_ path: String, _ text: String) {
        let temporary = path + ".new"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = fsync(fd)
        close(fd)
        if written == bytes.count { _ = rename(temporary, path) } else { unlink(temporary) }
    }

    static func macText(_ bytes: [UInt8]) -> String {
        bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: ":")
    }

    /// For `pit status`.
    var status: SupervisorStatus.DhcpStatus {
        SupervisorStatus.DhcpStatus(interface: interface, profile: profile.name, state: client.state.rawValue,
                                    address: client.lease?.prefix.description, server: client.lease?.server.description,
                                    last_event: lastEvent, refused: refused)
    }
}
