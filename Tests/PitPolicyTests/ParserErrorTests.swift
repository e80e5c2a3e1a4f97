import Testing
@testable import PitPolicy

/// Every error path of the language reports file:line:column and the offending line.
@Suite struct ParserErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var source: String
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { message }
    }

    static let cases: [Case] = [
        Case(source: "POLICY a { ALLOW { reed } } USE a", line: 1, column: 20, message: "unknown syscall 'reed' (did you mean 'read'?)"),
        Case(source: "POLICY a { ALLOW { xyzzyplugh } } USE a", line: 1, column: 20, message: "unknown syscall 'xyzzyplugh'"),
        Case(source: "POLICY a { ALLOW { idle } } USE a", line: 1, column: 20, message: "syscall 'idle' does not exist on x86_64"),
        Case(source: "POLICY a { ALLOW { read } }", line: 1, column: 28, message: "nothing to enforce: add rules at the top level, or 'USE policy DEFAULT action'"),
        Case(source: "POLICY a { ALLOW { read } } USE b", line: 1, column: 33, message: "unknown policy 'b'"),
        Case(source: "POLICY a { ALLOW { read } }\nPOLICY a { }\nUSE a", line: 2, column: 8, message: "policy 'a' already defined at line 1"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd = 1 } } } USE a", line: 1, column: 35, message: "'=' is not an operator (did you mean '=='?)"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd == 1 && } } } USE a", line: 1, column: 43, message: "expected an argument name, a constant or '(', found '}'"),
        Case(source: "POLICY a {\n  ALLOW {\n    write(fd) { x == 1 }\n  }\n}\nUSE a", line: 3, column: 17, message: "unknown name 'x' (not an argument of write nor a #define)"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd == 0x } } } USE a", line: 1, column: 38, message: "expected hexadecimal digits after '0x'"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd == 99999999999999999999 } } } USE a", line: 1, column: 38, message: "number does not fit in 64 bits"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd == 09 } } } USE a", line: 1, column: 39, message: "invalid digit '9' in octal number"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd == 12ab } } } USE a", line: 1, column: 40, message: "invalid digit 'a' in decimal number"),
        Case(source: "  /* unterminated\n", line: 1, column: 3, message: "unterminated comment"),
        Case(source: "#pragma once\n", line: 1, column: 1, message: "unknown directive '#pragma'"),
        Case(source: "POLICY a { # } USE a", line: 1, column: 12, message: "'#' must start a line"),
        Case(source: "#include \"does-not-exist.policy\"\n", line: 1, column: 10, message: "cannot include \"does-not-exist.policy\": No such file or directory"),
        Case(source: "#include nope\n", line: 1, column: 10, message: "expected a quoted file name after #include"),
        Case(source: "#include \"x\" trailing\n", line: 1, column: 14, message: "expected a quoted file name after #include"),
        Case(source: "#include\"x\"\n", line: 1, column: 9, message: "expected a blank after #include"),
        Case(source: "#define X\n", line: 1, column: 9, message: "#define X has no value"),
        Case(source: "#define X 1\n#define X 2\n", line: 2, column: 9, message: "'X' redefined (first defined at <test>:1)"),
        Case(source: "#define A B\n#define B A\nPOLICY a { ERRNO(A) { read } } USE a", line: 2, column: 11, message: "#define 'A' expands recursively"),
        Case(source: "POLICY a { ERRNO(5000) { read } } USE a", line: 1, column: 18, message: "errno value 5000 out of range 0...4094"),
        Case(source: "POLICY a { ALLOW { write(fd) { fd < 1 < 2 } } } USE a", line: 1, column: 39, message: "comparisons cannot be chained; use '&&'"),
        Case(source: "POLICY a { ALLOW { write(fd, fd) } } USE a", line: 1, column: 30, message: "argument 'fd' named twice"),
        Case(source: "POLICY a { ALLOW { write(a, b, c, d, e, f, g) } } USE a", line: 1, column: 44, message: "a syscall has at most 6 arguments"),
        Case(source: "POLICY a { ALLOW { write(fd, buf) { fd == buf } } } USE a", line: 1, column: 40, message: "this condition relates the bits of several arguments (fd, buf): seccomp filters built with libseccomp compare one argument at a time"),
        Case(source: "POLICY a { ALLOW { write(fd) { (fd & 3) < 2 } } } USE a", line: 1, column: 41, message: "a masked argument can only be compared with '==' or '!=' (seccomp has only masked equality)"),
        Case(source: "POLICY a { ALLOW { write(fd) { (fd | 1) < 5 } } } USE a", line: 1, column: 41, message: "'<' cannot compare an expression with '|' or several arguments (only '==' and '!=' can be filtered bit by bit)"),
        Case(source: "POLICY a { ALLOW { read }, USE a } USE a", line: 1, column: 32, message: "policy 'a' uses itself (a -> a)"),
        Case(source: "POLICY a { FOO { read } } USE a", line: 1, column: 12, message: "expected an action (ALLOW, KILL, ERRNO(n), ...), 'USE' or '}', found 'FOO'"),
        Case(source: "ARCH sparc\n", line: 1, column: 6, message: "unknown architecture 'sparc' (known: x86_64, i386, aarch64, arm, x32)"),
        Case(source: "POLICY a { } USE a DEFAULT KILL\nDEFAULT ALLOW", line: 2, column: 1, message: "default action already given at line 1"),
        Case(source: "POLICY TRACE { } USE a", line: 1, column: 8, message: "'TRACE' is a keyword and cannot be used as a policy name"),
        Case(source: "ALLOW { read ON { x86_64, amd64 } }", line: 1, column: 27, message: "architecture 'amd64' listed twice"),
        Case(source: "ALLOW { read ON madeup }", line: 1, column: 17, message: "unknown architecture 'madeup' (known: aarch64, amd64, arm, arm64, i386, m68k, mips, mips64, mipso32, riscv64, rv64, x32, x86, x86_64)"),
        Case(source: "ERRNO(1) { SYSCALL[-1] }", line: 1, column: 12, message: "SYSCALL[-1]: negative syscall numbers cannot be filtered through libseccomp (it reserves them for its pseudo-syscalls)"),
        Case(source: "TRACE { read }", line: 1, column: 7, message: "expected '(', found '{'"),
        Case(source: "POLICY a { ALLOW { read write } } USE a", line: 1, column: 25, message: "expected ',' or '}', found 'write'"),
        Case(source: "POLICY a { ALLOW { SYSCALL[5 } } USE a", line: 1, column: 30, message: "expected ']', found '}'"),
        Case(source: "POLICY ALLOW { } USE a", line: 1, column: 8, message: "'ALLOW' is a keyword and cannot be used as a policy name"),
        Case(source: "POLICY a { ALLOW { read } } USE a DEFAULT NOPE", line: 1, column: 43, message: "expected an action (ALLOW, KILL, KILL_PROCESS, KILL_THREAD, ERRNO(n), LOG, TRAP(n), TRACE(n), REPORT), found 'NOPE'"),
        Case(source: "POLICY a { ALLOW { read } } USE a\npolicy b { }", line: 2, column: 1, message: "expected 'POLICY', 'USE', an action (ALLOW, KILL, ERRNO(n), ...), 'DEFAULT' or 'ARCH', found 'policy'"),
        Case(source: "POLICY a { ALLOW { read } } USE a ¤", line: 1, column: 35, message: "unexpected non-ASCII character"),
        Case(source: "POLICY a { ALLOW { read } } USE a\n  @", line: 2, column: 3, message: "unexpected character '@'"),
        Case(source: "POLICY a { ALLOW { getppid(a, b, c) { (a & 0xff) != 1 && (b & 0xff) != 1 && (c & 0xff) != 1 } } } USE a", line: 1, column: 20, message: "condition for 'getppid' needs more than 256 seccomp rules"),
        Case(source: "POLICY a { ALLOW { write(fd) { " + String(repeating: "(", count: 150) + "fd" + String(repeating: ")", count: 150) + " } } } USE a", line: 1, column: 132, message: "expression nested too deeply"),
        Case(source: "POLICY a { ALLOW { write(fd) { \"s\" } } } USE a", line: 1, column: 32, message: "expected an argument name, a constant or '(', found string \"s\""),
    ]

    @Test(arguments: cases)
    func test_errorReportsPositionAndMessage(_ c: Case) throws {
        let error = try #require(parseError(c.source))
        #expect(error.message == c.message)
        #expect(error.file == "<test>")
        #expect(error.line == c.line)
        #expect(error.column == c.column)
        let lines = c.source.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(error.sourceLine == String(lines[c.line - 1]))
    }

    @Test func test_descriptionShowsLineAndCaret() throws {
        let error = try #require(parseError("POLICY a {\n  ALLOW { reed }\n}\nUSE a", file: "svc.policy"))
        #expect(error.description == """
            svc.policy:2:11: unknown syscall 'reed' (did you mean 'read'?)
                  ALLOW { reed }
                          ^
            """)
    }

    @Test func test_caretKeepsTabsSoItLinesUp() throws {
        let error = try #require(parseError("POLICY a {\n\tALLOW { reed }\n}\nUSE a"))
        #expect(error.description.hasSuffix("\n    \tALLOW { reed }\n    \t        ^"))
    }

    @Test func test_errorInsideIncludedFileNamesThatFile() throws {
        let dir = try TempDir()
        try dir.write("inner.policy", "POLICY inner {\n  ALLOW { rdea }\n}\n")
        try dir.write("main.policy", "#include \"inner.policy\"\nUSE inner\n")
        do {
            _ = try PolicyCompiler.compile(PolicySource.read(path: dir.path + "/main.policy"), arch: .x86_64)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == dir.path + "/inner.policy")
            #expect(error.line == 2)
            #expect(error.column == 11)
            #expect(error.message == "unknown syscall 'rdea' (did you mean 'read'?)")
        }
    }
}
