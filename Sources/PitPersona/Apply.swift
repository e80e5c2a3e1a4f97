import Glibc

/// What an apply changed, in order; empty when the machine already matched the persona. The
/// supervisor logs it, and tests use "empty on the second run" as the definition of idempotent.
public struct ApplyReport: Equatable, Sendable {
    public var changes: [String] = []
    public init(changes: [String] = []) { self.changes = changes }
}

public struct ApplyOptions: Sendable {
    /// sethostname(2) changes the UTS namespace's name; tests run without it unless they are in
    /// their own UTS namespace.
    public var setHostname: Bool

    /// An address the apply keeps although the persona does not list it: the remembered DHCP lease's, so a Pit
    /// restarted with `[dhcp]` keeps answering on it while INIT-REBOOT confirms it (removing it would drop every
    /// open connection and show the network a canary flapping its address).
    public var keepAddress: IPPrefix?

    public init(setHostname: Bool = true, keepAddress: IPPrefix? = nil) {
        self.setHostname = setHostname
        self.keepAddress = keepAddress
    }
}

extension Persona {
    /// Makes the machine match the persona, natively (sethostname and rtnetlink, no `ip`):
    ///
    /// 1. hostname, if different;
    /// 2. the interface's MAC, if the persona sets one and it differs: most drivers refuse
    ///    IFLA_ADDRESS on a running link (EBUSY), so the link goes down, takes the address and comes
    ///    back up. Skipped when the MAC already matches, so a re-apply never flaps the link;
    /// 3. the link up (IFF_UP);
    /// 4. addresses. The persona's list is the whole truth for global-scope addresses: any other
    ///    global address on the interface is removed first (a canary that kept a DHCP lease or a
    ///    factory address next to its persona address would be trivially fingerprinted, and
    ///    removing before adding keeps IPv4's primary/secondary rules from deleting a new
    ///    address along with an old primary). Link- and host-scope addresses (the kernel's fe80::
    ///    link-local) are kept: IPv6 neighbour discovery needs them. Present addresses are left
    ///    alone, so re-applying changes nothing;
    /// 5. routes, tagged with protocol "static": each persona route missing from the main table is
    ///    installed with NLM_F_REPLACE (a route to the same destination through another gateway is
    ///    replaced); then static-protocol routes on this interface that the persona no longer lists
    ///    are removed. Kernel routes (connected prefixes) and an operator's routes (protocol "boot",
    ///    what `ip route add` uses) are never touched.
    ///
    /// Stops at the first error, which names the step, interface, object and errno.
    @discardableResult
    public func apply(_ options: ApplyOptions = ApplyOptions()) throws(PersonaError) -> ApplyReport {
        var report = ApplyReport()
        if options.setHostname { try applyHostname(&report) }

        var socket = try NetlinkSocket()
        var link = try RouteNetlink.link(named: interface, on: &socket)

        if let want = mac.address, link.mac != want {
            if link.isUp {
                try RouteNetlink.setLink(link, up: false, on: &socket)
                report.changes.append("link \(interface) down")
            }
            do {
                try RouteNetlink.setLink(link, mac: want, on: &socket)
            } catch {
                // Leave the canary reachable with its old MAC rather than offline with none.
                if link.isUp { try? RouteNetlink.setLink(link, up: true, on: &socket) }
                throw error
            }
            report.changes.append("link \(interface) address \(want)")
            link = try RouteNetlink.link(named: interface, on: &socket)
        }
        if let slaac {
            // Before the link comes up, so its link-local address is already a stable privacy one. On a link
            // that is up, a changed generation mode takes effect only when the link comes up again: cycle it.
            let changed = try applySlaac(slaac, &report)
            if changed && link.isUp {
                try RouteNetlink.setLink(link, up: false, on: &socket)
                report.changes.append("link \(interface) down (stable privacy addresses)")
                link = try RouteNetlink.link(named: interface, on: &socket)
            }
        }
        if !link.isUp {
            try RouteNetlink.setLink(link, up: true, on: &socket)
            report.changes.append("link \(interface) up")
        }

        var wanted = Set(addresses)
        if let keep = options.keepAddress, dhcp != nil { wanted.insert(keep) }
        for existing in try RouteNetlink.addresses(of: link, on: &socket) where existing.isGlobal && !wanted.contains(existing.prefix) {
            // With SLAAC the kernel's IPv6 addresses are the persona's too (made with its secret): kept.
            if slaac != nil && existing.prefix.family == .v6 { continue }
            try RouteNetlink.deleteAddress(existing.prefix, from: link, on: &socket)
            report.changes.append("address remove \(existing.prefix)")
        }
        let present = Set(try RouteNetlink.addresses(of: link, on: &socket).map(\.prefix))
        for address in addresses where !present.contains(address) {
            // (`keepAddress` is only kept, never added: the DHCP client adds it once a server confirms it.)
            try RouteNetlink.addAddress(address, to: link, on: &socket)
            report.changes.append("address add \(address)")
        }

        let before = try RouteNetlink.routes(of: link, on: &socket)
        for route in routes where !before.contains(where: { $0.matches(route) }) {
            try RouteNetlink.replaceRoute(route, via: link, on: &socket)
            report.changes.append("route replace \(route)")
        }
        for existing in try RouteNetlink.routes(of: link, on: &socket)
        where existing.protocol == RouteNetlink.pitRouteProtocol && !routes.contains(where: { existing.matches($0) }) {
            try RouteNetlink.deleteRoute(existing, via: link, on: &socket)
            report.changes.append("route remove \(existing.destinationText)\(existing.gateway.map { " via \($0)" } ?? "")")
        }
        return report
    }

    /// net.ipv6.conf.IF: stable_secret, addr_gen_mode 2 (RFC 7217), accept_ra 2 (router advertisements even if
    /// forwarding were on: a canary is a host), autoconf 1. Only values that differ are written; true if any did.
    private func applySlaac(_ slaac: SlaacSettings, _ report: inout ApplyReport) throws(PersonaError) -> Bool {
        let base = "/proc/sys/net/ipv6/conf/\(interface)/"
        var changed = false
        for (key, value) in [("stable_secret", slaac.stableSecret.description), ("addr_gen_mode", "2"), ("accept_ra", "2"), ("autoconf", "1")] {
            let path = base + key
            // stable_secret reads EIO until set; any unreadable value is simply written.
            // The kernel prints the secret uncompressed (%pI6): compared as an address.
            if let current = readSysctl(path), current == value || (key == "stable_secret" && IPAddress(current) == slaac.stableSecret) { continue }
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw PersonaError(operation: "open", target: path, errno: errno) }
            let bytes = Array((value + "\n").utf8)
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let saved = errno
            close(fd)
            guard n == bytes.count else { throw PersonaError(operation: "write", target: "\(path) \(key == "stable_secret" ? "(secret)" : value)", errno: n < 0 ? saved : EIO) }
            report.changes.append("sysctl \(interface) \(key) \(key == "stable_secret" ? "set" : value)")
            if key != "accept_ra" && key != "autoconf" { changed = true }
        }
        return changed
    }

    private func readSysctl(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return Validate.trimmed(String(decoding: buffer[0..<n], as: UTF8.self))
    }

    private func applyHostname(_ report: inout ApplyReport) throws(PersonaError) {
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count - 1) == 0,
           String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == hostname {
            return
        }
        let rc = sethostname(hostname, hostname.utf8.count)
        if rc != 0 { throw PersonaError(operation: "sethostname", target: hostname, errno: errno) }
        report.changes.append("hostname \(hostname)")
    }
}
