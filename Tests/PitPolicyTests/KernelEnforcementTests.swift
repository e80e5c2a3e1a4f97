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

/// Filters loaded into real forked children on the running kernel (x86_64 only).
/// Serialized: each test forks, and fewer threads around fork is kinder to the child.
@Suite(.serialized, .enabled(if: SeccompArch.native == .x86_64, "x86_64 syscall numbers"))
struct KernelEnforcementTests {
    // x86_64 numbers
    let getppid = 110, getuid = 102, dup = 32, ioctl = 16, clone3 = 435, getpid = 39

    /// exit_group must be allowed or the child cannot even _exit.
    func policy(_ body: String, default def: String = "KILL") throws -> CompiledPolicy {
        try compile("POLICY p { \(body), ALLOW { exit_group } } USE p DEFAULT \(def)")
    }

    @Test func test_allowedSyscallWorks() throws {
        let p = try policy("ALLOW { getppid }")
        #expect(runFiltered(p) { raw(getppid) } == .exited(Probe.ok))
    }

    @Test func test_deniedSyscallIsKilledWithSIGSYS() throws {
        let p = try policy("ALLOW { getppid }")
        #expect(runFiltered(p) { raw(getuid) } == .signaled(SIGSYSValue))
        // Control: without the filter the same call succeeds.
        #expect(runFiltered(nil) { raw(getuid) } == .exited(Probe.ok))
    }

    @Test func test_errnoActionAnswersThatErrno() throws {
        let p = try policy("ERRNO(13) { getuid }")
        #expect(runFiltered(p) { raw(getuid) } == .exited(Probe.errnoBase + 13))
    }

    @Test func test_killThreadActionAlsoEndsSingleThreadedChildWithSIGSYS() throws {
        let p = try policy("KILL_THREAD { getuid }", default: "ALLOW")
        #expect(runFiltered(p) { raw(getuid) } == .signaled(SIGSYSValue))
    }

    @Test func test_logActionLetsTheCallThrough() throws {
        let p = try policy("LOG { getuid }")
        #expect(runFiltered(p) { raw(getuid) } == .exited(Probe.ok))
    }

    @Test func test_argumentFilterDistinguishesValues() throws {
        let p = try policy("ALLOW { dup(fd) { fd == 0 } }", default: "ERRNO(77)")
        #expect(runFiltered(p) { raw(dup, 0) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(dup, 1) } == .exited(Probe.errnoBase + 77))
    }

    @Test func test_bareMaskIsTrueWhenAnyBitIsSet() throws {
        // getppid ignores its arguments, but seccomp sees them: a pure vehicle for conditions.
        let p = try policy("ALLOW { getppid(a) { a & 0x6 } }", default: "ERRNO(77)")
        #expect(runFiltered(p) { raw(getppid, 2) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(getppid, 4) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(getppid, 1) } == .exited(Probe.errnoBase + 77))
        #expect(runFiltered(p) { raw(getppid, 8) } == .exited(Probe.errnoBase + 77))
    }

    @Test func test_firstMatchingRuleWins() throws {
        let p = try policy("ERRNO(5) { getppid(a) { a == 1 } }, ALLOW { getppid }")
        #expect(runFiltered(p) { raw(getppid, 1) } == .exited(Probe.errnoBase + 5))
        #expect(runFiltered(p) { raw(getppid, 2) } == .exited(Probe.ok))
    }

    @Test func test_ioctlRequestIsComparedOnItsLow32Bits() throws {
        // TIOCSTI with garbage in the upper half: the kernel would run TIOCSTI, so the filter must see it.
        let p = try policy("ERRNO(1) { ioctl(fd, req) { req == 0x5412 } }", default: "ALLOW")
        #expect(runFiltered(p) { raw(ioctl, -1, 0x1_0000_5412) } == .exited(Probe.errnoBase + 1))
        #expect(runFiltered(p) { raw(ioctl, -1, 0x5413) } == .exited(Probe.errnoBase + EBADF))
        let q = try policy("ALLOW { ioctl(fd, req) { req != 0x5412 } }", default: "ERRNO(1)")
        #expect(runFiltered(q) { raw(ioctl, -1, 0x7_0000_5412) } == .exited(Probe.errnoBase + 1))
        #expect(runFiltered(q) { raw(ioctl, -1, 0x5413) } == .exited(Probe.errnoBase + EBADF))
    }

    @Test func test_x32SyscallIsKilled() throws {
        let p = try policy("ALLOW { getpid }")
        #expect(runFiltered(p) { raw(getpid) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(getpid | 0x4000_0000) } == .signaled(SIGSYSValue))
    }

    @Test func test_ia32IntGateIsKilled() throws {
        let p = try policy("ALLOW { getpid }", default: "ALLOW")
        // Control: whether the kernel serves int 0x80 at all (ia32 emulation may be off).
        let control = runFiltered(nil) { pit_int80_syscall(20, 0, 0, 0) >= 0 ? 0 : -1 }
        let filtered = runFiltered(p) { pit_int80_syscall(20, 0, 0, 0) >= 0 ? 0 : -1 }
        // Even with DEFAULT ALLOW, an ia32 syscall hits the bad-arch action.
        #expect(filtered == .signaled(SIGSYSValue), "control without filter: \(control)")
    }

    @Test func test_clone3AnswersENOSYSUnlessAllowed() throws {
        let p = try policy("ALLOW { getpid }")
        #expect(runFiltered(p) { raw(clone3, 0, 0) } == .exited(Probe.errnoBase + ENOSYS))
        // Control: the kernel itself answers EINVAL for a zero-sized clone_args.
        #expect(runFiltered(nil) { raw(clone3, 0, 0) } == .exited(Probe.errnoBase + EINVAL))
        let allowed = try policy("ALLOW { clone3 }")
        #expect(runFiltered(allowed) { raw(clone3, 0, 0) } == .exited(Probe.errnoBase + EINVAL))
    }

    @Test func test_ioUringIsNotAllowedImplicitly() throws {
        let p = try policy("ALLOW { getpid }", default: "ERRNO(95)")
        #expect(runFiltered(p) { raw(425, 0, 0) } == .exited(Probe.errnoBase + 95))
    }

    @Test func test_reportLoadsWithANotificationListener() throws {
        let p = try policy("REPORT { getuid }, ALLOW { fcntl }")
        #expect(p.needsListener)
        #expect(runFiltered(p) { 0 } == .exited(Probe.ok))
        // The listener fd comes back from load(): the child checks it is a valid descriptor.
        let outcome = runFiltered(nil) {
            guard let fd = try? p.load(), fd >= 0 else { return -1 }
            return fcntl(fd, F_GETFD) >= 0 ? 0 : -1
        }
        #expect(outcome == .exited(Probe.ok))
    }

    @Test func test_loadWithoutListenerReturnsMinusOne() throws {
        let p = try policy("ALLOW { getpid }")
        #expect(!p.needsListener)
        let outcome = runFiltered(nil) { ((try? p.load()) ?? 0) == -1 ? 0 : -1 }
        #expect(outcome == .exited(Probe.ok))
    }

    @Test func test_articlePolicyRunsItsSyscallsAndKillsOthers() throws {
        let source = try PolicySource.read(path: articlePolicyPath)
        let p = try PolicyCompiler.compile(source, arch: .x86_64)
        #expect(runFiltered(p) { raw(getppid) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(61 /* wait4 */, -1, 0, 1 /* WNOHANG */) } == .exited(Probe.errnoBase + ECHILD))
        #expect(runFiltered(p) { raw(getuid) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(41 /* socket */, 2, 1, 0) } == .signaled(SIGSYSValue))
    }
}

@Suite struct ShippedPolicyTests {
    @Test(arguments: [SeccompArch.x86_64, .i386, .aarch64, .arm])
    func test_examplePolicyCompilesForEveryArch(_ arch: SeccompArch) throws {
        let p = try PolicyCompiler.compile(PolicySource.read(path: examplePolicyPath), arch: arch)
        #expect(p.needsListener)
        #expect(p.defaultAction == .killProcess)
        #expect(try p.evaluate("write", args: [1]) == .allow)
        #expect(try p.evaluate("write", args: [2]) == .allow)
        #expect(try p.evaluate("write", args: [3]) == .errno(1))
        #expect(try p.evaluate("openat", args: [0, 0, 0]) == .allow)
        #expect(try p.evaluate("openat", args: [0, 0, 2]) == .errno(13))
        #expect(try p.evaluate("ioctl", args: [0, 0x5412]) == .killProcess)
        #expect(try p.evaluate("ioctl", args: [0, 0x5413]) == .allow)
        #expect(try p.evaluate("clone", args: [0x1000_0011]) == .errno(1))
        #expect(try p.evaluate("clone", args: [0x11]) == .allow)
        #expect(try p.evaluate("execve") == .report)
        #expect(try p.evaluate("clone3") == .errno(ENOSYS))
        #expect(try p.evaluate("io_uring_setup") == .killProcess)
        #expect(try p.evaluate(nr: 439) == .allow)
    }

    @Test func test_articlePolicyCompilesForX86_64() throws {
        let p = try PolicyCompiler.compile(PolicySource.read(path: articlePolicyPath), arch: .x86_64)
        #expect(p.allowedSyscalls.count == 27)
        #expect(p.allowedSyscalls["fstat"] == 5)
        #expect(p.allowedSyscalls["stat"] == 4)
        #expect(p.defaultAction == .killProcess)
    }
}

let examplePolicyPath: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path + "/policies/example.policy"
}()

/// policies/ next to Tests/ in both the scratch package and the main repository.
let articlePolicyPath: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path + "/policies/article.policy"
}()
