import PitTestSupport
import Glibc
import XCTest

/// The walls issue 16 adds, each seen falling on its own: every test has a control where the same attempt
/// works (on the host, or with the one wall opened), so a pass means that wall stopped it.
final class HardeningTests: XCTestCase {
    /// `pit run ARGUMENTS` refused before any jail: exit 125, and stderr says `message`.
    private func assertRefused(_ arguments: [String], saying message: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = Pit.run(arguments)
        XCTAssertEqual(r.status, 125, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), r.stderr, file: file, line: line)
    }

    // MARK: /proc's kernel knobs

    func test_rootWithoutUserNamespaceCannotWriteProcSys_EROFS() {
        // Writing back the current value changes nothing, wherever it lands.
        let attempt = "cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern && echo wrote || echo refused"
        let jailed = Pit.run(["--user", "0", "--group", "0", "--", "/bin/sh", "-c", attempt])
        XCTAssertEqual(lines(jailed.stdout), ["refused"], jailed.stderr)
        XCTAssertTrue(jailed.stderr.contains("Read-only file system"), jailed.stderr)
        // Control: the same shell as root outside a jail writes it (uid 0 is all /proc/sys asks for).
        let host = Process.run(["/bin/sh", "-c", attempt])
        XCTAssertEqual(lines(host.stdout), ["wrote"], host.stderr)
    }

    func test_procSysIsMountedReadOnlyAndSecretsAreMasked() {
        let r = Pit.run(["--user", "0", "--group", "0", "--", "/bin/sh", "-c",
                         "grep -E ' /proc/(sys|keys|timer_list|acpi) ' /proc/self/mountinfo; wc -c < /proc/keys"])
        let mounts = lines(r.stdout).filter { $0.contains(" /proc/") }
        let sys = mounts.first { $0.split(separator: " ")[4] == "/proc/sys" }
        XCTAssertNotNil(sys, r.stdout + r.stderr)
        XCTAssertTrue(sys.map { $0.split(separator: " ")[5].split(separator: ",").contains("ro") } ?? false, sys ?? "")
        XCTAssertTrue(mounts.contains { $0.split(separator: " ")[4] == "/proc/keys" }, r.stdout)
        XCTAssertEqual(lines(r.stdout).last, "0", "/proc/keys reads as /dev/null: \(r.stdout)")
        // Control: the host's /proc/keys, read the same way, is not empty (root sees at least its own session
        // keyring's line), so the 0 above is the mask's.
        let host = Process.run(["/bin/sh", "-c", "wc -c < /proc/keys"])
        XCTAssertNotEqual(lines(host.stdout).last ?? "0", "0", "control: \(host.stdout) \(host.stderr)")
    }

    func test_hostProcAndWritableSysBindsAreRefusedNamingTheFlag() {
        assertRefused(["--bind", "/proc:/hostproc", "--", "/bin/true"], saying: "--bind: /proc: binding the host's /proc")
        assertRefused(["--bind-rw", "/sys", "--", "/bin/true"], saying: "--bind-rw: /sys: /sys holds kernel knobs")
        // Control: /sys read-only is allowed, and stays read-only for root in the jail.
        let readOnly = Pit.run(["--bind", "/sys", "--user", "0", "--", "/bin/sh", "-c", "echo x > /sys/kernel/uevent_helper"])
        XCTAssertTrue(readOnly.stderr.contains("Read-only file system"), readOnly.stderr)
    }

    // MARK: nested namespaces

    func test_nestedUserNamespaceIsRefusedAndReportedWithoutAPolicy() {
        let r = Pit.run(["--", "/usr/bin/unshare", "--user", "--net", "/bin/true"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("unshare failed: Operation not permitted"), r.stderr)
        XCTAssertTrue(r.stderr.contains("violation: unshare(0x50000000"), r.stderr)
        // Control: outside a jail the same unprivileged user makes both namespaces.
        let host = Process.run(["/usr/sbin/runuser", "-u", "nobody", "--", "/usr/bin/unshare", "--user", "--net", "/bin/true"])
        XCTAssertEqual(host.status, 0, "control: \(host.stderr)")
    }

    func test_policyAllowingUnshareStillRefusesNamespacesUnlessItFiltersTheFlags() {
        let loose = Pit.run(["--seccomp-string", "POLICY a { ALLOW { unshare } } USE a DEFAULT ALLOW",
                             "--", "/usr/bin/unshare", "--user", "/bin/true"])
        XCTAssertNotEqual(loose.status, 0)
        XCTAssertTrue(loose.stderr.contains("violation: unshare(0x10000000"), loose.stderr)
        // The policy's explicit word on unshare's flags stands: this one asks for user namespaces by name.
        let explicit = Pit.run(["--seccomp-string", "POLICY a { ALLOW { unshare(flags) { flags == 0x10000000 } } } USE a DEFAULT ALLOW",
                                "--", "/usr/bin/unshare", "--user", "/bin/true"])
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        XCTAssertFalse(explicit.stderr.contains("violation"), explicit.stderr)
    }

    func test_setnsIsRefusedAndReported() {
        let r = Pit.run(["--user", "0", "--group", "0", "--keep-caps", "CAP_SYS_ADMIN", "--",
                         "/usr/bin/nsenter", "--net=/proc/1/ns/net", "/bin/true"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("violation: setns("), r.stderr)
    }

    // MARK: Landlock

    func test_landlockKeepsTheJailFromTheHostsLoopbackServicesAndUnlistedWrites() throws {
        // A host service on the loopback, which the jail's shared network namespace can otherwise reach.
        let (listener, port) = loopbackSocket(SOCK_STREAM)
        defer { close(listener) }
        XCTAssertNotEqual(port, 0, "no loopback listener")
        let script = "use IO::Socket::INET; print IO::Socket::INET->new(PeerAddr => '127.0.0.1:\(port)') ? \"connected\\n\" : \"refused: $!\\n\"; "
            + "print open(my $f, '>', '/scratch/x') ? \"wrote\\n\" : \"write: $!\\n\";"
        let base = ["--tmpfs", "/scratch", "--landlock-exec", "/usr"]
        let walled = Pit.run(base + ["--", "/usr/bin/perl", "-e", script])
        XCTAssertEqual(lines(walled.stdout), ["refused: Permission denied", "write: Permission denied"], walled.stderr)
        // Each opening alone: the listed port connects, the listed directory takes the write.
        let port_ = Pit.run(base + ["--landlock-connect-tcp", String(port), "--", "/usr/bin/perl", "-e", script])
        XCTAssertEqual(lines(port_.stdout), ["connected", "write: Permission denied"], port_.stderr)
        let write = Pit.run(base + ["--landlock-write", "/scratch", "--", "/usr/bin/perl", "-e", script])
        XCTAssertEqual(lines(write.stdout), ["refused: Permission denied", "wrote"], write.stderr)
        // Control: without Landlock the same jail reaches the host's service.
        let open = Pit.run(["--tmpfs", "/scratch", "--", "/usr/bin/perl", "-e", script])
        XCTAssertEqual(lines(open.stdout), ["connected", "wrote"], open.stderr)
    }

    func test_aLandlockRuleNeverFollowsASymlink() {
        // A link in the jail's own writable tree (it outlives the jail) must not widen the next run's rules: the
        // rule naming it is a setup error; naming the real directory works.
        let dir = ScratchDirectory()
        dir.makeDirectory("real")
        symlink("/usr", dir.path + "/wide")
        let linked = Pit.run(["--bind-rw", "\(dir.path):/data", "--landlock-exec", "/usr", "--landlock-write", "/data/wide", "--", "/bin/true"])
        XCTAssertEqual(linked.status, 125)
        XCTAssertTrue(linked.stderr.contains("landlock write: /data/wide: Too many levels of symbolic links"), linked.stderr)
        let real = Pit.run(["--bind-rw", "\(dir.path):/data", "--landlock-exec", "/usr", "--landlock-write", "/data/real", "--", "/bin/true"])
        XCTAssertEqual(real.status, 0, real.stderr)
    }

    func test_landlockPathMissingInTheJailIsASetupErrorNamingIt() {
        assertRefused(["--landlock-read", "/nonexistent", "--", "/bin/true"],
                      saying: "landlock read: /nonexistent: No such file or directory")
    }

    // MARK: limits that could reach Pit

    func test_aJailAtItsMemoryLimitNeverTakesPitDown() {
        // The jail's child is in its memory cgroup before it execs. Sharing Pit's memory there, the OOM killer
        // at the limit killed Pit too (every process sharing the victim's memory): with the smallest limit
        // accepted and a program that allocates past it, the jail dies and pit run lives to exit with its status.
        let hog = "my $x = 'x' x (64 << 20); print length($x), qq(\\n)"
        let child = Process.spawn([Pit.executable, "run", "--memory-max", "1M", "--", "/usr/bin/perl", "-e", hog])
        let (_, err) = Process.drain(child.stdout, child.stderr)
        var status: Int32 = 0
        XCTAssertEqual(waitpid(child.pid, &status, 0), child.pid)
        XCTAssertEqual(status & 0x7f, 0, "pit run itself was killed by signal \(status & 0x7f): \(err)")
        XCTAssertEqual((status >> 8) & 0xff, 128 + SIGKILL, "the jail's status, passed through: \(err)")
    }

    func test_memoryLimitBelowTheFloorIsRefusedNamingTheFlag() {
        assertRefused(["--memory-max", "4K", "--", "/bin/true"], saying: "--memory-max: 4096 bytes is below 1M")
    }

    // MARK: root in the Samba jails

    func test_userZeroWithoutUserNamespaceWarnsWhatItExposes() {
        let r = Pit.run(["--user", "0", "--", "/bin/true"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("warning: --user 0 without --userns"), r.stderr)
        let mapped = Pit.run(["--user", "0", "--userns", "--", "/bin/true"])
        XCTAssertFalse(mapped.stderr.contains("warning"), mapped.stderr)
    }

    func test_userNamespaceRangeOverHostAccountsIsRefusedNamingTheField() {
        // Host ids 1-65536 hold daemon (uid 1) and nobody: root of such a jail would be daemon on the host.
        assertRefused(["--userns", "--userns-range-start", "1", "--", "/bin/true"],
                      saying: "--userns-range-start: host ids 1-65536 are not free: user 'daemon' (uid 1)")
        // Control: the default range (100000-165535) is free here.
        XCTAssertEqual(Pit.run(["--userns", "--", "/bin/true"]).status, 0)
    }

    func test_peerIDsAreMappedAfterTheRangeAndRefusedWhenTakenOrWithoutUserNamespace() {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        func spec(_ name: String, _ body: String) -> String { dir.write(name, "command = [\"/usr/bin/cat\", \"/proc/self/uid_map\"]\n" + body) }
        let mapped = Pit.run(["--jail", spec("ok.toml", "userns = true\nuserns_range_start = 200000\nuserns_peer_ids = [400000]\n")])
        XCTAssertEqual(mapped.status, 0, mapped.stderr)
        XCTAssertEqual(lines(mapped.stdout).map { $0.split(separator: " ").joined(separator: " ") }, ["0 200000 65536", "65536 400000 1"])

        assertRefused(["--jail", spec("plain.toml", "userns_peer_ids = [400000]\n")],
                      saying: "plain.toml:2:20: userns_peer_ids[0]: peer ids are mapped into the jail's user namespace")
        assertRefused(["--jail", spec("overlap.toml", "userns = true\nuserns_range_start = 200000\nuserns_peer_ids = [200005]\n")],
                      saying: "host id 200005 is already mapped")
        assertRefused(["--jail", spec("account.toml", "userns = true\nuserns_range_start = 200000\nuserns_peer_ids = [65534]\n")],
                      saying: "host id 65534 is not free: user 'nobody'")
    }

    func test_lowPortsNeedAUserNamespaceAndAPortBelow1024() {
        assertRefused(["--low-ports", "445", "--", "/bin/true"], saying: "--low-ports: low ports are for a jail in a user namespace")
        assertRefused(["--userns", "--low-ports", "8080", "--", "/bin/true"], saying: "'8080' is not a port below 1024")
    }

    func test_userNamespaceRootBindsALowPortOnlyThroughLowPorts() throws {
        try XCTSkipUnless(fileExists("/usr/bin/perl") && fileExists("/usr/sbin/ip"), "needs perl and ip")
        // In a network namespace of the test's own, so the host's sysctl is untouched.
        let ns = "pitlow\(getpid())"
        XCTAssertEqual(Process.run(["/usr/sbin/ip", "netns", "add", ns]).status, 0)
        defer { _ = Process.run(["/usr/sbin/ip", "netns", "del", ns]) }
        let bind = "use Socket; socket(S, PF_INET, SOCK_STREAM, 0) or die; bind(S, sockaddr_in(445, INADDR_ANY)) or die \"bind: $!\\n\"; print \"bound\\n\""
        func run(_ extra: [String]) -> Captured {
            Process.run(["/usr/bin/nsenter", "--net=/run/netns/" + ns, Pit.executable, "run", "--user", "0", "--userns"] + extra
                        + ["--", "/usr/bin/perl", "-e", bind])
        }
        let refused = run([])
        XCTAssertTrue(refused.stderr.contains("bind: Permission denied"), "root of a user namespace holds no CAP_NET_BIND_SERVICE here: \(refused.stderr)")
        let opened = run(["--low-ports", "445"])
        XCTAssertEqual(opened.stdout, "bound\n", opened.stderr)
    }
}

/// What a Pit killed with -9 leaves behind is cleaned by the next one.
final class StaleCgroupTests: XCTestCase {
    func test_aDeadPitsJailCgroupIsRemovedByTheNextPitRunAndALiveOnesIsKept() throws {
        // Where this machine puts jails' pids cgroups: a pit run with a pids limit shows it.
        let probe = Pit.run(["--pids-max", "8", "--", "/bin/cat", "/proc/self/cgroup"])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        guard let parent = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"].first(where: { fileExists($0 + "/cgroup.procs") }) else {
            throw XCTSkip("no pids hierarchy found")
        }
        // A jail cgroup of a Pit that no longer exists (pid 4194303 is above this machine's pid_max or free),
        // and one of a live process (this test).
        let stale = parent + "/pit-stale-4194303", live = parent + "/pit-live-\(getpid())", busy = parent + "/pit-busy-4194302"
        guard mkdir(stale, 0o700) == 0 else { throw XCTSkip("cannot make a cgroup under \(parent): \(String(cString: strerror(errno)))") }
        XCTAssertEqual(mkdir(live, 0o700), 0)
        XCTAssertEqual(mkdir(busy, 0o700), 0)
        // An owner this Pit cannot see but a process inside: another PID namespace's running jail. Kept.
        let sleeper = Process.spawn(["/bin/sleep", "30"])
        XCTAssertTrue(writeText(busy + "/cgroup.procs", "\(sleeper.pid)"))
        defer {
            kill(sleeper.pid, SIGKILL); _ = Process.wait(sleeper.pid)
            rmdir(stale); rmdir(live); rmdir(busy)
        }
        // pit run cleans stale jail cgroups before it makes its own.
        let r = Pit.run(["--pids-max", "8", "--", "/bin/true"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(fileExists(stale), "a dead Pit's empty jail cgroup stayed")
        XCTAssertTrue(fileExists(live), "a live process's jail cgroup was removed")
        XCTAssertTrue(fileExists(busy), "a cgroup with a process in it was removed")
        XCTAssertEqual(kill(sleeper.pid, 0), 0, "the process in it was harmed")
    }
}

/// A bind source where others than root can write is opened without following symlinks: what a jail (or any user)
/// planted there cannot point Pit's root-run setup at a host file.
final class StrictSourceTests: XCTestCase {
    func test_aSymlinkWhereOthersCanWriteIsNotFollowedAndOneInARootOnlyDirectoryIs() throws {
        // Root-only all the way up (/root, then a 0700 directory): the host file the links point at, and the
        // control's link (the administrator's, followed).
        var template = Array("/root/pit-strict.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("no /root to work in") }
        let home = String(cString: made)
        defer { _ = Process.run(["/bin/rm", "-rf", home]) }
        let secret = home + "/secret"
        XCTAssertEqual(Process.run(["/bin/sh", "-c", "echo 'host secret' > \(secret)"]).status, 0)
        let open = ScratchDirectory()
        chmod(open.path, 0o1777)                 // like /tmp, or a jail's writable tree
        symlink(secret, open.path + "/link")
        let refused = Pit.run(["--bind", "\(open.path)/link:/x", "--", "/bin/cat", "/x"])
        XCTAssertEqual(refused.status, 125, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("bind: \(open.path)/link: Too many levels of symbolic links: others than root may write along this path"), refused.stderr)
        XCTAssertFalse(refused.stdout.contains("host secret"))
        // Control: the same link in a directory only root can write is the administrator's, and is followed.
        symlink(secret, home + "/link")
        let followed = Pit.run(["--user", "0", "--bind", "\(home)/link:/x", "--", "/bin/cat", "/x"])
        XCTAssertEqual(followed.stdout, "host secret\n", followed.stderr)
    }
}
