import Testing
@testable import PitPolicy
#if canImport(CPitShim)
import CPitShim
#else
import CPolicyShim
#endif
#if canImport(Glibc)
import Glibc
#endif

func compile(_ text: String, arch: SeccompArch = .x86_64, extra: [SeccompArch] = []) throws(PolicyError) -> CompiledPolicy {
    try PolicyCompiler.compile(PolicySource(text: text, file: "<test>"), arch: arch, extraArches: extra)
}

func parseError(_ text: String, file: String = "<test>") -> PolicyError? {
    do {
        _ = try PolicyCompiler.compile(PolicySource(text: text, file: file), arch: .x86_64)
        return nil
    } catch {
        return error
    }
}

/// How a forked child ended.
enum ChildOutcome: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    var description: String {
        switch self {
        case .exited(let c): return "exited(\(c))"
        case .signaled(let s): return "signaled(\(s))"
        }
    }
}

/// Result codes a probe child reports through its exit status.
enum Probe {
    static let ok: Int32 = 0
    static let loadFailed: Int32 = 3
    /// A syscall that failed exits with errnoBase + errno.
    static let errnoBase: Int32 = 100
}

/// Forks; the child loads `policy` (nil: no filter) and runs `body`, whose result (a raw syscall
/// return, -1 with errno on failure) becomes its exit status. The child does only
/// async-signal-safe things: the prebuilt program's seccomp(2), raw syscalls, _exit — the test
/// process is multi-threaded, so it must not allocate after fork.
func runFiltered(_ policy: CompiledPolicy?, _ body: () -> Int) -> ChildOutcome {
    let pid = fork()
    if pid == 0 {
        if let policy {
            do { _ = try policy.load() } catch { _exit(Probe.loadFailed) }
        }
        let r = body()
        if r < 0 { _exit(Probe.errnoBase + errno) }
        _exit(Probe.ok)
    }
    precondition(pid > 0, "fork failed")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
    return .signaled(status & 0x7f)
}

func raw(_ nr: Int, _ a0: Int = 0, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0) -> Int {
    pit_syscall6(nr, a0, a1, a2, a3, 0, 0)
}

let SIGSYSValue: Int32 = 31
