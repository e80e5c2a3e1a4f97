import Testing
@testable import PitPolicy

@Suite struct IncludeAndDefineTests {
    @Test func test_includeIsRelativeToTheIncludingFile() throws {
        let dir = try TempDir()
        try dir.write("base.policy", "#define MYFD 3\nPOLICY base { ALLOW { read, exit_group } }\n")
        try dir.write("svc.policy", "#include \"base.policy\"\nPOLICY svc { ALLOW { write(fd) { fd == MYFD } }, USE base }\nUSE svc DEFAULT ERRNO(1)\n")
        let p = try PolicyCompiler.compile(PolicySource.read(path: dir.path + "/svc.policy"), arch: .x86_64)
        #expect(try p.evaluate("read") == .allow)
        #expect(try p.evaluate("write", args: [3]) == .allow)
        #expect(try p.evaluate("write", args: [4]) == .errno(1))
    }

    @Test func test_includeCycleIsAnError() throws {
        let dir = try TempDir()
        try dir.write("a.policy", "#include \"b.policy\"\n")
        try dir.write("b.policy", "\n#include \"a.policy\"\n")
        do {
            _ = try PolicyCompiler.parse(PolicySource.read(path: dir.path + "/a.policy"))
            Issue.record("expected a cycle error")
        } catch {
            #expect(error.message == "#include cycle: \"a.policy\" is already being included")
            #expect(error.file == dir.path + "/b.policy")
            #expect(error.line == 2)
            #expect(error.column == 10)
        }
    }

    @Test func test_includeDeeperThan16IsAnError() throws {
        let dir = try TempDir()
        for i in 0..<20 { try dir.write("f\(i).policy", "#include \"f\(i + 1).policy\"\n") }
        try dir.write("f20.policy", "POLICY a { ALLOW { read } }\n")
        do {
            _ = try PolicyCompiler.parse(PolicySource.read(path: dir.path + "/f0.policy"))
            Issue.record("expected a depth error")
        } catch {
            #expect(error.message == "#include nested deeper than 16 levels")
            #expect(error.file == dir.path + "/f16.policy")
        }
        // Exactly 16 levels is fine: g0 -> f5 -> ... -> f20.
        try dir.write("g0.policy", "#include \"f5.policy\"\nUSE a\n")
        _ = try PolicyCompiler.parse(PolicySource.read(path: dir.path + "/g0.policy"))
    }

    /// A few small files, each including the next several times, expand exponentially: 6 + 36 + 216 + 1296
    /// includes here (and 10 levels of 10 would never finish). The whole expansion is bounded.
    @Test func test_includeFanOutIsBoundedInCount() throws {
        let dir = try TempDir()
        for i in 0..<4 {
            let names = Array(repeating: "\"f\(i + 1).policy\"", count: 6).joined(separator: " ")
            try dir.write("f\(i).policy", "#include \(names)\n")
        }
        try dir.write("f4.policy", "// leaf\n")
        try dir.write("root.policy", "#include \"f0.policy\"\nALLOW { read }\n")
        do {
            _ = try PolicyCompiler.parse(PolicySource.read(path: dir.path + "/root.policy"))
            Issue.record("expected an include-count error")
        } catch {
            #expect(error.message == "more than 1024 #includes in all (the same files included again and again?)")
        }
    }

    /// One line naming a 64 KiB file 300 times would make 19 MB of policy text (and a 15 MiB file, gigabytes).
    @Test func test_includeFanOutIsBoundedInSize() throws {
        let dir = try TempDir()
        let comment = "// " + String(repeating: "x", count: 1020) + "\n"
        try dir.write("big.policy", String(repeating: comment, count: 64))
        let names = Array(repeating: "\"big.policy\"", count: 300).joined(separator: " ")
        try dir.write("root.policy", "#include \(names)\nALLOW { read }\n")
        do {
            _ = try PolicyCompiler.parse(PolicySource.read(path: dir.path + "/root.policy"))
            Issue.record("expected an include-size error")
        } catch {
            #expect(error.message == "included text exceeds 16 MiB in all (the same files included again and again?)")
            #expect(error.file == dir.path + "/root.policy")
        }
    }

    /// Each policy USEing the next twice doubles the rules: 17 levels are 131072 copies of one rule (30 would
    /// never finish). The expansion is bounded.
    @Test func test_useFanOutIsBounded() throws {
        let text = (0..<17).map { "POLICY p\($0) { USE p\($0 + 1), USE p\($0 + 1) }" }.joined(separator: "\n")
            + "\nPOLICY p17 { ALLOW { read } }\nUSE p0 DEFAULT KILL"
        #expect(parseError(text)?.message == "USE expands the policy to more than 65536 rules (the same policies USEd again and again?)")
    }

    /// A chain of thousands of policies, each USEing the next, overflowed the stack (SIGSEGV).
    @Test func test_useNestedDeeperThan64IsAnError() throws {
        func chain(_ n: Int) -> String {
            (0..<n).map { "POLICY p\($0) { USE p\($0 + 1) }" }.joined(separator: "\n")
                + "\nPOLICY p\(n) { ALLOW { read } }\nUSE p0 DEFAULT KILL"
        }
        #expect(parseError(chain(100))?.message == "USE nested deeper than 64 levels")
        #expect(parseError(chain(63)) == nil)
    }

    @Test func test_definesWorkInExpressionsAndErrno() throws {
        let p = try compile("""
            #define EPERM 1
            #define O_WRONLY 01
            #define O_RDWR 02
            #define WRITE_FLAGS (O_WRONLY | O_RDWR)
            POLICY a {
              ALLOW { openat(dirfd, path, flags) { (flags & WRITE_FLAGS) == 0 } },
              ERRNO(EPERM) { openat }
            }
            USE a
            """)
        #expect(try p.evaluate("openat", args: [0, 0, 0o100000]) == .allow)
        #expect(try p.evaluate("openat", args: [0, 0, 0o1]) == .errno(1))
        #expect(try p.evaluate("openat", args: [0, 0, 0o2]) == .errno(1))
    }

    @Test func test_commentsAndNumberBasesAreAccepted() throws {
        let p = try compile("""
            // line comment
            POLICY a { /* block
               comment */ ALLOW { getppid(a) { a == 0x10 || a == 010 || a == 10 || a == 0xFFFFFFFFFFFFFFFF } } }
            USE a DEFAULT ERRNO(2) // trailing
            """)
        for v: UInt64 in [16, 8, 10, .max] { #expect(try p.evaluate("getppid", args: [v]) == .allow) }
        for v: UInt64 in [0, 9, 11, 0xFFFF_FFFF] { #expect(try p.evaluate("getppid", args: [v]) == .errno(2)) }
    }

    @Test func test_nestedUseInsertsRulesInPlace() throws {
        let p = try compile("""
            POLICY deny_one { ERRNO(9) { getppid(a) { a == 1 } } }
            POLICY main { USE deny_one, ALLOW { getppid } }
            USE main
            """)
        #expect(try p.evaluate("getppid", args: [1]) == .errno(9))
        #expect(try p.evaluate("getppid", args: [2]) == .allow)
    }

    @Test func test_useListAndImplicitArgNames() throws {
        let p = try compile("""
            POLICY a { ALLOW { read } }
            POLICY b { ALLOW { write { arg0 == 1 } } }
            USE a, b DEFAULT ERRNO(3)
            """)
        #expect(try p.evaluate("read") == .allow)
        #expect(try p.evaluate("write", args: [1]) == .allow)
        #expect(try p.evaluate("write", args: [2]) == .errno(3))
    }

    @Test func test_astIsPublicForTools() throws {
        let ast = try PolicyCompiler.parse(PolicySource(text: "ARCH i386\nPOLICY a { ALLOW { read(fd) { fd == 0 } } } USE a DEFAULT LOG", file: "x"))
        #expect(ast.policies.map(\.name) == ["a"])
        #expect(ast.use.defaultAction == .log)
        #expect(ast.arches.map(\.name) == ["i386"])
        guard case .block(let b) = ast.policies[0].items[0] else { Issue.record("expected a block"); return }
        #expect(b.action == .allow)
        #expect(b.rules[0].syscall == .name("read"))
        #expect(b.rules[0].parameters == ["fd"])
        #expect(b.rules[0].condition != nil)
    }
}
