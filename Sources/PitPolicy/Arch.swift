import CSeccomp

/// An architecture a filter can be built for. libseccomp's token and the kernel's
/// AUDIT_ARCH value (what `seccomp_data.arch` holds) differ only for x32, whose syscalls
/// arrive with AUDIT_ARCH_X86_64 and the 0x40000000 bit set in the number.
public struct SeccompArch: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    /// The value of seccomp_data.arch for syscalls of this architecture.
    public let auditValue: UInt32
    /// libseccomp's SCMP_ARCH_* token.
    public let token: UInt32
    public let is64Bit: Bool

    public static let x86_64 = SeccompArch(name: "x86_64", auditValue: 0xC000_003E, token: 0xC000_003E, is64Bit: true)
    public static let i386 = SeccompArch(name: "i386", auditValue: 0x4000_0003, token: 0x4000_0003, is64Bit: false)
    public static let aarch64 = SeccompArch(name: "aarch64", auditValue: 0xC000_00B7, token: 0xC000_00B7, is64Bit: true)
    public static let arm = SeccompArch(name: "arm", auditValue: 0x4000_0028, token: 0x4000_0028, is64Bit: false)
    public static let x32 = SeccompArch(name: "x32", auditValue: 0xC000_003E, token: 0x4000_003E, is64Bit: false)

    public static let all: [SeccompArch] = [.x86_64, .i386, .aarch64, .arm, .x32]
    /// The architectures whose syscall names are known to the resolver (x32 shares x86_64's names).
    static let nameArches: [SeccompArch] = [.x86_64, .i386, .aarch64, .arm]

    /// The architecture this build runs on (libseccomp's seccomp_arch_native(), which a test compares).
    public static var native: SeccompArch {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #elseif arch(arm)
        return .arm
        #elseif arch(i386)
        return .i386
        #else
        let t = seccomp_arch_native()
        return all.first { $0.token == t } ?? .x86_64
        #endif
    }

    private init(name: String, auditValue: UInt32, token: UInt32, is64Bit: Bool) {
        self.name = name
        self.auditValue = auditValue
        self.token = token
        self.is64Bit = is64Bit
    }

    /// Accepts the kernel/Debian spellings too (i686, x86, arm64, armhf, amd64).
    public init?(name: String) {
        switch name.lowercased() {
        case "x86_64", "amd64", "x86-64": self = .x86_64
        case "i386", "i686", "x86", "ia32": self = .i386
        case "aarch64", "arm64": self = .aarch64
        case "arm", "armhf", "armel", "armv7", "eabi": self = .arm
        case "x32": self = .x32
        default: return nil
        }
    }

    public var description: String { name }
}
