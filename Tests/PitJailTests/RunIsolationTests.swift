import PitTestSupport
import Glibc
import XCTest

/// `pit run` driven as a user would, as root on the real kernel: real namespaces, mounts, cgroups, seccomp.
final class RunIsolationTests: XCTestCase {
    func test_jailSeesOnlyItsOwnProcessesAndRunsAsTheGivenUser() {
        let r = Pit.run(["--chroot", "/", "--user", "99999", "--group", "99999", "--", "/bin/sh", "-c", "ps -e -o pid=,user=,comm=; id -u; id -g"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        let processes = out.dropLast(2).map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        XCTAssertEqual(processes.map { String($0[0]) }, ["1", "2"], r.stdout)   // the shell is PID 1, ps is PID 2
        XCTAssertEqual(processes.map { String($0[2]) }, ["sh", "ps"])
        XCTAssertEqual(Array(out.suffix(2)), ["99999", "99999"])
    }

    func test_defaultUserIsNobodyNotRoot() {
        let r = Pit.run(["--", "/bin/sh", "-c", "id -u; id -g; id -G"])
        XCTAssertEqual(lines(r.stdout), ["65534", "65534", "65534"], r.stderr)
    }

    func test_capabilitiesAreClearedAndNoNewPrivsIsSet() {
        let r = Pit.run(["--", "/bin/grep", "-E", "^(Cap|NoNewPrivs|Seccomp:)", "/proc/self/status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            XCTAssertTrue(r.stdout.contains("\(set):\t0000000000000000"), "\(set) in \(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("NoNewPrivs:\t1"))
        // Without a policy of its own, the jail still gets Pit's baseline filter (Baseline.swift).
        XCTAssertTrue(r.stdout.contains("Seccomp:\t2"), r.stdout)
    }

    func test_keptCapabilityIsTheOnlyOneLeftInEverySet() {
        let r = Pit.run(["--user", "99999", "--keep-caps", "CAP_NET_BIND_SERVICE", "--", "/bin/grep", "^Cap", "/proc/self/status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {   // bit 10
            XCTAssertTrue(r.stdout.contains("\(set):\t0000000000000400"), "\(set) in \(r.stdout)")
        }
    }

    func test_unknownCapabilityIsRejectedWithASuggestion() {
        let r = Pit.run(["--keep-caps", "CAP_NET_BIND_SERVIC", "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--keep-caps: unknown capability 'CAP_NET_BIND_SERVIC' (did you mean 'CAP_NET_BIND_SERVICE'?)"), r.stderr)
    }

    func test_capabilityPastTheKernelsLastIsRefusedNamingTheLast() throws {
        // Pit asks the kernel (PR_CAPBSET_READ) rather than reading cap_last_cap: the two must agree.
        let last = Int(readText("/proc/sys/kernel/cap_last_cap")?.split(separator: "\n").first ?? "") ?? -1
        XCTAssertGreaterThan(last, 30)
        let r = Pit.run(["--keep-caps", String(last + 1), "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("capability \(last + 1) is not known to this kernel (last is \(last))"), r.stderr)
        XCTAssertEqual(Pit.run(["--user", "0", "--keep-caps", String(last), "--", "/bin/true"]).status, 0)
    }

    func test_readOnlyBindRefusesWrites_EROFS() {
        let dir = ScratchDirectory()
        dir.write("file", "hello\n")
        let r = Pit.run(["--bind", "\(dir.path):/data", "--", "/bin/sh", "-c", "cat /data/file; echo x > /data/new"])
        XCTAssertEqual(r.stdout, "hello\n")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("Read-only file system"), r.stderr)
        XCTAssertFalse(fileExists(dir.path + "/new"))
    }

    func test_writableBindWritesThroughToTheHost() {
        let dir = ScratchDirectory()
        chmod(dir.path, 0o777)
        let r = Pit.run(["--bind-rw", "\(dir.path):/data", "--", "/bin/sh", "-c", "echo written > /data/new"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(readText(dir.path + "/new"), "written\n")
    }

    func test_rootAndDevAreReadOnlyAndTmpfsIsWritable() {
        let r = Pit.run(["--tmpfs", "/scratch:1M", "--", "/bin/sh", "-c",
                         "touch /x 2>/dev/null && echo root-writable; touch /dev/x 2>/dev/null && echo dev-writable; echo ok > /scratch/f && cat /scratch/f"])
        XCTAssertEqual(r.stdout, "ok\n", r.stderr)
    }

    func test_undeclaredHostPathsAreAbsent() {
        let r = Pit.run(["--", "/bin/sh", "-c", "ls -a /; ls /etc /home /root /work /sys 2>&1 | wc -l"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let entries = Set(lines(r.stdout).dropLast())
        XCTAssertTrue(entries.isSubset(of: [".", "..", "usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "proc", "dev"]), "\(entries)")
        XCTAssertEqual(lines(r.stdout).last, "5")   // five "No such file or directory" lines
    }

    func test_devHoldsOnlyTheHarmlessDevices() {
        let r = Pit.run(["--", "/bin/ls", "/dev"])
        XCTAssertEqual(Set(lines(r.stdout)), ["fd", "full", "null", "random", "stderr", "stdin", "stdout", "urandom", "zero"], r.stderr)
    }

    func test_devicesWorkForTheJailsUserWithAndWithoutAUserNamespace() {
        // Made with mknod (mode 0666 whatever the umask) without a user namespace, bound from the host inside one.
        let script = "echo x > /dev/null && head -c 3 /dev/zero | od -An -tx1 && head -c 8 /dev/urandom | wc -c && stat -c '%a %t,%T' /dev/null /dev/urandom"
        for extra in [[], ["--userns"]] {
            let r = Pit.run(["--user", "1000"] + extra + ["--", "/bin/sh", "-c", script])
            XCTAssertEqual(r.status, 0, "\(extra): \(r.stderr)")
            XCTAssertEqual(lines(r.stdout), [" 00 00 00", "8", "666 1,3", "666 1,9"], "\(extra)")
        }
    }

    func test_procIsMountedNosuidNodevNoexec() {
        let r = Pit.run(["--", "/bin/grep", " /proc ", "/proc/self/mountinfo"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for flag in ["nosuid", "nodev", "noexec"] { XCTAssertTrue(r.stdout.contains(flag), r.stdout) }
    }

    func test_rlimitsAreApplied() {
        let r = Pit.run(["--rlimit", "nofile=17:19", "--rlimit", "fsize=1M", "--", "/bin/sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -f"])
        XCTAssertEqual(lines(r.stdout), ["17", "19", "0", "2048"], r.stderr)   // ulimit -f counts 512-byte blocks
    }

    func test_badRlimitNamesTheFlag() {
        let r = Pit.run(["--rlimit", "nofiles=3", "--", "/bin/true"])
        XCTAssertEqual(r.status, 125)
        XCTAssertTrue(r.stderr.contains("--rlimit: unknown resource limit 'nofiles' (did you mean 'nofile'?)"), r.stderr)
    }

    func test_fdOpenedBeforeRunIsAbsentInside() {
        let fd = open("/etc/hostname", O_RDONLY)   // deliberately not close-on-exec
        defer { close(fd) }
        XCTAssertGreaterThan(fd, 2)
        let r = Pit.run(["--", "/bin/sh", "-c", "ls /proc/self/fd/; [ -e /proc/$$/fd/\(fd) ] && echo leaked || echo absent"], inherit: [fd])
        XCTAssertEqual(lines(r.stdout).last, "absent", r.stdout + r.stderr)
    }

    func test_commandIsPidOneAndEnvironmentHoldsOnlyPathAndGivenVariables() {
        let r = Pit.run(["--env", "GREETING=hi", "--", "/bin/sh", "-c", "echo $$; env | sort"])
        XCTAssertEqual(lines(r.stdout).first, "1")
        let env = lines(r.stdout).dropFirst().filter { !$0.hasPrefix("PWD=") }
        XCTAssertEqual(Array(env), ["GREETING=hi", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], r.stderr)
    }

    func test_exitStatusAndSignalArePassedThrough() {
        XCTAssertEqual(Pit.run(["--", "/bin/sh", "-c", "exit 7"]).status, 7)
        // A fault is forced even on a PID-namespace init: perl dereferencing address 1 dies of SIGSEGV.
        XCTAssertEqual(Pit.run(["--", "/usr/bin/perl", "-e", "unpack q(p), pack q(Q), 1"]).status, 128 + SIGSEGV)
    }

    func test_timeLimitKillsTheJail() {
        let r = Pit.run(["--time-limit", "1", "--", "/bin/sleep", "30"])
        XCTAssertEqual(r.status, 137)
        XCTAssertTrue(r.stderr.contains("time limit of 1 s"), r.stderr)
    }

    func test_networkAndHostnameAreTheHostsByDefaultAndPrivateOnRequest() {
        let host = readText("/proc/sys/kernel/hostname")!.filter { $0 != "\n" }
        let shared = Pit.run(["--", "/bin/sh", "-c", "cat /proc/sys/kernel/hostname; cat /proc/net/dev | wc -l"])
        let hostInterfaces = lines(readText("/proc/net/dev") ?? "").count
        XCTAssertEqual(lines(shared.stdout), [host, String(hostInterfaces)], shared.stderr)

        let isolated = Pit.run(["--netns", "--utsns", "--hostname", "decoy", "--", "/bin/sh", "-c",
                                "cat /proc/sys/kernel/hostname; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null || true"])
        XCTAssertEqual(lines(isolated.stdout).prefix(2), ["decoy", "lo"], isolated.stderr)
    }

    func test_userNamespaceMapsRootToAnUnprivilegedRange() {
        let r = Pit.run(["--userns", "--user", "0", "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        XCTAssertEqual(out.first, "0")
        XCTAssertEqual(out.last?.split(separator: " ").map(String.init), ["0", "100000", "65536"])
    }
}
