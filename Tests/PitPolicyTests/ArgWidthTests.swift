import Testing
@testable import PitPolicy

/// 32-bit arguments are compared on their low 32 bits, as the kernel reads them (and as kafel
/// compares them): junk in the high half of the register must neither slip past a deny rule nor
/// be refused by an allow rule.
@Suite struct ArgWidthTests {
    static let junk: [UInt64] = [0, 0x1_0000_0000, 0xFFFF_FFFF_0000_0000, 0x8000_0000_0000_0000]

    @Test func test_denyOnFdIsNotBypassedByHighBits() throws {
        for arch in [SeccompArch.x86_64, .aarch64] {
            let p = try compile("POLICY p { KILL { write(fd) { fd == 1 } } } USE p DEFAULT ALLOW", arch: arch)
            for high in ArgWidthTests.junk {
                #expect(try p.evaluate("write", args: [high | 1, 0, 5]) == .killProcess, "\(arch) \(high)")
                #expect(try p.evaluate("write", args: [high | 2, 0, 5]) == .allow, "\(arch) \(high)")
            }
        }
    }

    /// clone's flags are declared `unsigned long`, but the kernel keeps only their low 32 bits.
    @Test func test_denyOnCloneFlagsIsNotBypassedByHighBits() throws {
        for arch in [SeccompArch.x86_64, .aarch64] {
            let p = try compile("POLICY p { KILL { clone { clone_flags == 0x11 } } } USE p DEFAULT ALLOW", arch: arch)
            for high in ArgWidthTests.junk {
                #expect(try p.evaluate("clone", args: [high | 0x11]) == .killProcess, "\(arch) \(high)")
                #expect(try p.evaluate("clone", args: [high | 0x12]) == .allow, "\(arch) \(high)")
            }
        }
    }

    @Test func test_allowOnFdAcceptsHighBitsTheKernelIgnores() throws {
        let p = try compile("POLICY p { ALLOW { read(fd, buf, count) { fd == 0 && count <= 4096 } } } USE p DEFAULT ERRNO(1)")
        #expect(try p.evaluate("read", args: [0x1_0000_0000, 0, 10]) == .allow)
        // count is a size_t: all 64 bits matter.
        #expect(try p.evaluate("read", args: [0, 0, 0x1_0000_0000 | 10]) == .errno(1))
    }

    @Test func test_rangesAndMasksOnTheLowWord() throws {
        let p = try compile("""
            POLICY p { ALLOW { fcntl(fd, cmd) { fd < 3 && cmd != 4 }, ioctl(fd, req) { req >= 0x5400 && req <= 0x54ff },
                               dup(fd) { (fd & 0x3) == 1 } } } USE p DEFAULT ERRNO(1)
            """)
        for high in ArgWidthTests.junk {
            for fd: UInt64 in 0..<6 {
                for cmd: UInt64 in 2..<6 {
                    let want: PolicyAction = fd < 3 && cmd != 4 ? .allow : .errno(1)
                    #expect(try p.evaluate("fcntl", args: [high | fd, high | cmd]) == want, "\(high) \(fd) \(cmd)")
                }
            }
            for req: UInt64 in [0x53ff, 0x5400, 0x5412, 0x54ff, 0x5500] {
                let want: PolicyAction = req >= 0x5400 && req <= 0x54ff ? .allow : .errno(1)
                #expect(try p.evaluate("ioctl", args: [1, high | req]) == want)
            }
            #expect(try p.evaluate("dup", args: [high | 5]) == .allow)
            #expect(try p.evaluate("dup", args: [high | 6]) == .errno(1))
        }
    }

    /// kafel's test/basic.c `32bit_args`: a constant wider than 32 bits compares the whole register.
    @Test func test_wideConstantComparesTheWholeRegister() throws {
        let p = try compile("POLICY p { ALLOW { fcntl(fd) { fd == 0x1234 } } } USE p DEFAULT KILL")
        #expect(try p.evaluate("fcntl", args: [0x1234]) == .allow)
        #expect(try p.evaluate("fcntl", args: [0x1_0000_1234]) == .allow)
        #expect(try p.evaluate("fcntl", args: [0x1235]) == .killProcess)
        #expect(try p.evaluate("fcntl", args: [0x1_0000_1235]) == .killProcess)
        let q = try compile("POLICY p { ALLOW { fcntl(fd) { fd == 0x100001234 } } } USE p DEFAULT KILL")
        #expect(try q.evaluate("fcntl", args: [0x1234]) == .killProcess)
        #expect(try q.evaluate("fcntl", args: [0x1_0000_1234]) == .allow)
        #expect(try q.evaluate("fcntl", args: [0x1235]) == .killProcess)
        #expect(try q.evaluate("fcntl", args: [0x1_0000_1235]) == .killProcess)
        // Both views of one argument in one rule.
        let r = try compile("POLICY p { ALLOW { fcntl(fd) { fd != 0x100000005 && fd < 10 } } } USE p DEFAULT KILL")
        #expect(try r.evaluate("fcntl", args: [0x1_0000_0005]) == .killProcess)
        #expect(try r.evaluate("fcntl", args: [0x2_0000_0005]) == .allow)
        #expect(try r.evaluate("fcntl", args: [0x2_0000_000a]) == .killProcess)
    }

    /// Random conditions over read(a, b): a is an int, b a size_t. The filter must agree with
    /// kafel's meaning (a's low word, unless a constant is wider) on arguments with high junk.
    @Test func test_randomConditionsAgreeWithKafelMeaning() throws {
        var rng = NormalizeTests.RNG(state: 2024)
        let values: [UInt64] = [0, 1, 2, 3, 5, 7, 8, 0xff, 0xffff_fffe, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, .max]
        func value() -> UInt64 { values[rng.below(values.count)] }
        func condition(_ depth: Int) -> (String, ([UInt64]) -> Bool) {
            let choice = depth == 0 ? rng.below(3) : rng.below(7)
            let arg = rng.below(2)
            let name = arg == 0 ? "a" : "b"
            func view(_ x: [UInt64], wide: Bool) -> UInt64 { arg == 0 && !wide ? x[0] & 0xFFFF_FFFF : x[arg] }
            switch choice {
            case 0, 1:
                let ops = ["==", "!=", "<", "<=", ">", ">="]
                let op = ops[rng.below(ops.count)], v = value()
                let wide = v > 0xFFFF_FFFF
                return ("\(name) \(op) \(v)", { x in
                    let a = view(x, wide: wide)
                    switch op {
                    case "==": return a == v
                    case "!=": return a != v
                    case "<": return a < v
                    case "<=": return a <= v
                    case ">": return a > v
                    default: return a >= v
                    }
                })
            case 2:
                let m = [0x3, 0x5, 0x8000_0001, 0x1_0000_0001][rng.below(4)] as UInt64, v = UInt64(rng.below(6))
                let wide = m > 0xFFFF_FFFF
                return ("(\(name) & \(m)) == \(v)", { x in view(x, wide: wide) & m == v })
            case 3:
                let (s, f) = condition(depth - 1)
                return ("!(\(s))", { x in !f(x) })
            case 4, 5:
                let (s1, f1) = condition(depth - 1), (s2, f2) = condition(depth - 1)
                return ("(\(s1)) || (\(s2))", { x in f1(x) || f2(x) })
            default:
                let (s1, f1) = condition(depth - 1), (s2, f2) = condition(depth - 1)
                return ("(\(s1)) && (\(s2))", { x in f1(x) && f2(x) })
            }
        }
        var compiled = 0
        for i in 0..<250 {
            let arch: SeccompArch = i % 2 == 0 ? .x86_64 : .aarch64
            let (t1, f1) = condition(2), (t2, f2) = condition(2)
            let source = "POLICY p { ERRNO(5) { read(a, b) { \(t1) } }, ALLOW { read(a, b) { \(t2) } } } USE p DEFAULT ERRNO(6)"
            let p: CompiledPolicy
            do { p = try compile(source, arch: arch) } catch {
                #expect(error.message.contains("seccomp rules"), "\(source): \(error.message)")
                continue
            }
            compiled += 1
            for _ in 0..<40 {
                let args = [value() | ArgWidthTests.junk[rng.below(4)], value()]
                let want: PolicyAction = f1(args) ? .errno(5) : f2(args) ? .allow : .errno(6)
                #expect(try p.evaluate("read", args: args) == want, "\(arch) \(source) \(args)")
            }
        }
        #expect(compiled > 150)
    }

    /// The tables are looked up by number. kafel names calls as the kernel's functions do (on i386 its
    /// `stat` is libseccomp's oldstat, `setuid16` libseccomp's setuid, `setuid` setuid32), so names are
    /// not compared; numbers are, for the calls both spell alike.
    @Test func test_tablesAgreeWithLibseccompNumbers() throws {
        for arch in [SeccompArch.x86_64, .aarch64, .arm, .i386] {
            let t = try #require(SyscallArgs.table(arch))
            #expect(t.byNumber.count > 300, "\(arch)")
            for name in ["read", "write", "openat", "close", "fcntl", "ioctl", "socket", "connect", "execve", "exit_group", "clone", "futex"] {
                guard let kafelArgs = t.byName[name], let nr = SyscallNames.libseccompNumber(name, arch) else {
                    Issue.record("\(arch): \(name) missing"); continue
                }
                #expect(t.byNumber[nr] == kafelArgs, "\(arch): \(name)")
            }
            #expect(SyscallArgs.arguments(of: "read", number: SyscallNames.libseccompNumber("read", arch)!, arch: arch)?.map(\.name) == ["fd", "buf", "count"])
        }
        #expect(SyscallArgs.narrowArguments(of: "ioctl", number: 16, arch: .x86_64) == [0, 1])
        #expect(SyscallArgs.narrowArguments(of: "write", number: 1, arch: .x86_64) == [0])
    }

    /// ioctl's request (kernel `unsigned int cmd`) is narrowed through the tables alone, with no special case:
    /// every 64-bit architecture Pit builds for must have ioctl in its table, or `req != TIOCSTI` is bypassed.
    @Test func test_ioctlRequestIsNarrowOnEvery64BitArchitecture() throws {
        let tiocsti: UInt64 = 0x5412
        for arch in SeccompArch.nameArches where arch.is64Bit {
            let nr = try #require(SyscallNames.libseccompNumber("ioctl", arch))
            #expect(SyscallArgs.narrowArguments(of: "ioctl", number: nr, arch: arch).contains(1), "\(arch)")
            let p = try compile("POLICY p { ALLOW { ioctl(fd, req) { req != 0x5412 } } } USE p DEFAULT KILL", arch: arch)
            #expect(try p.evaluate("ioctl", args: [1, 1 << 32 | tiocsti]) == .killProcess, "\(arch)")
            #expect(try p.evaluate("ioctl", args: [1, 1 << 32 | 0x5413]) == .allow, "\(arch)")
        }
    }

    /// On the running kernel: write(0x100000001, p, 0) writes (zero bytes) to fd 1, so a rule on
    /// fd == 1 must see it. Before argument widths this exited 0: the call got through.
    @Test(.enabled(if: SeccompArch.native == .x86_64, "x86_64 syscall numbers"))
    func test_kernelRunsHighJunkFdAsFd1AndTheFilterAgrees() throws {
        let write = 1
        let p = try compile("POLICY p { ERRNO(13) { write(fd) { fd == 1 } } } USE p DEFAULT ALLOW")
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { buffer.deallocate() }
        // Control: the kernel itself takes the junk fd as fd 1 (a zero-byte write succeeds).
        #expect(runFiltered(nil) { raw(write, Int(bitPattern: 0x1_0000_0001), Int(bitPattern: buffer), 0) } == .exited(Probe.ok))
        #expect(runFiltered(p) { raw(write, Int(bitPattern: 0x1_0000_0001), Int(bitPattern: buffer), 0) } == .exited(Probe.errnoBase + 13))
        #expect(runFiltered(p) { raw(write, 2, Int(bitPattern: buffer), 0) } == .exited(Probe.ok))
    }
}

/// kafel's built-in argument names: a rule may use them without declaring `read(fd, buf, count)`.
@Suite struct BuiltinArgNameTests {
    @Test func test_builtinNamesWorkOnEveryArch() throws {
        for arch in [SeccompArch.x86_64, .aarch64, .arm, .i386] {
            let p = try compile("POLICY p { ALLOW { read { fd == 0 && count < 16 }, exit_group } } USE p DEFAULT ERRNO(1)", arch: arch)
            #expect(try p.evaluate("read", args: [0, 99, 15]) == .allow, "\(arch)")
            #expect(try p.evaluate("read", args: [0, 99, 16]) == .errno(1), "\(arch)")
            #expect(try p.evaluate("read", args: [1, 99, 15]) == .errno(1), "\(arch)")
        }
    }

    @Test func test_builtinNameTakesItsPositionPerArch() throws {
        // clone(flags, newsp, parent_tid, child_tid, tls) on x86_64; tls and child_tid swap on aarch64.
        let x = try compile("POLICY p { ERRNO(5) { clone { tls == 7 } } } USE p DEFAULT ALLOW", arch: .x86_64)
        #expect(try x.evaluate("clone", args: [0, 0, 0, 0, 7]) == .errno(5))
        #expect(try x.evaluate("clone", args: [0, 0, 0, 7, 0]) == .allow)
        let a = try compile("POLICY p { ERRNO(5) { clone { tls == 7 } } } USE p DEFAULT ALLOW", arch: .aarch64)
        #expect(try a.evaluate("clone", args: [0, 0, 0, 7, 0]) == .errno(5))
        #expect(try a.evaluate("clone", args: [0, 0, 0, 0, 7]) == .allow)
    }

    @Test func test_builtinNamesHaveTheKernelWidth() throws {
        let p = try compile("POLICY p { KILL { write { fd == 1 } } } USE p DEFAULT ALLOW")
        #expect(try p.evaluate("write", args: [0x1_0000_0001, 0, 1]) == .killProcess)
    }

    @Test func test_declaredNamesReplaceBuiltinOnes() throws {
        let e = parseError("POLICY p { ALLOW { read(a, b, c) { fd == 0 } } } USE p")
        #expect(e?.message == "unknown name 'fd' (not an argument of read nor a #define)")
    }

    @Test func test_unknownBuiltinNameListsTheArguments() throws {
        let e = parseError("POLICY p { ALLOW { read { fdd == 0 } } } USE p")
        #expect(e?.message == "unknown name 'fdd' (read's arguments are fd, buf, count; not a #define either)")
        #expect(e?.column == 27)
    }

    @Test func test_defineWinsOverBuiltinNameAsInKafel() throws {
        let p = try compile("#define fd 3\nPOLICY p { ALLOW { read { count == fd } } } USE p DEFAULT ERRNO(1)")
        #expect(try p.evaluate("read", args: [0, 0, 3]) == .allow)
        #expect(try p.evaluate("read", args: [3, 0, 0]) == .errno(1))
    }
}
