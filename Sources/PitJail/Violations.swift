import CPitShim
import Glibc
import PitProcess
import PitPolicy

/// A compiled policy as a jail uses it: denied syscalls are reported to Pit through seccomp user
/// notification (the filter's default action becomes REPORT), and Pit then applies the policy's own
/// default — kill the process, fail the syscall with an errno, or let it run and log it.
public struct JailPolicy: Sendable {
    public var compiled: CompiledPolicy
    /// What a reported syscall gets once Pit has recorded it: the DEFAULT the policy was written with
    /// (KILL, ERRNO(n), LOG), or killing the process for REPORT rules under a DEFAULT ALLOW.
    public var outcome: PolicyAction

    /// Compiles `source` with its DEFAULT turned into REPORT, unless the default already lets everything run.
    /// Why not leave KILL in the filter: the kernel's kill carries no arguments and its audit line is
    /// rate-limited; a notification names pid, syscall and all six arguments for every process of the jail.
    public static func compile(_ source: PolicySource, arch: SeccompArch = .native) throws(PolicyError) -> JailPolicy {
        try compile(source, fileKey: nil, arch: arch)
    }

    /// The policy in the file at `path`: from the cache by the file's identity when it is there (the file is
    /// then not even read), else read and compiled (or found by its text) like `compile(_:arch:)`.
    public static func compile(path: String, arch: SeccompArch = .native) throws(PolicyError) -> JailPolicy {
        let fileKey = PolicyCache.fileKey(path: path, arch: arch)
        if let fileKey, let cached = PolicyCache.load(fileKey, file: path, arch: arch) { return cached }
        return try compile(PolicySource.read(path: path), fileKey: fileKey, arch: arch)
    }

    static func compile(_ source: PolicySource, fileKey: String?, arch: SeccompArch) throws(PolicyError) -> JailPolicy {
        guard let key = PolicyCache.key(source, arch: arch) else { return try compileUncached(source, arch: arch) }
        // An entry by the file's identity only for a policy cached by its text: not one with #include.
        if let cached = PolicyCache.load(key, source: source, arch: arch) {
            PolicyCache.store(nil, fileKey: fileKey, cached)
            return cached
        }
        let policy = try compileUncached(source, arch: arch)
        PolicyCache.store(key, fileKey: fileKey, policy)
        return policy
    }

    static func compileUncached(_ source: PolicySource, arch: SeccompArch) throws(PolicyError) -> JailPolicy {
        var ast = try PolicyCompiler.parse(source)
        let written = ast.use.defaultAction
        if written != .allow && written != .report {
            ast.use.defaultAction = .report
        }
        // With a listener, a syscall through an architecture the filter does not accept is reported too, and
        // killed whatever the default: a kill by the filter itself would only be named in the kernel's
        // rate-limited log, without arguments (and `pit run` would have to read that log for every jail).
        let compiled = try PolicyCompiler.compile(ast, arch: arch, reportBadArch: true, refuseNamespaces: true)
        // REPORT rules, and a REPORT or ALLOW default, mean "report, then kill the process".
        let outcome: PolicyAction = (written == .report || written == .allow) ? .killProcess : written
        return JailPolicy(compiled: compiled, outcome: outcome)
    }

    /// What the filter does with a call the policy forbids, as a violation reports it.
    public var action: ViolationAction {
        switch outcome {
        case .errno: return .errno
        case .log, .allow: return .log
        default: return .kill
        }
    }

    /// The same, for messages (`kill`, `errno`, `log`).
    public var actionName: String { action.rawValue }
}

/// One syscall outside the policy, as Pit saw it: who made it and with what arguments.
public struct Violation: Sendable, Equatable {
    public var pid: Int32
    public var comm: String
    public var exe: String
    public var arch: String
    public var syscall: String
    public var nr: Int
    public var args: [UInt64]
    public var action: ViolationAction
    public var policyFile: String
    public var policyHash: String

    static func read(_ n: pit_notification, policy: JailPolicy, action: ViolationAction) -> Violation {
        let pid = Int32(bitPattern: n.pid)
        // On the listener's path: one open and read of a kernel attribute (readText's checks are for files a
        // person names).
        let comm = ((try? FileIO<SystemCallError>.read("/proc/\(pid)/comm", limit: 64)) ?? "?").filter { $0 != "\n" }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/\(pid)/exe", &buffer, 4095)
        let exe = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        let arch = SeccompArch.all.first { $0.auditValue == n.arch && ($0 != .x32 || Int(n.nr) & 0x4000_0000 != 0) }
        let archName = arch?.name ?? String(n.arch, radix: 16)
        let name = arch.flatMap { a in SyscallNames.name(number: Int(n.nr), arch: a) } ?? "SYSCALL[\(n.nr)]"
        let args = [n.args.0, n.args.1, n.args.2, n.args.3, n.args.4, n.args.5]
        return Violation(pid: pid, comm: comm, exe: exe, arch: archName, syscall: name, nr: Int(n.nr), args: args,
                         action: action, policyFile: policy.compiled.file, policyHash: policy.compiled.hash)
    }

    /// One line for stderr.
    public var summary: String {
        let hexArgs = args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
        // comm and exe are the jail's to choose (prctl PR_SET_NAME, any file name): escaped for the terminal.
        return "violation: \(syscall)(\(hexArgs)) [nr \(nr), \(arch)] by pid \(pid) (\(Printable.escaped(comm)), \(Printable.escaped(exe))): \(action.rawValue)"
    }
}
