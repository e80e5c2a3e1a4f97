// What the kernel says about the persona's interface: read back after applying (tests compare it
// with `ip -j`) and shown by `pit persona` status. Plain values, so a caller can diff two reads.

/// The state of one interface.
public struct LinkState: Equatable, Sendable {
    public var interface: String
    public var index: Int32
    /// nil for links without a hardware address (none of the persona's would be).
    public var mac: MACAddress?
    /// IFF_UP: administratively up.
    public var isUp: Bool
    /// IFF_LOWER_UP: the driver reports a carrier. Informational; the persona does not require it.
    public var hasCarrier: Bool
    public var addresses: [InterfaceAddress]
    /// Routes in the main table whose output interface is this one, IPv4 then IPv6, as the kernel
    /// lists them (kernel-made connected routes included).
    public var routes: [RouteEntry]

    public init(interface: String, index: Int32, mac: MACAddress?, isUp: Bool, hasCarrier: Bool,
                addresses: [InterfaceAddress], routes: [RouteEntry]) {
        self.interface = interface
        self.index = index
        self.mac = mac
        self.isUp = isUp
        self.hasCarrier = hasCarrier
        self.addresses = addresses
        self.routes = routes
    }

    /// Reads the interface, its addresses and its routes over rtnetlink.
    public static func read(interface: String) throws(PersonaError) -> LinkState {
        var socket = try NetlinkSocket()
        let link = try RouteNetlink.link(named: interface, on: &socket)
        return LinkState(interface: link.name, index: link.index, mac: link.mac, isUp: link.isUp, hasCarrier: link.hasCarrier,
                         addresses: try RouteNetlink.addresses(of: link, on: &socket),
                         routes: try RouteNetlink.routes(of: link, on: &socket))
    }

    /// One JSON object, keys in a fixed order, for `persona-probe` and `pit persona --json`:
    /// {"interface":"eth0","index":2,"mac":"02:…","up":true,"carrier":false,
    ///  "addresses":[{"address":"192.0.2.10","prefixlen":24,"scope":"global","permanent":true,"tentative":false}],
    ///  "routes":[{"dst":"default","gateway":"192.0.2.1","protocol":"static","scope":"global","metric":0}]}
    public var json: String {
        let addressItems = addresses.map { a in
            "{\"address\":\(JSON.string(a.prefix.address.description)),\"prefixlen\":\(a.prefix.length),"
                + "\"scope\":\(JSON.string(a.scopeName)),\"permanent\":\(a.isPermanent),\"tentative\":\(a.isTentative)}"
        }
        let routeItems = routes.map { r in
            "{\"dst\":\(JSON.string(r.destinationText)),\"gateway\":\(r.gateway.map { JSON.string($0.description) } ?? "null"),"
                + "\"protocol\":\(JSON.string(r.protocolName)),\"scope\":\(JSON.string(RouteNetlink.scopeName(r.scope))),"
                + "\"metric\":\(r.metric.map(String.init) ?? "null")}"
        }
        return "{\"interface\":\(JSON.string(interface)),\"index\":\(index),\"mac\":\(mac.map { JSON.string($0.description) } ?? "null"),"
            + "\"up\":\(isUp),\"carrier\":\(hasCarrier),\"addresses\":[\(addressItems.joined(separator: ","))],"
            + "\"routes\":[\(routeItems.joined(separator: ","))]}"
    }
}

/// An address on the interface as the kernel reports it.
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public var prefix: IPPrefix
    /// rt_scope_t: 0 global, 253 link, 254 host.
    public var scope: UInt8
    /// IFA_F_* flags (the 32-bit IFA_FLAGS attribute when present).
    public var flags: UInt32

    public init(prefix: IPPrefix, scope: UInt8, flags: UInt32) {
        self.prefix = prefix
        self.scope = scope
        self.flags = flags
    }

    public var isGlobal: Bool { scope == 0 }
    /// Set on addresses configured by hand or by Pit (not SLAAC/DHCP-style ones with lifetimes).
    public var isPermanent: Bool { flags & 0x80 != 0 }
    /// IPv6 duplicate-address detection still running.
    public var isTentative: Bool { flags & 0x40 != 0 }
    public var scopeName: String { RouteNetlink.scopeName(scope) }
    public var description: String { prefix.description }
}

/// A route as the kernel reports it.
public struct RouteEntry: Hashable, Sendable, CustomStringConvertible {
    /// Length 0 is the default route.
    public var destination: IPPrefix
    public var gateway: IPAddress?
    /// rtm_protocol: 2 kernel, 3 boot, 4 static (Pit's).
    public var `protocol`: UInt8
    public var scope: UInt8
    public var metric: UInt32?
    public var outputIndex: Int32

    public init(destination: IPPrefix, gateway: IPAddress?, protocol: UInt8, scope: UInt8, metric: UInt32?, outputIndex: Int32) {
        self.destination = destination
        self.gateway = gateway
        self.protocol = `protocol`
        self.scope = scope
        self.metric = metric
        self.outputIndex = outputIndex
    }

    public var isDefault: Bool { destination.length == 0 }
    /// "default" or the prefix, as `ip route` prints it.
    public var destinationText: String { isDefault ? "default" : destination.description }
    public var protocolName: String {
        switch `protocol` {
        case 2: return "kernel"
        case 3: return "boot"
        case 4: return "static"
        case 9: return "ra"
        case 16: return "dhcp"
        default: return String(`protocol`)
        }
    }

    public var description: String {
        destinationText + (gateway.map { " via \($0)" } ?? "") + " proto \(protocolName)"
    }

    /// Whether this kernel route is the one a persona route asks for.
    public func matches(_ route: PersonaRoute) -> Bool {
        destination.family == route.family
            && (route.destination.map { $0 == destination } ?? isDefault)
            && gateway == route.gateway
    }
}

/// Just enough JSON writing for the read-back: strings escaped per RFC 8259.
enum JSON {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
