/// How the canary's DHCPv4 client presents itself: which options its DISCOVER and REQUEST carry, in which
/// order, with which values. DHCP fingerprinting (Fingerbank, NAC products, asset inventories) reads exactly
/// these: the order of option 55's list, option 60's vendor class, the order of the options in the message.
///
/// Every built-in profile names where its values come from. Where no public capture or fingerprint database
/// gave a value, the comment says so and what was used instead; nothing here is guessed silently.
public struct DhcpProfile: Equatable, Sendable {
    /// "windows-10", "windows-server-2019", "synology-dsm7" or "custom".
    public var name: String
    /// The option codes a DISCOVER carries after option 53 (always first), in order. 50 is sent only when the
    /// client has an address to ask for again; 54 never in a DISCOVER.
    public var discoverOptions: [UInt8]
    /// The same for a REQUEST (and INIT-REBOOT/RENEW/REBIND, where 50 and 54 are left out as RFC 2131 §4.3.2
    /// requires for the state).
    public var requestOptions: [UInt8]
    /// Option 55's list, in order.
    public var parameterRequestList: [UInt8]
    /// Option 60's bytes (nil: not sent even if listed).
    public var vendorClass: [UInt8]?
    /// Option 57's value (nil: not sent even if listed).
    public var maxMessageSize: UInt16?

    public init(name: String, discoverOptions: [UInt8], requestOptions: [UInt8], parameterRequestList: [UInt8],
                vendorClass: [UInt8]?, maxMessageSize: UInt16?) {
        self.name = name
        self.discoverOptions = discoverOptions
        self.requestOptions = requestOptions
        self.parameterRequestList = parameterRequestList
        self.vendorClass = vendorClass
        self.maxMessageSize = maxMessageSize
    }

    /// The options a client message may carry that the profile orders (53 is always first, 255 last, and the
    /// codec adds neither of them to these lists). 12 is the persona's hostname, 61 is hardware type 1 and the
    /// interface's MAC, 81 is the FQDN option with the hostname and all flags clear.
    public static let orderableOptions: Set<UInt8> = [12, 50, 54, 55, 57, 60, 61, 81]

    // Windows 10 and Windows Server 2019 (both "Windows Kernel 10.0", build 17763 for Server 2019) share one
    // DHCP client, so they share one fingerprint:
    // - Option 55 `1,3,6,15,31,33,43,44,46,47,119,121,249,252`: the list Fingerbank's API identifies as
    //   "Operating System/Windows OS/Microsoft Windows Kernel 10.0" (quoted with a Windows 10 DISCOVER capture in
    //   https://ritzinmobileworld.blogspot.com/2022/09/dhcp-various-client-options.html); the same list is the
    //   Windows 10/11 entry of several public fingerprint tables. No capture of Server 2019 itself was found; it
    //   is taken to be the same client as Windows 10 because Fingerbank files both under kernel 10.0.
    // - Option 60 "MSFT 5.0": the same capture, and every Windows entry of PRADS' etc/dhcp.fp (gamelinux/prads).
    // - DISCOVER order 61, 12, 60, 55 after 53: the same capture ("61, 12, 60, 55") and PRADS' Windows 7
    //   DISCOVER `53,61,12,60,55,255`; 50 after 61 when an address is asked for again, as in PRADS' Windows XP
    //   SP3 DISCOVER `53,116,61,50,12,60,55,43,255`.
    // - REQUEST order `61,50,54,12,81,60,55`: PRADS' Windows XP SP3 REQUEST `53,61,50,54,12,81,60,55,43,255`
    //   without the trailing 43 (no Windows 10 REQUEST capture was found; the XP one is the same client lineage,
    //   and 43 is absent from the Windows 7 signature). 116 (auto-configure) is left out: PRADS shows it only for XP.
    // - No option 57: none of PRADS' Windows signatures carries it.
    // - Timing: no Windows-specific retransmission schedule was found; the client uses RFC 2131 §4.1's
    //   (4, 8, 16, 32, 64 s, ±1 s) for every profile.
    static let windowsKernel10PRL: [UInt8] = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]

    public static let windows10 = DhcpProfile(
        name: "windows-10", discoverOptions: [61, 50, 12, 60, 55], requestOptions: [61, 50, 54, 12, 81, 60, 55],
        parameterRequestList: windowsKernel10PRL, vendorClass: Array("MSFT 5.0".utf8), maxMessageSize: nil)

    public static let windowsServer2019: DhcpProfile = {
        var profile = windows10
        profile.name = "windows-server-2019"
        return profile
    }()

    // Synology DSM:
    // - Option 55 `1,3,6,12,15,17,23,28,29,31,33,40,41,42,44`: Fingerbank's open fingerprint file
    //   (dhcp_fingerprints.conf, "[os 1003] description=Synology NAS", as mirrored in karottc/fingerbank). The
    //   entry names no DSM version; no DSM 7 capture was found, so this is the only published Synology list.
    // - Option 60: not sent. No source shows a Synology vendor class; sending an invented one would be worse
    //   than none.
    // - Message order: not published for DSM. The order used is ISC dhclient's as PRADS records it (Ubuntu
    //   10.04: DISCOVER `53,50,12,55`, REQUEST `53,54,50,12,55`), dhclient being the client of DSM's Linux base
    //   as far as we know; this order is an assumption, unlike the option 55 list.
    public static let synologyDSM7 = DhcpProfile(
        name: "synology-dsm7", discoverOptions: [50, 12, 55], requestOptions: [54, 50, 12, 55],
        parameterRequestList: [1, 3, 6, 12, 15, 17, 23, 28, 29, 31, 33, 40, 41, 42, 44],
        vendorClass: nil, maxMessageSize: nil)

    public static let builtIn: [DhcpProfile] = [windowsServer2019, windows10, synologyDSM7]
    public static let names: [String] = builtIn.map(\.name) + ["custom"]

    public static func named(_ name: String) -> DhcpProfile? { builtIn.first { $0.name == name } }
}

/// `[dhcp]` of a persona: the interface takes its IPv4 address, routes and DNS servers from a DHCP server.
public struct DhcpSettings: Equatable, Sendable {
    public var profile: DhcpProfile

    public init(profile: DhcpProfile) {
        self.profile = profile
    }
}

/// `slaac = true` in a persona: the kernel configures IPv6 from router advertisements (accept_ra, autoconf) and
/// makes its interface identifiers with RFC 7217's stable privacy method (addr_gen_mode 2) keyed by
/// `stableSecret`: stable for this device on this network prefix, unlinkable across prefixes and devices, and
/// never the EUI-64 of the MAC (which would show a derived MAC for what it is). Windows has formed random,
/// non-EUI-64 identifiers by default since Vista, link-local ones included (netsh `randomizeidentifiers`; e.g.
/// https://andatche.com/articles/2012/02/disabling-rfc4941-ipv6-privacy-extensions-in-windows/ for Vista, 7 and
/// Server 2008; no source found for Windows 10 or Server 2019 specifically). This is the Linux kernel's way to the
/// same observable property, not Windows' algorithm. Windows' RFC 4941 temporary addresses are not imitated.
public struct SlaacSettings: Equatable, Sendable {
    /// net.ipv6.conf.IF.stable_secret, derived from the device id.
    public var stableSecret: IPAddress

    public init(stableSecret: IPAddress) { self.stableSecret = stableSecret }
}
