// Cost of an allowed syscall (getppid) under no filter, a ~90-syscall policy compiled as a
// binary tree (SCMP_FLTATR_CTL_OPTIMIZE 2, Pit's default) and the same policy as a linear list.
// Each measurement runs in a forked child that loads the filter, then times a loop of raw
// getppid calls (clock_gettime is served by the vDSO, so it needs no syscall).
import PitPolicy
import CPitShim
#if canImport(Glibc)
import Glibc
#endif

let iterations = 2_000_000
let getppidNr = 110

func policyText() -> String {
    // ~90 common syscalls, getppid among them; the policy allows write/exit_group for the probe.
    var names: [String] = []
    for nr in 0..<300 where names.count < 88 {
        if let n = SyscallNames.name(number: nr, arch: .x86_64), !["getppid", "write", "exit_group"].contains(n) { names.append(n) }
    }
    names += ["getppid", "write", "exit_group"]
    return "POLICY bench { ALLOW { \(names.joined(separator: ", ")) } } USE bench DEFAULT KILL"
}

func measure(_ policy: CompiledPolicy?) -> Double {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { fatalError("pipe") }
    let pid = fork()
    if pid == 0 {
        if let policy { do { _ = try policy.load() } catch { _exit(3) } }
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        for _ in 0..<iterations { _ = pit_syscall6(getppidNr, 0, 0, 0, 0, 0, 0) }
        clock_gettime(CLOCK_MONOTONIC, &t1)
        var ns = Double(t1.tv_sec - t0.tv_sec) * 1e9 + Double(t1.tv_nsec - t0.tv_nsec)
        ns /= Double(iterations)
        _ = withUnsafeBytes(of: &ns) { Glibc.write(fds[1], $0.baseAddress, 8) }
        _exit(0)
    }
    close(fds[1])
    var ns = 0.0
    _ = withUnsafeMutableBytes(of: &ns) { read(fds[0], $0.baseAddress, 8) }
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status == 0 ? ns : .nan
}

let text = policyText()
do {
    let tree = try PolicyCompiler.compile(PolicySource(text: text, file: "<bench>"), arch: .x86_64, binaryTree: true)
    let linear = try PolicyCompiler.compile(PolicySource(text: text, file: "<bench>"), arch: .x86_64, binaryTree: false)
    let rows: [(String, CompiledPolicy?)] = [("no filter", nil), ("binary tree (optimize 2)", tree), ("linear (optimize 1)", linear)]
    print("getppid, \(iterations) calls per run, best of 5; policy allows \(tree.allowedSyscalls.count) syscalls")
    print("filter                     instructions   ns/call")
    for (name, p) in rows {
        let best = (0..<5).map { _ in measure(p) }.min() ?? .nan
        let insns = p.map { String($0.instructionCount) } ?? "-"
        let cell = String(Int((best * 10).rounded())) // tenths of ns, formatted below without Foundation
        let nsText = cell.count > 1 ? String(cell.dropLast()) + "." + String(cell.suffix(1)) : "0." + cell
        print(name.padding(27) + insns.padding(15) + nsText)
    }
    // Compile time of the same policy (parse, resolve, libseccomp generate + export), best of 20.
    var bestCompile = Int.max
    for _ in 0..<20 {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        _ = try PolicyCompiler.compile(PolicySource(text: text, file: "<bench>"), arch: .x86_64, binaryTree: true)
        clock_gettime(CLOCK_MONOTONIC, &end)
        bestCompile = min(bestCompile, (end.tv_sec - start.tv_sec) * 1_000_000 + (end.tv_nsec - start.tv_nsec) / 1000)
    }
    print("compile (binary tree), best of 20: \(bestCompile) us")
} catch {
    print(error.description)
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
