import CPitShim
import Glibc

/// Landlock: a second wall behind the mounts and the filter, kept by the kernel for the jail and everything it
/// starts. Mounts decide what exists in the jail; Landlock decides what may be done with it, and — what no mount
/// can — which TCP ports the jail may bind and connect to in the host's network namespace (the Samba jails
/// share it by design), and that it reaches no abstract unix socket and signals no process outside its domain.
public struct LandlockSpec: Sendable, Equatable {
    /// Jail paths (inside the jail's root) and the rights beneath each.
    public var paths: [PathRule]
    public var bindTCP: [UInt16]
    public var connectTCP: [UInt16]
    /// The kernel's Landlock ABI version, found when the spec was resolved.
    public var abi: Int

    public struct PathRule: Sendable, Equatable {
        public var path: String
        public var access: Access
    }

    public enum Access: String, Sendable, Equatable {
        case read, write, exec
    }

    public init(paths: [PathRule], bindTCP: [UInt16], connectTCP: [UInt16], abi: Int) {
        self.paths = paths
        self.bindTCP = bindTCP
        self.connectTCP = connectTCP
        self.abi = abi
    }

    // linux/landlock.h: filesystem rights by the ABI that brought them.
    static let execute: UInt64 = 1 << 0, writeFile: UInt64 = 1 << 1, readFile: UInt64 = 1 << 2, readDir: UInt64 = 1 << 3
    static let removeDir: UInt64 = 1 << 4, removeFile: UInt64 = 1 << 5, makeChar: UInt64 = 1 << 6, makeDir: UInt64 = 1 << 7
    static let makeReg: UInt64 = 1 << 8, makeSock: UInt64 = 1 << 9, makeFifo: UInt64 = 1 << 10, makeBlock: UInt64 = 1 << 11
    static let makeSym: UInt64 = 1 << 12, refer: UInt64 = 1 << 13, truncate: UInt64 = 1 << 14, ioctlDev: UInt64 = 1 << 15
    static let bindTCPRight: UInt64 = 1 << 0, connectTCPRight: UInt64 = 1 << 1
    static let scopeAbstractUnix: UInt64 = 1 << 0, scopeSignal: UInt64 = 1 << 1

    /// Every filesystem right this ABI knows: all of them are handled, so what no rule grants is refused.
    var handledFilesystem: UInt64 {
        var rights: UInt64 = (1 << 13) - 1                // ABI 1: execute .. make_sym
        if abi >= 2 { rights |= Self.refer }
        if abi >= 3 { rights |= Self.truncate }
        if abi >= 5 { rights |= Self.ioctlDev }
        return rights
    }

    var handledNetwork: UInt64 { abi >= 4 ? Self.bindTCPRight | Self.connectTCPRight : 0 }
    var scopes: UInt64 { abi >= 6 ? Self.scopeAbstractUnix | Self.scopeSignal : 0 }

    /// The rights one access word grants, within what this ABI handles. No device nodes, ever; device ioctls
    /// only where the jail may write (its /dev/null and friends are bound read-only anyway).
    func rights(_ access: Access) -> UInt64 {
        let read = Self.readFile | Self.readDir
        switch access {
        case .read: return read
        case .exec: return read | Self.execute
        case .write:
            return (read | Self.writeFile | Self.removeDir | Self.removeFile | Self.makeDir | Self.makeReg | Self.makeSock
                    | Self.makeFifo | Self.makeSym | Self.refer | Self.truncate | Self.ioctlDev) & handledFilesystem
        }
    }

    /// The kernel's Landlock ABI version: 0 when it has none (not built, or not in the `lsm=` list).
    public static func kernelABI() -> Int {
        // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
        let version = pit_syscall6(444, 0, 0, 1, 0, 0, 0)
        return version > 0 ? Int(version) : 0
    }

    /// What this kernel cannot give of the spec, in words (empty: everything).
    public var missing: [String] {
        var gaps: [String] = []
        if abi < 4 && !(bindTCP.isEmpty && connectTCP.isEmpty) { gaps.append("TCP port rules need Landlock ABI 4 (Linux 6.7)") }
        if abi < 6 { gaps.append("abstract unix socket and signal scoping need Landlock ABI 6 (Linux 6.12)") }
        return gaps
    }

    /// Child side, after the jail's root is in place and no_new_privs is set (landlock_restrict_self needs it):
    /// the ruleset, its rules, and the restriction, which the jail's command and all it starts inherit.
    func apply(_ program: inout ChildProgram) {
        let ruleset = program.allocateSlot()
        program.landlockRuleset(into: ruleset, filesystem: handledFilesystem, network: handledNetwork, scopes: scopes)
        for rule in paths {
            program.landlockPath(rule.path, rights: rights(rule.access), in: ruleset, step: "landlock " + rule.access.rawValue,
                                 detail: "a rule's path is taken without following symlinks: name what it points to")
        }
        if handledNetwork != 0 {
            for port in bindTCP {
                program.landlockPort(port, rights: Self.bindTCPRight, in: ruleset, step: "landlock bind_tcp")
            }
            for port in connectTCP {
                program.landlockPort(port, rights: Self.connectTCPRight, in: ruleset, step: "landlock connect_tcp")
            }
        }
        program.landlockRestrict(ruleset)
        program.close(ruleset)
    }
}
