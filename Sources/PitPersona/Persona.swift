import Glibc
import PitTOML
import PitHash
import PitProcess

/// The network identity the canary presents: names, link address, IP configuration and the decoy
/// shares Samba will serve. Read from a TOML persona file; every error names file:line:col and the
/// field, because the person fixing it is usually editing that file over a serial console.
///
/// Example (see policies/persona.example.toml):
///
///     hostname = "nas-fin-02"
///     netbios_name = "NAS-FIN-02"
///     workgroup = "ACME"
///     server_string = "Finance NAS"
///     imitate = "synology-dsm7"     # or windows-server-2019/-2022; default "samba" (Samba's own defaults)
///     smb_min_protocol = "SMB2_10"  # each overrides what `imitate` sets; so do smb_max_protocol, smb_signing
///     interface = "eth0"
///     mac_oui = "00:11:32"          # or mac = "02:11:22:33:44:55"
///     addresses = ["192.0.2.10/24", "2001:db8::10/64"]
///     routes = [{ to = "default", via = "192.0.2.1" }]
///     [[shares]]
///     name = "finance"
///     comment = "Quarterly reports"
///     template = "decoys/finance"
public struct Persona: Equatable, Sendable {
    /// The file it was read from, for messages.
    public var file: String
    /// Set with sethostname(2); a DNS-style name (RFC 1123 labels, at most 64 bytes).
    public var hostname: String
    /// Uppercased NetBIOS name, 1–15 characters. Defaults to the hostname's first label.
    public var netbiosName: String
    /// Uppercased workgroup, 1–15 characters. Defaults to WORKGROUP.
    public var workgroup: String
    /// Samba's `server string` (shown in Network Neighbourhood); `%v` etc. are Samba macros.
    public var serverString: String
    /// The one interface the persona lives on.
    public var interface: String
    public var mac: MACChoice
    /// Addresses the interface must carry, with their prefix lengths; see `Apply` for removal.
    public var addresses: [IPPrefix]
    public var routes: [PersonaRoute]
    public var shares: [DecoyShare]
    /// The system the SMB server imitates (`imitate`) with the persona's own `smb_*` settings applied.
    public var smb: SmbImitation
    /// `[dhcp]` with `enabled = true`: IPv4 comes from a DHCP server, presented as `dhcp.profile`; nil: static only.
    public var dhcp: DhcpSettings?
    /// `slaac = true`: IPv6 addresses from router advertisements, with RFC 7217 stable privacy interface
    /// identifiers derived from the device id (nil: the kernel's settings are left alone).
    public var slaac: SlaacSettings?

    public init(file: String, hostname: String, netbiosName: String, workgroup: String, serverString: String,
                interface: String, mac: MACChoice, addresses: [IPPrefix], routes: [PersonaRoute], shares: [DecoyShare],
                smb: SmbImitation = .samba, dhcp: DhcpSettings? = nil, slaac: SlaacSettings? = nil) {
        self.file = file
        self.hostname = hostname
        self.netbiosName = netbiosName
        self.workgroup = workgroup
        self.serverString = serverString
        self.interface = interface
        self.mac = mac
        self.addresses = addresses
        self.routes = routes
        self.shares = shares
        self.smb = smb
        self.dhcp = dhcp
        self.slaac = slaac
    }
}

/// Where the interface's MAC comes from.
public enum MACChoice: Equatable, Sendable {
    /// No `mac`/`mac_oui`: the hardware address is left alone.
    case keep
    /// `mac = "02:11:22:33:44:55"`.
    case explicit(MACAddress)
    /// `mac_oui = "00:11:32"`: the vendor's OUI followed by three bytes derived from the device id,
    /// so the canary looks like that vendor's hardware and keeps the same MAC across reboots and
    /// re-flashes, while two canaries on one network never share one. `deviceIDSource` says where
    /// the id came from ("device_id" or the machine-id path) for `pit persona` status.
    case vendor(MACAddress, oui: [UInt8], deviceIDSource: String)

    public var address: MACAddress? {
        switch self {
        case .keep: return nil
        case .explicit(let mac), .vendor(let mac, _, _): return mac
        }
    }
}

/// One route over the persona's interface. `destination` nil is the default route of the gateway's
/// family.
public struct PersonaRoute: Hashable, Sendable, CustomStringConvertible {
    public var destination: IPPrefix?
    /// nil: an on-link route (scope link), allowed only for prefixes.
    public var gateway: IPAddress?

    public init(destination: IPPrefix?, gateway: IPAddress?) {
        precondition(destination != nil || gateway != nil, "a default route needs a gateway")
        self.destination = destination
        self.gateway = gateway
    }

    public var family: IPAddress.Family { destination?.family ?? gateway!.family }

    public var description: String {
        let to = destination.map(\.description) ?? "default"
        return gateway.map { "\(to) via \($0)" } ?? to
    }
}

/// A share Samba serves read-only to guests; its files are copied from `template`.
public struct DecoyShare: Equatable, Sendable {
    public var name: String
    public var comment: String
    /// Absolute (or as given, if the persona path was relative) path of the template directory,
    /// resolved against the persona file's directory so a persona and its decoys move together.
    public var template: String

    public init(name: String, comment: String, template: String) {
        self.name = name
        self.comment = comment
        self.template = template
    }
}

extension Persona {
    /// Where the per-device MAC suffix comes from when `mac_oui` is set and `device_id` is not.
    public static let defaultMachineIDPath = "/etc/machine-id"

    /// Domain-separation prefix for the MAC suffix: the suffix is
    /// `SHA-256("pit-persona-mac\0" + device_id)[0..<3]`. Hashing with a prefix rather than the bare
    /// machine-id means the MAC (which anyone on the LAN sees) reveals nothing reusable about the
    /// machine-id, which systemd asks applications not to expose (machine-id(5)).
    public static let macDerivationPrefix = "pit-persona-mac\u{0}"

    public static func load(contentsOf path: String, machineIDPath: String = defaultMachineIDPath) throws(TOMLError) -> Persona {
        let table = try TOML.parse(contentsOf: path)
        return try decode(table, file: path, machineIDPath: machineIDPath)
    }

    /// Parses persona text; `file` is used for messages and to resolve share templates.
    public static func parse(_ text: String, file: String, machineIDPath: String = defaultMachineIDPath) throws(TOMLError) -> Persona {
        let table = try TOML.parse(text, file: file)
        return try decode(table, file: file, machineIDPath: machineIDPath)
    }

    static let topLevelKeys: Set<String> = [
        "hostname", "netbios_name", "workgroup", "server_string", "interface",
        "mac", "mac_oui", "device_id", "addresses", "routes", "shares",
        "imitate", "smb_min_protocol", "smb_max_protocol", "smb_signing", "dhcp", "slaac",
    ]

    /// `[[routes]]` and `[[shares]]` (man/pit-persona.toml.5 documents every key; ManPageKeysTests checks it).
    static let routeKeys: Set<String> = ["to", "via"]
    static let shareKeys: Set<String> = ["name", "comment", "template"]

    static func decode(_ table: TOMLTable, file: String, machineIDPath: String) throws(TOMLError) -> Persona {
        let f = TOMLFields(table, file: file)
        try f.rejectUnknownKeys(topLevelKeys)

        let hostname = try f.require(f.string("hostname"), "hostname")
        if let problem = Validate.hostname(hostname) { throw f.error("hostname", problem) }

        let netbiosName: String
        if let given = try f.string("netbios_name") {
            if let problem = Validate.netbiosName(given) { throw f.error("netbios_name", problem) }
            netbiosName = Validate.upper(given)
        } else {
            let label = String(hostname.split(separator: ".").first ?? "")
            if let problem = Validate.netbiosName(label) {
                throw f.error("hostname", "cannot serve as the NetBIOS name (\(problem)); set netbios_name")
            }
            netbiosName = Validate.upper(label)
        }

        var workgroup = "WORKGROUP"
        if let given = try f.string("workgroup") {
            if let problem = Validate.netbiosName(given) { throw f.error("workgroup", problem) }
            workgroup = Validate.upper(given)
        }

        let smb = try decodeImitation(f)

        // Samba's own default, which reveals the Samba version as a real NAS does; empty for a Windows imitation.
        var serverString = smb.defaultServerString
        if let given = try f.string("server_string") {
            if let problem = Validate.configText(given, maxLength: 256) { throw f.error("server_string", problem) }
            serverString = given
        }

        let interface = try f.require(f.string("interface"), "interface")
        if let problem = Validate.interfaceName(interface) { throw f.error("interface", problem) }

        let mac = try decodeMAC(f, machineIDPath: machineIDPath)
        let dhcp = try decodeDhcp(f)
        let slaac = try decodeSlaac(f, machineIDPath: machineIDPath)
        let addresses = try decodeAddresses(f, dhcp: dhcp != nil)
        if dhcp != nil { try refuseStaticIPv4Routes(f) }
        let routes = try decodeRoutes(f, addresses: addresses)
        let shares = try decodeShares(f, file: file)

        return Persona(file: file, hostname: hostname, netbiosName: netbiosName, workgroup: workgroup,
                       serverString: serverString, interface: interface, mac: mac, addresses: addresses,
                       routes: routes, shares: shares, smb: smb, dhcp: dhcp, slaac: slaac)
    }

    // MARK: The imitated system

    static func decodeImitation(_ f: TOMLFields) throws(TOMLError) -> SmbImitation {
        var smb = SmbImitation.samba
        if let name = try f.string("imitate") {
            guard let known = SmbImitation.named(name.lowercased()) else {
                let names = SmbImitation.systems.map(\.system)
                let hint = Suggestion.closest(to: name.lowercased(), in: names, limit: 3).map { " (did you mean '\($0)'?)" } ?? ""
                throw f.error("imitate", "unknown system '\(name)'\(hint); known: \(names.joined(separator: ", "))")
            }
            smb = known
        }
        func dialect(_ key: String) throws(TOMLError) -> SmbDialect? {
            guard let given = try f.string(key) else { return nil }
            guard let dialect = SmbDialect.named(given) else {
                let names = SmbDialect.known.map(\.name)
                let hint = Suggestion.closest(to: Validate.upper(given), in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw f.error(key, "'\(given)' is not an SMB dialect Samba serves\(hint); known: \(names.joined(separator: ", "))")
            }
            return dialect
        }
        if let given = try dialect("smb_min_protocol") { smb.minProtocol = given }
        if let given = try dialect("smb_max_protocol") { smb.maxProtocol = given }
        // An unset end is Samba's default (4.17: SMB2_02 to SMB3_11): `smb_max_protocol = "NT1"` alone is a range
        // with nothing in it too.
        let lowest = smb.minProtocol ?? SmbDialect.sambaMinimum, highest = smb.maxProtocol ?? SmbDialect.sambaMaximum
        if lowest.rank > highest.rank {
            // Point at whichever the persona wrote (the other came from `imitate` or Samba's default).
            let key = f.position(of: "smb_max_protocol") != nil ? "smb_max_protocol" : "smb_min_protocol"
            let whose = smb.minProtocol == nil ? " (Samba's default)" : ""
            throw f.error(key, "the minimum dialect \(lowest)\(whose) is newer than the maximum \(highest): no client could connect")
        }
        if let given = try f.string("smb_signing") {
            guard let signing = SmbSigning(rawValue: given.lowercased()) else {
                let names = SmbSigning.allCases.map(\.rawValue)
                let hint = Suggestion.closest(to: given.lowercased(), in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw f.error("smb_signing", "'\(given)' is not a signing setting\(hint); known: \(names.joined(separator: ", "))")
            }
            smb.signing = signing
        }
        return smb
    }

    // MARK: MAC

    static func decodeMAC(_ f: TOMLFields, machineIDPath: String) throws(TOMLError) -> MACChoice {
        let explicit = try f.string("mac")
        let oui = try f.string("mac_oui")
        let deviceID = try f.string("device_id")
        if explicit != nil && oui != nil {
            throw f.error("mac_oui", "set either mac or mac_oui, not both")
        }
        if deviceID != nil && oui == nil && f.position(of: "slaac") == nil {
            throw f.error("device_id", "only used to derive the MAC from mac_oui or the IPv6 identifiers of slaac, neither of which is set")
        }
        if let explicit {
            guard let mac = MACAddress(explicit) else {
                throw f.error("mac", "'\(explicit)' is not a MAC address (six hex octets like 02:11:22:33:44:55)")
            }
            if mac.isMulticast { throw f.error("mac", "\(mac) is a multicast address (lowest bit of the first octet set); an interface cannot use it") }
            if mac.isZero { throw f.error("mac", "00:00:00:00:00:00 is not a usable MAC") }
            return .explicit(mac)
        }
        guard let oui else { return .keep }
        guard let ouiBytes = MACAddress.octets(oui, count: 3) else {
            throw f.error("mac_oui", "'\(oui)' is not an OUI (three hex octets like 00:11:32)")
        }
        if ouiBytes[0] & 0x01 != 0 { throw f.error("mac_oui", "\(oui) has the multicast bit set; a vendor OUI never does") }
        if ouiBytes[0] & 0x02 != 0 { throw f.error("mac_oui", "\(oui) has the locally-administered bit set, so it is not a vendor OUI; use mac instead") }

        let id: String
        let source: String
        if let deviceID {
            let trimmed = Validate.trimmed(deviceID)
            if trimmed.isEmpty { throw f.error("device_id", "must not be empty") }
            id = trimmed
            source = "device_id"
        } else {
            do throws(SystemCallError) {
                id = Validate.trimmed(try FileIO<SystemCallError>.read(machineIDPath))
            } catch {
                throw f.error("mac_oui", "no device_id set and \(machineIDPath) cannot be read: \(errnoText(error.errno ?? EIO))")
            }
            if id.isEmpty { throw f.error("mac_oui", "no device_id set and \(machineIDPath) is empty") }
            source = machineIDPath
        }
        return .vendor(deriveMAC(oui: ouiBytes, deviceID: id), oui: ouiBytes, deviceIDSource: source)
    }

    /// The vendor-OUI MAC for a device id (see `macDerivationPrefix`).
    public static func deriveMAC(oui: [UInt8], deviceID: String) -> MACAddress {
        let digest = SHA256.digest(Array((macDerivationPrefix + deviceID).utf8))
        return MACAddress(bytes: Array(oui.prefix(3)) + digest.prefix(3))
    }

    // MARK: SLAAC

    /// Domain-separation prefix for the RFC 7217 secret: `SHA-256("pit-persona-ipv6\0" + device_id)[0..<16]`, so
    /// the addresses (which the LAN sees) reveal nothing about the machine-id or the MAC's derivation.
    public static let slaacSecretPrefix = "pit-persona-ipv6\u{0}"

    static func decodeSlaac(_ f: TOMLFields, machineIDPath: String) throws(TOMLError) -> SlaacSettings? {
        guard try f.bool("slaac") == true else { return nil }
        let id: String
        if let given = try f.string("device_id") {
            id = Validate.trimmed(given)
            if id.isEmpty { throw f.error("device_id", "must not be empty") }
        } else {
            do throws(SystemCallError) {
                id = Validate.trimmed(try FileIO<SystemCallError>.read(machineIDPath))
            } catch {
                throw f.error("slaac", "no device_id set and \(machineIDPath) cannot be read: \(errnoText(error.errno ?? EIO)) (set device_id)")
            }
            if id.isEmpty { throw f.error("slaac", "no device_id set and \(machineIDPath) is empty") }
        }
        let digest = SHA256.digest(Array((slaacSecretPrefix + id).utf8))
        return SlaacSettings(stableSecret: IPAddress(bytes: Array(digest.prefix(16))))
    }

    // MARK: DHCP

    static let dhcpKeys: Set<String> = ["enabled", "profile", "options", "request_options", "parameter_request_list",
                                        "vendor_class", "max_message_size"]
    static let dhcpCustomKeys: Set<String> = ["options", "request_options", "parameter_request_list", "vendor_class",
                                              "max_message_size"]

    /// `[dhcp]`: nil when absent or `enabled = false`.
    static func decodeDhcp(_ f: TOMLFields) throws(TOMLError) -> DhcpSettings? {
        guard let d = try f.table("dhcp") else { return nil }
        try d.rejectUnknownKeys(dhcpKeys)
        let enabled = try d.bool("enabled") ?? true
        let name = try d.require(d.string("profile"), "profile")
        let given = name.lowercased()
        guard DhcpProfile.names.contains(given) else {
            let hint = Suggestion.closest(to: given, in: DhcpProfile.names, limit: 3).map { " (did you mean '\($0)'?)" } ?? ""
            throw d.error("profile", "unknown DHCP profile '\(name)'\(hint); known: \(DhcpProfile.names.joined(separator: ", "))")
        }
        if let profile = DhcpProfile.named(given) {
            // A built-in profile is a published fingerprint: a half-overridden one matches no real system.
            for key in dhcpCustomKeys where d.position(of: key) != nil {
                throw d.error(key, "only for profile = \"custom\"; '\(given)' is a published fingerprint and is sent as it is")
            }
            return enabled ? DhcpSettings(profile: profile) : nil
        }
        let profile = try decodeCustomDhcpProfile(d)
        return enabled ? DhcpSettings(profile: profile) : nil
    }

    /// A static IPv4 route would name a gateway the lease may not reach; the lease brings its own routes.
    static func refuseStaticIPv4Routes(_ f: TOMLFields) throws(TOMLError) {
        guard let tables = try f.tables("routes") else { return }
        for r in tables {
            let via = try r.string("via").flatMap(IPAddress.init)
            let to = try r.string("to").flatMap(IPPrefix.init)
            if via?.family == .v4 || to?.family == .v4 {
                throw r.error(to?.family == .v4 ? "to" : "via",
                              "an IPv4 route on an interface configured by DHCP; the lease's routers (option 3) and " +
                              "classless routes (option 121) are used instead: remove it, or remove [dhcp]")
            }
        }
    }

    static func decodeCustomDhcpProfile(_ d: TOMLFields) throws(TOMLError) -> DhcpProfile {
        func codes(_ key: String, allowed: Set<UInt8>?, required: Bool) throws(TOMLError) -> [UInt8]? {
            guard let items = try d.integersWithPositions(key) else {
                if required { throw d.error(key, "missing: list the option codes in the order the imitated client sends them") }
                return nil
            }
            var result: [UInt8] = []
            for item in items {
                func fail(_ message: String) -> TOMLError { TOMLError(file: d.file, at: item.position, "\(item.path): \(message)") }
                guard (1...254).contains(item.value) else { throw fail("\(item.value) is not a DHCP option code (1-254)") }
                let code = UInt8(item.value)
                if let allowed, !allowed.contains(code) {
                    let names = allowed.sorted().map(String.init).joined(separator: ", ")
                    throw fail("option \(code) is not one the client sends; orderable: \(names) (53 is always first)")
                }
                if result.contains(code) { throw fail("option \(code) is listed twice") }
                result.append(code)
            }
            if result.isEmpty && required { throw d.error(key, "must list at least option 55") }
            return result
        }
        let discover = try codes("options", allowed: DhcpProfile.orderableOptions, required: true)!
        let request = try codes("request_options", allowed: DhcpProfile.orderableOptions, required: false) ?? discover
        if !discover.contains(55) && !request.contains(55) {
            throw d.error("options", "must contain 55: without a parameter request list the server sends no router or DNS servers")
        }
        // Option 54 identifies the server in a REQUEST answering an offer; a DISCOVER never carries one.
        if discover.contains(54) && d.position(of: "request_options") != nil {
            throw d.error("options", "54 (server identifier) never appears in a DISCOVER; list it in request_options only")
        }
        let prl = try codes("parameter_request_list", allowed: nil, required: true)!
        var vendorClass: [UInt8]?
        if let text = try d.string("vendor_class") {
            let bytes = Array(text.utf8)
            if bytes.isEmpty || bytes.count > 255 { throw d.error("vendor_class", "must be 1-255 bytes (an option's length is one byte)") }
            if let problem = Validate.configText(text, maxLength: 255) { throw d.error("vendor_class", problem) }
            vendorClass = bytes
        }
        if (discover + request).contains(60) && vendorClass == nil {
            throw d.error("options", "lists 60 (vendor class) but vendor_class is not set")
        }
        var maxSize: UInt16?
        if let size = try d.int("max_message_size") {
            // RFC 2132 §9.10: at least 576; the client's receive buffer bounds it from above.
            guard (576...1500).contains(size) else { throw d.error("max_message_size", "\(size) is outside 576-1500 (RFC 2132 §9.10; one Ethernet frame)") }
            maxSize = UInt16(size)
        }
        if (discover + request).contains(57) && maxSize == nil {
            throw d.error("options", "lists 57 (maximum message size) but max_message_size is not set")
        }
        return DhcpProfile(name: "custom", discoverOptions: discover.filter { $0 != 54 }, requestOptions: request,
                           parameterRequestList: prl, vendorClass: vendorClass, maxMessageSize: maxSize)
    }

    // MARK: Addresses and routes

    static func decodeAddresses(_ f: TOMLFields, dhcp: Bool) throws(TOMLError) -> [IPPrefix] {
        guard let items = try f.stringsWithPositions("addresses") else {
            if dhcp { return [] }
            throw f.error("addresses", "missing required field: list at least one address (\"192.0.2.10/24\"), or enable [dhcp]")
        }
        if items.isEmpty && !dhcp { throw f.error("addresses", "list at least one address (\"192.0.2.10/24\"), or enable [dhcp]") }
        var result: [IPPrefix] = []
        for item in items {
            func fail(_ message: String) -> TOMLError { TOMLError(file: f.file, at: item.position, "\(item.path): \(message)") }
            guard let prefix = IPPrefix(item.value) else {
                throw fail("'\(item.value)' is not an address with a prefix length (\"192.0.2.10/24\" or \"2001:db8::10/64\")")
            }
            let a = prefix.address
            if a.isUnspecified || a.isMulticast || a.isLoopback {
                throw fail("\(a) cannot be an interface address (unspecified, multicast or loopback)")
            }
            if a.isIPv6LinkLocal { throw fail("\(a) is link-local; the kernel assigns fe80:: addresses itself") }
            if prefix.family == .v4 && prefix.length <= 30 {
                if prefix.isNetwork { throw fail("\(a) is the network address of \(a)/\(prefix.length)") }
                if a.broadcast(prefixLength: prefix.length) == a { throw fail("\(a) is the broadcast address of its /\(prefix.length)") }
            }
            if dhcp && prefix.family == .v4 {
                throw fail("a static IPv4 address on an interface configured by DHCP: the two would fight over it; " +
                           "remove \(prefix) or remove [dhcp] (IPv6 addresses may stay)")
            }
            if let earlier = result.first(where: { $0.address == a }) {
                throw fail("\(a) is listed twice (also as \(earlier))")
            }
            result.append(prefix)
        }
        return result
    }

    static func decodeRoutes(_ f: TOMLFields, addresses: [IPPrefix]) throws(TOMLError) -> [PersonaRoute] {
        guard let tables = try f.tables("routes") else { return [] }
        var result: [PersonaRoute] = []
        for r in tables {
            try r.rejectUnknownKeys(routeKeys)
            let to = try r.require(r.string("to"), "to")
            var gateway: IPAddress?
            if let via = try r.string("via") {
                guard let address = IPAddress(via) else { throw r.error("via", "'\(via)' is not an IP address") }
                if address.isUnspecified || address.isMulticast || address.isLoopback {
                    throw r.error("via", "\(address) cannot be a gateway")
                }
                gateway = address
            }
            var destination: IPPrefix?
            if to != "default" {
                guard let prefix = IPPrefix(to) else {
                    throw r.error("to", "'\(to)' is neither \"default\" nor a prefix like \"198.51.100.0/24\"")
                }
                if !prefix.isNetwork {
                    throw r.error("to", "\(prefix) has host bits set; did you mean \(prefix.address.masked(to: prefix.length))/\(prefix.length)?")
                }
                destination = prefix
            } else if gateway == nil {
                throw r.error("to", "a default route needs a gateway (via)")
            }
            let route = PersonaRoute(destination: destination, gateway: gateway)
            if let gateway, let destination, gateway.family != destination.family {
                throw r.error("via", "gateway \(gateway) and destination \(destination) are of different IP versions")
            }
            // The kernel refuses a gateway it cannot reach on the link (ENETUNREACH at boot); catch
            // it here, where the message can point at the line.
            if let gateway, !gateway.isIPv6LinkLocal,
               !addresses.contains(where: { $0.family == gateway.family && $0.address.masked(to: $0.length) == gateway.masked(to: $0.length) }) {
                throw r.error("via", "gateway \(gateway) is not inside any of the persona's addresses, so the kernel cannot reach it on the link")
            }
            if let same = result.first(where: { $0.family == route.family && $0.destination == route.destination }) {
                throw r.error("to", "a route to \(same.destination.map(\.description) ?? "default") (\(route.family)) is already listed")
            }
            result.append(route)
        }
        return result
    }

    // MARK: Shares

    static func decodeShares(_ f: TOMLFields, file: String) throws(TOMLError) -> [DecoyShare] {
        guard let tables = try f.tables("shares") else { return [] }
        let base = directoryName(of: file)
        var result: [DecoyShare] = []
        for s in tables {
            try s.rejectUnknownKeys(shareKeys)
            let name = try s.require(s.string("name"), "name")
            if let problem = Validate.shareName(name) { throw s.error("name", problem) }
            if result.contains(where: { Validate.upper($0.name) == Validate.upper(name) }) {
                throw s.error("name", "share '\(name)' is listed twice (share names are case-insensitive)")
            }
            let comment = try s.string("comment") ?? ""
            if let problem = Validate.configText(comment, maxLength: 256) { throw s.error("comment", problem) }
            let template = try s.require(s.string("template"), "template")
            if template.isEmpty { throw s.error("template", "must name a directory") }
            if let problem = Validate.configText(template, maxLength: 4096) { throw s.error("template", problem) }
            let resolved = template.hasPrefix("/") ? template : base + template
            var st = stat()
            if stat(resolved, &st) != 0 {
                throw s.error("template", "\(resolved): \(String(cString: strerror(errno)))")
            }
            if st.st_mode & S_IFMT != S_IFDIR { throw s.error("template", "\(resolved) is not a directory") }
            result.append(DecoyShare(name: name, comment: comment, template: resolved))
        }
        return result
    }

    /// "dir/" for "dir/file.toml", "" for "file.toml": a prefix to put before relative paths.
    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[...slash])
    }
}
