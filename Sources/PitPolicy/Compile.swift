import CSeccomp
import PitProcess
#if canImport(CPitShim)
import CPitShim
#else
import CPolicyShim
#endif
#if canImport(Glibc)
import Glibc
import PitHash
#endif

/// What one syscall does under a compiled policy (for `pit policy check` and reports).
public struct SyscallSummary: Sendable, Equatable {
    public var name: String
    public var number: Int
    /// Actions the syscall can get other than the default, in policy order.
    public var actions: [PolicyAction]
    /// False when one unconditional action applies.
    public var conditional: Bool
    /// Added by Pit, not written in the policy (clone3's ENOSYS).
    public var implicit: Bool
}

public struct CompiledPolicy: Sendable {
    public var file: String
    /// Hex SHA-256 of the policy text after #include expansion.
    public var hash: String
    /// The target architecture: syscall names, numbers and summaries refer to it.
    public var arch: SeccompArch
    /// Every architecture the filter accepts (target first); others hit KILL_PROCESS.
    public var arches: [SeccompArch]
    /// The classic BPF program from seccomp_export_bpf: 8 bytes per instruction, host order.
    public var program: [UInt8]
    public var instructionCount: Int
    /// True when REPORT is used: load() asks for a user-notification listener.
    public var needsListener: Bool
    /// Name -> syscall number (target arch) of every syscall allowed under some condition.
    public var allowedSyscalls: [String: Int]
    public var defaultAction: PolicyAction
    /// Every syscall with a non-default action, sorted by number.
    public var syscalls: [SyscallSummary]
    /// Arch-specific names the policy lists that the target lacks (see SyscallNames).
    public var skippedSyscalls: [String]
    /// Syscall numbers (target arch) where Pit's own rule REPORTs what every jail is refused (`refuseNamespaces`:
    /// namespaces, terminal ioctls). The listener answers EPERM only for these: where the policy filters such a
    /// syscall's arguments itself, the rule was not added and the policy's word stands.
    public var refusedInEveryJail: Set<Int>

    /// Rebuilds a compiled policy from its parts (a cached program); summaries are left empty.
    public init(file: String, hash: String, arch: SeccompArch, arches: [SeccompArch], program: [UInt8], needsListener: Bool,
                defaultAction: PolicyAction, refusedInEveryJail: Set<Int>) {
        self.init(file: file, hash: hash, arch: arch, arches: arches, program: program, instructionCount: program.count / 8,
                  needsListener: needsListener, allowedSyscalls: [:], defaultAction: defaultAction, syscalls: [], skippedSyscalls: [],
                  refusedInEveryJail: refusedInEveryJail)
    }

    init(file: String, hash: String, arch: SeccompArch, arches: [SeccompArch], program: [UInt8], instructionCount: Int,
         needsListener: Bool, allowedSyscalls: [String: Int], defaultAction: PolicyAction, syscalls: [SyscallSummary],
         skippedSyscalls: [String], refusedInEveryJail: Set<Int>) {
        self.file = file
        self.hash = hash
        self.arch = arch
        self.arches = arches
        self.program = program
        self.instructionCount = instructionCount
        self.needsListener = needsListener
        self.allowedSyscalls = allowedSyscalls
        self.defaultAction = defaultAction
        self.syscalls = syscalls
        self.skippedSyscalls = skippedSyscalls
        self.refusedInEveryJail = refusedInEveryJail
    }

    public func allows(_ syscallName: String) -> Bool {
        guard case .success(.syscall(_, let nr)) = SyscallNames.resolve(syscallName, arch: arch) else { return false }
        if let s = syscalls.first(where: { $0.number == nr }) {
            if s.actions.contains(.allow) { return true }
            return defaultAction == .allow && s.conditional
        }
        return defaultAction == .allow
    }

    /// Whether the filter itself stops every execve (a KILL or ERRNO rule, or such a default), so that not even
    /// Pit's own exec into the jail gets through to the listener. False for a filter rebuilt from the cache (only
    /// filters that pass this check are cached).
    public var stopsEveryExecve: Bool {
        guard case .success(.syscall(_, let nr)) = SyscallNames.resolve("execve", arch: arch) else { return false }
        let passing: [PolicyAction] = [.allow, .report, .log]
        guard let summary = syscalls.first(where: { $0.number == nr }) else { return !passing.contains(defaultAction) }
        return !summary.actions.contains(where: passing.contains) && !(summary.conditional && passing.contains(defaultAction))
    }

    public func syscallName(number: Int) -> String? {
        SyscallNames.name(number: number, arch: arch)
    }

    /// Whether the filter itself kills (a KILL_PROCESS or KILL_THREAD return anywhere in the program): such a
    /// kill is only named in the kernel's log. Read from the program, so a cached filter answers the same.
    public var killsInKernel: Bool {
        program.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count - 7, by: 8).contains { offset in
                let code = raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
                let k = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                let returnsConstant = code == 0x06            // BPF_RET | BPF_K
                let returnsAccumulator = code == 0x16         // BPF_RET | BPF_A: could be anything
                return returnsAccumulator || (returnsConstant && (k & 0xFFFF_0000 == 0x8000_0000 || k & 0xFFFF_0000 == 0))
            }
        }
    }

    /// Whether a syscall seen with this audit arch and number came through an architecture the filter does
    /// not accept (its bad-arch action): x32 numbers share x86_64's audit value and carry bit 30.
    public func rejects(auditArch: UInt32, nr: Int) -> Bool {
        !arches.contains { a in
            guard a.auditValue == auditArch else { return false }
            if a == .x32 { return nr & 0x4000_0000 != 0 }
            if a == .x86_64 { return nr & 0x4000_0000 == 0 }
            return true
        }
    }
}

/// The errno of a failed seccomp(2) load.
public struct SeccompLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errno: Int32
    public var description: String { "seccomp: \(errnoText(errno)) (errno \(errno))" }
}

extension CompiledPolicy {
    /// SECCOMP_FILTER_FLAG_NEW_LISTENER (linux/seccomp.h): seccomp_export_bpf cannot carry it.
    public static let flagNewListener: UInt32 = 1 << 3

    /// Loads the filter into the calling thread with seccomp(SECCOMP_SET_MODE_FILTER).
    /// Meant for a forked single-threaded child right before execve: no allocation, no libseccomp,
    /// one syscall. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
    /// Returns the listener fd when `needsListener`, else -1.
    public func load() throws(SeccompLoadError) -> Int32 {
        let flags: UInt32 = needsListener ? CompiledPolicy.flagNewListener : 0
        let count = UInt16(truncatingIfNeeded: instructionCount)
        let r = program.withUnsafeBytes { raw in
            pit_seccomp_set_filter(flags, raw.baseAddress, count)
        }
        if r < 0 { throw SeccompLoadError(errno: errno) }
        return needsListener ? Int32(truncatingIfNeeded: r) : -1
    }
}

public enum PolicyCompiler {
    /// The kernel's BPF_MAXINSNS for one classic program.
    public static let maxInstructions = 4096

    /// The libseccomp this process runs with ("libseccomp-2.5.4"): part of the compiler's identity.
    public static var libseccompVersion: String {
        guard let v = seccomp_version() else { return "libseccomp-unknown" }
        return "libseccomp-\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }

    /// The namespace flags of clone(2) and unshare(2): a jail's process asking for any of these wants a new
    /// namespace from inside the jail. A user namespace gives it every capability over new network, mount...
    /// namespaces of its own, and with them the kernel's least-hardened code (netfilter's setsockopt of
    /// CVE-2021-22555 and its relatives, mount code, /proc/sys/net). clone's low byte is its exit signal, so
    /// CLONE_NEWTIME (0x80) can only be asked through unshare (and clone3, which a filter cannot read).
    public static let cloneNamespaceFlags = UInt64(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
                                                   | CLONE_NEWPID | CLONE_NEWNET)
    public static let unshareNamespaceFlags = cloneNamespaceFlags | UInt64(CLONE_NEWTIME)

    /// The terminal ioctls a jail never gets on the terminal it may share with whoever started it (`pit run` on a
    /// console): TIOCSTI types into the caller's shell (bubblewrap's CVE-2017-5226), TIOCLINUX pastes a virtual
    /// console's selection, TCXONC stops the caller's output (a stopped console once froze `pit run` for good),
    /// TIOCCONS takes the console's output, TIOCSETD swaps in a line discipline (n_gsm, n_hdlc: kernel CVEs).
    public static let terminalRequests: [UInt64] = [0x5412 /* TIOCSTI */, 0x541C /* TIOCLINUX */, 0x540A /* TCXONC */,
                                                    0x541D /* TIOCCONS */, 0x5423 /* TIOCSETD */]

    /// Whether a reported syscall is one Pit refuses in every jail unless the policy filters that syscall's
    /// arguments itself: a request for a new namespace (or to join one), or a terminal ioctl above. The listener
    /// answers it with EPERM (the syscall fails, the process lives, the attempt is reported).
    public static func isRefusedInEveryJail(_ name: String?, args: [UInt64]) -> Bool {
        guard let name, let flags = args.first else { return false }
        switch name {
        case "clone": return flags & cloneNamespaceFlags != 0
        case "unshare": return flags & unshareNamespaceFlags != 0
        case "setns": return true
        case "ioctl": return args.count > 1 && terminalRequests.contains(args[1] & 0xffff_ffff)
        default: return false
        }
    }

    public static func compile(_ source: PolicySource, arch: SeccompArch = .native,
                               extraArches: [SeccompArch] = []) throws(PolicyError) -> CompiledPolicy {
        try compile(source, arch: arch, extraArches: extraArches, binaryTree: true)
    }

    /// `binaryTree: false` selects libseccomp's linear syscall list (for benchmarks).
    public static func compile(_ source: PolicySource, arch: SeccompArch = .native,
                               extraArches: [SeccompArch] = [], binaryTree: Bool) throws(PolicyError) -> CompiledPolicy {
        let ast = try parse(source)
        return try compile(ast, arch: arch, extraArches: extraArches, binaryTree: binaryTree)
    }

    /// A syscall made through an architecture the filter does not accept (an ia32 `int 0x80` in an x86_64
    /// process, an x32 number) gets KILL_PROCESS; with `reportBadArch`, REPORT instead whenever the filter has
    /// a listener anyway (a REPORT default or rule), so that the listener judges it like any violation.
    ///
    /// `refuseNamespaces` (every jail's filter): clone and unshare with namespace flags, setns, and the terminal
    /// ioctls (`terminalRequests`) are REPORTed (the listener answers EPERM) wherever the policy would let them run,
    /// unless a rule of the policy for that syscall has an argument condition: that is the policy's explicit word
    /// on it, and it stands.
    public static func compile(_ ast: PolicyAST, arch: SeccompArch = .native, extraArches: [SeccompArch] = [],
                               binaryTree: Bool = true, reportBadArch: Bool = false,
                               refuseNamespaces: Bool = false) throws(PolicyError) -> CompiledPolicy {
        var arches = [arch]
        for a in extraArches + ast.arches.compactMap({ SeccompArch(name: $0.name) }) where !arches.contains(a) {
            arches.append(a)
        }
        if arch == .x32 || (arches.contains(.x32) && !arches.contains(.x86_64)) {
            // libseccomp builds x32 only next to x86_64 (same AUDIT_ARCH value).
            if !arches.contains(.x86_64) { arches.append(.x86_64) }
        }
        let rules = try flatten(ast)
        let defaultAction = ast.use.defaultAction

        var plans: [ArchPlan] = []
        for a in arches {
            plans.append(try plan(rules, defaultAction: defaultAction, arch: a, file: ast.file, refuseNamespaces: refuseNamespaces))
        }

        // Every syscall with its own action costs at least one instruction: past the kernel's limit no filter can
        // exist, and libseccomp 2.5.4 corrupts its heap generating one that large (65535 syscalls abort the process).
        let distinct = plans.reduce(0) { $0 + Set($1.rules.map(\.number)).count }
        if distinct > maxInstructions {
            throw PolicyError("the policy gives \(distinct) syscalls their own action: a filter needs at least one instruction each, more than the kernel's limit of \(maxInstructions)", file: ast.file)
        }
        let usesReport = defaultAction == .report || plans.contains { $0.summaries.contains { $0.actions.contains(.report) } }
        let badArchAction: PolicyAction = reportBadArch && usesReport ? .report : .killProcess
        // libseccomp's TRAP carries no value (SCMP_ACT_TRAP only, TRACE has one): each TRAP(n), n > 0, goes through
        // libseccomp as a TRACE value no TRACE of the policy uses, and the exported program's returns of that value
        // are rewritten to SECCOMP_RET_TRAP | n. Distinct stand-ins keep libseccomp's merging of equal actions exact.
        let actions = [defaultAction] + plans.flatMap { $0.rules.map(\.action) }
        var traceValues = Set<UInt16>(), trapValues = Set<UInt16>()
        for a in actions {
            if case .trace(let n) = a { traceValues.insert(n) }
            if case .trap(let n) = a, n > 0 { trapValues.insert(n) }
        }
        var standIns: [UInt16: UInt16] = [:]
        var next: UInt16 = 0xffff
        for n in trapValues.sorted() {
            while traceValues.contains(next) { next -= 1 }   // at most 4096 distinct actions fit in a filter
            standIns[n] = next
            next -= 1
        }
        var program = try build(plans, defaultAction: defaultAction, badArchAction: badArchAction, binaryTree: binaryTree,
                                standIns: standIns, file: ast.file)
        if !standIns.isEmpty { program = replaceReturns(program, standIns) }
        let count = program.count / 8
        if count > maxInstructions {
            throw PolicyError("filter has \(count) BPF instructions, more than the kernel's limit of \(maxInstructions)", file: ast.file)
        }
        let target = plans[0]
        var allowed: [String: Int] = [:]
        for s in target.summaries where s.actions.contains(.allow) { allowed[s.name] = s.number }
        return CompiledPolicy(
            file: ast.file, hash: SHA256.hex(Array(ast.expandedText.utf8)), arch: arch, arches: arches,
            program: program, instructionCount: count, needsListener: usesReport,
            allowedSyscalls: allowed, defaultAction: defaultAction,
            syscalls: target.summaries.sorted { $0.number < $1.number },
            skippedSyscalls: target.skipped, refusedInEveryJail: target.refused)
    }

    // MARK: - policy flattening

    struct FlatRule {
        var action: PolicyAction
        var rule: SyscallRule
    }

    /// kafel sets no limits here. Without them a hostile policy overflows the stack (a chain of thousands of
    /// policies, each USEing the next) or runs for ever (30 policies each USEing the next twice: 2^30 copies).
    static let maxUseDepth = 64
    static let maxExpansion = 1 << 16

    /// The rules of the USEd policies in order, with nested `USE` expanded in place.
    static func flatten(_ ast: PolicyAST) throws(PolicyError) -> [FlatRule] {
        var out: [FlatRule] = []
        var expanded = 0   // USEs and rules copied so far
        // First declaration wins, as in PolicyAST.policy(named:); a lookup per USE, not a scan of every policy.
        let byName = Dictionary(ast.policies.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func visit(_ name: String, _ loc: SourceLocation, _ stack: [String]) throws(PolicyError) {
            if stack.contains(name) {
                throw PolicyError("policy '\(name)' uses itself (\((stack + [name]).joined(separator: " -> ")))", at: loc)
            }
            guard stack.count < maxUseDepth else { throw PolicyError("USE nested deeper than \(maxUseDepth) levels", at: loc) }
            guard let p = byName[name] else { throw PolicyError("unknown policy '\(name)'", at: loc) }
            for item in p.items {
                expanded += 1
                if case .block(let b) = item { expanded += b.rules.count }
                guard expanded <= maxExpansion else {
                    throw PolicyError("USE expands the policy to more than \(maxExpansion) rules (the same policies USEd again and again?)", at: loc)
                }
                switch item {
                case .use(let n, let l): try visit(n, l, stack + [name])
                case .block(let b): for r in b.rules { out.append(FlatRule(action: b.action, rule: r)) }
                }
            }
        }
        for ref in ast.use.policies { try visit(ref.name, ref.location, []) }
        return out
    }

    // MARK: - per-architecture plan

    struct ArchPlan {
        var arch: SeccompArch
        /// syscall number -> [(action, conjunctions)] with disjoint conditions, non-default actions only.
        var rules: [(number: Int, name: String, action: PolicyAction, terms: DNF)]
        var summaries: [SyscallSummary]
        var skipped: [String]
        /// Where Pit's own REPORT rule (`refuseNamespaces`) went in. Not read from the summaries: under a REPORT
        /// default (every jail's) that rule's action is the default's and no summary lists it.
        var refused: Set<Int> = []
    }

    /// The work `plan` may spend making rules disjoint: conditions subtracted, over a whole architecture. Real
    /// policies subtract a few hundred at most (every rule on a syscall pays for the earlier ones of other actions).
    static let maxSubtracted = 1 << 14

    static func plan(_ flat: [FlatRule], defaultAction: PolicyAction, arch: SeccompArch, file: String,
                     refuseNamespaces: Bool = false) throws(PolicyError) -> ArchPlan {
        // Group the rules by syscall number, keeping policy order (first match wins, as in kafel).
        var order: [Int] = []
        var bySyscall: [Int: (name: String, rules: [(PolicyAction, DNF, SourceLocation)])] = [:]
        var skipped: [String] = []
        for fr in flat {
            if let only = fr.rule.onArches, !only.contains(arch.name) { continue }   // kafel's `ON arch`
            let number: Int, name: String
            switch fr.rule.syscall {
            case .number(let n):
                guard n >= 0 else {
                    throw PolicyError("SYSCALL[\(n)]: negative syscall numbers cannot be filtered through libseccomp (it reserves them for its pseudo-syscalls)", at: fr.rule.location)
                }
                number = arch == .x32 ? n | 0x4000_0000 : n
                name = SyscallNames.name(number: number, arch: arch) ?? "SYSCALL[\(n)]"
            case .name(let written):
                switch SyscallNames.resolve(written, arch: arch) {
                case .success(.syscall(let n, let nr)): number = nr; name = n
                case .success(.absent):
                    if !skipped.contains(written) { skipped.append(written) }
                    continue
                case .failure(.notOnArch):
                    throw PolicyError("syscall '\(written)' does not exist on \(arch.name)", at: fr.rule.location)
                case .failure(.unknown(let hint)):
                    throw PolicyError("unknown syscall '\(written)'" + (hint.map { " (did you mean '\($0)'?)" } ?? ""), at: fr.rule.location)
                }
            }
            var terms: DNF = [[]]
            if var condition = fr.rule.condition {
                var normalizer = Normalizer(syscallName: name, location: fr.rule.location)
                normalizer.args32 = !arch.is64Bit
                // Only for a condition: the argument tables are parsed on first use, and most rules have none.
                if arch.is64Bit { normalizer.low32Args = SyscallArgs.narrowArguments(of: name, number: number, arch: arch) }
                if !fr.rule.builtinArgs.isEmpty {
                    condition = try resolveBuiltinArgs(condition, rule: fr.rule, name: name, number: number, arch: arch)
                }
                terms = try normalizer.dnf(condition)
            }
            if bySyscall[number] == nil { order.append(number); bySyscall[number] = (name, []) }
            bySyscall[number]!.rules.append((fr.action, terms, fr.rule.location))
        }

        // clone3 passes its flags in memory, where seccomp cannot look: unless the policy says
        // otherwise, answer ENOSYS so that glibc falls back to clone(), whose flags can be filtered.
        var implicit: Set<Int> = []
        var refused: Set<Int> = []
        let nowhere = SourceLocation(file: file, line: 0, column: 0, lineText: "")
        if refuseNamespaces {
            let requests = [("clone", cloneNamespaceFlags), ("unshare", unshareNamespaceFlags), ("setns", 0), ("ioctl", 0)]
            for (syscall, mask) in requests {
                guard case .success(.syscall(let name, let nr)) = SyscallNames.resolve(syscall, arch: arch) else { continue }
                let written = bySyscall[nr]?.rules ?? []
                if written.contains(where: { $0.1 != [[]] }) { continue }          // the policy filters its arguments
                let first = written.first?.0 ?? defaultAction
                guard first == .allow || first == .log else { continue }          // refused already
                var normalizer = Normalizer(syscallName: name, location: nowhere)
                normalizer.args32 = !arch.is64Bit
                // (flags & mask) != 0; setns (mask 0) whatever its arguments: its fd names the namespace; ioctl:
                // the terminal requests, compared on the low 32 bits (the kernel's cmd is an unsigned int).
                var terms: DNF = mask == 0 ? [[]]
                    : try normalizer.negate(Literal(arg: 0, op: .maskedEq, a: mask, b: 0, location: nowhere))
                if syscall == "ioctl" {
                    // As a rule written `request == ...`: the normalizer compares the narrow argument's low half.
                    if arch.is64Bit { normalizer.low32Args = SyscallArgs.narrowArguments(of: name, number: nr, arch: arch) }
                    terms = []
                    for request in terminalRequests {
                        terms = try normalizer.or(terms, normalizer.literal(arg: 1, mask: nil, op: .eq, value: request, nowhere))
                    }
                }
                if bySyscall[nr] == nil { order.append(nr); bySyscall[nr] = (name, []) }
                bySyscall[nr]!.rules.insert((.report, terms, nowhere), at: 0)
                implicit.insert(nr)
                refused.insert(nr)
            }
        }
        if case .success(.syscall(let name, let nr)) = SyscallNames.resolve("clone3", arch: arch), bySyscall[nr] == nil {
            order.append(nr)
            bySyscall[nr] = (name, [(.errno(ENOSYS), [[]], nowhere)])
            implicit.insert(nr)
        }

        var planned: [(Int, String, PolicyAction, DNF)] = []
        var summaries: [SyscallSummary] = []
        var subtracted = 0   // terms of other actions subtracted so far, over every syscall
        for nr in order {
            let (name, rules) = bySyscall[nr]!
            var normalizer = Normalizer(syscallName: name, location: rules[0].2)
            normalizer.args32 = !arch.is64Bit   // `lower` must not make blocks above the low word libseccomp compares
            // Make conditions disjoint so that libseccomp's rule order cannot matter: a rule only
            // gets what no earlier rule with a different action already took.
            var covered: [PolicyAction: DNF] = [:]
            var effective: [(PolicyAction, DNF)] = []
            var anyCovered: DNF = []
            for (action, terms, loc) in rules {
                normalizer.location = loc
                if anyCovered == [[]] { break }   // shadowed by an unconditional earlier rule
                var others: DNF = []
                for (a, d) in covered where a != action { others += d }
                // Each rule subtracts what other actions took before it, at a cost that grows with both: many
                // conditional rules on one syscall (250 with alternating actions took 6 s in a debug build, and a
                // hostile policy can repeat that for every syscall or shadow thousands of rules) need a bound.
                subtracted += others.count
                if subtracted > maxSubtracted {
                    throw PolicyError("too many conditional rules with different actions on the same syscalls: ordering them by first match would subtract more than \(maxSubtracted) conditions", at: loc)
                }
                let eff = others.isEmpty ? terms : try normalizer.and(terms, normalizer.negate(normalizer.simplify(others)))
                if !eff.isEmpty {
                    if let i = effective.firstIndex(where: { $0.0 == action }) {
                        effective[i].1 = try normalizer.or(effective[i].1, eff)
                    } else {
                        effective.append((action, eff))
                    }
                }
                covered[action] = try normalizer.or(covered[action] ?? [], terms)
                anyCovered = try normalizer.or(anyCovered, terms)
            }
            var actions: [PolicyAction] = []
            var conditional = false
            for (action, disjoint) in effective where action != defaultAction {
                let terms = try normalizer.lower(disjoint)
                planned.append((nr, name, action, terms))
                actions.append(action)
                if terms != [[]] { conditional = true }
            }
            if !actions.isEmpty {
                summaries.append(SyscallSummary(name: name, number: nr, actions: actions,
                                                conditional: conditional || actions.count > 1,
                                                implicit: implicit.contains(nr)))
            }
        }
        return ArchPlan(arch: arch, rules: planned, summaries: summaries, skipped: skipped, refused: refused)
    }

    /// The condition with kafel's built-in argument names (SyscallRule.builtinArgs) at their positions on `arch`.
    static func resolveBuiltinArgs(_ c: Condition, rule: SyscallRule, name: String, number: Int,
                                   arch: SeccompArch) throws(PolicyError) -> Condition {
        func position(_ i: Int, _ loc: SourceLocation) throws(PolicyError) -> Int {
            guard i >= SyscallRule.builtinBase else { return i }
            let argName = rule.builtinArgs[i - SyscallRule.builtinBase]
            guard let p = SyscallArgs.builtinIndex(argName, of: name, number: number, arch: arch) else {
                throw PolicyError("'\(argName)' is not an argument of \(name) on \(arch.name)", at: loc)
            }
            return p
        }
        switch c {
        case .compare(let arg, let mask, let op, let value, let loc):
            return .compare(arg: try position(arg, loc), mask: mask, op: op, value: value, location: loc)
        case .anyBit(let arg, let mask, let loc):
            return .anyBit(arg: try position(arg, loc), mask: mask, location: loc)
        case .constant: return c
        case .and(let a, let b):
            return .and(try resolveBuiltinArgs(a, rule: rule, name: name, number: number, arch: arch),
                        try resolveBuiltinArgs(b, rule: rule, name: name, number: number, arch: arch))
        case .or(let a, let b):
            return .or(try resolveBuiltinArgs(a, rule: rule, name: name, number: number, arch: arch),
                       try resolveBuiltinArgs(b, rule: rule, name: name, number: number, arch: arch))
        case .not(let a):
            return .not(try resolveBuiltinArgs(a, rule: rule, name: name, number: number, arch: arch))
        }
    }

    // MARK: - libseccomp

    /// The libseccomp action for `a`; `standIns` maps a TRAP value to the TRACE value standing in for it.
    static func scmpAction(_ a: PolicyAction, standIns: [UInt16: UInt16] = [:]) -> UInt32 {
        switch a {
        case .allow: return 0x7FFF_0000          // SCMP_ACT_ALLOW
        case .killProcess: return 0x8000_0000    // SCMP_ACT_KILL_PROCESS
        case .killThread: return 0x0000_0000     // SCMP_ACT_KILL_THREAD
        case .errno(let e): return 0x0005_0000 | (UInt32(bitPattern: e) & 0xFFFF)  // SCMP_ACT_ERRNO(e)
        case .log: return 0x7FFC_0000            // SCMP_ACT_LOG
        case .trap(let n):
            if n > 0, let s = standIns[n] { return 0x7FF0_0000 | UInt32(s) }
            return 0x0003_0000 | UInt32(n)       // SCMP_ACT_TRAP (n: the value the program returns)
        case .trace(let n): return 0x7FF0_0000 | UInt32(n)   // SCMP_ACT_TRACE(n)
        case .report: return 0x7FC0_0000         // SCMP_ACT_NOTIFY
        }
    }

    static func libseccompFailure(_ what: String, _ rc: Int32, file: String) -> PolicyError {
        PolicyError("libseccomp: \(what) failed: \(errnoText(-rc))", file: file)
    }

    /// One libseccomp context per architecture (so numbers can be added exactly, without
    /// libseccomp's cross-arch translation), merged into one filter and exported.
    static func build(_ plans: [ArchPlan], defaultAction: PolicyAction, badArchAction: PolicyAction, binaryTree: Bool,
                      standIns: [UInt16: UInt16] = [:], file: String) throws(PolicyError) -> [UInt8] {
        var contexts: [scmp_filter_ctx] = []
        defer { for c in contexts { seccomp_release(c) } }
        for plan in plans {
            guard let ctx = seccomp_init(scmpAction(defaultAction, standIns: standIns)) else {
                throw PolicyError("libseccomp: seccomp_init failed", file: file)
            }
            contexts.append(ctx)
            // A syscall from an architecture the filter does not know never runs: ia32 (`int 0x80`) on
            // x86_64 would otherwise bypass every rule written with x86_64 numbers.
            var rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, scmpAction(badArchAction))
            if rc != 0 { throw libseccompFailure("setting the bad-arch action", rc, file: file) }
            // The jail sets no_new_privs itself, at the right moment.
            rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
            if rc != 0 { throw libseccompFailure("clearing CTL_NNP", rc, file: file) }
            // 2 = binary tree of syscall numbers: O(log n) per syscall instead of a linear scan.
            rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, binaryTree ? 2 : 1)
            if rc != 0 { throw libseccompFailure("setting CTL_OPTIMIZE", rc, file: file) }
            if plan.arch.token != seccomp_arch_native() {
                rc = seccomp_arch_add(ctx, plan.arch.token)
                if rc != 0 { throw libseccompFailure("adding architecture \(plan.arch.name)", rc, file: file) }
                rc = seccomp_arch_remove(ctx, seccomp_arch_native())
                if rc != 0 { throw libseccompFailure("removing the native architecture", rc, file: file) }
            }
            // libseccomp translates every rule's number from the *native* numbering to the filter's
            // arch by name, even for the "exact" API; so a foreign arch gets the native number of
            // the same name (a negative pseudo-number when the native arch lacks the call).
            let native = seccomp_arch_native()
            for (archNumber, name, action, terms) in plan.rules {
                var nr = archNumber
                if plan.arch.token != native {
                    let n = seccomp_syscall_resolve_name_arch(native, name)
                    if n == -1 {
                        var error = PolicyError("cannot filter '\(name)' on \(plan.arch.name) from \(SeccompArch.native.name): \(Self.libseccompVersion) translates another architecture's rules by name and has none for it; compile the policy on \(plan.arch.name) itself", file: file)
                        error.needsTargetCompile = true
                        throw error
                    }
                    nr = Int(n)
                }
                for conj in terms {
                    var args = conj.map { l -> scmp_arg_cmp in
                        let op: scmp_compare
                        switch l.op {
                        case .eq: op = SCMP_CMP_EQ
                        case .ne: op = SCMP_CMP_NE
                        case .lt: op = SCMP_CMP_LT
                        case .le: op = SCMP_CMP_LE
                        case .gt: op = SCMP_CMP_GT
                        case .ge: op = SCMP_CMP_GE
                        case .maskedEq: op = SCMP_CMP_MASKED_EQ
                        }
                        return scmp_arg_cmp(arg: UInt32(l.arg), op: op, datum_a: l.a, datum_b: l.b)
                    }
                    let rc = args.withUnsafeMutableBufferPointer { buf in
                        seccomp_rule_add_exact_array(ctx, scmpAction(action, standIns: standIns), Int32(nr), UInt32(buf.count), buf.baseAddress)
                    }
                    if rc != 0 {
                        let loc = conj.first?.location
                        var msg = "libseccomp rejected a rule for '\(name)' on \(plan.arch.name): \(errnoText(-rc))"
                        // i386 reaches the socket and SysV IPC calls through socketcall(2)/ipc(2) too, whose arguments
                        // are in memory: libseccomp filters both forms, so it refuses conditions on them there.
                        let pseudo = seccomp_syscall_resolve_name_arch(plan.arch.token, name)
                        if !conj.isEmpty && pseudo <= -100 && pseudo > -300 {
                            let multiplexer = pseudo > -200 ? "socketcall" : "ipc"
                            msg = "conditions on '\(name)' cannot be filtered on \(plan.arch.name): the call also goes through \(multiplexer)(2), whose arguments are in memory (write `\(name) ON { x86_64, aarch64, arm } { ... }`, and `\(name) ON i386` without a condition)"
                        }
                        if let loc, loc.line > 0 { throw PolicyError(msg, at: loc) }
                        throw PolicyError(msg, file: file)
                    }
                }
            }
        }
        let main = contexts[0]
        for i in 1..<max(contexts.count, 1) where i < contexts.count {
            let rc = seccomp_merge(main, contexts[i])
            if rc != 0 { throw libseccompFailure("merging the \(plans[i].arch.name) filter", rc, file: file) }
            contexts[i] = main  // merged: released with main
        }
        contexts = [main]
        return try export(main, file: file)
    }

    /// The program with every `ret #(SECCOMP_RET_TRACE | standIn)` returning SECCOMP_RET_TRAP | n instead.
    static func replaceReturns(_ program: [UInt8], _ standIns: [UInt16: UInt16]) -> [UInt8] {
        var trapFor: [UInt32: UInt32] = [:]
        for (n, s) in standIns { trapFor[0x7FF0_0000 | UInt32(s)] = 0x0003_0000 | UInt32(n) }
        var out = program
        for offset in stride(from: 0, to: out.count - 7, by: 8) {
            let code = UInt16(out[offset]) | UInt16(out[offset + 1]) << 8
            guard code == 0x06 else { continue }   // BPF_RET | BPF_K
            var k: UInt32 = 0
            for b in 0..<4 { k |= UInt32(out[offset + 4 + b]) << UInt32(8 * b) }
            guard let trap = trapFor[k] else { continue }
            for b in 0..<4 { out[offset + 4 + b] = UInt8(truncatingIfNeeded: trap >> UInt32(8 * b)) }
        }
        return out
    }

    static func export(_ ctx: scmp_filter_ctx, file: String) throws(PolicyError) -> [UInt8] {
        // memfd_create is a GNU extension Swift's Glibc module hides; 1 = MFD_CLOEXEC.
        let fd = Int32(truncatingIfNeeded: "pit-seccomp-bpf".withCString { name in
            pit_syscall6(Int(SYS_memfd_create), Int(bitPattern: name), 1, 0, 0, 0, 0)
        })
        if fd < 0 { throw PolicyError("memfd_create failed: \(errnoText(errno))", file: file) }
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        if rc != 0 { throw libseccompFailure("seccomp_export_bpf", rc, file: file) }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw PolicyError("reading the exported filter failed: \(errnoText(errno))", file: file)
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw PolicyError("reading the exported filter failed", file: file) }
            off += n
        }
        return bytes
    }
}
