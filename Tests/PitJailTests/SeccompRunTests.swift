import PitTestSupport
import Glibc
import XCTest

/// `pit run` with seccomp policies: the filter is loaded, and every syscall outside the policy, by any
/// process of the jail, is reported with its arguments and handled as the policy's DEFAULT says.
final class SeccompRunTests: XCTestCase {
    static let article = "POLICY a { ALLOW { write, execve, brk, access, mmap, open, newfstat, close, read, mprotect, arch_prctl, munmap, getuid, getgid, getpid, rt_sigaction, geteuid, getppid, getcwd, getegid, ioctl, fcntl, newstat, clone, wait4, rt_sigreturn, exit_group } } USE a DEFAULT KILL"

    func test_articleWalkthroughDiesWithBadSystemCallNamingTheSyscall() {
        let r = Pit.run(["--chroot", "/", "--user", "99999", "--group", "99999", "--seccomp_string", Self.article, "--", "/bin/sh", "-c", "ps aux; id"])
        XCTAssertEqual(r.status, 128 + SIGSYS, r.stderr)
        XCTAssertEqual(r.stdout, "")
        let last = lines(r.stderr).last ?? ""
        XCTAssertTrue(last.contains("Bad system call: "), r.stderr)
        // Today's loader reaches for a syscall the 2015 list lacks (newfstatat or openat on glibc 2.36).
        XCTAssertTrue(["newfstatat", "openat", "pread64"].contains { last.contains($0) }, r.stderr)
        XCTAssertTrue(last.contains("(sh)"), r.stderr)
    }

    func test_articleWalkthroughWithoutPolicyShowsJailProcessesAndIds() {
        let r = Pit.run(["--chroot", "/", "--user", "99999", "--group", "99999", "--", "/bin/sh", "-c", "ps aux; id"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("uid=99999 gid=99999"))
        XCTAssertEqual(lines(r.stdout).filter { $0.hasPrefix("99999 ") }.count, 2, r.stdout)  // sh and ps
    }

    func test_syscallThroughAnotherArchitectureIsReportedAndKilledWhateverTheDefault() throws {
        #if arch(x86_64)
        // An ia32 `int 0x80` from an x86_64 process: the filter judges x86_64 numbers, so it must never run. It is
        // reported like any violation (named with i386's numbering, arguments included) and its process killed
        // even under an ERRNO default. Pit used to leave it to the filter's own kill and name it from the kernel
        // log, read with x86_64 numbers: "writev (nr 20)".
        let dir = ScratchDirectory()
        _ = dir.write("ia32.c", """
            #include <stdio.h>
            int main(void) {
                long ret, nr = 20, marker = 0x5eed;   /* getpid on i386 */
                __asm__ volatile ("int $0x80" : "=a"(ret) : "a"(nr), "b"(marker) : "memory");
                printf("ran: %ld\\n", ret);
                return 0;
            }
            """)
        let build = Process.run(["/usr/bin/gcc", "-static", "-O1", "-o", dir.path + "/ia32", dir.path + "/ia32.c"])
        try XCTSkipIf(build.status != 0, "cannot build a static probe: \(build.stderr)")
        let r = Pit.run(["--bind", dir.path + ":/probe", "--seccomp-string", "POLICY a { ALLOW { execve, write, exit_group, brk, arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, readlink, getrandom, mprotect, newfstatat, fstat, uname } } USE a DEFAULT ERRNO(1)",
                         "--", "/probe/ia32"])
        XCTAssertEqual(r.status, 128 + SIGSYS, r.stderr)
        XCTAssertEqual(r.stdout, "", r.stderr)
        let violations = lines(r.stderr).filter { $0.contains("violation: ") }
        XCTAssertEqual(violations.count, 1, r.stderr)
        XCTAssertTrue(violations.first?.contains("violation: getpid(0x5eed, ") ?? false, r.stderr)
        XCTAssertTrue(violations.first?.contains("[nr 20, i386]") ?? false, r.stderr)
        XCTAssertTrue(violations.first?.hasSuffix(": kill") ?? false, r.stderr)
        #else
        throw XCTSkip("an ia32 syscall needs an x86_64 machine")
        #endif
    }

    func test_policyIsLoadedSeccompModeTwo() {
        let r = Pit.run(["--seccomp-string", "POLICY a { ERRNO(1) { uname } } USE a DEFAULT ALLOW", "--", "/bin/grep", "^Seccomp:", "/proc/self/status"])
        XCTAssertEqual(r.stdout, "Seccomp:\t2\n", r.stderr)
    }

    func test_violationInGrandchildIsReportedWithArguments() {
        // init sh -> sh -> perl: the uname call with a recognisable argument comes from a grandchild.
        let r = Pit.run(["--seccomp-string", "POLICY a { REPORT { uname } } USE a DEFAULT ALLOW", "--", "/bin/sh", "-c",
                         "/bin/sh -c '/usr/bin/perl -e \"syscall(63, 0x1234abcd); print qq(survived\\\\n)\"'; echo after"])
        XCTAssertEqual(r.stdout, "after\n", r.stderr)
        let violations = lines(r.stderr).filter { $0.contains("violation: ") }
        XCTAssertEqual(violations.count, 1, r.stderr)
        XCTAssertTrue(violations[0].contains("violation: uname(0x1234abcd, "), r.stderr)
        XCTAssertTrue(violations[0].contains("[nr 63, x86_64]"), r.stderr)
        XCTAssertTrue(violations[0].contains("(perl, /usr/bin/perl): kill"), r.stderr)
    }

    func test_errnoDefaultFailsTheSyscallAndReportsIt() {
        let r = Pit.run(["--seccomp-string", "POLICY a { ALLOW { execve, exit_group, exit } } USE a DEFAULT ERRNO(1)", "--", "/bin/true"])
        let violations = lines(r.stderr).filter { $0.contains("violation: ") }
        XCTAssertFalse(violations.isEmpty, r.stderr)
        XCTAssertTrue(violations.allSatisfy { $0.hasSuffix(": errno") }, r.stderr)
        // The loader copes badly with failing mmap (it may crash on its own), but Pit did not kill it.
        XCTAssertNotEqual(r.status, 128 + SIGSYS, r.stderr)
        XCTAssertFalse(r.stderr.contains("Bad system call"), r.stderr)
    }

    func test_logDefaultLetsTheProgramRunAndReportsEverything() {
        let r = Pit.run(["--seccomp-string", "POLICY a { ALLOW { execve } } USE a DEFAULT LOG", "--", "/bin/sh", "-c", "echo hello"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "hello\n")
        let reported = Set(lines(r.stderr).compactMap { line in line.range(of: "violation: ").map { String(line[$0.upperBound...].prefix { $0 != "(" }) } })
        XCTAssertTrue(reported.isSuperset(of: ["write", "exit_group"]), "\(reported)")
    }

    func test_policyWithoutExecveStartsTheCommandButNoLaterExec() {
        // Pit lets its own exec into the jail through; the jailed shell's exec of /bin/true is a violation.
        let policy = "POLICY a { ALLOW { read, write, brk, mmap, munmap, mprotect, openat, close, newfstatat, fstat, pread64, arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, getrandom, access, exit_group, rt_sigaction, rt_sigreturn, rt_sigprocmask, geteuid, getppid, getpid, getcwd, fcntl, wait4, clone, vfork, ioctl, getuid, getgid, getegid } } USE a DEFAULT KILL"
        let r = Pit.run(["--seccomp-string", policy, "--", "/bin/sh", "-c", "echo started; /bin/true; echo after"])
        XCTAssertEqual(r.stdout, "started\nafter\n", r.stderr)
        XCTAssertEqual(r.status, 0)
        let violations = lines(r.stderr).filter { $0.contains("violation: ") }
        XCTAssertEqual(violations.count, 1, r.stderr)
        XCTAssertTrue(violations.first?.contains("violation: execve(") ?? false, r.stderr)
    }

    func test_policyWithoutExecveOrListenerIsRefusedBeforeAnythingStarts() {
        // KILL written as a rule (not a reported default) leaves no listener to let Pit's own exec through.
        let r = Pit.run(["--seccomp-string", "POLICY a { KILL { execve } } USE a DEFAULT ALLOW", "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--seccomp-string: the policy does not allow execve"), r.stderr)
    }

    func test_policySyntaxErrorNamesLineColumnWithCaret() {
        let dir = ScratchDirectory()
        dir.write("bad.policy", "POLICY a {\n  ALLOW { reed }\n}\nUSE a DEFAULT KILL\n")
        let r = Pit.run(["--policy", dir.path + "/bad.policy", "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("\(dir.path)/bad.policy:2:11: unknown syscall 'reed' (did you mean 'read'?)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("^"), r.stderr)
    }
}

final class FirstSyscallTests: XCTestCase {
    /// The jailed command's very first syscalls are judged like any other, even when they race with the parent
    /// reading the exec's end-of-file (a queued "filter loaded" byte once made them pass as Pit's own: 5 in 80).
    func test_theCommandsFirstSyscallIsReportedEveryTime() {
        for i in 0..<40 {
            let name = "first\(getpid())x\(i)"   // a fresh policy each time: compiled, not cached
            let r = Pit.run(["--seccomp-string", "POLICY \(name) { REPORT { uname } } USE \(name) DEFAULT ALLOW", "--", "/bin/uname"])
            XCTAssertTrue(r.stderr.contains("violation: uname("), "run \(i): \(r.stderr)")
            XCTAssertEqual(r.status, 128 + SIGSYS, "run \(i)")
        }
    }
}

final class PolicyCacheTests: XCTestCase {
    func test_compiledPolicyIsCachedAndTheCachedFilterEnforcesTheSame() {
        // A policy text no other test uses, so its cache entry is this test's own.
        let policy = "POLICY cachetest\(getpid()) { REPORT { uname } } USE cachetest\(getpid()) DEFAULT ALLOW"
        let first = Pit.run(["--seccomp-string", policy, "--", "/bin/uname"])
        XCTAssertTrue(first.stderr.contains("violation: uname("), first.stderr)
        let listing = Process.run(["/usr/bin/grep", "-l", "cachetest\(getpid())", "-r", Pit.policyCache]).stdout
        XCTAssertTrue(listing.isEmpty, "the cache keys by hash; it does not keep the policy text")
        let count = lines(Process.run(["/usr/bin/find", Pit.policyCache, "-type", "f"]).stdout).count
        XCTAssertGreaterThan(count, 0, "nothing cached")
        let second = Pit.run(["--seccomp-string", policy, "--", "/bin/uname"])
        XCTAssertTrue(second.stderr.contains("violation: uname("), second.stderr)
        XCTAssertEqual(second.status, first.status)
        XCTAssertEqual(lines(Process.run(["/usr/bin/find", Pit.policyCache, "-type", "f"]).stdout).count, count, "the second run used the entry")
    }

    func test_anotherCompilerNeverLoadsThisOnesEntries() throws {
        // Another build of Pit (here: a copy of this one, another file) must compile the policy itself: a cached
        // filter is a function of the compiler as well as of the text (after an upgrade without a reboot /run
        // keeps the old compiler's entries).
        let dir = ScratchDirectory()
        let copy = dir.path + "/pit-other-build"
        XCTAssertEqual(Process.run(["/bin/cp", Pit.executable, copy]).status, 0)
        let policy = "POLICY other\(getpid()) { REPORT { uname } } USE other\(getpid()) DEFAULT ALLOW"
        func entries() -> Int { lines(Process.run(["/usr/bin/find", Pit.policyCache, "-type", "f"]).stdout).count }
        XCTAssertTrue(Pit.run(["--seccomp-string", policy, "--", "/bin/uname"]).stderr.contains("violation: uname("))
        let afterFirst = entries()
        XCTAssertTrue(Pit.run(["--seccomp-string", policy, "--", "/bin/uname"]).stderr.contains("violation: uname("))
        XCTAssertEqual(entries(), afterFirst, "the same compiler reuses its entry")
        let other = Process.run([copy, "run", "--seccomp-string", policy, "--", "/bin/uname"])
        XCTAssertTrue(other.stderr.contains("violation: uname("), other.stderr)
        XCTAssertEqual(entries(), afterFirst + 1, "the other build compiled and stored its own entry")
    }

    func test_forgedCacheEntryIsUsedOnlyFromARootOnlyDirectory() throws {
        let policy = "POLICY forge\(getpid()) { REPORT { uname } } USE forge\(getpid()) DEFAULT ALLOW"
        XCTAssertTrue(Pit.run(["--seccomp-string", policy, "--", "/bin/uname"]).stderr.contains("violation: uname("))
        // The entry's name hashes the compiler's identity too (see PolicyCache.key): find it by the policy's hash
        // in its header instead, the newest such entry (an older one would be another compiler's).
        let hash = Process.run(["/bin/sh", "-c", "printf '%s' \"$0\" | sha256sum | cut -d' ' -f1", policy]).stdout.filter { $0.isHexDigit }
        let path = Process.run(["/bin/sh", "-c", "ls -t $(grep -l -a \"hash=$0\" -r $1) | head -1", hash, Pit.policyCache]).stdout
            .filter { $0 != "\n" }
        let original = try XCTUnwrap(readText(path), "no cache entry at \(path)")
        defer {
            chmod(Pit.policyCache, 0o700)
            unlink(path)
        }
        // Forge it: same header, a program that allows everything (BPF_RET|BPF_K, SECCOMP_RET_ALLOW).
        let header = String(original[..<original.range(of: "\n\n")!.upperBound])
        let forged = Array(header.utf8) + [0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f]
        let fd = open(path, O_WRONLY | O_TRUNC)
        XCTAssertEqual(write(fd, forged, forged.count), forged.count)
        close(fd)

        // Others may write the directory: the entry is not trusted, the policy is compiled again.
        chmod(Pit.policyCache, 0o777)
        XCTAssertTrue(Pit.run(["--seccomp-string", policy, "--", "/bin/uname"]).stderr.contains("violation: uname("))
        // Control: in a root-only directory a root-written entry is trusted (so the check above is what stopped it).
        chmod(Pit.policyCache, 0o700)
        XCTAssertFalse(Pit.run(["--seccomp-string", policy, "--", "/bin/uname"]).stderr.contains("violation: uname("))
    }

    func test_policyFileIsFoundByItsIdentityAndAnEditInPlaceIsSeen() throws {
        // A policy file is cached by device, inode, size and times too, so a launch need not read it; an edit in
        // place (same inode, same size, within the same second) moves its ctime and must never reuse the entry.
        let dir = ScratchDirectory()
        let name = "ident\(getpid())"
        let reporting = "POLICY \(name) { REPORT { uname } } USE \(name) DEFAULT ALLOW"
        let path = dir.write("svc.policy", reporting)
        XCTAssertTrue(Pit.run(["--policy", path, "--", "/bin/uname"]).stderr.contains("violation: uname("))
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0)
        let entry = Pit.policyCache + "/f\(st.st_dev)-\(st.st_ino)-\(st.st_size)-"
        let entries = lines(Process.run(["/usr/bin/find", Pit.policyCache, "-path", entry + "*"]).stdout)
        XCTAssertEqual(entries.count, 1, "one entry under the file's identity")
        XCTAssertTrue(Pit.run(["--policy", path, "--", "/bin/uname"]).stderr.contains("violation: uname("), "from that entry")
        // Same length, other syscall: umask instead of uname.
        let other = "POLICY \(name) { REPORT { umask } } USE \(name) DEFAULT ALLOW"
        XCTAssertEqual(other.utf8.count, reporting.utf8.count)
        let fd = open(path, O_WRONLY)
        XCTAssertEqual(write(fd, other, other.utf8.count), other.utf8.count)
        close(fd)
        let after = Pit.run(["--policy", path, "--", "/bin/uname"])
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertFalse(after.stderr.contains("violation: uname("), "the edited policy applies: \(after.stderr)")
    }
}
