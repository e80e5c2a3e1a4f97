import CSeccomp
import PitPolicy
import PitTestSupport
import Glibc
import XCTest

/// Syscalls this kernel has and libseccomp 2.5.4 cannot name (issue 20): the table (KernelSyscalls) against
/// libseccomp and against the running kernel, and policies naming them compiled and enforced in a real jail.
final class KernelSyscallTests: XCTestCase {
    static let tokens: [String: UInt32] = ["x86_64": 0xC000_003E, "i386": 0x4000_0003, "aarch64": 0xC000_00B7, "arm": 0x4000_0028, "x32": 0x4000_003E]

    private func libseccompName(_ arch: String, _ nr: Int) -> String? {
        guard let p = seccomp_syscall_resolve_num_arch(Self.tokens[arch]!, Int32(nr)) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Where both know a syscall they agree: libseccomp has no other name at any of the table's numbers, and none
    /// of the table's names (the table only adds). The issue's fourteen names are all there, on all four.
    func test_tableAddsOnlyWhatLibseccompLacksAndCoversTheIssuesNames() {
        for (arch, entries) in KernelSyscalls.byArch {
            for (nr, name) in entries {
                XCTAssertNil(libseccompName(arch, nr), "\(arch) \(nr): libseccomp already names it, the table says \(name)")
                XCTAssertEqual(seccomp_syscall_resolve_name_arch(Self.tokens[arch]!, name), -1 /* __NR_SCMP_ERROR */, "\(arch): libseccomp knows \(name)")
            }
        }
        let wanted = ["mseal", "statmount", "listmount", "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "setxattrat",
                      "getxattrat", "listxattrat", "removexattrat", "file_getattr", "file_setattr", "open_tree_attr"]
        for arch in ["x86_64", "i386", "aarch64", "arm"] {
            let names = Set(KernelSyscalls.byArch[arch]!.map(\.1))
            for name in wanted { XCTAssertTrue(names.contains(name), "\(name) on \(arch)") }
        }
        XCTAssertTrue(KernelSyscalls.byArch["x86_64"]!.contains { $0 == (335, "uretprobe") })
    }

    /// The table leans on the kernel's rule that every architecture takes a new syscall at one number since 424:
    /// libseccomp's own tables show it for 424-456 on all four (arm lacks only memfd_secret, 447).
    func test_libseccompsNewestRangeIsOneNumberingOnAllFourArchitectures() {
        for nr in 424...456 {
            let x86 = libseccompName("x86_64", nr)
            XCTAssertNotNil(x86, "\(nr)")
            for arch in ["i386", "aarch64", "arm"] where !(arch == "arm" && nr == 447) {
                XCTAssertEqual(libseccompName(arch, nr), x86, "\(arch) \(nr)")
            }
        }
        XCTAssertNil(libseccompName("x86_64", 457), "libseccomp learned 457: regenerate the table (image/gen-kernel-syscalls)")
    }

    /// This kernel answers each of the table's numbers for its own architecture (anything but ENOSYS to invalid
    /// arguments), and the names resolve to them. uretprobe outside a uprobe trampoline is answered with SIGILL.
    func test_thisKernelHasEveryNumberOfTheTable() throws {
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "aarch64"
        #else
        throw XCTSkip("the probe runs on x86_64 and aarch64")
        #endif
        for (nr, name) in KernelSyscalls.byArch[arch]! {
            let r = Process.run(["/usr/bin/perl", "-e", "syscall(\(nr), -1, 0, 0, 0, 0); print $! + 0"])
            if name == "uretprobe" {
                XCTAssertEqual(r.status, 128 + SIGILL, "uretprobe answers a call from outside a trampoline with SIGILL")
                continue
            }
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertNotEqual(r.stdout, "\(ENOSYS)", "\(name) (\(nr)) is not known to this kernel")
        }
        // listns (470) is not in this kernel, and not in the table.
        XCTAssertEqual(Process.run(["/usr/bin/perl", "-e", "syscall(470, 0, 0, 0, 0); print $! + 0"]).stdout, "\(ENOSYS)")
    }

    /// A policy naming them compiles for this architecture, enforces by number, and names them in reports.
    func test_policiesNamingThemAreEnforcedAndReportedByName() {
        let probe = "syscall(462, 0, 0, 0); print $! + 0, qq(\\n); syscall(468, -1, 0, 0, 0, 0); print $! + 0, qq(\\n); syscall(457, 0, 0, 0, 0); print $! + 0, qq(\\n)"
        let open = Pit.run(["--", "/usr/bin/perl", "-e", probe])
        XCTAssertEqual(open.status, 0, open.stderr)
        XCTAssertFalse(lines(open.stdout).contains("1"), open.stdout)
        let denied = Pit.run(["--seccomp-string", "ERRNO(1) { mseal, file_getattr, statmount } DEFAULT ALLOW", "--", "/usr/bin/perl", "-e", probe])
        XCTAssertEqual(lines(denied.stdout), ["1", "1", "1"], denied.stderr)
        let reported = Pit.run(["--seccomp-string", "REPORT { mseal } DEFAULT ALLOW", "--", "/usr/bin/perl", "-e", "syscall(462, 0, 0, 0)"])
        XCTAssertEqual(reported.status, 128 + SIGSYS, reported.stderr)
        XCTAssertTrue(reported.stderr.contains("violation: mseal(0x0, 0x0, 0x0"), reported.stderr)
        XCTAssertTrue(reported.stderr.contains("Bad system call: mseal (nr 462)"), reported.stderr)
    }
}
