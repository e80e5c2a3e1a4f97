import CPitShim
import Glibc

extension Limits {
    /// Applied while the jail still holds CAP_SYS_RESOURCE, so a hard limit may be raised if asked.
    func applyRlimits(_ program: inout ChildProgram) {
        for limit in rlimits {
            program.setRlimit(limit.resource, soft: limit.soft, hard: limit.hard, path: "\(limit.name)=\(limit.soft):\(limit.hard)")
        }
    }
}

public enum RlimitNames {
    // asm-generic numbering, shared by x86_64, i386, aarch64 and arm (glibc hides some names behind _GNU_SOURCE).
    public static let table: [(String, Int32)] = [
        ("cpu", 0), ("fsize", 1), ("data", 2), ("stack", 3), ("core", 4), ("rss", 5), ("nproc", 6), ("nofile", 7),
        ("memlock", 8), ("as", 9), ("locks", 10), ("sigpending", 11), ("msgqueue", 12), ("nice", 13), ("rtprio", 14),
        ("rttime", 15),
    ]

    public static func resource(named name: String) -> Int32? {
        var key = name.lowercased()
        if key.hasPrefix("rlimit_") { key.removeFirst(7) }
        return table.first { $0.0 == key }?.1
    }
}
