import CPersonaShim
import Glibc

// The rtnetlink messages the persona needs, one function each: link lookup and change, address
// dump/add/delete, route dump/replace/delete. Each error names the message type and the
// interface plus the object ("RTM_NEWADDR eth0 192.0.2.10/24"), so a failure needs no context.

/// The interface as RTM_GETLINK reports it.
struct LinkInfo {
    var name: String
    var index: Int32
    var flags: UInt32
    var mac: MACAddress?
    var isUp: Bool { flags & UInt32(IFF_UP) != 0 }
    /// IFF_LOWER_UP lives in <linux/if.h>, which clashes with Glibc's <net/if.h>; the value is ABI.
    var hasCarrier: Bool { flags & (1 << 16) != 0 }
}

enum RouteNetlink {
    /// Routes Pit installs carry this protocol, so a re-apply can tell its own routes (which it may
    /// remove when the persona drops them) from the kernel's connected routes and an operator's.
    static let pitRouteProtocol = UInt8(RTPROT_STATIC)
    static let mainTable = UInt8(RT_TABLE_MAIN.rawValue)
    /// Routes from a DHCP lease: RTPROT_DHCP (16 in <linux/rtnetlink.h>, ABI), so the persona's static apply
    /// (which owns RTPROT_STATIC routes) never removes them and a new lease replaces exactly the old one's.
    static let dhcpRouteProtocol: UInt8 = 16
    /// The metric of a lease's routes (systemd-networkd's DHCP default). A replace matches destination and metric
    /// only, whatever the interface: at metric 0 a server's route (a default route, the management network) would
    /// replace the device's own route through another NIC. At 1024 it can replace only a lease's route, and the
    /// device's own routes keep winning.
    static let dhcpRouteMetric: UInt32 = 1024

    // MARK: Links

    /// RTM_GETLINK by name. A missing interface is ENODEV: "RTM_GETLINK eth9: No such device".
    static func link(named name: String, on socket: inout NetlinkSocket) throws(PersonaError) -> LinkInfo {
        var request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: 0, header: ifinfomsg())
        request.add(UInt16(IFLA_IFNAME), string: name)
        let replies = try socket.execute(request, operation: "RTM_GETLINK", target: name)
        guard let reply = replies.first(where: { $0.type == UInt16(RTM_NEWLINK) }), let info = reply.header(ifinfomsg.self) else {
            throw PersonaError(operation: "RTM_GETLINK", target: name, errno: 0, detail: "no link in the kernel's reply")
        }
        let attributes = reply.attributes(after: ifinfomsg.self)
        var mac: MACAddress?
        if let raw = attributes[UInt16(IFLA_ADDRESS)], raw.count == 6 { mac = MACAddress(bytes: raw) }
        return LinkInfo(name: attributes.string(UInt16(IFLA_IFNAME)) ?? name, index: info.ifi_index, flags: info.ifi_flags, mac: mac)
    }

    /// RTM_NEWLINK on an existing link: sets IFF_UP on or off and/or the hardware address.
    static func setLink(_ link: LinkInfo, up: Bool? = nil, mac: MACAddress? = nil, on socket: inout NetlinkSocket) throws(PersonaError) {
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        header.ifi_index = link.index
        if let up {
            // ifi_change says which flag bits to touch; the others stay as they are.
            header.ifi_change = UInt32(IFF_UP)
            header.ifi_flags = up ? UInt32(IFF_UP) : 0
        }
        var request = NetlinkRequest(type: UInt16(RTM_NEWLINK), flags: 0, header: header)
        if let mac { request.add(UInt16(IFLA_ADDRESS), mac.bytes) }
        var what = link.name
        if let up { what += up ? " up" : " down" }
        if let mac { what += " address \(mac)" }
        _ = try socket.execute(request, operation: "RTM_NEWLINK", target: what)
    }

    // MARK: Addresses

    static func addresses(of link: LinkInfo, on socket: inout NetlinkSocket) throws(PersonaError) -> [InterfaceAddress] {
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_UNSPEC)
        let request = NetlinkRequest(type: UInt16(RTM_GETADDR), flags: 0, header: header)
        var result: [InterfaceAddress] = []
        for message in try socket.dump(request, operation: "RTM_GETADDR", target: link.name) where message.type == UInt16(RTM_NEWADDR) {
            guard let info = message.header(ifaddrmsg.self), Int32(info.ifa_index) == link.index else { continue }
            let attributes = message.attributes(after: ifaddrmsg.self)
            // IPv4 puts the local address in IFA_LOCAL (IFA_ADDRESS is the peer on point-to-point
            // links); IPv6 only sends IFA_ADDRESS unless a peer is configured.
            guard let raw = attributes[UInt16(IFA_LOCAL)] ?? attributes[UInt16(IFA_ADDRESS)],
                  raw.count == 4 || raw.count == 16 else { continue }
            let address = IPAddress(bytes: raw)
            guard Int(info.ifa_prefixlen) <= address.family.bitCount else { continue }
            result.append(InterfaceAddress(prefix: IPPrefix(address: address, length: Int(info.ifa_prefixlen)), scope: info.ifa_scope,
                                           flags: attributes.u32(UInt16(IFA_FLAGS)) ?? UInt32(info.ifa_flags)))
        }
        return result
    }

    /// RTM_NEWADDR with NLM_F_EXCL: the caller adds only addresses it saw missing, so EEXIST here
    /// means something raced it and is reported, not hidden.
    static func addAddress(_ prefix: IPPrefix, to link: LinkInfo, on socket: inout NetlinkSocket) throws(PersonaError) {
        var request = NetlinkRequest(type: UInt16(RTM_NEWADDR), flags: Netlink.create | Netlink.excl, header: addressHeader(prefix, link))
        request.add(UInt16(IFA_LOCAL), prefix.address.bytes)
        request.add(UInt16(IFA_ADDRESS), prefix.address.bytes)
        if prefix.family == .v4 && prefix.length <= 30 {
            // `ip addr add ... brd +`: nmbd finds its broadcast address from the interface, and a
            // real NAS on DHCP always has one.
            request.add(UInt16(IFA_BROADCAST), prefix.address.broadcast(prefixLength: prefix.length).bytes)
        }
        _ = try socket.execute(request, operation: "RTM_NEWADDR", target: "\(link.name) \(prefix)")
    }

    static func deleteAddress(_ prefix: IPPrefix, from link: LinkInfo, on socket: inout NetlinkSocket) throws(PersonaError) {
        var request = NetlinkRequest(type: UInt16(RTM_DELADDR), flags: 0, header: addressHeader(prefix, link))
        request.add(UInt16(IFA_LOCAL), prefix.address.bytes)
        request.add(UInt16(IFA_ADDRESS), prefix.address.bytes)
        _ = try socket.execute(request, operation: "RTM_DELADDR", target: "\(link.name) \(prefix)")
    }

    private static func addressHeader(_ prefix: IPPrefix, _ link: LinkInfo) -> ifaddrmsg {
        var header = ifaddrmsg()
        header.ifa_family = UInt8(prefix.family.addressFamily)
        header.ifa_prefixlen = UInt8(prefix.length)
        header.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.ifa_index = UInt32(link.index)
        return header
    }

    // MARK: Routes

    /// Unicast routes of the main table that leave through `link`, IPv4 then IPv6.
    static func routes(of link: LinkInfo, on socket: inout NetlinkSocket) throws(PersonaError) -> [RouteEntry] {
        var result: [RouteEntry] = []
        for family in [AF_INET, AF_INET6] {
            var header = rtmsg()
            header.rtm_family = UInt8(family)
            let request = NetlinkRequest(type: UInt16(RTM_GETROUTE), flags: 0, header: header)
            for message in try socket.dump(request, operation: "RTM_GETROUTE", target: link.name) where message.type == UInt16(RTM_NEWROUTE) {
                guard let info = message.header(rtmsg.self), info.rtm_type == UInt8(RTN_UNICAST) else { continue }
                let attributes = message.attributes(after: rtmsg.self)
                let table = attributes.u32(UInt16(RTA_TABLE.rawValue)) ?? UInt32(info.rtm_table)
                guard table == UInt32(mainTable), let oif = attributes.u32(UInt16(RTA_OIF.rawValue)), Int32(bitPattern: oif) == link.index else { continue }
                let width = family == AF_INET ? 4 : 16
                let destinationBytes = attributes[UInt16(RTA_DST.rawValue)] ?? [UInt8](repeating: 0, count: width)
                guard destinationBytes.count == width, Int(info.rtm_dst_len) <= width * 8 else { continue }
                var gateway: IPAddress?
                if let raw = attributes[UInt16(RTA_GATEWAY.rawValue)], raw.count == width { gateway = IPAddress(bytes: raw) }
                result.append(RouteEntry(destination: IPPrefix(address: IPAddress(bytes: destinationBytes), length: Int(info.rtm_dst_len)),
                                         gateway: gateway, protocol: info.rtm_protocol, scope: info.rtm_scope,
                                         metric: attributes.u32(UInt16(RTA_PRIORITY.rawValue)), outputIndex: link.index))
            }
        }
        return result
    }

    /// RTM_NEWROUTE with NLM_F_CREATE | NLM_F_REPLACE: a route to the same destination (and metric)
    /// is replaced, whatever its gateway was, so changing `via` in the persona just works.
    static func replaceRoute(_ route: PersonaRoute, via link: LinkInfo, protocol: UInt8 = pitRouteProtocol, metric: UInt32? = nil,
                             on socket: inout NetlinkSocket) throws(PersonaError) {
        var header = routeHeader(family: route.family, destinationLength: route.destination?.length ?? 0, onLink: route.gateway == nil)
        header.rtm_protocol = `protocol`
        var request = NetlinkRequest(type: UInt16(RTM_NEWROUTE), flags: Netlink.create | Netlink.replace, header: header)
        addRouteAttributes(&request, destination: route.destination, gateway: route.gateway, link: link)
        if let metric { request.add(UInt16(RTA_PRIORITY.rawValue), u32: metric) }
        _ = try socket.execute(request, operation: "RTM_NEWROUTE", target: "\(link.name) \(route)")
    }

    static func deleteRoute(_ route: RouteEntry, via link: LinkInfo, on socket: inout NetlinkSocket) throws(PersonaError) {
        var header = routeHeader(family: route.destination.family, destinationLength: route.destination.length, onLink: route.gateway == nil)
        header.rtm_protocol = route.protocol
        header.rtm_scope = route.scope
        var request = NetlinkRequest(type: UInt16(RTM_DELROUTE), flags: 0, header: header)
        addRouteAttributes(&request, destination: route.isDefault ? nil : route.destination, gateway: route.gateway, link: link)
        if let metric = route.metric { request.add(UInt16(RTA_PRIORITY.rawValue), u32: metric) }
        _ = try socket.execute(request, operation: "RTM_DELROUTE", target: "\(link.name) \(route)")
    }

    private static func routeHeader(family: IPAddress.Family, destinationLength: Int, onLink: Bool) -> rtmsg {
        var header = rtmsg()
        header.rtm_family = UInt8(family.addressFamily)
        header.rtm_dst_len = UInt8(destinationLength)
        header.rtm_table = mainTable
        header.rtm_protocol = pitRouteProtocol
        // A route without a gateway is directly on the link; with one it reaches "the universe".
        header.rtm_scope = onLink ? UInt8(RT_SCOPE_LINK.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.rtm_type = UInt8(RTN_UNICAST)
        return header
    }

    private static func addRouteAttributes(_ request: inout NetlinkRequest, destination: IPPrefix?, gateway: IPAddress?, link: LinkInfo) {
        if let destination, destination.length > 0 { request.add(UInt16(RTA_DST.rawValue), destination.address.bytes) }
        if let gateway { request.add(UInt16(RTA_GATEWAY.rawValue), gateway.bytes) }
        request.add(UInt16(RTA_OIF.rawValue), u32: UInt32(bitPattern: link.index))
    }

    static func scopeName(_ scope: UInt8) -> String {
        switch scope {
        case 0: return "global"
        case 200: return "site"
        case 253: return "link"
        case 254: return "host"
        case 255: return "nowhere"
        default: return String(scope)
        }
    }
}
