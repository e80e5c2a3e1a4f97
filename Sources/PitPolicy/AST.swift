/// What a matching rule does. Mirrors the seccomp return actions Pit uses.
public enum PolicyAction: Equatable, Hashable, Sendable, CustomStringConvertible {
    case allow
    /// Pit's `KILL` (and `KILL_PROCESS`). kafel's `KILL` kills only the calling thread; Pit kills
    /// the whole process, because a multi-threaded daemon (smbd, a Java service) that loses one
    /// thread keeps running half-dead — a confusing state for a honeypot to be in.
    case killProcess
    case killThread
    case errno(Int32)
    case log
    /// SECCOMP_RET_TRAP: SIGSYS, with the value in the signal's si_errno (kafel's TRAP(n)).
    case trap(UInt16)
    /// SECCOMP_RET_TRACE: a ptrace tracer is told, with the value (kafel's TRACE(n)). Without a tracer (Pit runs
    /// none, nor does NsJail) the kernel fails the call with ENOSYS.
    case trace(UInt16)
    /// Pit's own action: the supervisor is told through a seccomp user-notification listener
    /// (SCMP_ACT_NOTIFY); the filter then needs SECCOMP_FILTER_FLAG_NEW_LISTENER.
    case report

    public var description: String {
        switch self {
        case .allow: return "ALLOW"
        case .killProcess: return "KILL_PROCESS"
        case .killThread: return "KILL_THREAD"
        case .errno(let e): return "ERRNO(\(e))"
        case .log: return "LOG"
        case .trap(let n): return n == 0 ? "TRAP" : "TRAP(\(n))"
        case .trace(let n): return "TRACE(\(n))"
        case .report: return "REPORT"
        }
    }
}

/// A syscall as written: a name (resolved per architecture later) or `SYSCALL[nr]`.
public enum SyscallRef: Sendable, Equatable, Hashable, CustomStringConvertible {
    case name(String)
    case number(Int)

    public var description: String {
        switch self {
        case .name(let n): return n
        case .number(let n): return "SYSCALL[\(n)]"
        }
    }
}

public enum CompareOp: String, Sendable, Equatable, Hashable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

    /// The operator that holds exactly when this one does not.
    var negated: CompareOp {
        switch self {
        case .eq: return .ne
        case .ne: return .eq
        case .lt: return .ge
        case .le: return .gt
        case .gt: return .le
        case .ge: return .lt
        }
    }

    /// `c op a` rewritten as `a op' c`.
    var mirrored: CompareOp {
        switch self {
        case .eq, .ne: return self
        case .lt: return .gt
        case .le: return .ge
        case .gt: return .lt
        case .ge: return .le
        }
    }
}

/// A typed argument condition: arguments are always compared with constants, because that is
/// all seccomp (and libseccomp) can do.
public indirect enum Condition: Sendable, Equatable {
    /// `(arg & mask) op value`; mask is nil for a plain comparison.
    case compare(arg: Int, mask: UInt64?, op: CompareOp, value: UInt64, location: SourceLocation)
    /// Bare `arg & mask`: true when any bit of mask is set in the argument.
    case anyBit(arg: Int, mask: UInt64, location: SourceLocation)
    case constant(Bool)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
}

public struct SyscallRule: Sendable {
    public var syscall: SyscallRef
    public var location: SourceLocation
    /// The names written in parentheses; they bind to arg0...arg5 in order.
    public var parameters: [String]
    /// nil means unconditional.
    public var condition: Condition?
    /// kafel's built-in argument names the condition uses (`read { fd == 0 }` without declaring
    /// `read(fd, ...)`): the condition refers to the i-th as argument `builtinBase + i`, resolved per
    /// architecture when compiling, because a name's position can differ (clone's tls and child_tidptr
    /// are swapped between x86_64 and aarch64).
    public var builtinArgs: [String] = []
    public static let builtinBase = 16
    /// kafel's `ON x86_64` / `ON { arm, aarch64 }`: the architectures (Pit's names, or kafel's for
    /// those Pit does not build for) the rule applies to; nil for every architecture.
    public var onArches: [String]? = nil
}

public struct ActionBlock: Sendable {
    public var action: PolicyAction
    public var location: SourceLocation
    public var rules: [SyscallRule]
}

public enum PolicyItem: Sendable {
    /// `USE other` inside a policy body: other's rules are inserted at this point.
    case use(name: String, location: SourceLocation)
    case block(ActionBlock)
}

public struct PolicyDecl: Sendable {
    public var name: String
    public var location: SourceLocation
    public var items: [PolicyItem]
}

public struct PolicyReference: Sendable, Equatable {
    public var name: String
    public var location: SourceLocation
}

/// The top-level `USE a, b DEFAULT ACTION` statement.
public struct UseStatement: Sendable {
    public var policies: [PolicyReference]
    /// KILL (i.e. KILL_PROCESS in Pit) when the policy omits DEFAULT.
    public var defaultAction: PolicyAction
    public var location: SourceLocation
}

/// Pit extension: `ARCH x86_64, i386` declares the extra architectures a filter accepts.
public struct ArchDecl: Sendable {
    public var name: String
    public var location: SourceLocation
}

public struct PolicyAST: Sendable {
    public var file: String
    public var policies: [PolicyDecl]
    public var use: UseStatement
    public var arches: [ArchDecl]
    /// The source after #include expansion (what the policy hash covers).
    public var expandedText: String

    public func policy(named name: String) -> PolicyDecl? {
        policies.first { $0.name == name }
    }
}
