import PitTestSupport
import Glibc
import XCTest

/// Each wall of the jail seen on its own, where another wall would otherwise hide its loss (issue 25): the
/// attempt is made where every other defence lets it through, with a control showing it works outside.
final class WallTests: XCTestCase {
    /// setsid alone: the caller's controlling terminal is the jail's stdin and the jailed process holds no
    /// capability, so TIOCSTI is refused only because the jail is another session (the kernel lets a process
    /// push input into its own controlling terminal without any capability).
    func test_newSessionAloneStopsTIOCSTIOnTheCallersControllingTerminal() {
        var master: Int32 = 0, slave: Int32 = 0
        XCTAssertEqual(openpty(&master, &slave, nil, nil, nil), 0)
        defer { close(master); close(slave) }
        let inject = "my $c = q(x); ioctl(STDIN, 0x5412, $c) or die qq(TIOCSTI: $!\\n); print qq(injected\\n)"
        // `setsid --ctty` makes the pty the controlling terminal of what it runs.
        let control = Process.run(["/usr/bin/setsid", "--ctty", "--wait", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                   "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "/usr/bin/perl", "-e", inject], stdin: slave)
        XCTAssertEqual(control.stdout, "injected\n", "control, unprivileged in the terminal's session: \(control.stderr)")
        // The jail's filter refuses TIOCSTI too (the terminal rule below): a policy that filters ioctl's arguments
        // itself takes that rule away, so only the new session is left to refuse it.
        let jailed = Process.run(["/usr/bin/setsid", "--ctty", "--wait", Pit.executable, "run", "--seccomp-string", Self.ownIoctlRule,
                                  "--", "/usr/bin/perl", "-e", inject], stdin: slave)
        XCTAssertTrue(jailed.stderr.contains("TIOCSTI: Operation not permitted"), jailed.stdout + jailed.stderr)
        XCTAssertFalse(jailed.stderr.contains("violation"), "the filter, not the session, refused it: \(jailed.stderr)")
    }

    /// A policy with its own word on ioctl's arguments: every jail's terminal rule then stands aside.
    static let ownIoctlRule = "POLICY p { ALLOW { ioctl(fd, request) { request != 1 } } } USE p DEFAULT ALLOW"

    /// Where the policy filters ioctl's arguments itself, Pit's rule is not added, and the listener does not answer
    /// as if it were: the policy's own REPORT (a kill under it) stands, not the EPERM of Pit's rule.
    func test_aPolicysOwnIoctlRuleIsNotTakenForPitsTerminalRule() {
        var master: Int32 = 0, slave: Int32 = 0
        XCTAssertEqual(openpty(&master, &slave, nil, nil, nil), 0)
        defer { close(master); close(slave) }
        let stop = "ioctl(STDIN, 0x540A, 0) or die qq(TCXONC: $!\\n); ioctl(STDIN, 0x540A, 1); print qq(stopped\\n)"
        let own = "POLICY p { REPORT { ioctl(fd, request) { request == 0x540A } } } USE p DEFAULT ALLOW"
        let r = Pit.run(["--seccomp-string", own, "--", "/usr/bin/perl", "-e", stop], stdin: slave)
        XCTAssertFalse(r.stderr.contains("TCXONC: Operation not permitted"), "answered with Pit's EPERM: \(r.stderr)")
        XCTAssertEqual(r.status, 128 + SIGSYS, "the policy's REPORT kills: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("violation: ioctl("), r.stderr)
    }

    /// The terminal rule alone: TCXONC (stop the terminal's output, which froze a `pit run` on a console for good)
    /// needs no capability and no controlling terminal, so nothing but every jail's filter refuses it. Control:
    /// the same call works outside, and inside under a policy that filters ioctl's arguments itself.
    func test_terminalRuleAloneStopsTCXONCOnTheCallersTerminal() {
        var master: Int32 = 0, slave: Int32 = 0
        XCTAssertEqual(openpty(&master, &slave, nil, nil, nil), 0)
        defer { close(master); close(slave) }
        // TCOOFF (0) then TCOON (1): the pty's output is stopped and started again.
        let stop = "ioctl(STDIN, 0x540A, 0) or die qq(TCXONC: $!\\n); ioctl(STDIN, 0x540A, 1); print qq(stopped\\n)"
        let outside = Process.run(["/usr/bin/perl", "-e", stop], stdin: slave)
        XCTAssertEqual(outside.stdout, "stopped\n", outside.stderr)
        let opened = Pit.run(["--seccomp-string", Self.ownIoctlRule, "--", "/usr/bin/perl", "-e", stop], stdin: slave)
        XCTAssertEqual(opened.stdout, "stopped\n", "with the rule taken away: \(opened.stderr)")
        let jailed = Pit.run(["--", "/usr/bin/perl", "-e", stop], stdin: slave)
        XCTAssertTrue(jailed.stderr.contains("TCXONC: Operation not permitted"), jailed.stdout + jailed.stderr)
        XCTAssertTrue(jailed.stderr.contains("violation: ioctl("), "reported: \(jailed.stderr)")
    }

    /// The chroot base is bound read-only: a world-writable directory of the host's root file system takes no
    /// write through `--chroot /`, although its permissions would let uid 99999 write there.
    func test_chrootBaseIsReadOnlyWhereHostPermissionsAllowTheWrite() throws {
        let directory = "/pit-wall-\(getpid())"
        XCTAssertEqual(mkdir(directory, 0o1777), 0)
        chmod(directory, 0o1777)
        defer { _ = Process.run(["/bin/rm", "-rf", directory]) }
        var root = stat(), here = stat()
        XCTAssertEqual(stat("/", &root), 0)
        XCTAssertEqual(stat(directory, &here), 0)
        try XCTSkipIf(root.st_dev != here.st_dev, "the directory must be on the root file system itself")
        let attempt = "echo x > \(directory)/planted && echo wrote || echo refused"
        let jailed = Pit.run(["--chroot", "/", "--user", "99999", "--group", "99999", "--", "/bin/sh", "-c", attempt])
        XCTAssertEqual(lines(jailed.stdout), ["refused"], jailed.stderr)
        XCTAssertTrue(jailed.stderr.contains("Read-only file system"), jailed.stderr)
        XCTAssertFalse(fileExists(directory + "/planted"))
        // Control: the same uid writes there on the host.
        let host = Process.run(["/usr/bin/setpriv", "--reuid=99999", "--regid=99999", "--clear-groups", "/bin/sh", "-c", attempt])
        XCTAssertEqual(lines(host.stdout), ["wrote"], host.stderr)
    }

    /// The tmpfs root is remounted read-only: root in the jail owns it, so only the mount flag refuses the write.
    func test_tmpfsRootIsReadOnlyForItsOwnerRoot() {
        let r = Pit.run(["--user", "0", "--group", "0", "--", "/bin/sh", "-c", "echo x > /planted && echo wrote || echo refused"])
        XCTAssertEqual(lines(r.stdout), ["refused"], r.stderr)
        XCTAssertTrue(r.stderr.contains("Read-only file system"), "the refusal is the mount's, not the permissions': \(r.stderr)")
        // Control: a tmpfs of the jail that is not remounted takes the same write from the same uid.
        let control = Pit.run(["--user", "0", "--group", "0", "--tmpfs", "/scratch", "--", "/bin/sh", "-c", "echo x > /scratch/planted && echo wrote"])
        XCTAssertEqual(lines(control.stdout), ["wrote"], control.stderr)
    }

    /// Read-only binds carry nosuid and nodev themselves (not only the writable ones): read from the jail's own
    /// mount table, as the kernel applies them.
    func test_readOnlyBindIsNosuidNodevAndReadOnlyInTheMountTable() {
        let dir = ScratchDirectory()
        let r = Pit.run(["--bind", "\(dir.path):/ro", "--", "/bin/cat", "/proc/self/mountinfo"])
        guard let line = lines(r.stdout).first(where: { $0.split(separator: " ")[4] == "/ro" }) else {
            return XCTFail("/ro not mounted: \(r.stdout) \(r.stderr)")
        }
        let options = Set(line.split(separator: " ")[5].split(separator: ",").map(String.init))
        XCTAssertTrue(options.isSuperset(of: ["ro", "nosuid", "nodev"]), line)
        // And the system directories bound by default, likewise.
        let usr = lines(r.stdout).first { $0.split(separator: " ")[4] == "/usr" } ?? ""
        XCTAssertTrue(Set(usr.split(separator: " ").dropFirst(5).first?.split(separator: ",").map(String.init) ?? []).isSuperset(of: ["ro", "nosuid", "nodev"]), usr)
    }
}
