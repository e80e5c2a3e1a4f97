import PitTestSupport
import FoundationEssentials
import Glibc
import PitUplink
import XCTest

/// The appliance's job end to end: `pit supervise` in its own network and UTS namespaces applies the persona
/// (hostname, MAC, address over rtnetlink), renders smb.conf, runs smbd and nmbd in their jails, and a client
/// in another namespace (joined by a veth pair) sees a file server: it lists the decoy share, reads a file
/// (one smb_access event) and resolves the NetBIOS name. The machine's own hostname and links stay untouched.
final class PersonaSambaTests: XCTestCase {
    func test_clientOnTheNetworkSeesTheDecoyFileServerAndReadingRaisesOneAlert() throws {
        try XCTSkipUnless(["/usr/sbin/smbd", "/usr/sbin/nmbd", "/usr/bin/smbclient", "/usr/bin/nmblookup", "/usr/sbin/ip", "/usr/bin/nsenter"].allSatisfy(fileExists),
                          "needs Samba, smbclient and iproute2 (image/install-deps)")
        let hostBefore = readText("/proc/sys/kernel/hostname")
        let h = SupervisorHarness()
        let tag = String(getpid() % 100000)
        let net = VethNamespaces(device: "pitpd" + tag, client: "pitpc" + tag, nic: "pe" + tag, peer: "pp" + tag)
        defer { net.remove() }
        XCTAssertEqual(net.failures, [])
        let (device, nic) = (net.device, net.nic)

        mkdir(h.dir.path + "/decoys", 0o755)
        h.dir.write("decoys/salaries-2026.xlsx", "decoy payroll\n")
        writePersona(h.dir, tag: tag, interface: nic)
        for daemon in ["smbd", "nmbd"] { h.dir.write("\(daemon).toml", SambaScratch.spec(daemon, root: h.dir.path + "/samba")) }
        let port = 44_900 + Int(getpid() % 90)
        // The uplink's receiver: a syslog (UDP) listener on the device namespace's loopback, one line per datagram.
        let received = h.dir.path + "/received"
        let receiver = spawnSyslogReceiver(netns: device, file: received)
        defer { kill(receiver, SIGKILL); _ = Process.wait(receiver) }
        // The persona and Samba settings come first: TOML puts [watchdog] (from writeConfig) after them.
        h.writeConfig("""
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = "192.0.2.10:\(port)"
            smb_audit = true
            [[jails]]
            name = "nmbd"
            spec = "nmbd.toml"
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "udp"
            host = "127.0.0.1"
            port = 5514
            """, top: "persona = \"persona.toml\"\nsamba_root = \"samba\"\nsmb_port = \(port)")
        h.start(prefix: VethNamespaces.enter(device) + ["/usr/bin/unshare", "--uts", "--"])
        XCTAssertTrue(waitUntil(15) { h.jail("smbd")?.state == "running" && h.jail("nmbd")?.state == "running" }, h.log)

        // The persona, read back from the kernel in the device's namespace.
        let link = Process.run(["/usr/sbin/ip", "-n", device, "-br", "link", "show", nic]).stdout
        XCTAssertTrue(link.contains("02:11:32:aa:bb:cc") && link.contains("UP"), link)
        XCTAssertTrue(Process.run(["/usr/sbin/ip", "-n", device, "-br", "addr", "show", nic]).stdout.contains("192.0.2.10/24"))
        XCTAssertEqual(readText("/proc/sys/kernel/hostname"), hostBefore, "the machine's hostname is untouched")

        let inClient = net.inClient
        let listing = inClient(["/usr/bin/smbclient", "-N", "-p", String(port), "//192.0.2.10/finance", "-c", "ls"])
        XCTAssertTrue(listing.stdout.contains("salaries-2026.xlsx"), listing.stdout + listing.stderr + h.log)
        let get = inClient(["/usr/bin/smbclient", "-N", "-p", String(port), "//192.0.2.10/finance", "-c", "get salaries-2026.xlsx /dev/null"])
        XCTAssertEqual(get.status, 0, get.stderr)
        var answer = Captured(status: -1, stdout: "", stderr: "")
        for _ in 0..<20 {
            answer = inClient(["/usr/bin/nmblookup", "-U", "192.0.2.10", "NASFIN\(tag)"])
            if answer.stdout.contains("<00>") { break }
            usleep(200_000)
        }
        XCTAssertTrue(answer.stdout.contains("192.0.2.10 NASFIN\(tag)<00>"), answer.stdout + answer.stderr + h.log + (readText(h.dir.path + "/samba/data/log/log.nmbd") ?? "no nmbd log"))

        XCTAssertTrue(waitUntil(5) { h.events([.smbAccess]).count == 1 }, h.log)
        usleep(300_000)
        let events = h.events([.smbAccess])
        XCTAssertEqual(events.count, 1, "\(events.map { $0.jsonLine() })")
        XCTAssertEqual(events.first?.file, "salaries-2026.xlsx")
        XCTAssertEqual(events.first?.client, "192.0.2.20")
        XCTAssertEqual(events.first?.share, "finance")
        XCTAssertEqual(h.statusOrNil()?.jails.map(\.violations), [0, 0], h.log)
        // And exactly one smb_access reached the receiver, through the uplink agent.
        XCTAssertTrue(waitUntil(10) { (readText(received) ?? "").contains("\"smb_access\"") }, h.log)
        usleep(500_000)
        let alerts = lines(readText(received) ?? "").filter { $0.contains("\"kind\":\"smb_access\"") }
        XCTAssertEqual(alerts.count, 1, "\(alerts)")
        XCTAssertTrue(alerts.first?.contains("\"file\":\"salaries-2026.xlsx\"") ?? false, "\(alerts)")
        XCTAssertEqual(h.stop(), 0, h.log)
    }
}
