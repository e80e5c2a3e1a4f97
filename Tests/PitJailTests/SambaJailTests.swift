import PitTestSupport
import Glibc
import XCTest

/// Real smbd (Debian's Samba) in the jail policies/samba ships: the shipped spec and learned policy, with the
/// host paths swapped for a scratch directory through command-line binds (which replace the spec's binds at
/// the same destinations). Driven from outside by the real smbclient.
final class SambaJailTests: XCTestCase {
    var dir: ScratchDirectory!
    var port = 0
    var binds: [String] = []
    /// smbd.toml's low ports lower the host's net.ipv4.ip_unprivileged_port_start: put it back after each test.
    var portStart: SavedSysctl?

    override func tearDown() {
        portStart?.restore()
        // XCTest keeps every test case object to the end of the run without releasing it: the scratch tree (a data
        // tree owned by host uid 200000 or 300000) would stay in /tmp, one per test, if only deinit removed it.
        dir?.remove()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd") && fileExists("/usr/bin/smbclient"), "Samba is not installed (image/install-deps installs it)")
        dir = ScratchDirectory()
        port = 44_600 + Int(getpid() % 200)
        // smbd.toml's named-pipe binds: samba-dcerpcd's sockets (placeholders here, in np/) over placeholders in its data tree.
        SambaScratch.writeTree(root: dir.path, port: port, pipes: dir.path + "/np")
        dir.write("data/shares/share/report.txt", "q3 numbers\n")
        let pipes = SambaScratch.pipes
        // The jails' root is host uid 200000 (smbd.toml's user namespace): its data tree is that uid's, as the
        // supervisor makes it.
        XCTAssertTrue(chownTree(dir.path + "/data", to: 200_000))
        portStart = .unprivilegedPortStart
        binds = ["--bind", "\(dir.path)/etc/smb.conf:/etc/samba/smb.conf", "--bind", "\(dir.path)/etc/passwd:/etc/passwd",
                 "--bind", "\(dir.path)/etc/group:/etc/group", "--bind", "\(dir.path)/etc/hosts:/etc/hosts",
                 "--bind", "\(dir.path)/etc/nsswitch.conf:/etc/nsswitch.conf",
                 "--bind-rw", "\(dir.path)/data:/data", "--landlock-bind-tcp", String(port)]
            + pipes.flatMap { ["--bind", "\(dir.path)/np/\($0):/data/run/ncalrpc/np/\($0)"] }
    }

    static var policies: String { SambaScratch.policies }

    func test_smbdServesTheDecoyShareUnderItsLearnedPolicyAndIsLockedDown() throws {
        let server = Process.spawn([Pit.executable, "run", "--jail", Self.policies + "/smbd.toml"] + binds)
        defer {
            kill(server.pid, SIGTERM)
            _ = Process.drain(server.stdout, server.stderr)
            _ = Process.wait(server.pid)
        }
        var listing = Captured(status: -1, stdout: "", stderr: "")
        for _ in 0..<100 {
            listing = Process.run(["/usr/bin/smbclient", "-N", "-p", String(port), "//127.0.0.1/share", "-c", "ls"])
            if listing.status == 0 { break }
            usleep(100_000)
        }
        XCTAssertEqual(listing.status, 0, listing.stdout + listing.stderr)
        XCTAssertTrue(listing.stdout.contains("report.txt"), listing.stdout)
        let got = Process.run(["/usr/bin/smbclient", "-N", "-p", String(port), "//127.0.0.1/share", "-c", "get report.txt \(dir.path)/got.txt"])
        XCTAssertEqual(got.status, 0, got.stderr)
        XCTAssertEqual(readText(dir.path + "/got.txt"), "q3 numbers\n")

        // smbd (the jail's PID 1) as the kernel sees it.
        guard let smbd = childPid(of: server.pid) else { return XCTFail("no smbd under pit run") }
        let status = readText("/proc/\(smbd)/status") ?? ""
        XCTAssertTrue(status.contains("Seccomp:\t2"), status)
        XCTAssertTrue(status.contains("NoNewPrivs:\t1"), status)
        XCTAssertTrue(status.contains("CapEff:\t00000000000000c0"), "only CAP_SETUID and CAP_SETGID: \(status)")
        XCTAssertTrue(status.contains("CapBnd:\t00000000000000c0"), status)
        XCTAssertNotEqual(readlinkText("/proc/\(smbd)/ns/pid"), readlinkText("/proc/self/ns/pid"), "own PID namespace")
        XCTAssertNotEqual(readlinkText("/proc/\(smbd)/ns/mnt"), readlinkText("/proc/self/ns/mnt"))
        XCTAssertEqual(readlinkText("/proc/\(smbd)/ns/net"), readlinkText("/proc/self/ns/net"), "the host's network, by design")
        XCTAssertTrue((readText("/proc/\(smbd)/status") ?? "").contains("NSpid:\t\(smbd)\t1"), "smbd is PID 1 of its namespace")
        // Root in the jail is not root on the host: its own user namespace maps it to host uid 200000.
        XCTAssertNotEqual(readlinkText("/proc/\(smbd)/ns/user"), readlinkText("/proc/self/ns/user"), "own user namespace")
        XCTAssertEqual((readText("/proc/\(smbd)/uid_map") ?? "").split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") },
                       ["0 200000 65536", "65536 400000 1"], "its range, and samba-dcerpcd's root as a peer id (smbd.toml)")
        XCTAssertTrue(status.contains("Uid:\t200000\t200000\t200000\t200000"), status)
    }

    /// samba-dcerpcd's jail allows execve (it execs its helpers), which seccomp cannot restrict by path: Landlock's
    /// exec rule does. A helper runs (here `--help`, which its policy then stops at the terminal-size ioctl it
    /// never makes as a worker: proof it was executed); any other program is refused at execve.
    func test_dcerpcdJailExecutesItsHelpersAndNothingElse() throws {
        try XCTSkipUnless(fileExists("/usr/libexec/samba/rpcd_lsad"), "Samba is not installed (image/install-deps installs it)")
        mkdir(dir.path + "/ncalrpc", 0o755)
        // setUp's binds without smbd's named-pipe binds (this jail serves that directory).
        var own: [String] = []
        for (flag, value) in zip(binds, binds.dropFirst()) where flag.hasPrefix("--") && !value.contains("/data/run/ncalrpc/np/") {
            own += flag.hasPrefix("--bind") ? [flag, value] : []
        }
        let jail = ["--jail", Self.policies + "/dcerpcd.toml"] + own
            + ["--bind-rw", "\(dir.path)/ncalrpc:/data/run/ncalrpc", "--bind-rw", "\(dir.path)/data/log:/var/log/samba"]
        let helper = Pit.run(jail + ["--", "/usr/libexec/samba/rpcd_lsad", "--help"])
        XCTAssertFalse(helper.stderr.contains("execve:"), helper.stderr)
        XCTAssertTrue(helper.stderr.contains("(rpcd_lsad, /usr/libexec/samba/rpcd_lsad)"), "the helper ran: \(helper.stderr)")
        for program in ["/usr/bin/true", "/usr/bin/sh", "/usr/sbin/smbd"] {
            let other = Pit.run(jail + ["--", program])
            XCTAssertEqual(other.status, 126, other.stderr)
            XCTAssertTrue(other.stderr.contains("execve: \(program): Permission denied"), other.stderr)
        }
    }

    func test_exploitMovesInsideTheSmbdJailAreStoppedAndReported() throws {
        let probe = dir.path + "/probe"
        let build = Process.run(["/usr/bin/gcc", "-static", "-O1", "-o", probe, #filePath.split(separator: "/").dropLast().joined(separator: "/").prepending("/") + "/Fixtures/exploit-probe.c"])
        try XCTSkipIf(build.status != 0, "cannot build a static probe: \(build.stderr)")
        let r = Pit.run(["--jail", Self.policies + "/smbd.toml"] + binds + ["--bind", "\(probe):/probe", "--landlock-exec", "/probe", "--", "/probe"])
        var expected = ["exec-shell signal 9", "ptrace signal 9", "raw-socket signal 9", "change-mac signal 9"]
        #if arch(x86_64)
        expected.append("ia32-syscall signal 9")
        #endif
        XCTAssertEqual(lines(r.stdout), expected, r.stderr)
        let reported = lines(r.stderr).filter { $0.contains("violation: ") }
        XCTAssertEqual(reported.count, expected.count, r.stderr)
        #if arch(x86_64)
        XCTAssertTrue(reported.contains { $0.contains("violation: getpid(") && $0.contains("[nr 20, i386]") }, r.stderr)
        #endif
        XCTAssertTrue(reported.contains { $0.contains("violation: execve(") }, r.stderr)
        XCTAssertTrue(reported.contains { $0.contains("violation: ptrace(0x10, ") }, r.stderr)           // PTRACE_ATTACH
        XCTAssertTrue(reported.contains { $0.contains("violation: socket(0x11, 0x3, ") }, r.stderr)      // AF_PACKET, SOCK_RAW
        XCTAssertTrue(reported.contains { $0.contains("violation: ioctl(0x3, 0x8924, ") }, r.stderr)     // SIOCSIFHWADDR
    }

    func test_nmbdAnswersNameQueriesUnderItsPolicyInAPrivateNetwork() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/nmbd") && fileExists("/usr/bin/nmblookup") && fileExists("/usr/sbin/ip"), "needs nmbd, nmblookup and ip")
        // Two namespaces joined by a veth pair: nmbd's side (its jail keeps that "host" network) and a client.
        let ns = "pitnmb\(getpid())"
        let net = VethNamespaces(device: ns + "a", client: ns + "b", nic: "nmb\(getpid() % 100000)x", peer: "nmb\(getpid() % 100000)y")
        defer { net.remove() }
        let x = net.nic
        net.ip(["-n", ns + "a", "addr", "add", "192.0.2.10/24", "dev", x]); net.ip(["-n", ns + "a", "link", "set", x, "up"])
        XCTAssertEqual(net.failures, [])
        mkdir(dir.path + "/data/nmbd", 0o755)
        XCTAssertTrue(chownTree(dir.path + "/data", to: 300_000))     // nmbd.toml's user namespace
        let conf = (readText(dir.path + "/etc/smb.conf") ?? "").replacingAll("interfaces = lo", "interfaces = \(x)")
        dir.write("etc/smb.conf", conf)
        // nsenter, not `ip netns exec`: the latter remounts /sys for the namespace, hiding the cgroup hierarchies.
        var args = ["/usr/bin/nsenter", "--net=/run/netns/" + ns + "a", Pit.executable, "run", "--jail", Self.policies + "/nmbd.toml"]
        for (flag, value) in zip(binds, binds.dropFirst()) where flag.hasPrefix("--bind") {
            args += [flag, value]
        }
        let server = Process.spawn(args)
        var serverOutput = ""
        defer {
            kill(server.pid, SIGTERM)
            _ = Process.drain(server.stdout, server.stderr)
            _ = Process.wait(server.pid)
        }
        var answer = Captured(status: -1, stdout: "", stderr: "")
        for _ in 0..<30 {
            if pit_exited(server.pid) {
                let (out, err) = Process.drain(server.stdout, server.stderr)
                serverOutput = out + err
                break
            }
            answer = Process.run(["/usr/sbin/ip", "netns", "exec", ns + "b", "/usr/bin/nmblookup", "-U", "192.0.2.10", "NAS01"])
            if answer.stdout.contains("NAS01<00>") { break }
            usleep(100_000)
        }
        XCTAssertTrue(answer.stdout.contains("192.0.2.10 NAS01<00>"), answer.stdout + answer.stderr + serverOutput)
        guard let nmbd = childPid(of: server.pid) else { return XCTFail("no nmbd") }
        let status = readText("/proc/\(nmbd)/status") ?? ""
        XCTAssertTrue(status.contains("Seccomp:\t2"), status)
        XCTAssertTrue(status.contains("NoNewPrivs:\t1"), status)
        XCTAssertTrue(status.contains("CapEff:\t0000000000000000"), "no capability at all: \(status)")
        XCTAssertTrue(status.contains("Uid:\t300000\t"), "root of its user namespace is host uid 300000: \(status)")
    }

    private func pit_exited(_ pid: pid_t) -> Bool {
        (readText("/proc/\(pid)/stat") ?? "").contains(") Z ")
    }

    private func childPid(of parent: pid_t) -> pid_t? {
        for _ in 0..<50 {
            if let text = readText("/proc/\(parent)/task/\(parent)/children"), let pid = Int32(text.split(separator: " ").first ?? "") { return pid }
            usleep(20_000)
        }
        return nil
    }

    private func readlinkText(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(path, &buffer, 255)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }
}

extension String {
    func prepending(_ prefix: String) -> String { prefix + self }
}
