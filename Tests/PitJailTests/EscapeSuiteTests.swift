import CPitShim
import PitTestSupport
import Glibc
import XCTest

/// Issue 16's escape-class suite: Fixtures/escape-probe.c (one attempt per class, each in a forked child, one line
/// per class: blocked, ESCAPED or n/a) run on the host as the control and under four configurations: `pit run
/// --user 0 --group 0`, `pit run --user 65534`, and the shipped `policies/samba/smbd.toml` and `nmbd.toml` with
/// their own policies (the spec's /run/pit-samba binds swapped for scratch files at the same destinations, as
/// SambaJailTests does). The whole table is printed once; Tests/Benchmarks/escape-peers.sh runs the same probe
/// under bubblewrap and NsJail.
///
/// Host-side targets the jail must not reach: a TCP listener on 127.0.0.1, a path and an abstract unix socket, a
/// stand-in for the supervisor's control socket (a root-only path socket in a 0700 directory), a marker file, a
/// host process (a sleep) and a pty made here as the probe's stdin (so TIOCSTI and TCSETS touch only that pty).
final class EscapeSuiteTests: XCTestCase {
    override class func tearDown() {
        Suite.release()
        super.tearDown()
    }

    func test_probeDetectsEachClassOnTheHostAsRoot() throws {
        let suite = try Suite.shared()
        try XCTSkipUnless(geteuid() == 0, "the host control needs root")
        let host = suite.results["host"]!
        for name in Suite.hostRootMustEscape {
            // n/a: this machine cannot show the class at all (e.g. a root file system that makes no file handles).
            if host[name]?.verdict == "n/a" { print("escape suite: \(name) is n/a on this host: \(host[name]?.detail ?? "")"); continue }
            XCTAssertEqual(host[name]?.verdict, "ESCAPED", "the probe cannot show \(name) succeeding even on the host as root: \(host[name]?.detail ?? "no line")")
        }
    }

    func test_pitRunAsRootBlocksEveryCapabilityClass() throws {
        let suite = try Suite.shared()
        XCTAssertEqual(suite.started["pit --user 0"], true, "the jail never ran the probe")
        let rows = suite.results["pit --user 0"]!
        for name in Suite.rootMustBlock {
            XCTAssertEqual(rows[name]?.verdict, "blocked", "\(name) under pit run --user 0: \(rows[name]?.detail ?? "no line")")
        }
    }

    func test_pitRunAsNobodyBlocksTheDocumentedClasses() throws {
        let suite = try Suite.shared()
        XCTAssertEqual(suite.started["pit --user 65534"], true, "the jail never ran the probe")
        let rows = suite.results["pit --user 65534"]!
        for name in Suite.nobodyMustBlock {
            XCTAssertEqual(rows[name]?.verdict, "blocked", "\(name) under pit run --user 65534: \(rows[name]?.detail ?? "no line")")
        }
    }

    func test_shippedSmbdJailHasNoEscape() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd"), "smbd is not installed (image/install-deps installs it)")
        try assertNoEscape(in: "smbd.toml")
    }

    func test_shippedDcerpcdJailHasNoEscape() throws {
        try XCTSkipUnless(fileExists("/usr/libexec/samba/samba-dcerpcd"), "Samba is not installed (image/install-deps installs it)")
        try assertNoEscape(in: "dcerpcd.toml")
    }

    func test_shippedNmbdJailHasNoEscape() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd") && fileExists("/usr/sbin/nmbd"), "Samba is not installed (image/install-deps installs it)")
        try assertNoEscape(in: "nmbd.toml")
    }

    /// The shipped `configuration` ran the probe to a line for every class, and none of them ESCAPED. An empty
    /// class list (a probe that lists nothing) fails here rather than passing with nothing checked.
    private func assertNoEscape(in configuration: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let suite = try Suite.shared()
        XCTAssertFalse(suite.classes.isEmpty, "the probe listed no class", file: file, line: line)
        let rows = try XCTUnwrap(suite.results[configuration], "\(configuration) was not run", file: file, line: line)
        XCTAssertEqual(suite.started[configuration], true, "\(configuration): the jail never ran the probe (see the table)", file: file, line: line)
        XCTAssertEqual(rows.count, suite.classes.count, "a line for every class", file: file, line: line)
        for (name, row) in rows.sorted(by: { $0.key < $1.key }) where row.verdict == "ESCAPED" {
            XCTFail("\(configuration): \(name) ESCAPED: \(row.detail)", file: file, line: line)
        }
    }
}

extension EscapeSuiteTests {
    /// Where a filter stopped a class (the class's process killed by a signal, in the shipped Samba jails whose
    /// policies kill what they do not allow), Pit reported the syscall: no block by the filter goes unreported.
    func test_everyClassTheSambaFiltersKillIsReported() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd") && fileExists("/usr/sbin/nmbd"), "Samba is not installed (image/install-deps installs it)")
        let suite = try Suite.shared()
        var checked = 0
        for configuration in ["smbd.toml", "nmbd.toml", "dcerpcd.toml"] {
            guard let rows = suite.results[configuration] else { continue }
            for (name, row) in rows.sorted(by: { $0.key < $1.key }) where row.verdict == "blocked" {
                guard row.detail.contains("killed by signal 9") || row.detail.contains("SIGKILL") else { continue }
                checked += 1
                XCTAssertFalse(suite.reported[configuration]?[name]?.isEmpty ?? true,
                               "\(configuration): \(name) was killed by the filter but no violation was reported: \(row.detail)")
            }
        }
        XCTAssertGreaterThan(checked, 0, "the Samba filters killed no class at all: the check checked nothing")
    }
}

/// Every configuration run once per test process; the table printed when it is first built.
final class Suite {
    struct Row { var verdict: String; var detail: String }

    /// Classes the probe must show succeeding on this kind of host as root (the control): each probe can see its
    /// own success. Left out because they depend on the kernel's configuration or the runner's environment:
    /// sysrq-trigger, kcore, dev-mem, module-load, kexec-load, iopl, x32 (absent from this kernel), proc-keys,
    /// sys-write, cgroup-release-agent (v1 only), block-device-raw (device cgroup), setns-pid1 (PID 1 of a
    /// container runner), rlimit-raise and oom-score-adj (CAP_SYS_RESOURCE), core-dump, inherited-fds,
    /// netlink-audit, remount-root-userns (the host's root is not read-only) and setuid-root (already root).
    static let hostRootMustEscape: [String] = {
        var names = ["proc-sys-core-pattern", "proc-sys-hostname", "proc-timer-list", "dmesg-read", "dev-kmsg-write", "mknod-char",
                     "reboot", "swapon", "acct", "clock-set", "sethostname", "unshare-user", "unshare-user-net", "unshare-mount",
                     "unshare-other", "clone-newuser", "clone3", "mount-tmpfs", "mount-proc", "mount-sysfs", "cgroup-procs-write",
                     "fsopen", "open-tree", "move-mount", "pivot-root", "chroot-escape", "open-by-handle", "proc-root-marker",
                     "proc-exe-overwrite", "signal-host", "ptrace-host", "pidfd-host", "tcp-loopback", "unix-path", "unix-abstract", "control-socket",
                     "host-root-writes", "setuid-plant", "fcaps-plant", "io-uring", "bpf", "perf-event-open", "userfaultfd",
                     "keyctl", "personality", "tiocsti", "tcsets", "memfd-exec", "raw-socket", "packet-socket",
                     "netlink-route-write", "netlink-uevent", "netlink-netfilter"]
        #if arch(x86_64)
        names.append("ia32-syscall")
        #endif
        return names
    }()

    /// What root without capabilities in its own mount/PID/IPC/cgroup namespaces cannot do. Not listed (open
    /// today, for the hardening work): /proc/sys writes and /proc info (no masking yet), nested user namespaces
    /// (and the mounts they allow), clone3, host loopback TCP and abstract sockets (host network), host-root-owned
    /// files on writable binds, io_uring, perf, keyring, personality, ia32, fileless exec, TCSETS, uevents.
    static let rootMustBlock = ["dev-kmsg-write", "dev-mem", "mknod-char", "block-device-raw", "reboot", "swapon", "acct",
                                "clock-set", "sethostname", "unshare-mount", "unshare-other", "setns-pid1", "remount-root-userns",
                                "mount-proc", "mount-sysfs", "cgroup-procs-write", "fsopen", "open-tree", "move-mount", "pivot-root",
                                "chroot-escape", "open-by-handle", "proc-root-marker", "proc-exe-overwrite", "cwd-outside-root",
                                "signal-host", "ptrace-host", "pidfd-host",
                                "unix-path", "control-socket", "fcaps-plant", "rlimit-raise", "oom-score-adj", "bpf", "userfaultfd",
                                "tiocsti", "inherited-fds", "raw-socket", "packet-socket", "netlink-route-write", "netlink-audit",
                                "netlink-netfilter", "dmesg-read", "sys-write", "proc-sysrq-trigger", "proc-kcore"]

    /// The same, plus what a non-root uid adds: /proc/sys and root-only /proc files, the setuid and host-root
    /// file classes, setuid(0).
    static let nobodyMustBlock = rootMustBlock + ["proc-sys-core-pattern", "proc-sys-hostname", "proc-timer-list",
                                                  "host-root-writes", "setuid-plant", "setuid-root", "core-dump"]

    static let configurations = ["host", "pit --user 0", "pit --user 65534", "smbd.toml", "nmbd.toml", "dcerpcd.toml"]

    nonisolated(unsafe) private static var instance: Suite?
    nonisolated(unsafe) private static var failure: XCTSkip?

    /// Removes the scratch directory (called from the test class's tearDown).
    static func release() { instance = nil }

    static func shared() throws -> Suite {
        if let instance { return instance }
        if let failure { throw failure }
        do {
            let suite = try Suite()
            instance = suite
            return suite
        } catch let skip as XCTSkip {
            failure = skip
            throw skip
        }
    }

    let dir = ScratchDirectory()
    var classes: [String] = []
    var results: [String: [String: Row]] = [:]
    var reported: [String: [String: [String]]] = [:]   // configuration -> class -> syscalls Pit reported
    var started: [String: Bool] = [:]                   // configuration -> the probe ran in its jail

    private init() throws {
        let probe = dir.path + "/escape-probe"
        let source = "/" + #filePath.split(separator: "/").dropLast().joined(separator: "/") + "/Fixtures/escape-probe.c"
        let build = Process.run(["/usr/bin/gcc", "-O2", "-o", probe, source])
        guard build.status == 0 else { throw XCTSkip("cannot build the probe: \(build.stderr)") }
        classes = lines(Process.run([probe, "--list"]).stdout)

        // Host-side targets.
        let writable = dir.makeDirectory("writable")
        chmod(writable, 0o777)
        let marker = dir.write("host-marker", "outside\n")
        let (tcp, port) = loopbackSocket(SOCK_STREAM, flags: Int32(SOCK_NONBLOCK.rawValue))
        let unixPath = dir.path + "/host.sock"
        let unixSocket = Self.listenUnix(unixPath, abstract: false)
        chmod(unixPath, 0o777)
        let abstractName = "pit-escape-suite-\(getpid())"
        let abstractSocket = Self.listenUnix(abstractName, abstract: true)
        let controlDir = dir.makeDirectory("run-pit")
        chmod(controlDir, 0o700)
        let controlPath = controlDir + "/control.sock"
        let control = Self.listenUnix(controlPath, abstract: false)
        chmod(controlPath, 0o600)
        let listeners = [tcp, unixSocket, abstractSocket, control]
        let sleeper = Process.spawn(["/bin/sleep", "600"])
        defer {
            kill(sleeper.pid, SIGKILL)
            _ = Process.drain(sleeper.stdout, sleeper.stderr)
            _ = Process.wait(sleeper.pid)
            listeners.forEach { close($0) }
        }
        let (master, slave) = Self.openPty()
        defer { close(master); close(slave) }

        func arguments(writable path: String) -> [String] {
            ["--tcp", String(port), "--unix", unixPath, "--abstract", abstractName, "--control", controlPath, "--writable", path,
             "--marker", marker, "--host-pid", String(sleeper.pid), "--tty-ok"]
        }
        let jailArguments = arguments(writable: "/writable")
        let probeBinds = ["--bind", "\(probe):/probe", "--bind-rw", "\(writable):/writable"]
        // The Samba specs' Landlock rules let the jail execute only under /usr and write only its data: the probe
        // stands in for smbd's program, so it may run and use its scratch directory (nothing else is widened).
        let probeLandlock = ["--landlock-exec", "/probe", "--landlock-write", "/writable"]

        // The Samba specs' host paths, swapped for the scratch tree the Samba tests use, at the same destinations
        // (the probe stands in for the daemons: nothing serves smb.conf's port); smbd.toml's named-pipe binds are
        // samba-dcerpcd's sockets (placeholders in samba/np) over placeholders in its data tree.
        SambaScratch.writeTree(root: dir.path + "/samba", port: 445, pipes: dir.path + "/samba/np")
        let pipes = SambaScratch.pipes
        let pipeBinds = pipes.flatMap { ["--bind", "\(dir.path)/samba/np/\($0):/data/run/ncalrpc/np/\($0)"] }
        let etcAndData = ["--bind", "\(dir.path)/samba/etc/smb.conf:/etc/samba/smb.conf", "--bind", "\(dir.path)/samba/etc/passwd:/etc/passwd",
                          "--bind", "\(dir.path)/samba/etc/group:/etc/group", "--bind", "\(dir.path)/samba/etc/hosts:/etc/hosts",
                          "--bind", "\(dir.path)/samba/etc/nsswitch.conf:/etc/nsswitch.conf", "--bind-rw", "\(dir.path)/samba/data:/data"]
        let sambaBinds = etcAndData + pipeBinds
        let policies = SambaScratch.policies
        // dcerpcd.toml's shared ncalrpc directory and its helpers' log directory, swapped too; without smbd's
        // named-pipe binds (this jail serves that directory), as SambaJailTests runs it.
        dir.makeDirectory("samba/ncalrpc")
        let dcerpcdBinds = ["--bind-rw", "\(dir.path)/samba/ncalrpc:/data/run/ncalrpc", "--bind-rw", "\(dir.path)/samba/data/log:/var/log/samba"]

        // The Samba specs' low ports lower the host's net.ipv4.ip_unprivileged_port_start (the jails keep the host's
        // network): put it back once every configuration has run.
        let portStart = SavedSysctl.unprivilegedPortStart
        defer { portStart.restore() }
        let runners: [(String, ([String]) -> Captured)] = [
            ("host", { Process.run([probe] + arguments(writable: writable) + $0, stdin: slave) }),
            ("pit --user 0", { Pit.run(["--user", "0", "--group", "0"] + probeBinds + ["--", "/probe"] + jailArguments + $0, stdin: slave) }),
            ("pit --user 65534", { Pit.run(["--user", "65534"] + probeBinds + ["--", "/probe"] + jailArguments + $0, stdin: slave) }),
            ("smbd.toml", { Pit.run(["--jail", policies + "/smbd.toml"] + sambaBinds + probeBinds + probeLandlock + ["--", "/probe"] + jailArguments + $0, stdin: slave) }),
            ("nmbd.toml", { Pit.run(["--jail", policies + "/nmbd.toml"] + sambaBinds + probeBinds + probeLandlock + ["--", "/probe"] + jailArguments + $0, stdin: slave) }),
            ("dcerpcd.toml", { Pit.run(["--jail", policies + "/dcerpcd.toml"] + etcAndData + dcerpcdBinds + probeBinds + probeLandlock + ["--", "/probe"] + jailArguments + $0, stdin: slave) }),
        ]
        for (configuration, run) in runners {
            if configuration.hasSuffix(".toml") && !fileExists("/usr/sbin/smbd") { continue }
            // The jail must start for its rows to mean anything: a configuration Pit refuses (exit 125 before the probe
            // runs) would otherwise have every class counted as blocked.
            started[configuration] = lines(run(["--list"]).stdout) == classes
            var rows: [String: Row] = [:]
            var syscalls: [String: [String]] = [:]
            // dcerpcd.policy refuses prctl(PR_SET_NAME), with which the probe names each forked class for attribution:
            // every class would be killed before its attempt. There each class runs alone instead (--inline, unnamed).
            let whole = configuration == "dcerpcd.toml" ? Captured(status: 0, stdout: "", stderr: "") : run([])
            for line in lines(whole.stdout) {
                let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 3, classes.contains(fields[0]) else { continue }
                rows[fields[0]] = Row(verdict: fields[1], detail: fields[2])
            }
            for (index, names) in Self.violations(whole.stderr) where index < classes.count { syscalls[classes[index]] = names }
            // A filter that kills fork itself (nmbd's) ends the probe before its first class: each missing class is
            // tried again in a jail of its own, run in the probe's own process (--inline), as an exploit would.
            for name in classes where rows[name] == nil {
                let single = run(["--inline", name])
                let fields = lines(single.stdout).first { $0.hasPrefix(name + "\t") }?
                    .split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
                if let fields, fields.count == 3 {
                    rows[name] = Row(verdict: fields[1], detail: fields[2] + " (inline)")
                } else {
                    let how = single.status > 128 ? "killed by signal \(single.status - 128)" : "exit status \(single.status)"
                    rows[name] = Row(verdict: "blocked", detail: "inline: \(how)")
                }
                let names = Self.violations(single.stderr).values.flatMap { $0 } + Self.unnamedViolations(single.stderr)
                if !names.isEmpty { syscalls[name] = names }
                Self.drain(master, listeners)
            }
            results[configuration] = rows
            reported[configuration] = syscalls
            Self.drain(master, listeners)
        }
        print(table())
    }

    func table() -> String {
        let present = Self.configurations.filter { results[$0] != nil }
        var text = "\nEscape suite (\(classes.count) classes)\n\n| probe | " + present.joined(separator: " | ") + " |\n|---|" + present.map { _ in "---|" }.joined() + "\n"
        for name in classes {
            text += "| \(name) | " + present.map { results[$0]?[name]?.verdict ?? "-" }.joined(separator: " | ") + " |\n"
        }
        for configuration in present {
            let escaped = classes.filter { results[configuration]?[$0]?.verdict == "ESCAPED" }
            text += "\n\(configuration): \(escaped.count) ESCAPED\n"
            for name in classes {
                guard let row = results[configuration]?[name] else { continue }
                var detail = row.detail
                if let names = reported[configuration]?[name] { detail += " [reported: \(names.joined(separator: ", "))]" }
                text += "  \(name)\t\(row.verdict)\t\(detail)\n"
            }
        }
        return text
    }

    /// "pit: violation: NAME(args) [nr N, arch] by pid PID (COMM, exe): action" lines, by the class index the
    /// probe put in COMM ("ep-12"), which its exec'd grandchildren keep until their exec.
    static func violations(_ stderr: String) -> [Int: [String]] {
        var byClass: [Int: [String]] = [:]
        for line in lines(stderr) {
            guard let start = line.range(of: "violation: "), let comm = line.range(of: " (ep-") else { continue }
            let name = String(line[start.upperBound...].prefix { $0 != "(" })
            guard let index = Int(line[comm.upperBound...].prefix { $0.isNumber }) else { continue }
            byClass[index, default: []].append(name)
        }
        return byClass
    }

    /// Violations of a process not named by the probe (the probe before its first class, or an exec'd copy).
    static func unnamedViolations(_ stderr: String) -> [String] {
        lines(stderr).filter { $0.contains("violation: ") && !$0.contains(" (ep-") }.compactMap { line in
            line.range(of: "violation: ").map { String(line[$0.upperBound...].prefix { $0 != "(" }) }
        }
    }

    /// A listening unix socket at a path, or at "\0name" when abstract (the probe connects with the same length).
    static func listenUnix(_ name: String, abstract: Bool) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i + (abstract ? 1 : 0)] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 128)
        return fd
    }

    static func openPty() -> (Int32, Int32) {
        var master: Int32 = -1, slave: Int32 = -1
        precondition(pit_tty_openpty(&master, &slave, nil, 0) == 0, "openpty: \(String(cString: strerror(errno)))")
        _ = fcntl(master, F_SETFL, O_NONBLOCK)
        return (master, slave)
    }

    /// Accepts and closes what the probe's connects left queued, and reads what the pty echoed.
    static func drain(_ master: Int32, _ listeners: [Int32]) {
        for fd in listeners {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { break }
                close(client)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(master, &buffer, buffer.count) > 0 {}
    }
}
