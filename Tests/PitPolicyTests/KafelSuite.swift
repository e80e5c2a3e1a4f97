// The policies and expectations of kafel's own test suite (google/kafel, commit 18f2074:
// test/basic.c, test/broken.c, test/includes.c and test/testdata/*.policy), rewritten as data for
// Pit's BPF evaluator. Only what can be checked on an exported filter is kept: whether a policy
// compiles, and the action for each syscall and argument set kafel's harness runs. Syscall
// numbers are x86_64's (kafel's harness runs natively; this machine is x86_64).
//
// Kafel - tests
// Copyright 2016 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//   http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.
//
// Changes: the C test cases are restated as Swift values; the policy texts are kafel's.

@testable import PitPolicy

enum KafelSuite {
    /// What kafel's harness checks after TEST_POLICY: SYSCALL_EXECUTED_SPEC (allowed), SYSCALL_ERRNO_SPEC(n),
    /// SYSCALL_KILLED_SPEC (any kill). TEST_POLICY_ALLOWS/BLOCKS(empty, NULL) run a child that only exits.
    enum Outcome: Equatable { case allowed, errno(Int32), killed }

    struct Check {
        var nr: Int
        var args: [UInt64] = []
        var outcome: Outcome
    }

    struct Case {
        /// kafel's test name, with an index when one TEST_CASE holds several policies.
        var name: String
        var policy: String
        /// false: TEST_COMPILE_ERROR.
        var compiles = true
        var checks: [Check] = []
        /// kafel_set_target_archs beyond the native one.
        var extraArches: [SeccompArch] = []
    }

    // x86_64 numbers
    static let read = 0, write = 1, exit = 60, fcntl = 72, ptrace = 101
    static let F_GETFD: UInt64 = 1
    static func exits(_ o: Outcome) -> Check { Check(nr: exit, outcome: o) }

    static let testdata: [String: String] = [
        "basic.policy": "POLICY allow_exit {\n  ALLOW { exit }\n}\n",
        "chain.policy": "#include \"basic.policy\"\n#include \"chain_2.policy\"\n#include \"chain_3.policy\"\n\nPOLICY chain {\n  ALLOW {\n    write,\n    read,\n    open\n  }\n}\n",
        "chain_2.policy": "#define STDIN 0\n#define STDOUT 1\n#define STDERR 2\n\n#include \"chain_2_1.policy\"\n\nPOLICY chain_2 {\n  KILL {\n    ptrace\n  }\n}\n",
        "chain_2_1.policy": "POLICY allow_stdio {\n  ALLOW {\n    write { fd == STDOUT || fd == STDERR },\n    read { fd == STDIN }\n  }\n}\n",
        "chain_3.policy": "#include \"empty.policy\"\n\nPOLICY chain_3 {\n    ALLOW {\n      exit\n    }\n}\n",
        "empty.policy": "POLICY empty {}\n",
        "includes_short_loop.policy": "#include \"short_loop.policy\"\n",
        "self_recursive.policy": "#include \"self_recursive.policy\";\n",
    ]

    static let basic: [Case] = [
        Case(name: "default_kill.1", policy: "POLICY a {} USE a DEFAULT KILL", checks: [exits(.killed)]),
        Case(name: "default_kill.2", policy: "POLICY a {\n  ALLOW { exit }\n} USE a DEFAULT KILL",
             checks: [exits(.allowed), Check(nr: write, outcome: .killed)]),
        Case(name: "actions.1", policy: "POLICY a {\n  ALLOW { exit, read }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: write, args: [0, 0, 0], outcome: .killed)]),
        Case(name: "actions.2", policy: "POLICY a {\n  ALLOW { exit },\n  KILL { read }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .killed)]),
        Case(name: "actions.3", policy: "POLICY a {\n  ALLOW { exit },\n  ERRNO(1) { read }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .errno(1))]),
        Case(name: "custom_syscalls.1", policy: "POLICY a {\n  ALLOW { exit },\n  ERRNO(1) { SYSCALL[-1] }\n} USE a DEFAULT KILL",
             checks: [Check(nr: -1, outcome: .errno(1)), Check(nr: 4, outcome: .killed)]),
        Case(name: "custom_syscalls.2", policy: "#define SYS_CUSTOM -1\nPOLICY a {\n  ALLOW { exit },\n  ERRNO(1) { SYS_CUSTOM }\n} USE a DEFAULT KILL",
             checks: [Check(nr: -1, outcome: .errno(1)), Check(nr: 4, outcome: .killed)]),
        Case(name: "custom_args.1", policy: "ALLOW { read(f, buff, c) { f == 0 }, exit }",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: read, args: [4, 0, 0], outcome: .killed)]),
        Case(name: "custom_args.2", policy: "ALLOW { exit }\nERRNO(1) { SYSCALL[-1](a, b, c) { a == 1 } }\nERRNO(2) { SYSCALL[-1] }",
             checks: [Check(nr: -1, args: [1, 2, 3], outcome: .errno(1)), Check(nr: -1, args: [2, 3, 4], outcome: .errno(2))]),
        Case(name: "arch_guard_basic", policy: "DEFAULT KILL\nALLOW { exit, read ON x86_64 }\n"),
        Case(name: "arch_guard_unknown_arch", policy: "DEFAULT KILL\nALLOW { exit, read ON madeup }\n", compiles: false),
        Case(name: "arch_guard_duplicate_arch", policy: "DEFAULT KILL\nALLOW { exit, read ON { x86_64, x86_64 } }\n", compiles: false),
        Case(name: "arch_guard_multi_arch_compile",
             policy: "DEFAULT KILL\nALLOW { exit, arm_fadvise64_64 ON arm, io_uring_setup ON x86_64 }\n", extraArches: [.arm]),
        Case(name: "rules_order.1", policy: "POLICY a {\n  ALLOW { exit, read },\n  DENY { read, write }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: write, args: [0, 0, 0], outcome: .killed)]),
        Case(name: "rules_order.2",
             policy: "POLICY a {\n  ALLOW { exit, read { fd == 0 && count == 0 } },\n  ERRNO(1) { read { count == 0 } }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: read, args: [5, 0, 0], outcome: .errno(1)),
                      Check(nr: read, args: [5, 0, 1], outcome: .killed)]),
        Case(name: "bitwise_operations.1", policy: "POLICY a { \n  ALLOW { exit, read { count | 8 | fd == 8 } }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: read, args: [5, 0, 0], outcome: .killed)]),
        Case(name: "bitwise_operations.2", policy: "POLICY a { \n  ALLOW { exit },\n  ERRNO(1) { read { count == 1|2|4 } }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [5, 0, 7], outcome: .errno(1)), Check(nr: read, args: [5, 0, 0], outcome: .killed)]),
        // kafel passes the address of a stack variable as buf; any nonzero pointer does.
        Case(name: "bitwise_operations.3", policy: "POLICY a {\n  ALLOW { exit, read { buf | buf & count == buf } }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0x7ffd_1234_5678, 0], outcome: .allowed)]),
        Case(name: "bitwise_operations.4",
             policy: "POLICY a {\n  ALLOW {\n    exit,\n    read {\n      (count | 2) & (fd | 3) == 2\n    }\n  }\n} USE a DEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: read, args: [0, 0, 1], outcome: .killed)]),
        Case(name: "32bit_args.1", policy: "ALLOW { fcntl { fd == 0x1234 }, exit } DEFAULT KILL",
             checks: [Check(nr: fcntl, args: [0x1234, F_GETFD, 0], outcome: .allowed),
                      Check(nr: fcntl, args: [0x1_0000_1234, F_GETFD, 0], outcome: .allowed),
                      Check(nr: fcntl, args: [0x1235, F_GETFD, 0], outcome: .killed),
                      Check(nr: fcntl, args: [0x1_0000_1235, F_GETFD, 0], outcome: .killed)]),
        Case(name: "32bit_args.2", policy: "ALLOW { fcntl { fd == 0x100001234 }, exit } DEFAULT KILL",
             checks: [Check(nr: fcntl, args: [0x1234, F_GETFD, 0], outcome: .killed),
                      Check(nr: fcntl, args: [0x1_0000_1234, F_GETFD, 0], outcome: .allowed),
                      Check(nr: fcntl, args: [0x1235, F_GETFD, 0], outcome: .killed),
                      Check(nr: fcntl, args: [0x1_0000_1235, F_GETFD, 0], outcome: .killed)]),
        Case(name: "long_constants_eq", policy: "ALLOW { fcntl { 0x100001234 == 0x1234 }, exit } DEFAULT KILL",
             checks: [Check(nr: fcntl, args: [0, F_GETFD, 0], outcome: .killed)]),
        Case(name: "duplicate_action_after_conditional", policy: "ALLOW { read { fd == 1 }, exit }\nALLOW { read }\nALLOW { read }",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .allowed)]),
        Case(name: "logic_negation", policy: "ALLOW { exit },\nERRNO(1) { read { !(fd == 5 && count == 0) } }\nDEFAULT KILL",
             checks: [Check(nr: read, args: [0, 0, 0], outcome: .errno(1)), Check(nr: read, args: [4, 0, 0], outcome: .errno(1)),
                      Check(nr: read, args: [5, 0, 0], outcome: .killed)]),
    ]

    static let broken: [Case] = {
        var cases: [Case] = [
            Case(name: "broken_syscall_no_out_of_range", policy: "POLICY broken {\n  ALLOW { SYSCALL[0x12345678901234567] }\n} USE broken DEFAULT KILL", compiles: false),
        ]
        for action in ["ERRNO", "TRAP", "TRACE"] {
            cases.append(Case(name: "broken_errno_out_of_range.\(action)",
                              policy: "POLICY broken {\n  \(action)(65536) { write }\n} USE broken DEFAULT KILL", compiles: false))
        }
        cases += [
            Case(name: "broken_redefined_arg",
                 policy: "POLICY broken {\n  ALLOW {\n    write(myfd, myfd, mysize) { myfd == 1 || mysize == 1}\n  }\n} USE broken DEFAULT KILL", compiles: false),
            Case(name: "broken_redefined_policy", policy: "POLICY empty {}\nPOLICY empty {}\nUSE empty DEFAULT KILL", compiles: false),
        ]
        let keywords = ["SYSCALL", "ALLOW", "LOG", "ERRNO", "KILL", "DENY", "TRAP", "TRACE", "USE", "POLICY", "DEFAULT", "define"]
        let templates = ["POLICY empty{} USE %s DEFAULT KILL", "POLICY %s {} POLICY empty{} USE empty DEFAULT KILL",
                         "POLICY basic { ALLOW { %s } } USE basic DEFAULT KILL"]
        for k in keywords {
            for (j, t) in templates.enumerated() {
                cases.append(Case(name: "broken_restricted_keywords_as_identifiers.\(k).\(j)",
                                  policy: t.split(separator: "%", omittingEmptySubsequences: false).enumerated().map { $0.offset == 0 ? String($0.element) : k + $0.element.dropFirst() }.joined(), compiles: false))
            }
        }
        cases += [
            Case(name: "broken_too_many_syscall_args",
                 policy: "POLICY broken {\n  ALLOW {\n    write(myfd, mybuf, mysize, more, and_more,\n      and_even_more, and_thats_too_much)\n  }\n} USE broken DEFAULT KILL",
                 compiles: false),
            Case(name: "broken_undefined_argument",
                 policy: "POLICY broken {\n  ALLOW {\n    write(myfd, mybuf, mysize) { undef == 1 || myfd == 2 }\n  }\n} USE broken DEFAULT KILL",
                 compiles: false),
            Case(name: "broken_undefined_policy.1", policy: "USE undef DEFAULT KILL", compiles: false),
            Case(name: "broken_undefined_policy.2", policy: "POLICY empty {} USE undef DEFAULT KILL", compiles: false),
            Case(name: "broken_undefined_policy.3", policy: "POLICY broken { USE undef } USE broken DEFAULT KILL", compiles: false),
            Case(name: "broken_undefined_syscall",
                 policy: "POLICY broken {\n  ALLOW { this_is_a_syscall_that_does_not_exist }\n}\nUSE broken DEFAULT KILL", compiles: false),
            Case(name: "broken_undefined_syscall_main_policy", policy: "ALLOW { this_is_a_syscall_that_does_not_exist }\n", compiles: false),
            Case(name: "broken_unterminated_comment", policy: "POLICY empty {} USE empty DEFAULT KILL /* oops ", compiles: false),
            Case(name: "broken_stack_overflow",
                 policy: "POLICY stackoverflow {\n  ALLOW {\n    open {\n" + String(repeating: "      flags & mode & 0x1337 & \n", count: 9)
                    + "      flags & mode & 0x1337 == 0x1\n    }\n  }\n} USE stackoverflow DEFAULT KILL", compiles: false),
            Case(name: "broken_const_redefintion", policy: "#define myconst 1\n#define myconst 2\nPOLICY empty {}\nUSE empty DEFAULT KILL", compiles: false),
            Case(name: "broken_max_expr_depth", policy: "ALLOW { read { fd == 1" + String(repeating: "&1", count: 200) + "}}", compiles: false),
            Case(name: "broken_max_instructions",
                 policy: "ALLOW { exit" + (0..<65535).map { ", SYSCALL[\($0 * 2)]" }.joined() + "}", compiles: false),
        ]
        return cases
    }()

    static let includes: [Case] = [
        Case(name: "simple_include.1", policy: "#include \"empty.policy\"; USE empty DEFAULT KILL", checks: [exits(.killed)]),
        Case(name: "simple_include.2", policy: "#include \"basic.policy\"; USE allow_exit DEFAULT KILL",
             checks: [exits(.allowed), Check(nr: write, outcome: .killed)]),
        Case(name: "simple_include.3", policy: "#include \"basic.policy\"\nUSE allow_exit DEFAULT KILL",
             checks: [exits(.allowed), Check(nr: write, outcome: .killed)]),
        Case(name: "multiple_includes", policy: "#include \"empty.policy\" \"basic.policy\";USE allow_exit DEFAULT KILL",
             checks: [exits(.allowed), Check(nr: write, outcome: .killed)]),
        Case(name: "chained_includes",
             policy: "#include \"chain.policy\"\nPOLICY composite {\n  USE empty,\n  USE allow_exit,\n  USE allow_stdio\n}\nUSE composite DEFAULT KILL",
             checks: [exits(.allowed), Check(nr: read, args: [0, 0, 0], outcome: .allowed), Check(nr: ptrace, outcome: .killed)]),
        Case(name: "nosuch_include", policy: "#include \"nosuch_policy.policy\";", compiles: false),
        Case(name: "wrong_includes.1", policy: "#include\"empty.policy\"; USE empty DEFAULT KILL", compiles: false),
        Case(name: "wrong_includes.2", policy: "#include\"empty.policy\"\"basic.policy\"\nUSE empty DEFAULT KILL", compiles: false),
        Case(name: "wrong_includes.3", policy: "#include \"empty_policy", compiles: false),
        Case(name: "wrong_includes.4", policy: "#include \"empty.policy\"", compiles: false),
        Case(name: "wrong_includes.5", policy: "#include empty.policy; USE empty DEFAULT KILL", compiles: false),
        Case(name: "infinite_recursion_includes.1", policy: "#include \"self_recursive.policy\";POLICY empty {} USE empty DEFAULT KILL", compiles: false),
        Case(name: "infinite_recursion_includes.2", policy: "#include \"short_loop.policy\";POLICY empty {} USE empty DEFAULT KILL", compiles: false),
        Case(name: "infinite_recursion_includes.3", policy: "#include \"includes_short_loop.policy\";POLICY empty {} USE empty DEFAULT KILL", compiles: false),
    ]

    static var all: [Case] { basic + broken + includes }
}
