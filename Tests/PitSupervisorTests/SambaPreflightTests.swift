import func PitProcess.monotonicMilliseconds
import PitTestSupport
import Glibc
import PitJail
@testable import PitSupervisor
import XCTest

/// smbd's jail is not started on a Samba that cannot serve its smb.conf (issue 17): a VFS module the config
/// names and this Samba lacks is one line at start, the jail is not started, the rest of the device runs.
final class SambaPreflightTests: XCTestCase {
    func test_aMissingVfsModuleKeepsSmbdFromStartingWithOneLineAndTheOtherJailsRun() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd"), "Samba is not installed (image/install-deps installs it)")
        let h = SupervisorHarness()
        let root = h.dir.path + "/samba"
        let port = 44_700 + Int(getpid() % 90)
        // The shipped smb.conf, with one more module in its `vfs objects`: one no Samba has; smbd.toml's named-pipe
        // binds (samba-dcerpcd's sockets, placeholders here, as SambaTree makes them).
        let conf = SambaScratch.writeTree(root: root, port: port, pipes: root + "/ncalrpc/np") {
            $0.replacingAll("vfs objects = full_audit", "vfs objects = full_audit pit_no_such_module")
        }
        XCTAssertTrue(conf.contains("pit_no_such_module"), "the template's vfs objects line changed: \(conf)")
        h.dir.write("smbd.toml", SambaScratch.spec("smbd", root: root))
        h.writeJail("other", "exec sleep 1000")
        // A one-second health grace: a misconfigured smbd must not stop the feeding past it (issue 23).
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = \(port)
            [[jails]]
            name = "other"
            spec = "other.toml"
            """, watchdogTimeout: 2, healthGrace: 1)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("other")?.state == "running" }, "the other jail was held back: \(h.log)")
        let modules = Process.run(["/usr/sbin/smbd", "-b"]).stdout.split(separator: "\n")
            .first { $0.contains("MODULESDIR:") }.map { String($0.split(separator: ":", maxSplits: 1)[1].drop { $0 == " " }) } ?? "?"
        let line = "config_error [smbd]: smbd not started: smbd: vfs module 'pit_no_such_module' not found in \(modules)/vfs (install samba-vfs-modules)"
        XCTAssertTrue(waitUntil(3) { h.log.contains(line) }, h.log)
        XCTAssertNil(h.jail("smbd")?.pid, "smbd was started")
        XCTAssertEqual(h.jail("smbd")?.state, "misconfigured", h.log)
        XCTAssertEqual(h.jail("smbd")?.last_exit?.hasPrefix("not started: smbd: vfs module 'pit_no_such_module'"), true, h.log)
        // The box stays reachable for the fix: fed past the grace, healthy, LEDs degraded, one config_error.
        assertStaysUpDegraded(h, graceSeconds: 1)
        XCTAssertEqual(h.events([.configError]).filter { $0.jail == "smbd" }.count, 1, h.log)
        // full_audit itself (samba-vfs-modules is installed here) is not the complaint.
        XCTAssertFalse(h.log.contains("'full_audit' not found"), h.log)
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    /// A persona that does not load (a typo in a field) at start: `pit supervise` does not exit. The jails that
    /// bind the Samba tree are not started, the others run, the watchdog is fed, the LEDs show degraded and the
    /// error (file:line:col, field, suggestion) is a config_error for the uplink. `--check` still refuses it.
    func test_aBrokenPersonaAtStartLeavesTheBoxUpAndSaysWhy() throws {
        let h = SupervisorHarness()
        let root = h.dir.path + "/samba"
        mkdir(h.dir.path + "/decoys", 0o755)
        h.dir.write("decoys/budget.txt", "numbers\n")
        writePersona(h.dir, extra: "smb_min_protocol = \"SMB2_2\"")
        h.dir.write("smbd.toml", SambaScratch.spec("smbd", root: root))
        h.writeJail("other", "exec sleep 1000")
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = "192.0.2.10:445"
            smb_audit = true
            [[jails]]
            name = "other"
            spec = "other.toml"
            """, top: "persona = \"persona.toml\"\nsamba_root = \"\(root)\"", watchdogTimeout: 2, healthGrace: 1)
        let check = Process.run([Pit.executable, "supervise", "--check", "--config", h.dir.path + "/device.toml"])
        XCTAssertEqual(check.status, 1, check.stdout)
        XCTAssertTrue(check.stderr.contains("persona.toml:5:20: smb_min_protocol: 'SMB2_2' is not an SMB dialect"), check.stderr)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("other")?.state == "running" }, "the other jail was held back: \(h.log)")
        XCTAssertTrue(waitUntil(3) { h.jail("smbd")?.state == "misconfigured" }, h.log)
        XCTAssertNil(h.jail("smbd")?.pid, "smbd was started")
        XCTAssertEqual(h.jail("smbd")?.last_exit?.contains("persona.toml:5:20: smb_min_protocol"), true, h.log)
        assertStaysUpDegraded(h, graceSeconds: 1)
        let errors = h.events([.configError]).map { $0.message ?? "" }
        XCTAssertTrue(errors.contains { $0.contains("persona.toml:5:20") && $0.contains("did you mean 'SMB2_02'") }, "\(errors)")
        XCTAssertLessThanOrEqual(errors.count, 2, "one for the persona, one for smbd: \(errors)")
        XCTAssertFalse(fileExists(root + "/etc/smb.conf"), "a Samba tree rendered without a persona")
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    /// A Samba tree that cannot be made on the device (here a link planted where its directory belongs, as a jail
    /// with a writable bind could plant one) is not a configuration the box waits on: the required smbd counts as
    /// failed, health fails past the grace, and the watchdog may bite. Before, it was `misconfigured` and a jail
    /// could keep smbd dead behind a fed watchdog.
    func test_aTreeThatCannotBeMadeFailsHealthInsteadOfWaitingAsMisconfigured() throws {
        let h = SupervisorHarness()
        let root = h.dir.path + "/samba"
        mkdir(h.dir.path + "/decoys", 0o755)
        h.dir.write("decoys/budget.txt", "numbers\n")
        mkdir(h.dir.path + "/elsewhere", 0o755)
        XCTAssertEqual(symlink(h.dir.path + "/elsewhere", root), 0)
        writePersona(h.dir)
        h.dir.write("smbd.toml", SambaScratch.spec("smbd", root: root))
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = "192.0.2.10:445"
            smb_audit = true
            """, top: "persona = \"persona.toml\"\nsamba_root = \"\(root)\"", watchdogTimeout: 2, healthGrace: 1)
        h.start()
        XCTAssertTrue(waitUntil(8) { h.statusOrNil()?.watchdog.health != nil && h.statusOrNil()?.watchdog.health != "healthy" },
                      "health stayed \(h.statusOrNil()?.watchdog.health ?? "?"): \(h.log)")
        XCTAssertNotEqual(h.jail("smbd")?.state, "misconfigured", h.log)
        XCTAssertNil(h.jail("smbd")?.pid, "smbd was started on a tree that was not made")
        XCTAssertEqual(h.jail("smbd")?.last_exit?.hasPrefix("setup failed:"), true, h.log)
        _ = h.stop()
    }

    /// Past the health grace: still fed (the feeds keep coming), healthy, the control socket answering, LEDs degraded.
    private func assertStaysUpDegraded(_ h: SupervisorHarness, graceSeconds: Double, file: StaticString = #filePath, line: UInt = #line) {
        usleep(UInt32((graceSeconds + 2) * 1_000_000))
        let before = h.feeds().count
        XCTAssertTrue(waitUntil(3) { h.feeds().count >= before + 2 }, "the watchdog is no longer fed: \(h.log)", file: file, line: line)
        let status = h.statusOrNil()
        XCTAssertEqual(status?.watchdog.health, "healthy", h.log, file: file, line: line)
        XCTAssertEqual(status?.leds.pattern, "degraded", h.log, file: file, line: line)
    }

    func test_vfsObjectsAreReadAsSambaReadsThem() {
        let conf = """
            [global]
            \tVFS Objects = full_audit, catia
            # vfs objects = commented
            ; vfs objects = commented too
            [share]
            \tvfs object = streams_xattr full_audit
            \tvfs objects=fruit
            """
        XCTAssertEqual(SambaPreflight.vfsObjects(in: conf), ["full_audit", "catia", "streams_xattr", "fruit"])
        XCTAssertEqual(SambaPreflight.configFile(in: ["/usr/sbin/smbd", "--foreground", "--configfile=/etc/samba/smb.conf"]), "/etc/samba/smb.conf")
        XCTAssertEqual(SambaPreflight.configFile(in: ["/usr/sbin/smbd", "-s", "/x.conf"]), "/x.conf")
        XCTAssertEqual(SambaPreflight.configFile(in: ["/usr/sbin/smbd"]), "/etc/samba/smb.conf")
    }

    /// testparm runs on the host, where the jail's /data paths do not exist: its complaints about them are
    /// looked at through the jail's binds, and a file it cannot load at all is refused with its own words.
    func test_testparmIsAskedAboutTheJailsViewOfThePaths() throws {
        try XCTSkipUnless(fileExists("/usr/bin/testparm"), "needs testparm (samba-common-bin)")
        let dir = ScratchDirectory()
        mkdir(dir.path + "/state", 0o755)
        let good = dir.write("good.conf", "[global]\n\tstate directory = /data/state\n")
        let root = RootSpec(chroot: nil, mounts: [.bind(source: dir.path, destination: "/data", writable: true)], usrSymlinks: [])
        let ran = SambaPreflight.run(["/usr/bin/testparm", "-s", "--suppress-prompt", good])
        XCTAssertNil(SambaPreflight.testparmComplaint(status: ran.status, output: ran.output, root: root), ran.output)
        let missing = dir.write("missing.conf", "[global]\n\tcache directory = /data/cache\n")
        let ran2 = SambaPreflight.run(["/usr/bin/testparm", "-s", "--suppress-prompt", missing])
        let complaint = SambaPreflight.testparmComplaint(status: ran2.status, output: ran2.output, root: root)
        XCTAssertEqual(complaint, "ERROR: cache directory /data/cache does not exist (in the jail)", ran2.output)
        let broken = dir.write("broken.conf", "[global\n")
        let ran3 = SambaPreflight.run(["/usr/bin/testparm", "-s", "--suppress-prompt", broken])
        XCTAssertNotEqual(ran3.status, 0)
        XCTAssertNotNil(SambaPreflight.testparmComplaint(status: ran3.status, output: ran3.output, root: root), ran3.output)
    }

    /// The helpers run on the event loop: one that closes its output and then hangs is killed at the deadline
    /// like one that hangs writing, instead of holding the loop in waitpid.
    func test_aHelperThatClosesItsOutputAndHangsIsKilledAtTheDeadline() {
        let started = monotonicMilliseconds()
        let result = SambaPreflight.run(["/bin/sh", "-c", "echo before; exec >&- 2>&-; sleep 60"])
        let took = monotonicMilliseconds() - started
        XCTAssertLessThan(took, Int64(SambaPreflight.helperDeadlineMs) + 2000, "held the caller \(took) ms")
        XCTAssertEqual(result.status, 128 + SIGKILL)
        XCTAssertEqual(result.output, "before\n")
        // Control: a helper that exits is waited for and its status kept.
        XCTAssertEqual(SambaPreflight.run(["/bin/sh", "-c", "echo ok; exit 3"]).status, 3)
    }
}
