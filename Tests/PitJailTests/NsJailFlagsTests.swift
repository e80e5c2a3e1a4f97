import PitTestSupport
import Glibc
import XCTest

/// NsJail's command line pasted into `pit run` (issue 20): each option Pit maps is watched taking effect in a real
/// jail with NsJail's meaning and units, each other one is refused by name in one line, and NsJail's -Mo defaults
/// hold whenever NsJail's spellings are used.
final class NsJailFlagsTests: XCTestCase {
    /// `-Mo` and /usr (the merged-/usr links come with it): NsJail's root is otherwise empty.
    private func nsjail(_ arguments: [String], inherit: [Int32] = [], stdin: Int32? = nil) -> Captured {
        Pit.run(["-Mo", "-R", "/usr"] + arguments, stdin: stdin, inherit: inherit)
    }

    /// /proc/self/limits as (soft, hard) per resource line title.
    private func limits(_ text: String) -> [String: (String, String)] {
        var result: [String: (String, String)] = [:]
        for line in lines(text).dropFirst() {
            let title = String(line.prefix(26)).trimmed
            let fields = line.dropFirst(26).split(separator: " ").map(String.init)
            if fields.count >= 2 { result[title] = (fields[0], fields[1]) }
        }
        return result
    }

    private func ownLimit(_ resource: Int32) -> (soft: String, hard: String) {
        var current = Glibc.rlimit()
        getrlimit(__rlimit_resource_t(UInt32(resource)), &current)
        func text(_ value: rlim_t) -> String { value == rlim_t.max ? "unlimited" : "\(value)" }
        return (text(current.rlim_cur), text(current.rlim_max))
    }

    // MARK: rlimits

    func test_rlimitsCountInNsJailsUnits() {
        let r = nsjail(["--rlimit_as", "512", "--rlimit_fsize", "2", "--rlimit_stack", "16", "--rlimit_memlock", "128",
                        "--rlimit_cpu", "7", "--rlimit_nofile", "40", "--rlimit_core", "1", "--rlimit_msgqueue", "4096",
                        "--", "/bin/cat", "/proc/self/limits"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let l = limits(r.stdout)
        XCTAssertTrue(l["Max address space"]! == ("536870912", "536870912"), r.stdout)   // 512 MiB
        XCTAssertTrue(l["Max file size"]! == ("2097152", "2097152"), r.stdout)           // 2 MiB
        XCTAssertTrue(l["Max stack size"]! == ("16777216", "16777216"), r.stdout)        // 16 MiB
        XCTAssertTrue(l["Max locked memory"]! == ("131072", "131072"), r.stdout)         // 128 KiB
        XCTAssertTrue(l["Max cpu time"]! == ("7", "7"), r.stdout)
        XCTAssertTrue(l["Max open files"]! == ("40", "40"), r.stdout)
        XCTAssertTrue(l["Max core file size"]! == ("1048576", "1048576"), r.stdout)      // 1 MiB
        XCTAssertTrue(l["Max msgqueue size"]! == ("4096", "4096"), r.stdout)             // bytes
    }

    func test_rlimitKeywordsSoftHardDefInf() {
        let nofile = ownLimit(7)
        let stack = ownLimit(3)
        let r = nsjail(["--rlimit_nofile", "hard", "--rlimit_stack", "def", "--rlimit_as", "inf", "--rlimit_cpu", "max",
                        "--", "/bin/cat", "/proc/self/limits"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let l = limits(r.stdout)
        XCTAssertTrue(l["Max open files"]! == (nofile.hard, nofile.hard), r.stdout)
        XCTAssertTrue(l["Max stack size"]! == (stack.soft, stack.soft), r.stdout)
        XCTAssertTrue(l["Max address space"]! == ("unlimited", "unlimited"), r.stdout)
        let soft = nsjail(["--rlimit_nofile", "soft", "--", "/bin/cat", "/proc/self/limits"])
        XCTAssertTrue(limits(soft.stdout)["Max open files"]! == (nofile.soft, nofile.soft), soft.stdout + soft.stderr)
        let bad = nsjail(["--rlimit_as", "lots", "--", "/bin/true"])
        XCTAssertEqual(bad.status, 125)
        XCTAssertEqual(lines(bad.stderr), ["pit run: --rlimit_as 'lots': expected a number in MiB, or soft/def, hard/max or inf (as NsJail)"])
    }

    /// NsJail's fuzzing example sets --rlimit_as 512: read as bytes it killed every program with SIGSEGV.
    func test_rlimitAs512LetsAProgramRun() {
        let r = nsjail(["--rlimit_as", "512", "--", "/bin/sh", "-c", "echo alive"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "alive\n")
    }

    // MARK: NsJail's defaults

    func test_nsjailSpellingsBringNsJailsDefaults() {
        let r = nsjail(["--", "/bin/sh", "-c", "cat /proc/self/limits; hostname; cat /proc/self/uid_map; nice; tail -n +3 /proc/net/dev | cut -d: -f1; ls /"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let l = limits(r.stdout)
        XCTAssertTrue(l["Max address space"]! == ("4294967296", "4294967296"), r.stdout)   // 4096 MiB
        XCTAssertTrue(l["Max file size"]! == ("1048576", "1048576"), r.stdout)             // 1 MiB
        XCTAssertTrue(l["Max open files"]! == ("32", "32"), r.stdout)
        XCTAssertTrue(l["Max cpu time"]! == ("600", "600"), r.stdout)
        XCTAssertTrue(l["Max core file size"]! == ("0", "0"), r.stdout)
        let nproc = ownLimit(6)
        XCTAssertTrue(l["Max processes"]! == (nproc.soft, nproc.soft), r.stdout)           // NsJail: the soft limit
        let rest = Array(lines(r.stdout).drop { !$0.hasPrefix("Max realtime timeout") }.dropFirst())
        XCTAssertEqual(rest.first, "NSJAIL")                                                  // its own UTS namespace
        XCTAssertEqual(rest.dropFirst().first?.split(separator: " ").map(String.init), ["0", "100000", "65536"])   // its user namespace
        XCTAssertEqual(rest.dropFirst(2).first, "19")                                          // --nice_level 19
        XCTAssertEqual(rest.dropFirst(3).first?.trimmed, "lo")             // its own network: lo alone
        XCTAssertEqual(Array(rest.dropFirst(4)), ["bin", "dev", "lib", "lib64", "proc", "sbin", "usr"].filter { name in
            ["dev", "proc", "usr"].contains(name) || fileExists("/" + name) })                  // no default binds
        // Without NsJail's spellings, Pit's own defaults: the host's network, hostname and limits.
        let pit = Pit.run(["--", "/bin/sh", "-c", "hostname; grep 'open files' /proc/self/limits"])
        XCTAssertNotEqual(lines(pit.stdout).first, "NSJAIL", pit.stderr)
        XCTAssertFalse(pit.stdout.contains(" 32 "), pit.stdout)
    }

    func test_timeLimitAndItsZero() {
        let start = time(nil)
        let r = nsjail(["--time_limit", "1", "--", "/bin/sleep", "5"])
        XCTAssertEqual(r.status, 137, r.stderr)
        XCTAssertLessThan(time(nil) - start, 4)
        XCTAssertTrue(r.stderr.contains("reached its time limit of 1 s"), r.stderr)
        // 0: no limit, as NsJail (Pit's -t alone refused 0 before).
        XCTAssertEqual(nsjail(["-t", "0", "--", "/bin/true"]).status, 0)
    }

    func test_disableCloneFlagsGiveTheHostsNamespaces() {
        let r = nsjail(["-N", "--disable_clone_newuts", "--disable_clone_newuser", "--", "/bin/sh", "-c",
                        "hostname; cat /proc/self/uid_map; tail -n +3 /proc/net/dev | wc -l"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = lines(r.stdout)
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        XCTAssertEqual(out.first, String(cString: name))
        XCTAssertEqual(out.dropFirst().first?.split(separator: " ").map(String.init), ["0", "0", "4294967295"])
        let interfaces = readText("/proc/net/dev").map { lines($0).count - 2 } ?? 0
        XCTAssertEqual(out.last.flatMap { Int($0.trimmed) }, interfaces, r.stdout)
    }

    /// NsJail's --disable_clone_* on the command line turn off what a --jail spec turned on (the command line
    /// overrides the spec, as for every single value).
    func test_disableCloneFlagsOverrideAJailSpec() {
        let dir = ScratchDirectory()
        let spec = dir.write("spec.toml", "netns = true\nutsns = true\nhostname = \"spec\"\ncommand = [\"/bin/sh\", \"-c\", \"hostname; tail -n +3 /proc/net/dev | wc -l\"]\n")
        let own = Pit.run(["--jail", spec])
        XCTAssertEqual(lines(own.stdout), ["spec", "1"], own.stderr)
        let host = Pit.run(["--jail", spec, "-R", "/usr", "-N", "--disable_clone_newuts", "--disable_clone_newuser"])
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        XCTAssertEqual(lines(host.stdout).first, String(cString: name), host.stderr)
        XCTAssertNotEqual(lines(host.stdout).last?.trimmed, "1", host.stdout)
    }

    /// NsJail's README: `-Mo --chroot / --user 99999 --group 99999 -- /bin/bash`. A user namespace cannot bind
    /// / without /proc, /sys and /dev below it: the jail runs without one, as host uid 99999 (NsJail run as root
    /// maps 99999 to host uid 0), and says so in one line.
    func test_readmeShellPastesAndRunsAsTheGivenIds() {
        let dir = ScratchDirectory()
        let script = dir.write("script", "id -u; id -g; hostname; exit 3\n")
        let input = open(script, O_RDONLY)
        defer { close(input) }
        let r = Pit.run(["-Mo", "--chroot", "/", "--user", "99999", "--group", "99999", "--", "/bin/bash"], stdin: input)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertEqual(lines(r.stdout), ["99999", "99999", "NSJAIL"])
        XCTAssertEqual(lines(r.stderr).count, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("pit: note: no user namespace (NsJail's default): /") && r.stderr.contains("--disable_clone_newuser"), r.stderr)
        lseek(input, 0, SEEK_SET)
        let chosen = Pit.run(["-Mo", "--chroot", "/", "--user", "99999", "--group", "99999", "--disable_clone_newuser", "--", "/bin/bash"], stdin: input)
        XCTAssertEqual(chosen.status, 3, chosen.stderr)
        XCTAssertEqual(chosen.stderr, "")
        // A uid past Pit's usual 65536-id range fits NsJail's user namespace: the range grows to hold it.
        let grown = nsjail(["--user", "99999", "--group", "99999", "--", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map"])
        XCTAssertEqual(grown.status, 0, grown.stderr)
        XCTAssertEqual(lines(grown.stdout).first, "99999")
        XCTAssertEqual(lines(grown.stdout).last?.split(separator: " ").map(String.init), ["0", "100000", "100000"])
    }

    /// Without a user namespace (a --chroot with mounts below it) a kept capability would be the host's, where NsJail
    /// keeps it in its user namespace: refused by name, and granted only with --disable_clone_newuser said outright.
    func test_keptCapabilitiesWithoutAUserNamespaceAreRefused() {
        for caps in [["--keep_caps"], ["--cap", "CAP_SYS_ADMIN"]] {
            let r = Pit.run(["-Mo", "--chroot", "/"] + caps + ["--", "/bin/sh", "-c", "grep CapEff /proc/self/status"])
            XCTAssertEqual(r.status, 125, "\(caps): \(r.stdout) \(r.stderr)")
            XCTAssertEqual(r.stdout, "", "\(caps): the command must not run")
            XCTAssertTrue(r.stderr.contains("capabilities would be the host's") && r.stderr.contains("--disable_clone_newuser"), r.stderr)
        }
        let chosen = Pit.run(["-Mo", "--chroot", "/", "--cap", "CAP_NET_BIND_SERVICE", "--disable_clone_newuser", "--",
                              "/bin/sh", "-c", "grep CapEff /proc/self/status"])
        XCTAssertEqual(chosen.status, 0, chosen.stderr)
        XCTAssertTrue(chosen.stdout.contains("0000000000000400"), chosen.stdout)
    }

    /// NsJail's README: the minimal environment example, pasted as is.
    func test_readmeMinimalFindExample() throws {
        try XCTSkipUnless(fileExists("/lib/x86_64-linux-gnu") && fileExists("/lib64"), "x86_64 library layout")
        let r = Pit.run(["-Mo", "-R", "/lib/x86_64-linux-gnu", "-R", "/lib64", "-R", "/usr/bin/find", "-R", "/dev/urandom",
                         "--", "/usr/bin/find", "/"])
        let found = Set(lines(r.stdout))
        for path in ["/", "/usr/bin/find", "/dev/urandom", "/lib64", "/proc/self"] { XCTAssertTrue(found.contains(path), "\(path) in \(r.stdout.prefix(2000))") }
        XCTAssertFalse(found.contains("/etc") || found.contains("/usr/bin/sh"), r.stdout.prefix(2000).description)
        // find exits 1 for the /proc directories that host root owns 0500 (as under NsJail, whose root inside its
        // user namespace is not their owner either).
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("Permission denied"), r.stderr)
    }

    /// NsJail's README policy example, pasted: kafel's grammar has no DEFAULT inside a POLICY (parser.y: a
    /// policy holds action blocks and USE), so kafel, and NsJail with it, refuse it; so does Pit, at the line.
    /// Without that line, the program breaks the policy, whose default is KILL, and ends as under NsJail, by
    /// SIGSYS: 159, told apart from a time-out's 137.
    func test_readmePolicyExampleEndsWithSIGSYSNotTheTimeOutsStatus() {
        let pasted = """

            POLICY example {
              ALLOW {
                read, write, open, close,
                mmap, munmap, brk,
                exit_group
              }
              DEFAULT KILL
            }
            USE example DEFAULT KILL

            """
        let refused = Pit.run(["--seccomp_string", pasted, "--", "/bin/program"])
        XCTAssertEqual(refused.status, 125)
        XCTAssertEqual(lines(refused.stderr).first, "pit run: --seccomp_string: <seccomp-string>:8:3: expected an action (ALLOW, KILL, ERRNO(n), ...), 'USE' or '}', found 'DEFAULT'")
        let policy = pasted.replacingOccurrences("  DEFAULT KILL\n}", "}")
        let r = Pit.run(["--seccomp_string", policy, "-R", "/usr", "--", "/bin/true"])
        XCTAssertEqual(r.status, 128 + SIGSYS, r.stderr)
        XCTAssertTrue(r.stderr.contains("Bad system call: "), r.stderr)
        let timeout = Pit.run(["--seccomp_string", policy.replacingOccurrences("exit_group", "exit_group, execve, access, openat, newfstatat, pread64, arch_prctl, set_tid_address, set_robust_list, rseq, mprotect, prlimit64, getrandom, clock_nanosleep, nanosleep"),
                               "-R", "/usr", "--time_limit", "1", "--", "/bin/sleep", "5"])
        XCTAssertEqual(timeout.status, 128 + SIGKILL, timeout.stderr)
        XCTAssertTrue(timeout.stderr.contains("time limit"), timeout.stderr)
    }

    // MARK: mapped options

    func test_keepCapsIsAFlagAndEatsNoArgument() {
        // No "--": the command follows the flag, as NsJail reads it.
        let r = nsjail(["--keep_caps", "/bin/grep", "CapEff", "/proc/self/status"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("0000000000000000"), r.stdout)
        let none = nsjail(["--", "/bin/grep", "CapEff", "/proc/self/status"])
        XCTAssertTrue(none.stdout.contains("0000000000000000"), none.stdout)
        let one = nsjail(["--cap", "CAP_NET_RAW", "--", "/bin/grep", "CapEff", "/proc/self/status"])
        XCTAssertTrue(one.stdout.contains("0000000000002000"), one.stdout + one.stderr)
    }

    func test_keepEnvExecFileAndGetoptClusters() {
        func withProbe(_ arguments: [String]) -> Captured {
            Process.run(["/usr/bin/env", "PIT_NSJAIL_PROBE=kept", Pit.executable, "run"] + arguments)
        }
        let env = withProbe(["-Mo", "-R", "/usr", "-e", "--", "/bin/sh", "-c", "echo $PIT_NSJAIL_PROBE"])
        XCTAssertEqual(env.stdout, "kept\n", env.stderr)
        let clean = withProbe(["-Mo", "-R", "/usr", "--", "/bin/sh", "-c", "echo ${PIT_NSJAIL_PROBE:-absent}"])
        XCTAssertEqual(clean.stdout, "absent\n", clean.stderr)
        // -x runs the file with the command as argv: argv[0] is "first", echo prints the rest.
        let exec = nsjail(["-x", "/bin/echo", "--", "first", "second"])
        XCTAssertEqual(exec.stdout, "second\n", exec.stderr)
        // getopt clusters: -Ne is -N -e; -t1 is -t 1.
        let cluster = withProbe(["-Mo", "-R", "/usr", "-Ne", "-t1", "--", "/bin/sh", "-c", "echo $PIT_NSJAIL_PROBE"])
        XCTAssertEqual(cluster.stdout, "kept\n", cluster.stderr)
    }

    func test_mountSymlinkAndDisableProc() {
        let r = nsjail(["-m", "none:/scratch:tmpfs:size=1048576", "-s", "/usr/bin/echo:/opt/tools/say", "-T", "/small",
                        "--", "/bin/sh", "-c", "df -k /scratch /small | tail -n 2 | tr -s ' ' | cut -d' ' -f2; /opt/tools/say hi; ls /proc | head -1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(lines(r.stdout), ["1024", "4096", "hi", "1"], r.stdout)   // -T is 4 MiB as NsJail's; /proc/1 is the shell
        let noProc = nsjail(["--disable_proc", "--", "/bin/sh", "-c", "ls -A /proc | wc -l"])
        XCTAssertEqual(noProc.status, 0, noProc.stderr)
        XCTAssertEqual(noProc.stdout.trimmed, "0")
        let bind = nsjail(["-m", "/etc/hostname:/etc/name::bind,ro", "--", "/bin/sh", "-c", "cat /etc/name; echo x > /etc/name"])
        XCTAssertTrue(bind.stderr.contains("Read-only file system"), bind.stderr)
        let other = nsjail(["-m", "/dev/sda1:/mnt:ext4:ro", "--", "/bin/true"])
        XCTAssertEqual(other.status, 125)
        XCTAssertEqual(lines(other.stderr), ["pit run: -m /dev/sda1:/mnt:ext4:ro: Pit mounts tmpfs, proc (at /proc) and binds (-m SRC:DST::bind, or -R/-B); not 'ext4'"])
    }

    func test_passFdKeepsTheCallersDescriptor() {
        let fd = open("/etc/hostname", O_RDONLY)
        defer { close(fd) }
        let r = nsjail(["--pass_fd", "\(fd)", "--", "/bin/sh", "-c", "[ -e /proc/self/fd/\(fd) ] && echo kept"], inherit: [fd])
        XCTAssertEqual(r.stdout, "kept\n", r.stderr)
        let without = nsjail(["--", "/bin/sh", "-c", "[ -e /proc/self/fd/\(fd) ] && echo kept || echo closed"], inherit: [fd])
        XCTAssertEqual(without.stdout, "closed\n", without.stderr)
        let missing = nsjail(["--pass_fd", "250", "--", "/bin/true"])
        XCTAssertEqual(lines(missing.stderr), ["pit run: --pass_fd 250: descriptor 250 is not open in pit run (open it in the shell: 250<FILE)"])
    }

    func test_niceLevelAndOOMScoreAdj() {
        let r = nsjail(["--nice_level", "7", "--oom_score_adj", "600", "--", "/bin/sh", "-c", "nice; cat /proc/self/oom_score_adj"])
        XCTAssertEqual(lines(r.stdout), ["7", "600"], r.stderr)
        let bad = nsjail(["--nice_level", "40", "--", "/bin/true"])
        XCTAssertEqual(lines(bad.stderr), ["pit run: --nice_level: '40' is not a nice level (-20 to 19)"])
    }

    func test_cgroupLimitsInNsJailsUnits() {
        // 250 ms of CPU per second: a two-second busy loop gets about half a second.
        let cpu = nsjail(["--cgroup_cpu_ms_per_sec", "250", "--", "/usr/bin/perl", "-e", "my $t = time + 2; 1 while time < $t; my @t = times; print $t[0] + $t[1]"])
        XCTAssertEqual(cpu.status, 0, cpu.stderr)
        XCTAssertLessThan(Double(cpu.stdout) ?? 9, 1.0, cpu.stdout)
        let odd = nsjail(["--cgroup_cpu_ms_per_sec", "255", "--", "/bin/true"])
        XCTAssertEqual(lines(odd.stderr), ["pit run: --cgroup_cpu_ms_per_sec 255: Pit's CPU limit moves in steps of 10 ms per second (1%); use 250"])
        let pids = nsjail(["--cgroup_pids_max", "1", "--", "/bin/sh", "-c", "/bin/true && echo forked"])
        XCTAssertNotEqual(pids.stdout, "forked\n", pids.stderr)
        XCTAssertEqual(nsjail(["--cgroup_pids_max", "0", "--cgroup_mem_max", "0", "--", "/bin/sh", "-c", "/bin/true && echo forked"]).stdout, "forked\n")
    }

    // MARK: refusals

    func test_modesOtherThanOnceAreRefused() {
        for (mode, start) in [("l", "-M l (listen"), ("r", "-M r (rerun"), ("e", "-M e (execve")] {
            let r = Pit.run(["-M\(mode)", "--chroot", "/", "--", "/bin/echo", "test"])
            XCTAssertEqual(r.status, 125)
            XCTAssertEqual(lines(r.stderr).count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("pit run: \(start)"), r.stderr)
            XCTAssertEqual(r.stdout, "")   // never run as a program named "l"
        }
        XCTAssertEqual(lines(Pit.run(["--mode", "x", "--", "/bin/true"]).stderr), ["pit run: -M 'x': NsJail's modes are o (once, the one pit run has), l, r and e"])
    }

    /// Every long option of NsJail (copied from its cmdline.cc) is in `pit run --help` or refused by name in one
    /// line that says what to do; NsJail's short options likewise.
    func test_everyNsJailOptionIsMappedOrRefusedByName() {
        let help = Pit.run(["--help"]).stdout
        let listed = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }).map(String.init))
        var mapped: [String] = [], refused: [String] = []
        for long in Self.nsjailLongOptions {
            let name = "--" + long
            if listed.contains(name) || name == "--help" || (long.hasPrefix("rlimit_") && listed.contains(name)) {
                mapped.append(long)
                continue
            }
            let r = Pit.run([name, "1", "--", "/bin/true"])
            XCTAssertEqual(r.status, 125, name)
            XCTAssertEqual(lines(r.stderr).count, 1, r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix("pit run: \(name) is NsJail's and not supported: "), r.stderr)
            XCTAssertGreaterThan(r.stderr.count, "pit run: \(name) is NsJail's and not supported: ".count + 15, r.stderr)
            refused.append(long)
        }
        XCTAssertEqual(mapped.count + refused.count, 104)
        XCTAssertGreaterThanOrEqual(mapped.count, 45, "mapped: \(mapped)")
        for letter in "xHDCcpiugLltMNdvqQeERBTmsPIUG" {   // -h is help
            let name = "-\(letter)"
            if listed.contains(name) { continue }
            let r = Pit.run([name, "1", "--", "/bin/true"])
            XCTAssertTrue(r.stderr.hasPrefix("pit run: \(name) (--") && r.stderr.contains("is NsJail's and not supported: "), "\(name): \(r.stderr)")
        }
    }

    func test_refusedFormsOfMappedOptions() {
        let user = nsjail(["-u", "0:100000:1", "--", "/bin/true"])
        XCTAssertEqual(lines(user.stderr), ["pit run: -u 0:100000:1: NsJail's inside:outside:count form is not read (Pit maps the user namespace's ids itself, --userns-range-start); give one user or group"])
        let bind = nsjail(["-B", "/tmp:/tmp:noexec", "--", "/bin/true"])
        XCTAssertEqual(lines(bind.stderr), ["pit run: -B /tmp:/tmp:noexec: mount options after SRC:DST are not read (Pit's binds are nosuid,nodev); give SRC[:DST]"])
        let swap = nsjail(["--cgroup_mem_swap_max", "1000", "--", "/bin/true"])
        XCTAssertEqual(swap.status, 125)
        XCTAssertTrue(swap.stderr.hasPrefix("pit run: --cgroup_mem_swap_max 1000: "), swap.stderr)
        let unknown = Pit.run(["--use_pasta", "--", "/bin/true"])
        XCTAssertTrue(unknown.stderr.hasPrefix("pit run: unknown option --use_pasta"), unknown.stderr)
    }

    /// NsJail's long options (google/nsjail cmdline.cc, custom_opts), as NsJail spells them.
    static let nsjailLongOptions = [
        "help", "mode", "config", "exec_file", "execute_fd", "chroot", "no_pivotroot", "rw", "user", "group",
        "hostname", "cwd", "port", "bindhost", "max_conns", "max_conns_per_ip", "log", "log_fd", "time_limit",
        "max_cpus", "daemon", "verbose", "quiet", "really_quiet", "keep_env", "env", "keep_caps", "cap", "silent",
        "stderr_to_null", "skip_setsid", "pass_fd", "disable_no_new_privs", "rlimit_as", "rlimit_core", "rlimit_cpu",
        "rlimit_fsize", "rlimit_nofile", "rlimit_nproc", "rlimit_stack", "rlimit_memlock", "rlimit_rtprio",
        "rlimit_msgqueue", "disable_rlimits", "persona_addr_compat_layout", "persona_mmap_page_zero",
        "persona_read_implies_exec", "persona_addr_limit_3gb", "persona_addr_no_randomize", "disable_clone_newnet",
        "disable_clone_newuser", "disable_clone_newns", "disable_clone_newpid", "disable_clone_newipc",
        "disable_clone_newuts", "disable_clone_newcgroup", "enable_clone_newtime", "uid_mapping", "gid_mapping",
        "bindmount_ro", "bindmount", "tmpfsmount", "mount", "symlink", "disable_proc", "proc_path", "proc_rw",
        "experimental_mnt", "seccomp_policy", "seccomp_string", "seccomp_log", "seccomp_unotify",
        "seccomp_unotify_report", "nice_level", "cgroup_mem_max", "cgroup_mem_memsw_max", "cgroup_mem_swap_max",
        "cgroup_mem_mount", "cgroup_mem_parent", "cgroup_pids_max", "cgroup_pids_mount", "cgroup_pids_parent",
        "cgroup_net_cls_classid", "cgroup_net_cls_mount", "cgroup_net_cls_parent", "cgroup_cpu_ms_per_sec",
        "cgroup_cpu_mount", "cgroup_cpu_parent", "cgroupv2_mount", "use_cgroupv2", "detect_cgroupv2", "iface_no_lo",
        "iface_own", "macvlan_iface", "macvlan_vs_ip", "macvlan_vs_nm", "macvlan_vs_gw", "macvlan_vs_ma",
        "macvlan_vs_mo", "disable_tsc", "forward_signals", "use_core_scheduling", "user_net", "oom_score_adj",
    ]
}

private extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

private extension StringProtocol {
    /// Without leading and trailing spaces and newlines.
    var trimmed: String {
        let isSpace = { (c: Character) in c == " " || c == "\n" || c == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
