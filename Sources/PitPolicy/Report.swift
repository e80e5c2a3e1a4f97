#if canImport(Glibc)
import Glibc
#endif

/// Text and file helpers behind `pit policy check|learn`, kept here so the CLI stays thin.
public enum PolicyReport {
    /// The default architectures `pit policy check` compiles for.
    public static let defaultArches: [SeccompArch] = [.x86_64, .i386, .aarch64, .arm]

    /// A human summary: instruction count, default action, then every syscall with a
    /// non-default action, and the names skipped on this arch.
    public static func summary(_ p: CompiledPolicy) -> String {
        var out = "\(p.arch.name): \(p.instructionCount) BPF instructions, default \(p.defaultAction)"
        if p.arches.count > 1 { out += ", arches \(p.arches.map(\.name).joined(separator: ", "))" }
        if p.needsListener { out += ", needs a notification listener (REPORT)" }
        out += "\n  allowed (\(p.allowedSyscalls.count)): "
        out += p.allowedSyscalls.sorted { $0.value < $1.value }.map { "\($0.key)(\($0.value))" }.joined(separator: " ")
        let others = p.syscalls.filter { $0.actions != [.allow] }
        if !others.isEmpty {
            out += "\n  other actions:"
            for s in others {
                out += "\n    \(s.name)(\(s.number)): \(s.actions.map(\.description).joined(separator: " / "))"
                if s.conditional { out += " (conditional)" }
                if s.implicit { out += " (implicit)" }
            }
        }
        if !p.skippedSyscalls.isEmpty {
            out += "\n  skipped, not on \(p.arch.name): \(p.skippedSyscalls.joined(separator: " "))"
        }
        return out + "\n  sha256 \(p.hash)"
    }

    public static func readText(_ path: String) throws(PolicyError) -> String {
        switch FileIO.readText(path) {
        case .success(let t): return t
        case .failure(let e): throw PolicyError("cannot read: \(e.message)", file: path)
        }
    }

    public static func write(_ path: String, bytes: [UInt8]) throws(PolicyError) {
        if case .failure(let e) = FileIO.writeBytes(path, bytes) {
            throw PolicyError("cannot write: \(e.message)", file: path)
        }
    }

    public static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { return }
            off += n
        }
    }
}
