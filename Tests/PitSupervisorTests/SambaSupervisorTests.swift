import PitTestSupport
import FoundationEssentials
import Glibc
import PitUplink
import XCTest

/// `pit supervise` running the shipped smbd jail (policies/samba) with Samba's full_audit wired to the jail's
/// /dev/log: a listing raises nothing, reading a decoy file raises exactly one smb_access event.
final class SambaSupervisorTests: XCTestCase {
    func test_readingADecoyFileRaisesExactlyOneSmbAccessEvent() throws {
        try XCTSkipUnless(fileExists("/usr/sbin/smbd") && fileExists("/usr/bin/smbclient"), "Samba is not installed (image/install-deps installs it)")
        // smbd.toml's low ports lower the host's net.ipv4.ip_unprivileged_port_start (this smbd is in the host's
        // network namespace): put it back however the test ends.
        let portStart = SavedSysctl.unprivilegedPortStart
        defer { portStart.restore() }
        let h = SupervisorHarness()
        let root = h.dir.path + "/samba"
        let port = 44_800 + Int(getpid() % 150)
        // The shipped smb.conf on this port and the named pipes smbd.toml binds from samba-dcerpcd's directory
        // (none runs here: placeholders, as SambaTree makes them).
        SambaScratch.writeTree(root: root, port: port, pipes: root + "/ncalrpc/np")
        h.dir.write("samba/data/shares/share/salaries.xlsx", "decoy\n")
        // The shipped spec, pointed at this scratch tree instead of /run/pit-samba.
        let spec = SambaScratch.spec("smbd", root: root)
            // Without a persona nothing renders smb.conf's port for the supervisor: the test's port is added to
            // the jail's Landlock binds here, as a persona's smb_port would be.
            .replacingAll("bind_tcp = [139, 445]", "bind_tcp = [139, 445, \(port)]")
        // Without a persona the supervisor prepares no Samba tree: the data tree is made the jail's (root of its
        // user namespace, host uid 200000) here, as SambaTree does.
        XCTAssertTrue(chownTree(root + "/data", to: 200_000))
        h.dir.write("smbd.toml", spec)
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = \(port)
            smb_audit = true
            """)
        h.start()
        XCTAssertTrue(waitUntil(10) { h.jail("smbd")?.state == "running" }, h.log)
        // pit status names the walls this kernel built for it.
        let walls = h.jail("smbd")?.walls ?? []
        XCTAssertTrue(walls.contains("user namespace (root is host uid 200000)"), "\(walls)")
        XCTAssertTrue(walls.contains { $0.hasPrefix("landlock ABI ") }, "\(walls)")

        let listing = Process.run(["/usr/bin/smbclient", "-N", "-p", String(port), "//127.0.0.1/share", "-c", "ls"])
        XCTAssertTrue(listing.stdout.contains("salaries.xlsx"), listing.stdout + listing.stderr)
        usleep(300_000)
        XCTAssertEqual(h.events([.smbAccess]).count, 0, "a listing is not an alert")

        let get = Process.run(["/usr/bin/smbclient", "-N", "-p", String(port), "//127.0.0.1/share", "-c", "get salaries.xlsx /dev/null"])
        XCTAssertEqual(get.status, 0, get.stderr)
        XCTAssertTrue(waitUntil(5) { h.events([.smbAccess]).count >= 1 }, h.log)
        usleep(300_000)
        let events = h.events([.smbAccess])
        XCTAssertEqual(events.count, 1, "\(events.map { $0.jsonLine() })")
        XCTAssertEqual(events.first?.file, "salaries.xlsx")
        XCTAssertEqual(events.first?.share, "share")
        XCTAssertEqual(events.first?.client, "127.0.0.1")
        XCTAssertEqual(events.first?.user, "nobody")
        XCTAssertEqual(events.first?.jail, "smbd")
        XCTAssertEqual(h.jail("smbd")?.violations, 0, h.log)
        _ = h.stop()
    }
}
