import Testing
@testable import PitPolicy

@Suite struct LearnTests {
    @Test func test_perfScriptSysEnterLinesAreCounted() {
        var l = SyscallLearner(arch: .x86_64)
        l.add("""
                smbd   812 [001]  93.100: raw_syscalls:sys_enter: NR 0 (3, 7ffd, 1, 0, 0, 0)
                smbd   812 [001]  93.101: raw_syscalls:sys_exit: NR 0 = 1
                smbd   812 [001]  93.102: raw_syscalls:sys_enter: NR 0 (3, 7ffd, 1, 0, 0, 0)
                smbd   813 [000]  93.103: raw_syscalls:sys_enter: NR 232 (5, 7ffd, 10, ffffffff, 0, 0)
                garbage line
            """, format: .perf)
        #expect(l.counts == ["read": 2, "epoll_wait": 1])
    }

    @Test func test_straceFollowForksAndResumedLinesAreParsed() {
        var l = SyscallLearner(arch: .x86_64)
        l.add("""
            execve("/usr/sbin/smbd", ["smbd"], 0x7ffc /* 20 vars */) = 0
            brk(NULL)                               = 0x55d0
            [pid  4242] read(3, <unfinished ...>
            [pid  4241] newfstatat(AT_FDCWD, "/etc", {st_mode=S_IFDIR|0755, ...}, 0) = 0
            [pid  4242] <... read resumed>"x", 1) = 1
            4243  12:00:01.123456 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
            4243  1700000000.123 write(1, "hi", 2) = 2
            <... accept4 resumed>{sa_family=AF_INET}, [16], 0) = 5
            --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---
            +++ exited with 0 +++
            """, format: .strace)
        #expect(l.counts == ["execve": 1, "brk": 1, "read": 1, "newfstatat": 1, "openat": 1, "write": 1, "accept4": 1])
    }

    @Test func test_numbersAndUnresolvableAreSeparated() {
        var l = SyscallLearner(arch: .aarch64)
        l.add("63 64\n64, 99999\n", format: .numbers)
        #expect(l.counts == ["read": 1, "write": 2])
        #expect(l.unresolved == ["#99999": 1])
    }

    @Test func test_learnedPolicyIsSortedCommentedAndCompiles() throws {
        var l = SyscallLearner(arch: .x86_64)
        l.add("write(1, \"a\", 1) = 1\nread(0, \"\", 1) = 0\nwrite(1, \"b\", 1) = 1\n", format: .strace)
        l.add("  svc 1 [000] 1.0: raw_syscalls:sys_enter: NR 231 (0, 0, 0, 0, 0, 0)\n", format: .perf)
        let text = l.policy(name: "svc")
        #expect(text.contains("execve is needed for the exec into the jail"))
        #expect(text.contains("    execve,     // 0, needed for the exec into the jail\n"))
        #expect(text.contains("    exit_group, // 1\n"))
        #expect(text.contains("    write       // 2\n"))
        let names = text.split(separator: "\n").filter { $0.hasPrefix("    ") }.map { $0.split(separator: " ")[0] }
        #expect(names == ["execve,", "exit_group,", "read,", "write"])
        let p = try PolicyCompiler.compile(PolicySource(text: text, file: "learned"), arch: .x86_64)
        #expect(Set(p.allowedSyscalls.keys) == ["execve", "exit_group", "read", "write"])
    }

    @Test func test_diffAgainstOldPolicy() throws {
        let old = try SyscallLearner.allowedNames(in: PolicySource(text: "POLICY a { ALLOW { read, open, newfstat } } USE a", file: "old"), arch: .x86_64)
        #expect(old == ["read", "open", "fstat"])
        #expect(SyscallLearner.diff(old: old, new: ["read", "fstat", "write", "execve"]) == ["+execve", "-open", "+write"])
    }
}

@Suite struct MutationTests {
    /// Deterministic mutations of a policy exercising every feature: the parser must return a
    /// value or a PolicyError for each (no crash, no hang), and quickly.
    @Test func test_seededMutationsNeverCrashOrHang() throws {
        let seed = """
            #define EPERM 1
            ARCH i386
            POLICY base { ALLOW { read, write(fd, buf, n) { fd == 1 && (n & 0x3) == 1 || !(fd < 5) } } }
            POLICY main {
              USE base,
              ERRNO(EPERM) { ioctl(fd, req) { req == 0x5412 }, SYSCALL[39] },
              KILL { kill(pid, sig) { sig & 0x6 } }, REPORT { getppid }, LOG { umask }
            }
            USE main DEFAULT KILL
            """
        let base = Array(seed.utf8)
        let alphabet = Array("{}()[],&|!<>=#/*\"\n 0x19afALLOWPOLICYUSEDEFAULTKILLERRNO".utf8)
        let fragments = ["USE", "POLICY", "{", "}", "(", ")", "&&", "||", "!", "0x", "#define X ", "#include \"", "/*", "//", "SYSCALL[", "ERRNO(", "\n", "a &", "== 1"]
        var rng = NormalizeTests.RNG(state: 2024)
        var errors = 0, ok = 0
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<20_000 {
            var bytes = base
            for _ in 0..<(1 + rng.below(4)) {
                let pos = rng.below(bytes.count + 1)
                switch rng.below(5) {
                case 0: if pos < bytes.count { bytes.remove(at: pos) }
                case 1: bytes.insert(alphabet[rng.below(alphabet.count)], at: pos)
                case 2: if pos < bytes.count { bytes[pos] = alphabet[rng.below(alphabet.count)] }
                case 3: bytes.insert(contentsOf: Array(fragments[rng.below(fragments.count)].utf8), at: pos)
                default:
                    let len = rng.below(20)
                    let end = min(bytes.count, pos + len)
                    if pos < end { bytes.removeSubrange(pos..<end) }
                }
            }
            let source = PolicySource(text: String(decoding: bytes, as: UTF8.self), file: "<mutant>")
            do {
                _ = try PolicyCompiler.parse(source)
                // Compiling (libseccomp) is slower; do it for a sample.
                if i % 50 == 0 { _ = try PolicyCompiler.compile(source, arch: .x86_64) }
                ok += 1
            } catch {
                #expect(!error.message.isEmpty)
                #expect(error.line >= 0)
                errors += 1
            }
        }
        #expect(ok > 100)
        #expect(errors > 1000)
        #expect(clock.now - start < .seconds(30))
    }
}
