import PitTestSupport
import FoundationEssentials
import Glibc
import PitPersona
import PitUplink
import XCTest

/// The persona's DHCP client end to end: `pit supervise` in a device namespace, a real dnsmasq (Debian's) in a
/// client namespace joined by a veth pair, and a raw packet socket in the client namespace capturing what the
/// canary sends, so its fingerprint is compared with the profile byte for byte.
final class DhcpSupervisorTests: XCTestCase {
    var net: VethNamespaces!
    var h: SupervisorHarness!
    var dnsmasq: pid_t = 0
    var capture: pid_t = 0
    var tag = ""
    /// The server side's interface: the veth peer, or a bridge when a third host joins (`addSquatter`).
    var serverInterface = ""
    var squatter: String?

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root (network namespaces)")
        try XCTSkipUnless(["/usr/sbin/dnsmasq", "/usr/sbin/ip", "/usr/bin/nsenter", "/usr/bin/python3"].allSatisfy(fileExists),
                          "needs dnsmasq, iproute2 and python3 (image/install-deps)")
        tag = String(getpid() % 100000)
        net = VethNamespaces(device: "pitdd" + tag, client: "pitdc" + tag, nic: "de" + tag, peer: "dp" + tag)
        XCTAssertEqual(net.failures, [])
        h = SupervisorHarness()
        serverInterface = net.peer
    }

    /// A third host holding `address`: the server's veth end goes into a bridge with a second pair whose other
    /// end, in namespace `squatter`, carries the address (on the server's own host the kernel would keep the
    /// server's unicast replies to it local).
    func addSquatter(_ address: String) {
        let name = "pitds" + tag, bridge = "db" + tag
        squatter = name
        net.ip(["netns", "add", name])
        net.ip(["-n", net.client, "link", "add", bridge, "type", "bridge"])
        net.ip(["-n", net.client, "addr", "del", "192.0.2.20/24", "dev", net.peer])
        net.ip(["-n", net.client, "link", "set", net.peer, "master", bridge])
        net.ip(["-n", net.client, "addr", "add", "192.0.2.20/24", "dev", bridge])
        net.ip(["-n", net.client, "link", "set", bridge, "up"])
        net.ip(["link", "add", "dq" + tag, "type", "veth", "peer", "name", "dr" + tag])
        net.ip(["link", "set", "dq" + tag, "netns", name])
        net.ip(["link", "set", "dr" + tag, "netns", net.client])
        net.ip(["-n", net.client, "link", "set", "dr" + tag, "master", bridge])
        net.ip(["-n", net.client, "link", "set", "dr" + tag, "up"])
        net.ip(["-n", name, "addr", "add", address + "/24", "dev", "dq" + tag])
        net.ip(["-n", name, "link", "set", "dq" + tag, "up"])
        serverInterface = bridge
        XCTAssertEqual(net.failures, [])
    }

    override func tearDown() {
        if dnsmasq > 0 { kill(dnsmasq, SIGKILL); _ = Process.wait(dnsmasq); dnsmasq = 0 }
        if capture > 0 { kill(capture, SIGKILL); _ = Process.wait(capture); capture = 0 }
        h = nil
        if let squatter { _ = Process.run(["/usr/sbin/ip", "netns", "del", squatter]) }
        net?.remove()
    }

    /// dnsmasq serving 192.0.2.50-51 for two minutes (its minimum) with T1 8 s and T2 14 s, router 192.0.2.20 and
    /// DNS server 192.0.2.53; `--no-ping`, so the canary's own ARP check is what finds a conflict.
    func startServer(range: String = "192.0.2.50,192.0.2.51") {
        dnsmasq = spawnDetached(VethNamespaces.enter(net.client) + [
            "/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--port=0",
            "--user=root", "--group=root", "--interface=" + serverInterface, "--bind-interfaces", "--pid-file=",
            "--dhcp-range=\(range),255.255.255.0,2m", "--dhcp-leasefile=" + h.dir.path + "/dnsmasq.leases",
            "--dhcp-option=option:router,192.0.2.20", "--dhcp-option=option:dns-server,192.0.2.53",
            "--dhcp-option=option:T1,8", "--dhcp-option=option:T2,14", "--no-ping", "--log-dhcp",
            "--log-facility=" + h.dir.path + "/dnsmasq.log",
        ], stderrPath: h.dir.path + "/dnsmasq.stderr")
        usleep(300_000)
    }

    func stopServer() {
        if dnsmasq > 0 { kill(dnsmasq, SIGTERM); _ = Process.wait(dnsmasq); dnsmasq = 0 }
    }

    /// Every UDP datagram to port 67 the client namespace receives, as hex lines (a raw packet socket).
    func startCapture() {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
            s.bind((sys.argv[1], 0))
            out = open(sys.argv[2], 'a')
            while True:
                try:
                    b = s.recv(4096)
                except OSError:   # ENETDOWN while the link is down: the socket carries on once it is up
                    continue
                if len(b) < 28 or b[9] != 17: continue
                hl = (b[0] & 15) * 4
                if b[hl + 2] * 256 + b[hl + 3] != 67: continue
                out.write(b[hl + 8:].hex() + '\\n'); out.flush()
            """
        capture = spawnDetached(VethNamespaces.enter(net.client) + ["/usr/bin/python3", "-c", script, serverInterface, h.dir.path + "/captured"])
        usleep(300_000)
    }

    /// The client messages captured so far, parsed.
    func captured() -> [DhcpPacket] {
        lines(readText(h.dir.path + "/captured") ?? "").compactMap { line -> DhcpPacket? in
            var bytes: [UInt8] = []
            var chars = Array(line.utf8)[...]
            while chars.count >= 2, let b = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) { bytes.append(b); chars = chars.dropFirst(2) }
            return try? DhcpPacket.parse(bytes)
        }.filter { $0.op == 1 }
    }

    func writeDevice(profile: String = "windows-10") {
        h.dir.write("persona.toml", """
            hostname = "ws-fin-\(tag)"
            interface = "\(net.nic)"
            mac = "02:11:32:aa:bb:cc"
            [dhcp]
            enabled = true
            profile = "\(profile)"
            """)
        h.writeJail("idle", "sleep 1000")
        h.writeConfig("[[jails]]\nname = \"idle\"\nspec = \"idle.toml\"\n", top: "persona = \"persona.toml\"")
    }

    func addresses() -> String { Process.run(["/usr/sbin/ip", "-n", net.device, "-br", "-4", "addr", "show", net.nic]).stdout }
    func routes() -> String { Process.run(["/usr/sbin/ip", "-n", net.device, "-4", "route", "show", "dev", net.nic]).stdout }
    func startSupervisor() { h.start(prefix: VethNamespaces.enter(net.device) + ["/usr/bin/unshare", "--uts", "--"]) }

    func test_leaseObtainedWithTheProfilesFingerprintRenewedAndReleasedAtStop() throws {
        startServer()
        startCapture()
        writeDevice()
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log + (readText(h.dir.path + "/dnsmasq.log") ?? ""))
        let status = try XCTUnwrap(h.statusOrNil()?.dhcp)
        XCTAssertEqual(status.address, "192.0.2.50/24")
        XCTAssertEqual(status.server, "192.0.2.20")
        XCTAssertEqual(status.profile, "windows-10")
        XCTAssertTrue(addresses().contains("192.0.2.50/24"), addresses())
        XCTAssertTrue(routes().contains("default via 192.0.2.20 proto dhcp"), routes())
        let text = Process.run([Pit.executable, "status", "--socket", h.socket]).stdout
        XCTAssertTrue(text.contains("dhcp: \(net.nic) windows-10 bound 192.0.2.50/24 from 192.0.2.20  last: leased 192.0.2.50/24 from 192.0.2.20"), text)
        XCTAssertEqual(readText(h.dir.path + "/data/dhcp-resolv.conf"), "nameserver 192.0.2.53\n")
        XCTAssertEqual(readText(h.dir.path + "/data/dhcp-lease"), "address=192.0.2.50/24\n")
        let leased = h.events([.dhcpLease])
        XCTAssertEqual(leased.count, 1, "\(leased.map { $0.jsonLine() })")
        XCTAssertEqual(leased.first?.details?["address"], "192.0.2.50/24")
        XCTAssertEqual(leased.first?.details?["renewed"], "false")

        // The fingerprint, as the server's side of the wire saw it: Windows 10's option order and values.
        let sent = captured()
        let discover = try XCTUnwrap(sent.first { $0.messageType == .discover })
        let request = try XCTUnwrap(sent.first { $0.messageType == .request })
        let windows = DhcpProfile.windows10
        XCTAssertEqual(discover.options.map(\.code), [53] + windows.discoverOptions.filter { $0 != 50 })
        XCTAssertEqual(request.options.map(\.code), [53] + windows.requestOptions)
        for message in [discover, request] {
            XCTAssertEqual(message.option(55), [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252], "Fingerbank's Windows kernel 10.0 list")
            XCTAssertEqual(message.option(60), Array("MSFT 5.0".utf8))
            XCTAssertEqual(message.option(61), [1, 0x02, 0x11, 0x32, 0xAA, 0xBB, 0xCC])
            XCTAssertEqual(message.option(12), Array("ws-fin-\(tag)".utf8))
        }
        XCTAssertEqual(request.option(81), [0, 0, 0] + Array("ws-fin-\(tag)".utf8))
        XCTAssertEqual(request.xid, discover.xid)

        // T1 is 8 s: a unicast renewal, acknowledged, is a second dhcp_lease with renewed = true.
        XCTAssertTrue(waitUntil(15) { self.h.events([.dhcpLease]).count >= 2 }, h.log)
        XCTAssertEqual(h.events([.dhcpLease]).last?.details?["renewed"], "true")
        XCTAssertTrue(addresses().contains("192.0.2.50/24"))

        // An orderly stop releases the lease and removes the address.
        XCTAssertEqual(h.stop(), 0, h.log)
        XCTAssertFalse(addresses().contains("192.0.2.50"), addresses())
        XCTAssertTrue(waitUntil(3) { self.captured().contains { $0.messageType == .release } })
        XCTAssertNil(readText(h.dir.path + "/data/dhcp-lease"), "a released lease is not asked for again")
        XCTAssertNil(readText(h.dir.path + "/data/dhcp-resolv.conf"), "the DNS uplink no longer asks the lease's server")
        XCTAssertEqual(h.events([.dhcpLost]).first?.details?["reason"], "released at an orderly stop")
    }

    /// The device's own default route through another NIC (a management port; a veth here: this kernel has no dummy) survives the lease's: a server's
    /// router must not take the uplink's traffic. Before, the lease's default route replaced it (a replace matches
    /// destination and metric, not the interface).
    func test_theLeasesRoutesNeverReplaceTheDevicesOwnThroughAnotherInterface() throws {
        let ip = ["/usr/sbin/ip", "-n", net.device]
        for command in [["link", "add", "mgmt0", "type", "veth", "peer", "name", "mgmt1"], ["link", "set", "mgmt1", "up"], ["link", "set", "mgmt0", "up"],
                        ["addr", "add", "10.9.9.1/24", "dev", "mgmt0"], ["route", "add", "default", "via", "10.9.9.254", "dev", "mgmt0"]] {
            let r = Process.run(ip + command)
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
        }
        startServer()
        writeDevice()
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log)
        let defaults = Process.run(ip + ["-4", "route", "show", "default"]).stdout
        XCTAssertTrue(defaults.contains("default via 10.9.9.254 dev mgmt0"), defaults)
        XCTAssertTrue(defaults.contains("default via 192.0.2.20 dev \(net.nic) proto dhcp metric 1024"), defaults)
        XCTAssertEqual(h.stop(), 0, h.log)
        XCTAssertTrue(Process.run(ip + ["-4", "route", "show", "default"]).stdout.contains("via 10.9.9.254 dev mgmt0"))
    }

    func test_initRebootAfterACrashKeepsTheAddress() throws {
        startServer()
        startCapture()
        writeDevice()
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log)
        // Killed, not stopped: no release; the lease file stays, and so does the address.
        kill(h.pid, SIGKILL)
        _ = Process.wait(h.pid)
        h.pid = 0
        XCTAssertTrue(addresses().contains("192.0.2.50/24"))
        let before = captured().count
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log)
        let first = try XCTUnwrap(captured().dropFirst(before).first)
        XCTAssertEqual(first.messageType, .request, "INIT-REBOOT starts with a REQUEST, not a DISCOVER")
        XCTAssertEqual(first.option(50), [192, 0, 2, 50])
        XCTAssertNil(first.option(54))
        XCTAssertEqual(h.statusOrNil()?.dhcp?.address, "192.0.2.50/24")
        // The persona's apply kept the remembered address: it was never taken off the interface.
        XCTAssertFalse(h.log.contains("address remove 192.0.2.50"), h.log)
        XCTAssertFalse(h.log.contains("address add 192.0.2.50"), "re-added: it had been removed\n" + h.log)
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    func test_linkDownAndUpConfirmsTheLeaseWithInitReboot() throws {
        startServer()
        startCapture()
        writeDevice()
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log)
        let before = captured().count
        // The cable out and back in: the veth peer down and up takes the canary's carrier with it.
        net.ip(["-n", net.client, "link", "set", net.peer, "down"])
        usleep(500_000)
        net.ip(["-n", net.client, "link", "set", net.peer, "up"])
        XCTAssertTrue(waitUntil(10) { self.captured().dropFirst(before).contains { $0.messageType == .request } }, h.log)
        let request = try XCTUnwrap(captured().dropFirst(before).first { $0.messageType == .request })
        XCTAssertEqual(request.option(50), [192, 0, 2, 50], "INIT-REBOOT names the held address")
        XCTAssertNil(request.option(54))
        XCTAssertTrue(waitUntil(10) { self.h.events([.dhcpLease]).count >= 2 }, h.log)
        XCTAssertEqual(h.events([.dhcpLease])[1].details?["renewed"], "true")
        XCTAssertTrue(h.log.contains("carrier down") && h.log.contains("carrier up"), h.log)
        XCTAssertTrue(addresses().contains("192.0.2.50/24"))
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    func test_anAddressInUseIsDeclinedAndAnotherTaken() throws {
        // Another host already holds 192.0.2.50; dnsmasq does not ping, so it offers it.
        addSquatter("192.0.2.50")
        startServer()
        startCapture()
        writeDevice(profile: "synology-dsm7")
        startSupervisor()
        XCTAssertTrue(waitUntil(25) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log + (readText(h.dir.path + "/dnsmasq.log") ?? "") + (readText(h.dir.path + "/dnsmasq.stderr") ?? "") + "\(self.h.statusOrNil()?.dhcp as Any)")
        XCTAssertEqual(h.statusOrNil()?.dhcp?.address, "192.0.2.51/24", h.log)
        let decline = try XCTUnwrap(captured().first { $0.messageType == .decline })
        XCTAssertEqual(decline.option(50), [192, 0, 2, 50])
        XCTAssertTrue(h.log.contains("192.0.2.50 is in use by another host"), h.log)
        XCTAssertFalse(addresses().contains("192.0.2.50"), addresses())
        // Synology's fingerprint: no vendor class, its option 55 list.
        let discover = try XCTUnwrap(captured().first { $0.messageType == .discover })
        XCTAssertNil(discover.option(60))
        XCTAssertEqual(discover.option(55), DhcpProfile.synologyDSM7.parameterRequestList)
        XCTAssertEqual(h.stop(), 0, h.log)
    }

    /// Rebinding after the server restarts, then the lease lost when the server is gone for good (two minutes:
    /// dnsmasq's shortest lease). PIT_LONG_TESTS=1 runs it.
    func test_reboundAfterServerRestartThenLostWhenItIsGone() throws {
        try XCTSkipUnless(getenv("PIT_LONG_TESTS") != nil, "takes over two minutes; PIT_LONG_TESTS=1 runs it")
        startServer()
        writeDevice()
        startSupervisor()
        XCTAssertTrue(waitUntil(15) { self.h.statusOrNil()?.dhcp?.state == "bound" }, h.log)
        stopServer()
        // Renewal at T1 (8 s) goes unanswered; the server is back before T2 (14 s), where the broadcast rebind reaches it.
        XCTAssertTrue(waitUntil(12) { self.h.statusOrNil()?.dhcp?.state == "renewing" }, h.log)
        startServer()
        XCTAssertTrue(waitUntil(20) { self.h.events([.dhcpLease]).count >= 2 }, h.log)
        XCTAssertEqual(h.events([.dhcpLost]).count, 0)
        stopServer()
        XCTAssertTrue(waitUntil(150) { self.h.events([.dhcpLost]).count == 1 }, h.log)
        XCTAssertEqual(h.events([.dhcpLost]).first?.details?["reason"], "lease expired unrenewed")
        XCTAssertFalse(addresses().contains("192.0.2.50"), addresses())
        XCTAssertFalse(routes().contains("proto dhcp"), routes())
        XCTAssertEqual(h.stop(), 0, h.log)
    }
}
