import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PitPolicy
import CSeccomp

@Suite struct ResolveTests {
    func number(_ name: String, _ arch: SeccompArch) -> Int? {
        if case .success(.syscall(_, let n)) = SyscallNames.resolve(name, arch: arch) { return n }
        return nil
    }

    /// A single name is looked up in libseccomp directly (no table built on a warm launch): it must answer what
    /// the table read by number answers, for every name of every architecture.
    @Test func test_directLookUpAgreesWithTheTableEverywhere() {
        for arch in SeccompArch.nameArches {
            let table = SyscallNames.buildTable(arch)
            #expect(table.byName.count > 300, "\(arch.name): \(table.byName.count) names")
            for (name, nr) in table.byName {
                #expect(SyscallNames.libseccompNumber(name, arch) == nr, "\(arch.name) \(name)")
            }
        }
    }

    @Test func test_newfstatIsFstatOnEveryArch() {
        #expect(number("newfstat", .x86_64) == 5)
        #expect(number("newfstat", .aarch64) == 80)
        #expect(number("newfstat", .i386) == 108)
        #expect(number("newfstat", .arm) == 108)
    }

    @Test(arguments: [
        // (spelling, arch, libseccomp name, number)
        ("newstat", "x86_64", "stat", 4), ("newlstat", "i386", "lstat", 107), ("newuname", "aarch64", "uname", 160),
        ("umount", "x86_64", "umount2", 166), ("umount", "aarch64", "umount2", 39), ("umount", "i386", "umount2", 52) /* kafel: sys_umount is umount2 */, ("oldumount", "i386", "umount", 22),
        ("llseek", "arm", "_llseek", 140), ("_llseek", "x86_64", "lseek", 8), ("llseek", "aarch64", "lseek", 62),
        ("fstatat64", "x86_64", "newfstatat", 262), ("newfstatat", "arm", "fstatat64", 327), ("newfstatat", "i386", "fstatat64", 300),
        ("_newselect", "x86_64", "select", 23), ("select", "arm", "_newselect", 142), ("select", "i386", "_newselect", 142) /* kafel: sys_select */, ("old_select", "i386", "select", 82),
        ("pread", "x86_64", "pread64", 17), ("pwrite", "aarch64", "pwrite64", 68), ("sysctl", "i386", "_sysctl", 149),
        ("sendfile64", "x86_64", "sendfile", 40), ("sendfile64", "arm", "sendfile64", 239),
        ("fadvise64_64", "x86_64", "fadvise64", 221), ("fadvise64_64", "arm", "arm_fadvise64_64", 270),
        ("fadvise64", "arm", "arm_fadvise64_64", 270), ("arm_fadvise64_64", "aarch64", "fadvise64", 223),
        ("sigreturn", "x86_64", "rt_sigreturn", 15), ("sigreturn", "aarch64", "rt_sigreturn", 139), ("sigreturn", "arm", "sigreturn", 119),
        ("sync_file_range", "arm", "arm_sync_file_range", 341),
        ("socket", "i386", "socket", 359), ("clone3", "arm", "clone3", 435), ("set_tls", "arm", "set_tls", 0xF0005),
    ])
    func test_aliasResolvesPerArch(_ spelling: String, _ arch: String, _ name: String, _ nr: Int) {
        let a = SeccompArch(name: arch)!
        #expect(SyscallNames.resolve(spelling, arch: a) == .success(.syscall(name: name, number: nr)))
    }

    @Test func test_archSpecificNameIsSkippedWhereMissing() {
        #expect(SyscallNames.resolve("open", arch: .aarch64) == .success(.absent))
        #expect(SyscallNames.resolve("arch_prctl", arch: .arm) == .success(.absent))
        #expect(SyscallNames.resolve("mmap2", arch: .x86_64) == .success(.absent))
        #expect(number("open", .x86_64) == 2)
    }

    @Test func test_nameMissingOnTargetAndNotListedIsAnError() {
        #expect(SyscallNames.resolve("idle", arch: .x86_64) == .failure(.notOnArch))
        #expect(SyscallNames.resolve("idle", arch: .i386) == .success(.syscall(name: "idle", number: 112)))
    }

    @Test func test_unknownNameSuggestsTheClosest() {
        #expect(SyscallNames.resolve("reed", arch: .x86_64) == .failure(.unknown(suggestion: "read")))
        #expect(SyscallNames.resolve("exit_grup", arch: .x86_64) == .failure(.unknown(suggestion: "exit_group")))
        #expect(SyscallNames.resolve("zzzzzzzzzz", arch: .x86_64) == .failure(.unknown(suggestion: nil)))
    }

    @Test func test_openOnAarch64IsSkippedAndReported() throws {
        let p = try compile("POLICY a { ALLOW { open, openat, exit_group } } USE a", arch: .aarch64)
        #expect(p.skippedSyscalls == ["open"])
        #expect(p.allowedSyscalls["openat"] == 56)
        #expect(p.allowedSyscalls["open"] == nil)
        #expect(!p.allows("open"))
        #expect(p.allows("openat"))
    }

    @Test func test_archParsesKernelAndDebianSpellings() {
        #expect(SeccompArch(name: "amd64") == .x86_64)
        #expect(SeccompArch(name: "arm64") == .aarch64)
        #expect(SeccompArch(name: "i686") == .i386)
        #expect(SeccompArch(name: "armhf") == .arm)
        #expect(SeccompArch(name: "mips") == nil)
        #expect(SeccompArch.native == .x86_64)
        #expect(SeccompArch.native.token == seccomp_arch_native(), "the compile-time choice is libseccomp's")
        #expect(SeccompArch.aarch64.auditValue == 0xC000_00B7)
        #expect(SeccompArch.x32.auditValue == SeccompArch.x86_64.auditValue)
    }

    @Test func test_syscallNameByNumber() throws {
        let p = try compile("POLICY a { ALLOW { read } } USE a")
        #expect(p.syscallName(number: 0) == "read")
        #expect(p.syscallName(number: 5) == "fstat")
        #expect(p.syscallName(number: 100_000) == nil)
    }
}

@Suite struct ForeignArchTests {
    @Test func test_aarch64FilterAllowsListedNumbersAndKillsOthers() throws {
        let p = try compile("POLICY a { ALLOW { newfstat, read, open, exit_group }, ERRNO(1) { write(fd) { fd == 2 } } } USE a", arch: .aarch64)
        #expect(p.arch == .aarch64)
        #expect(try p.evaluate(nr: 80) == .allow)      // fstat
        #expect(try p.evaluate(nr: 63) == .allow)      // read
        #expect(try p.evaluate(nr: 56) == .killProcess) // openat: not listed
        #expect(try p.evaluate(nr: 64, args: [2]) == .errno(1))
        #expect(try p.evaluate(nr: 64, args: [1]) == .killProcess)
        #expect(try p.evaluate(nr: 435) == .errno(ENOSYS)) // clone3
        // The same numbers presented as x86_64 hit the bad-arch action.
        #expect(try p.evaluate(nr: 80, arch: .x86_64) == .killProcess)
    }

    @Test func test_armFilterUsesArmNumbersAnd32BitArguments() throws {
        let p = try compile("""
            POLICY a { ALLOW { _llseek, set_tls, mmap2, fadvise64, exit_group, kill(pid, sig) { sig == 0 } } }
            USE a DEFAULT ERRNO(1)
            """, arch: .arm)
        #expect(try p.evaluate(nr: 140) == .allow)
        #expect(try p.evaluate(nr: 0xF0005) == .allow)
        #expect(try p.evaluate(nr: 192) == .allow)
        #expect(try p.evaluate(nr: 270) == .allow)
        #expect(try p.evaluate(nr: 37, args: [5, 0]) == .allow)
        #expect(try p.evaluate(nr: 37, args: [5, 9]) == .errno(1))
        #expect(try p.evaluate(nr: 3) == .errno(1))
        #expect(try p.evaluate(nr: 140, arch: .i386) == .killProcess)
    }

    @Test(arguments: [SeccompArch.arm, .i386])
    func test_constantsBeyond32BitsAreDecidedOn32BitArches(_ arch: SeccompArch) throws {
        let p = try compile("""
            POLICY p { ALLOW {
              getppid(a) { a == 0x100000005 }, getpid(a) { a >= 0x100000000 }, gettid(a) { a & 0x100000004 },
              getuid(a) { a != 0x100000005 }, getgid(a) { a < 0x100000000 && a != 3 }
            } } USE p DEFAULT ERRNO(1)
            """, arch: arch)
        #expect(try p.evaluate("getppid", args: [5]) == .errno(1))
        #expect(try p.evaluate("getpid", args: [0]) == .errno(1))
        #expect(try p.evaluate("gettid", args: [4]) == .allow)
        #expect(try p.evaluate("gettid", args: [0]) == .errno(1))
        #expect(try p.evaluate("getuid", args: [5]) == .allow)
        #expect(try p.evaluate("getgid", args: [0xFFFF_FFFF]) == .allow)
        #expect(try p.evaluate("getgid", args: [3]) == .errno(1))
        #expect(!p.allows("getppid"))
    }

    @Test func test_i386SocketIsAllowedDirectlyAndThroughSocketcall() throws {
        let p = try compile("POLICY a { ALLOW { socket } } USE a", arch: .i386)
        #expect(try p.evaluate(nr: 359) == .allow)
        #expect(try p.evaluate(nr: 102, args: [1]) == .allow)   // socketcall(SYS_SOCKET)
        #expect(try p.evaluate(nr: 102, args: [2]) == .killProcess)  // socketcall(SYS_BIND)
    }

    @Test func test_i386CallsOnlyReachableThroughSocketcallAreFiltered() throws {
        let p = try compile("POLICY a { ALLOW { accept, recv } } USE a", arch: .i386)
        #expect(try p.evaluate(nr: 102, args: [5]) == .allow)    // socketcall(SYS_ACCEPT)
        #expect(try p.evaluate(nr: 102, args: [10]) == .allow)   // socketcall(SYS_RECV)
        #expect(try p.evaluate(nr: 102, args: [1]) == .killProcess)
        #expect(p.allows("accept"))
        #expect(try p.evaluate(nr: 364) == .killProcess)         // accept4 is not accept
    }

    @Test func test_declaredExtraArchIsAcceptedWithItsOwnNumbers() throws {
        let p = try compile("ARCH i386\nPOLICY a { ALLOW { getpid } } USE a", arch: .x86_64)
        #expect(p.arches == [.x86_64, .i386])
        #expect(try p.evaluate(nr: 39) == .allow)
        #expect(try p.evaluate(nr: 20, arch: .i386) == .allow)
        #expect(try p.evaluate(nr: 39, arch: .i386) == .killProcess)  // 39 is mkdir on i386
        #expect(try p.evaluate(nr: 20, arch: .aarch64) == .killProcess)
    }

    @Test func test_x32NumbersAreKilledUnlessDeclared() throws {
        let p = try compile("POLICY a { ALLOW { getpid } } USE a DEFAULT ALLOW", arch: .x86_64)
        #expect(try p.evaluate(nr: 39 | 0x4000_0000) == .killProcess)
        let q = try compile("ARCH x32\nPOLICY a { ALLOW { getpid } } USE a", arch: .x86_64)
        #expect(try q.evaluate(nr: 39 | 0x4000_0000) == .allow)
        #expect(try q.evaluate(nr: 39) == .allow)
        #expect(try q.evaluate(nr: 102 | 0x4000_0000) == .killProcess)
    }

    @Test func test_badArchitectureCanBeReportedInsteadOfKilledByTheFilter() throws {
        // Reported only where the filter has a listener anyway (here for uname): not for `unreported` below.
        let ast = try PolicyCompiler.parse(PolicySource(text: "POLICY a { ALLOW { getpid } REPORT { uname } } USE a DEFAULT ERRNO(1)", file: "<test>"))
        let p = try PolicyCompiler.compile(ast, arch: .x86_64, reportBadArch: true)
        #expect(try p.evaluate(nr: 39) == .allow)
        #expect(try p.evaluate(nr: 20, arch: .i386) == .report)
        #expect(try p.evaluate(nr: 39 | 0x4000_0000) == .report)               // x32
        #expect(try p.evaluate(nr: 1) == .errno(1))
        #expect(p.needsListener)
        #expect(!p.killsInKernel)
        #expect(p.rejects(auditArch: SeccompArch.i386.auditValue, nr: 20))
        #expect(p.rejects(auditArch: SeccompArch.x86_64.auditValue, nr: 39 | 0x4000_0000))
        #expect(!p.rejects(auditArch: SeccompArch.x86_64.auditValue, nr: 39))
        let killing = try PolicyCompiler.compile(ast, arch: .x86_64)
        #expect(try killing.evaluate(nr: 20, arch: .i386) == .killProcess)
        #expect(killing.killsInKernel)
        let unreported = try PolicyCompiler.compile(PolicyCompiler.parse(PolicySource(text: "POLICY a { ALLOW { getpid } } USE a DEFAULT ERRNO(1)", file: "<test>")),
                                                    arch: .x86_64, reportBadArch: true)
        #expect(!unreported.needsListener)
        #expect(try unreported.evaluate(nr: 20, arch: .i386) == .killProcess)
        #expect(try compile("POLICY a { KILL_THREAD { getuid } } USE a DEFAULT ALLOW").killsInKernel)
        let declared = try compile("ARCH i386\nPOLICY a { ALLOW { getpid } } USE a", arch: .x86_64)
        #expect(!declared.rejects(auditArch: SeccompArch.i386.auditValue, nr: 20))
    }

    @Test func test_defaultKillIsKillProcess() throws {
        let p = try compile("POLICY a { KILL { getuid } } USE a DEFAULT ALLOW")
        #expect(try p.evaluate("getuid") == .killProcess)
        let q = try compile("POLICY a { ALLOW { read } } USE a")
        #expect(q.defaultAction == .killProcess)
        #expect(try q.evaluate("write") == .killProcess)
        let r = try compile("POLICY a { KILL_THREAD { getuid } } USE a DEFAULT ALLOW")
        #expect(try r.evaluate("getuid") == .killThread)
    }

    @Test func test_everyActionIsEncoded() throws {
        let p = try compile("""
            POLICY a { ALLOW { read }, KILL_PROCESS { write }, KILL_THREAD { open }, ERRNO(4094) { close },
                       LOG { stat }, TRAP { fstat }, REPORT { lstat } }
            USE a DEFAULT ERRNO(1)
            """)
        #expect(try p.evaluate("read") == .allow)
        #expect(try p.evaluate("write") == .killProcess)
        #expect(try p.evaluate("open") == .killThread)
        #expect(try p.evaluate("close") == .errno(4094))
        #expect(try p.evaluate("stat") == .log)
        #expect(try p.evaluate("fstat") == .trap(0))
        #expect(try p.evaluate("lstat") == .report)
        #expect(try p.evaluate("getpid") == .errno(1))
        #expect(p.needsListener)
    }

    @Test func test_syscallByNumberIsUsedAsIs() throws {
        let p = try compile("POLICY a { ALLOW { SYSCALL[39], SYSCALL[0x6e] } } USE a")
        #expect(try p.evaluate(nr: 39) == .allow)
        #expect(try p.evaluate(nr: 110) == .allow)
        #expect(p.allowedSyscalls["getpid"] == 39)
    }

    @Test func test_summaryFieldsDescribeThePolicy() throws {
        let p = try compile("POLICY a { ALLOW { read, write(fd) { fd == 1 } }, ERRNO(1) { write } } USE a")
        #expect(p.allowedSyscalls == ["read": 0, "write": 1])
        #expect(p.allows("read"))
        #expect(p.allows("write"))
        #expect(!p.allows("open"))
        #expect(!p.allows("nonsense"))
        let w = try #require(p.syscalls.first { $0.name == "write" })
        #expect(w.actions == [.allow, .errno(1)])
        #expect(w.conditional)
        #expect(p.instructionCount == p.program.count / 8)
        #expect(p.instructionCount > 5)
        let c3 = try #require(p.syscalls.first { $0.name == "clone3" })
        #expect(c3.implicit)
    }
}
