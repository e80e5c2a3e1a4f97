/// Each syscall's argument names and widths per architecture, as the kernel's prototypes declare
/// them (tables in ArgTables.swift, derived from kafel's).
///
/// Why widths matter: the kernel reads an `int` or `unsigned int` argument from the low 32 bits of
/// its 64-bit register and ignores the rest, while seccomp sees the whole register. A filter that
/// compares all 64 bits is bypassed by junk in the high half: `KILL { write(fd) { fd == 1 } }`
/// does not match `write(0x100000001, ...)`, which the kernel runs as a write to fd 1. So, as kafel
/// does, a 32-bit argument is compared on its low 32 bits (unless the constant itself needs more
/// than 32 bits: then kafel, and Pit, compare the whole register).
///
/// The tables are kafel's (Linux ~5.x): a syscall they do not list keeps 64-bit comparisons, as a
/// declared name of a syscall whose arguments are all `long` or pointers would anyway.
///
/// Regenerate ArgTables.swift from a kafel checkout (src/syscalls/) with:
///   python3 - <<'PY'
///   import re
///   for f, name in [("amd64", "x86_64"), ("aarch64", "aarch64"), ("arm", "arm"), ("i386", "i386")]:
///       s = open(f + "_syscalls.c").read(); body = s[s.index("_syscall_list[] = {"):]
///       print('    static let %sText = """' % name)
///       for n, nr, args in re.findall(r'\{"(\w+)",\s*([0-9a-fA-Fx]+),\s*\{(.*?)\}\}', body, re.S):
///           a = re.findall(r'\[ARG_(\d)\] = \{"(\w+)", (\d)\}', args)
///           print("        " + " ".join([n, str(int(nr, 0))] + ["%s:%s" % (x[1], x[2]) for x in a]))
///       print('        """')
///   PY
/// (wrapped in `extension SyscallArgs { ... }` under the license notice).
public enum SyscallArgs {
    public struct Arg: Sendable, Equatable {
        public var name: String
        /// Bytes: 2, 4 or 8.
        public var size: Int
    }

    struct Table: Sendable {
        var byNumber: [Int: [Arg]] = [:]
        var byName: [String: [Arg]] = [:]
    }

    static func parse(_ text: String) -> Table {
        var t = Table()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let nr = Int(fields[1]) else { continue }
            let args = fields.dropFirst(2).compactMap { f -> Arg? in
                let parts = f.split(separator: ":")
                guard parts.count == 2, let size = Int(parts[1]) else { return nil }
                return Arg(name: String(parts[0]), size: size)
            }
            t.byNumber[nr] = args
            t.byName[String(fields[0])] = args
        }
        return t
    }

    // Parsed on first use, per architecture: a launch compiles for its own arch only.
    static let x86_64Table = parse(x86_64Text)
    static let aarch64Table = parse(aarch64Text)
    static let armTable = parse(armText)
    static let i386Table = parse(i386Text)

    static func table(_ arch: SeccompArch) -> Table? {
        switch arch {
        case .x86_64: return x86_64Table
        case .aarch64: return aarch64Table
        case .arm: return armTable
        case .i386: return i386Table
        default: return nil   // x32: arguments are 64-bit registers like x86_64's, but kafel has no table
        }
    }

    /// The arguments of a syscall on `arch` (by number; by name for i386's socketcall/ipc
    /// pseudo-numbers and names kafel spells like libseccomp), nil when kafel's table lacks it.
    public static func arguments(of name: String, number: Int, arch: SeccompArch) -> [Arg]? {
        let lookupArch = arch == .x32 ? SeccompArch.x86_64 : arch
        guard let t = table(lookupArch) else { return nil }
        if arch == .x32 { return t.byName[name] }
        if number >= 0, let a = t.byNumber[number] { return a }
        return t.byName[name]
    }

    /// kafel's names for a syscall's arguments on any supported architecture, in first-seen order
    /// (x86_64's first): what a condition may use without declaring names.
    public static func builtinNames(of syscall: String) -> [String] {
        var out: [String] = []
        for arch in SeccompArch.nameArches {
            guard case .success(.syscall(let name, let nr)) = SyscallNames.resolve(syscall, arch: arch),
                  let args = arguments(of: name, number: nr, arch: arch) else { continue }
            for a in args where !out.contains(a.name) { out.append(a.name) }
        }
        return out
    }

    /// The position of kafel's argument `argName` of a syscall on `arch`, nil when it has none so named.
    public static func builtinIndex(_ argName: String, of name: String, number: Int, arch: SeccompArch) -> Int? {
        arguments(of: name, number: number, arch: arch)?.firstIndex { $0.name == argName }
    }

    /// Arguments the kernel reads narrower than their prototype declares. clone's flags are an `unsigned long`, but
    /// kernel/fork.c takes `lower_32_bits(clone_flags)`: a deny rule on them compared on 64 bits would be bypassed
    /// by junk in the high half. (kafel's table follows the prototype; here Pit follows the kernel.)
    static let readAsInt: [String: Set<String>] = ["clone": ["clone_flags"]]

    /// The argument indices the kernel reads as 32-bit values, for a 64-bit architecture.
    public static func narrowArguments(of name: String, number: Int, arch: SeccompArch) -> Set<Int> {
        guard let args = arguments(of: name, number: number, arch: arch) else { return [] }
        let alsoNarrow = readAsInt[name] ?? []
        return Set(args.indices.filter { args[$0].size < 8 || alsoNarrow.contains(args[$0].name) })
    }
}
