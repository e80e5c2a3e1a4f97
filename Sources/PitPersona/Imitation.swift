// Which system the decoy's SMB server pretends to be. A scanner's first look at an SMB server is the negotiate:
// which dialects it accepts (nmap smb-protocols, `smbclient -m`), whether it requires signing (nmap
// smb2-security-mode, every relay tool), and the server comment srvsvc returns. A box that claims to be a Windows
// Server but says "Samba 4.17.12-Debian" in its comment, or a Synology that still speaks SMB2.02 though DSM 7 turned
// it off, is found out at once. So the persona names the system, and the smb.conf lines that shape the negotiate
// follow from it; a persona may still set each one itself.

/// An SMB dialect as smb.conf names it (`server min protocol`, `server max protocol`).
public struct SmbDialect: Equatable, Sendable, CustomStringConvertible {
    /// Samba's spelling, uppercased: what smb.conf gets.
    public var name: String
    /// Order of the dialects, oldest first; `SMB2` and `SMB3` are Samba's names for the newest of their family
    /// (SMB2_10, SMB3_11), so they rank with those.
    public var rank: Int

    public var description: String { name }

    /// What Samba 4.17's server accepts (lib/param's enum_protocol; CORE and COREPLUS are left out: its server no
    /// longer negotiates them, so a persona naming them would claim what the decoy cannot do).
    public static let known: [SmbDialect] = [
        SmbDialect(name: "LANMAN1", rank: 1), SmbDialect(name: "LANMAN2", rank: 2), SmbDialect(name: "NT1", rank: 3),
        SmbDialect(name: "SMB2_02", rank: 4), SmbDialect(name: "SMB2_10", rank: 5), SmbDialect(name: "SMB2", rank: 5),
        SmbDialect(name: "SMB3_00", rank: 6), SmbDialect(name: "SMB3_02", rank: 7), SmbDialect(name: "SMB3_11", rank: 8),
        SmbDialect(name: "SMB3", rank: 8),
    ]

    /// Samba 4.17's `server min protocol` and `server max protocol` when smb.conf does not set them.
    public static let sambaMinimum = SmbDialect(name: "SMB2_02", rank: 4)
    public static let sambaMaximum = SmbDialect(name: "SMB3", rank: 8)

    /// The dialect `text` names (Samba reads these case-insensitively), or nil.
    public static func named(_ text: String) -> SmbDialect? {
        let upper = Validate.upper(text)
        return known.first { $0.name == upper }
    }
}

/// smb.conf's `server signing`.
public enum SmbSigning: String, Equatable, Sendable, CaseIterable {
    /// Offered, not required: what Windows servers other than domain controllers do, and Samba's default.
    case auto
    /// Required: a client that does not sign is refused (NTLM relay to the decoy fails, as on a domain controller).
    case mandatory
    /// Not offered (SMB2 still signs when the client requires it).
    case disabled
}

/// The negotiate-shaping settings of the imitated system. nil leaves Samba's own default (and smb.conf silent).
public struct SmbImitation: Equatable, Sendable {
    /// The `imitate` name.
    public var system: String
    public var minProtocol: SmbDialect?
    public var maxProtocol: SmbDialect?
    public var signing: SmbSigning?
    /// The `server string` when the persona sets none.
    public var defaultServerString: String

    public init(system: String, minProtocol: SmbDialect? = nil, maxProtocol: SmbDialect? = nil, signing: SmbSigning? = nil,
                defaultServerString: String = "Samba %v") {
        self.system = system
        self.minProtocol = minProtocol
        self.maxProtocol = maxProtocol
        self.signing = signing
        self.defaultServerString = defaultServerString
    }

    /// Samba's own defaults (4.17: SMB2_02 to SMB3_11, signing offered): what smb.conf said before `imitate`
    /// existed, so a persona without it renders the same file.
    public static let samba = SmbImitation(system: "samba")

    /// The systems a persona can name, in the order error messages list them.
    public static let systems: [SmbImitation] = [
        samba,
        // DSM 7 ships with SMB1 off and its "minimum SMB protocol" at SMB2, which DSM writes into its smb.conf as
        // Samba's `SMB2` (SMB2_10: no SMB2.02, which Vista-era clients used), up to SMB3; signing offered, not
        // required (DSM's "server signing" is off unless the admin forces it). A Synology runs Samba, so its
        // comment may well name Samba.
        SmbImitation(system: "synology-dsm7", minProtocol: SmbDialect.named("SMB2"), maxProtocol: SmbDialect.named("SMB3"),
                     signing: .auto),
        // Windows Server 2019/2022 as a member or standalone file server: SMB1 not installed (so SMB2.02 to 3.1.1),
        // signing enabled but required only on domain controllers. Its server comment is empty by default: Samba's
        // "Samba %v" would give it away in `rpcclient srvinfo` and nmap's smb-os-discovery.
        SmbImitation(system: "windows-server-2019", minProtocol: SmbDialect.named("SMB2_02"), maxProtocol: SmbDialect.named("SMB3_11"),
                     signing: .auto, defaultServerString: ""),
        SmbImitation(system: "windows-server-2022", minProtocol: SmbDialect.named("SMB2_02"), maxProtocol: SmbDialect.named("SMB3_11"),
                     signing: .auto, defaultServerString: ""),
    ]

    public static func named(_ name: String) -> SmbImitation? { systems.first { $0.system == name } }
}
