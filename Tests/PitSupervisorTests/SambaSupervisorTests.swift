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
        let h = SupervisorHarness()
        let root = h.dir.path + "/samba"
        for sub in ["", "/etc", "/data", "/data/shares", "/data/shares/share", "/data/lock", "/data/state", "/data/cache", "/data/private", "/data/pid", "/data/ncalrpc", "/data/log"] {
            mkdir(root + sub, 0o755)
        }
        let policies = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/policies/samba"
        let port = 44_800 + Int(getpid() % 150)
        h.dir.write("samba/etc/smb.conf", (readText(policies + "/smb.conf.template") ?? "").replacingAll("@PORT@", String(port)))
        h.dir.write("samba/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        h.dir.write("samba/etc/group", "root:x:0:\nnogroup:x:65534:\n")
        h.dir.write("samba/etc/hosts", "127.0.0.1 localhost \((readText("/proc/sys/kernel/hostname") ?? "").filter { $0 != "\n" })\n")
        h.dir.write("samba/etc/nsswitch.conf", "hosts: files\npasswd: files\ngroup: files\n")
        h.dir.write("samba/data/shares/share/salaries.xlsx", "decoy\n")
        // The named pipes smbd.toml binds from samba-dcerpcd's directory (none runs here: placeholders, as SambaTree
        // makes them).
        for sub in ["/ncalrpc", "/ncalrpc/np", "/data/run", "/data/run/ncalrpc", "/data/run/ncalrpc/np"] { mkdir(root + sub, 0o755) }
        for pipe in ["srvsvc", "wkssvc", "lsarpc"] { h.dir.write("samba/ncalrpc/np/" + pipe, ""); h.dir.write("samba/data/run/ncalrpc/np/" + pipe, "") }
        // The shipped spec, pointed at this scratch tree instead of /run/pit-samba.
        let spec = (readText(policies + "/smbd.toml") ?? "").replacingAll("/run/pit-samba", root)
            .replacingAll("policy = \"smbd.policy\"", "policy = \"\(policies)/smbd.policy\"")
            // Without a persona nothing renders smb.conf's port for the supervisor: the test's port is added to
            // the jail's Landlock binds here, as a persona's smb_port would be.
            .replacingAll("bind_tcp = [139, 445]", "bind_tcp = [139, 445, \(port)]")
        // Without a persona the supervisor prepares no Samba tree: the data tree is made the jail's (root of its
        // user namespace, host uid 200000) here, as SambaTree does.
        XCTAssertEqual(Process.run(["/bin/chown", "-R", "200000:200000", root + "/data"]).status, 0)
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
        XCTAssertEqual(smbEvents(h).count, 0, "a listing is not an alert")

        let get = Process.run(["/usr/bin/smbclient", "-N", "-p", String(port), "//127.0.0.1/share", "-c", "get salaries.xlsx /dev/null"])
        XCTAssertEqual(get.status, 0, get.stderr)
        XCTAssertTrue(waitUntil(5) { smbEvents(h).count >= 1 }, h.log)
        usleep(300_000)
        let events = smbEvents(h)
        XCTAssertEqual(events.count, 1, "\(events.map { $0.jsonLine() })")
        XCTAssertEqual(events.first?.file, "salaries.xlsx")
        XCTAssertEqual(events.first?.share, "share")
        XCTAssertEqual(events.first?.client, "127.0.0.1")
        XCTAssertEqual(events.first?.user, "nobody")
        XCTAssertEqual(events.first?.jail, "smbd")
        XCTAssertEqual(h.jail("smbd")?.violations, 0, h.log)
        _ = h.stop()
    }

    private func smbEvents(_ h: SupervisorHarness) -> [PitEvent] {
        let r = Process.run([Pit.executable, "events", "--json", "--data-dir", h.dir.path + "/data"])
        return lines(r.stdout).compactMap { try? PitEvent.decode(jsonLine: $0) }.filter { $0.kind == .smbAccess }
    }
}
