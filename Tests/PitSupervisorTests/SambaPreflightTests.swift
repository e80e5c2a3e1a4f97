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
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = \(port)
            [[jails]]
            name = "other"
            spec = "other.toml"
            """)
        h.start()
        XCTAssertTrue(waitUntil(5) { h.jail("other")?.state == "running" }, "the other jail was held back: \(h.log)")
        let modules = Process.run(["/usr/sbin/smbd", "-b"]).stdout.split(separator: "\n")
            .first { $0.contains("MODULESDIR:") }.map { String($0.split(separator: ":", maxSplits: 1)[1].drop { $0 == " " }) } ?? "?"
        let line = "service_exit [smbd]: smbd could not start: smbd: vfs module 'pit_no_such_module' not found in \(modules)/vfs (install samba-vfs-modules)"
        XCTAssertTrue(waitUntil(3) { h.log.contains(line) }, h.log)
        XCTAssertNil(h.jail("smbd")?.pid, "smbd was started")
        XCTAssertEqual(h.jail("smbd")?.last_exit?.hasPrefix("setup failed: smbd: vfs module 'pit_no_such_module'"), true, h.log)
        // full_audit itself (samba-vfs-modules is installed here) is not the complaint.
        XCTAssertFalse(h.log.contains("'full_audit' not found"), h.log)
        XCTAssertEqual(h.stop(), 0, h.log)
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
