import Testing
@testable import PitPolicy

/// kafel's forms beyond POLICY/USE: top-level rules, a standalone DEFAULT, ON guards, kafel's
/// keywords and syscall numbers.
@Suite struct KafelLanguageTests {
    /// NsJail's README form: rules at the top level and a DEFAULT line, no POLICY wrapper.
    @Test func test_topLevelRulesAndStandaloneDefault() throws {
        let p = try compile("""
            ALLOW { read, write, exit_group }
            ERRNO(1) { getuid }
            DEFAULT KILL
            """)
        #expect(try p.evaluate("read") == .allow)
        #expect(try p.evaluate("getuid") == .errno(1))
        #expect(try p.evaluate("getpid") == .killProcess)
        #expect(p.defaultAction == .killProcess)
    }

    @Test func test_topLevelRulesMixWithUsedPolicies() throws {
        let p = try compile("POLICY io { ALLOW { read } }\nERRNO(9) { write }\nUSE io\nDEFAULT ERRNO(1)")
        #expect(try p.evaluate("read") == .allow)
        #expect(try p.evaluate("write") == .errno(9))
        #expect(try p.evaluate("close") == .errno(1))
    }

    /// kafel's TRAP(n) and TRACE(n) with their values (libseccomp's TRAP has none: a TRACE value stands in for it and
    /// the exported returns are rewritten), next to TRACE values the stand-ins must not take.
    @Test func test_trapAndTraceCarryTheirValues() throws {
        let p = try compile("""
            TRAP(5) { read } TRAP(6) { pread64 } TRACE(0xffff) { write } TRACE(0xfffe) { close } TRAP(0) { getpid }
            TRAP { getppid } TRACE(0) { getuid } KILL { exit_group }
            DEFAULT TRAP(9)
            """)
        #expect(try p.evaluate("read") == .trap(5))
        #expect(try p.evaluate("pread64") == .trap(6))
        #expect(try p.evaluate("write") == .trace(0xffff))
        #expect(try p.evaluate("close") == .trace(0xfffe))
        #expect(try p.evaluate("getpid") == .trap(0))
        #expect(try p.evaluate("getppid") == .trap(0))
        #expect(try p.evaluate("getuid") == .trace(0))
        #expect(try p.evaluate("exit_group") == .killProcess)
        #expect(try p.evaluate("lseek") == .trap(9))
        #expect(p.defaultAction == .trap(9))
        #expect(parseError("TRAP(65536) { read }")?.message == "trap value 65536 out of range 0...65535")
        #expect(parseError("TRACE { read }")?.message == "expected '(', found '{'")
    }

    /// i386's socket calls also go through socketcall(2): a condition on their arguments is refused with the reason
    /// and what to write instead, at the rule (it was libseccomp's bare EINVAL).
    @Test func test_conditionOnAnI386SocketCallSaysWhy() throws {
        do {
            _ = try compile("ALLOW {\n  socket { family == 2 }\n} DEFAULT KILL", arch: .i386)
            Issue.record("compiled")
        } catch {
            #expect(error.message.hasPrefix("conditions on 'socket' cannot be filtered on i386: the call also goes through socketcall(2)"), "\(error.message)")
            #expect(error.description.contains(":2:"), "\(error.description)")
        }
        let p = try compile("ALLOW { socket ON { x86_64, aarch64, arm } { family == 2 }, socket ON i386 } DEFAULT KILL", arch: .i386)
        #expect(try p.evaluate(nr: 359, args: [10]) == .allow)
    }

    @Test func test_defaultIsKillWhenOmitted() throws {
        let p = try compile("ALLOW { read }")
        #expect(try p.evaluate("write") == .killProcess)
    }

    @Test func test_denyIsKillAndUserNotifIsReport() throws {
        let p = try compile("DENY { write } USER_NOTIF { getuid } TRAP(0) { getgid } DEFAULT ALLOW")
        #expect(try p.evaluate("write") == .killProcess)
        #expect(try p.evaluate("getuid") == .report)
        #expect(try p.evaluate("getgid") == .trap(0))
    }

    @Test func test_onGuardLimitsARuleToItsArchitectures() throws {
        let source = "ALLOW { exit_group, arm_fadvise64_64 ON arm, io_uring_setup ON { x86_64, aarch64 } } DEFAULT ERRNO(1)"
        let x = try compile(source, arch: .x86_64)
        #expect(try x.evaluate("io_uring_setup") == .allow)
        let a = try compile(source, arch: .arm)
        #expect(try a.evaluate("arm_fadvise64_64") == .allow)
        #expect(try a.evaluate("io_uring_setup") == .errno(1))
        // A guard for an architecture Pit does not build for never applies.
        let m = try compile("ALLOW { read ON mips64 } DEFAULT ERRNO(1)")
        #expect(try m.evaluate("read") == .errno(1))
    }

    @Test func test_kafelKeywordsAreRefusedAsNames() {
        for k in ["DENY", "TRACE", "USER_NOTIF", "ON", "define"] {
            #expect(parseError("POLICY \(k) {} USE \(k)") != nil, "\(k)")
            #expect(parseError("ALLOW { \(k) }") != nil, "\(k)")
        }
    }

    @Test func test_definedNameIsASyscallNumber() throws {
        let p = try compile("#define SYS_GETUID 102\nERRNO(3) { SYS_GETUID } DEFAULT ALLOW")
        #expect(try p.evaluate("getuid") == .errno(3))
    }

    @Test func test_hugePolicyIsAnErrorNotAHeapCorruption() {
        let text = "ALLOW { exit" + (0..<5000).map { ", SYSCALL[\($0 * 2)]" }.joined() + " }"
        #expect(parseError(text)?.message.contains("more than the kernel's limit of 4096") == true)
    }

    /// `&` binds tighter than `|`, as in C and kafel (it was left to right: `1 | 2 & 0` was 0).
    @Test func test_andBindsTighterThanOr() throws {
        let p = try compile("ERRNO(1 | 2 & 0) { getuid } DEFAULT ALLOW")
        #expect(try p.evaluate("getuid") == .errno(1))
        let q = try compile("ALLOW { getppid(a) { a == 1 | 6 & 2 } } DEFAULT ERRNO(9)")
        #expect(try q.evaluate("getppid", args: [3]) == .allow)
    }

    /// `|` and several arguments compare bit by bit; the result agrees with the expression's meaning,
    /// high-half junk included (fd is an int: a 32-bit expression looks at the low word only).
    @Test func test_bitwiseExpressionsAgreeWithTheirMeaning() throws {
        let cases: [(String, ([UInt64]) -> Bool)] = [
            ("count | 8 | fd == 8", { x in (x[2] | 8 | x[0]) == 8 }),
            ("(fd | 3) == 7", { x in (x[0] & 0xFFFF_FFFF | 3) == 7 }),
            ("(fd | 0x100000000) == 0x100000005", { x in (x[0] | 0x1_0000_0000) == 0x1_0000_0005 }),
            ("buf | buf & count == buf", { _ in true }),
            ("(count & 6 | 1) != 3", { x in (x[2] & 6 | 1) != 3 }),
            ("fd & 4 | count & 1", { x in (x[0] & 0xFFFF_FFFF & 4 | x[2] & 1) != 0 }),
        ]
        let values: [UInt64] = [0, 1, 2, 3, 5, 7, 8, 9, 0x1_0000_0005, 0xFFFF_FFFF_0000_0003, .max]
        for (text, meaning) in cases {
            let p = try compile("ALLOW { read { \(text) } } DEFAULT ERRNO(1)")
            for fd in values {
                for count in values {
                    let args = [fd, 0x7000, count]
                    #expect(try p.evaluate("read", args: args) == (meaning(args) ? .allow : .errno(1)), "\(text) \(args)")
                }
            }
        }
    }

    @Test func test_conditionRelatingTwoArgumentsIsRefusedByName() {
        let e = parseError("ALLOW { read { (count | 2) & (fd | 3) == 2 } }")
        #expect(e?.message == "this condition relates the bits of several arguments (count, fd): seccomp filters built with libseccomp compare one argument at a time")
    }

    /// kafel's precedence: for one syscall the first rule in policy order (USE expanded in place) wins;
    /// a later rule only gets what no earlier one matched, and nothing after an unconditional rule.
    @Test func test_duplicateAndConflictingRulesFirstMatchWins() throws {
        let p = try compile("""
            POLICY early { KILL { read { fd == 0 } } }
            USE early
            ALLOW { read, write }
            ERRNO(5) { read, write { fd == 1 } }
            ALLOW { read }
            DEFAULT ERRNO(1)
            """)
        #expect(try p.evaluate("read", args: [0]) == .killProcess)
        #expect(try p.evaluate("read", args: [3]) == .allow)
        #expect(try p.evaluate("write", args: [1]) == .allow)
        let q = try compile("ERRNO(5) { write { fd == 1 } } ALLOW { write { fd < 3 } } KILL { write } DEFAULT ALLOW")
        #expect(try q.evaluate("write", args: [1]) == .errno(5))
        #expect(try q.evaluate("write", args: [2]) == .allow)
        #expect(try q.evaluate("write", args: [7]) == .killProcess)
    }

    /// With `refuseNamespaces` (pit run's default), a plain `ALLOW { clone }` still gets Pit's namespace rule.
    @Test func test_refuseNamespacesStillAppliesToTopLevelRules() throws {
        let ast = try PolicyCompiler.parse(PolicySource(text: "ALLOW { clone, exit_group } DEFAULT KILL", file: "<test>"))
        let p = try PolicyCompiler.compile(ast, arch: .x86_64, refuseNamespaces: true)
        #expect(try p.evaluate("clone", args: [0x11]) == .allow)
        #expect(try p.evaluate("clone", args: [0x1000_0000]) == .report)   // CLONE_NEWUSER
    }

    /// A jail's filter has a REPORT default (the supervisor applies the written one): Pit's own REPORT rule is then
    /// the default's action and no summary lists it, yet the supervisor must still know the syscall is refused
    /// (EPERM), not a violation of the policy (its written default, KILL here). Found by KafelDifferentialTests.
    @Test func test_refusedInEveryJailSurvivesAReportDefault() throws {
        var ast = try PolicyCompiler.parse(PolicySource(text: "ALLOW { unshare, clone, setns, ioctl } DEFAULT KILL", file: "<test>"))
        ast.use.defaultAction = .report
        let p = try PolicyCompiler.compile(ast, arch: .x86_64, reportBadArch: true, refuseNamespaces: true)
        let numbers = ["unshare", "clone", "setns", "ioctl"].compactMap { SyscallNames.libseccompNumber($0, .x86_64) }
        #expect(p.refusedInEveryJail == Set(numbers))
        #expect(try p.evaluate("unshare", args: [0x1000_0000]) == .report)
        #expect(try p.evaluate("unshare", args: [0x400]) == .allow)
    }

    /// kafel's `,` between conditions means `||` (lowest precedence, also inside parentheses), and `0b` numbers.
    @Test func test_commaAlternativesAndBinaryNumbers() throws {
        let p = try compile("ALLOW { write { fd == 0b1, fd == 2 && count == 0b11 }, read { (fd == 3, fd == 4) && count < 8 } } DEFAULT ERRNO(1)")
        #expect(try p.evaluate("write", args: [1, 0, 9]) == .allow)
        #expect(try p.evaluate("write", args: [2, 0, 3]) == .allow)
        #expect(try p.evaluate("write", args: [2, 0, 4]) == .errno(1))
        #expect(try p.evaluate("read", args: [4, 0, 7]) == .allow)
        #expect(try p.evaluate("read", args: [4, 0, 8]) == .errno(1))
        #expect(try p.evaluate("read", args: [5, 0, 7]) == .errno(1))
        #expect(parseError("ALLOW { write { fd == 0b } }")?.message.contains("binary digits") == true)
        #expect(parseError("ALLOW { write { fd == 0b12 } }")?.message.contains("binary number") == true)
    }

    /// kafel names prctl's arguments option, arg2...arg5: `prctl { arg3 == 1 }` compares its third argument (index 2),
    /// not Pit's positional arg3. Other syscalls keep the positional names. Found by KafelDifferentialTests.
    @Test func test_kafelsArgNamesWinOverPositionalArgN() throws {
        let p = try compile("ALLOW { prctl { arg3 == 7 }, write { arg2 == 7 } } DEFAULT ERRNO(1)")
        #expect(try p.evaluate("prctl", args: [0, 0, 7, 0]) == .allow)
        #expect(try p.evaluate("prctl", args: [0, 0, 0, 7]) == .errno(1))
        #expect(try p.evaluate("write", args: [0, 0, 7]) == .allow)
        // Declared names: positional argN as before.
        let q = try compile("ALLOW { prctl(option) { arg3 == 7 } } DEFAULT ERRNO(1)")
        #expect(try q.evaluate("prctl", args: [0, 0, 0, 7]) == .allow)
    }

    /// On a 32-bit architecture a range on a rule's non-last argument became aligned blocks up to 2^64; libseccomp
    /// compares the low word only, so the blocks above 2^32 lost their mask and matched every value: `fd > 15036`
    /// let fd 0 through. Found by KafelDifferentialTests (arm, a later rule on the same syscall).
    @Test func test_rangeOnAnEarlierArgumentHoldsOn32BitArchitectures() throws {
        for arch in [SeccompArch.arm, .i386] {
            let p = try compile("ALLOW { setns { fd > 15036 && nstype == 0 } } DEFAULT ERRNO(1)", arch: arch)
            #expect(try p.evaluate("setns", args: [0, 0]) == .errno(1), "\(arch)")
            #expect(try p.evaluate("setns", args: [15037, 0]) == .allow, "\(arch)")
            #expect(try p.evaluate("setns", args: [0xffff_ffff, 0]) == .allow, "\(arch)")
            #expect(try p.evaluate("setns", args: [15037, 1]) == .errno(1), "\(arch)")
            let q = try compile("ALLOW { setns { nstype == 13 } } ERRNO(3) { setns { fd > 15036 } } DEFAULT ERRNO(44)", arch: arch)
            #expect(try q.evaluate("setns", args: [0, 0]) == .errno(44), "\(arch)")
            #expect(try q.evaluate("setns", args: [15037, 0]) == .errno(3), "\(arch)")
            #expect(try q.evaluate("setns", args: [15037, 13]) == .allow, "\(arch)")
            // An exclusion next to a masked comparison: the ranges around 3068270692 once reached 2^64.
            let r = try compile("ERRNO(50) { read { fd & 15 != 12 && 3068270692 != fd } } DEFAULT ERRNO(49)", arch: arch)
            #expect(try r.evaluate("read", args: [3068270692]) == .errno(49), "\(arch)")
            #expect(try r.evaluate("read", args: [3068270693]) == .errno(50), "\(arch)")
            #expect(try r.evaluate("read", args: [12]) == .errno(49), "\(arch)")
        }
    }

    /// `uid & -1` is `uid` (kafel folds the identity mask away): still compared at the argument's 32-bit width, so
    /// junk in the high half does not get past it. Found by KafelDifferentialTests.
    @Test func test_identityMaskKeepsTheArgumentsWidth() throws {
        let p = try compile("KILL { setuid { uid & -1 == 0 }, setgid { gid & 0xffffffffffffffff != 5 } } DEFAULT ERRNO(1)")
        #expect(try p.evaluate("setuid", args: [0x1_0000_0000]) == .killProcess)
        #expect(try p.evaluate("setuid", args: [1]) == .errno(1))
        #expect(try p.evaluate("setgid", args: [0x1_0000_0005]) == .errno(1))
        #expect(try p.evaluate("setgid", args: [6]) == .killProcess)
    }

    /// clone's and unshare's flags are `unsigned long`; the kernel's clone reads only their low 32 bits. The
    /// namespace rule is a mask test within the low word, so it holds on every architecture: a 32-bit one (where
    /// libseccomp compares the low word) and a 64-bit one with junk in the high half.
    @Test func test_refuseNamespacesComparesTheFlagsAtEveryWidth() throws {
        // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET, and NEWTIME for unshare only (clone's low byte is its exit signal).
        #expect(PolicyCompiler.cloneNamespaceFlags == 0x7E02_0000)
        #expect(PolicyCompiler.unshareNamespaceFlags == 0x7E02_0080)
        let ast = try PolicyCompiler.parse(PolicySource(text: "ALLOW { clone, unshare, setns, exit_group } DEFAULT KILL", file: "<test>"))
        for arch in [SeccompArch.x86_64, .aarch64, .arm, .i386] {
            let p = try PolicyCompiler.compile(ast, arch: arch, refuseNamespaces: true)
            let highs: [UInt64] = arch.is64Bit ? [0, 1 << 32, 0xFFFF_FFFF_0000_0000] : [0]
            for high in highs {
                for flag: UInt64 in [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000] {
                    #expect(try p.evaluate("clone", args: [high | flag | 0x11]) == .report, "\(arch) clone \(high | flag)")
                    #expect(try p.evaluate("unshare", args: [high | flag]) == .report, "\(arch) unshare \(high | flag)")
                }
                #expect(try p.evaluate("unshare", args: [high | 0x80]) == .report, "\(arch) CLONE_NEWTIME")
                // Threads, and clone's exit signal in its low byte (0x80 there is not CLONE_NEWTIME).
                #expect(try p.evaluate("clone", args: [high | 0x003D_0F00]) == .allow, "\(arch)")
                #expect(try p.evaluate("clone", args: [high | 0x80]) == .allow, "\(arch)")
                #expect(try p.evaluate("unshare", args: [high | 0x400]) == .allow, "\(arch) CLONE_FILES")
            }
            #expect(try p.evaluate("setns", args: [3, 0]) == .report, "\(arch)")
        }
    }
}
