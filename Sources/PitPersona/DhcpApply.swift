import Glibc

/// Puts a DHCP lease on the persona's interface and takes it off again, over rtnetlink like `Persona.apply`:
/// the address (with its prefix length, so the kernel adds the connected route) and the lease's routes tagged
/// RTPROT_DHCP. Routes of that protocol on the interface that the lease does not list are removed, so a renewed
/// lease with other routers leaves none of the old ones behind. Each change is reported in the words `apply` uses.
public enum DhcpApply {
    /// The routes a lease asks for, as persona routes: option 121's (on-link when the router is 0.0.0.0) or a
    /// default route through the first option 3 router.
    public static func routes(of lease: DhcpLease) -> [PersonaRoute] {
        lease.routes.map { route in
            let prefix = IPPrefix(address: route.destination.address, length: route.prefixLength)
            if route.router.isZero { return PersonaRoute(destination: prefix, gateway: nil) }
            return PersonaRoute(destination: route.prefixLength == 0 ? nil : prefix, gateway: route.router.address)
        }
    }

    @discardableResult
    public static func configure(_ lease: DhcpLease, previous: DhcpLease?, interface: String) throws(PersonaError) -> [String] {
        var changes: [String] = []
        var socket = try NetlinkSocket()
        let link = try RouteNetlink.link(named: interface, on: &socket)
        let present = try RouteNetlink.addresses(of: link, on: &socket).map(\.prefix)
        if let previous, previous.prefix != lease.prefix, present.contains(previous.prefix) {
            try RouteNetlink.deleteAddress(previous.prefix, from: link, on: &socket)
            changes.append("address remove \(previous.prefix)")
        }
        // The same address with another prefix length is another address to the kernel: replace it.
        for other in present where other.address == lease.prefix.address && other != lease.prefix {
            try RouteNetlink.deleteAddress(other, from: link, on: &socket)
            changes.append("address remove \(other)")
        }
        if !present.contains(lease.prefix) {
            try RouteNetlink.addAddress(lease.prefix, to: link, on: &socket)
            changes.append("address add \(lease.prefix)")
        }
        let wanted = routes(of: lease)
        let before = try RouteNetlink.routes(of: link, on: &socket)
        for route in wanted where !before.contains(where: { $0.matches(route) && $0.protocol == RouteNetlink.dhcpRouteProtocol }) {
            try RouteNetlink.replaceRoute(route, via: link, protocol: RouteNetlink.dhcpRouteProtocol, metric: RouteNetlink.dhcpRouteMetric,
                                          on: &socket)
            changes.append("route replace \(route)")
        }
        for existing in try RouteNetlink.routes(of: link, on: &socket)
        where existing.protocol == RouteNetlink.dhcpRouteProtocol && !wanted.contains(where: { existing.matches($0) }) {
            try RouteNetlink.deleteRoute(existing, via: link, on: &socket)
            changes.append("route remove \(existing.destinationText)\(existing.gateway.map { " via \($0)" } ?? "")")
        }
        return changes
    }

    /// Removes the lease's address (the kernel drops the routes through it) and any DHCP route left.
    @discardableResult
    public static func deconfigure(_ lease: DhcpLease, interface: String) throws(PersonaError) -> [String] {
        var changes: [String] = []
        var socket = try NetlinkSocket()
        let link = try RouteNetlink.link(named: interface, on: &socket)
        for existing in try RouteNetlink.routes(of: link, on: &socket) where existing.protocol == RouteNetlink.dhcpRouteProtocol {
            try? RouteNetlink.deleteRoute(existing, via: link, on: &socket)
        }
        if try RouteNetlink.addresses(of: link, on: &socket).contains(where: { $0.prefix == lease.prefix }) {
            try RouteNetlink.deleteAddress(lease.prefix, from: link, on: &socket)
            changes.append("address remove \(lease.prefix)")
        }
        return changes
    }

    /// The interface's index and MAC, for the supervisor's packet sockets.
    public static func linkIdentity(_ interface: String) throws(PersonaError) -> (index: Int32, mac: [UInt8]) {
        var socket = try NetlinkSocket()
        let link = try RouteNetlink.link(named: interface, on: &socket)
        guard let mac = link.mac else {
            throw PersonaError(operation: "RTM_GETLINK", target: interface, errno: 0, detail: "no Ethernet address: DHCP needs one")
        }
        return (link.index, mac.bytes)
    }
}
