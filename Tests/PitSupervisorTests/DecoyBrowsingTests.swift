import PitTestSupport
import FoundationEssentials
import Glibc
import PitUplink
import XCTest

/// An attacker's first moves against the decoy, from another network namespace with the real smbclient and
/// rpcclient: `pit supervise` runs samba-dcerpcd (policies/samba/dcerpcd.toml) and then smbd in their jails; a
/// share listing shows the decoy shares with their comments, and each move raises exactly one event of its kind
/// at the uplink's receiver: a listing `smb_enumeration`, every session setup `smb_logon` (the names tried, the
/// outcome), a file read `smb_access`, a directory listing nothing. The persona imitates a Synology: the server
/// string, the decoys' dates and the negotiate's dialect range are what a client sees.
final class DecoyBrowsingTests: XCTestCase {
    func test_listingLogonsAndReadsEachRaiseOneEventOfTheirKind() throws {
        try XCTSkipUnless(["/usr/sbin/smbd", "/usr/libexec/samba/samba-dcerpcd", "/usr/bin/smbclient", "/usr/bin/rpcclient", "/usr/sbin/ip", "/usr/bin/nsenter"].allSatisfy(fileExists),
                          "needs Samba, smbclient, rpcclient and iproute2 (image/install-deps)")
        let h = SupervisorHarness()
        let tag = String(getpid() % 100000)
        let net = VethNamespaces(device: "pitbd" + tag, client: "pitbc" + tag, nic: "be" + tag, peer: "bp" + tag)
        defer { net.remove() }
        XCTAssertEqual(net.failures, [])
        let (device, nic) = (net.device, net.nic)

        mkdir(h.dir.path + "/decoys", 0o755)
        h.dir.write("decoys/salaries-2026.xlsx", "decoy payroll\n")
        mkdir(h.dir.path + "/decoys/Q3", 0o755)
        h.dir.write("decoys/Q3/board.pptx", "decoy slides\n")
        // The templates' dates are what a listing shows (2023-03-14 12:00 UTC: the same day in every time zone the
        // test may run in).
        var march = [timespec(tv_sec: 1_678_795_200, tv_nsec: 0), timespec(tv_sec: 1_678_795_200, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, h.dir.path + "/decoys/salaries-2026.xlsx", &march, 0), 0)
        // A Synology: SMB2_10 (Samba's "SMB2") at the least, so a client offering only SMB2.02 or SMB1 is refused.
        writePersona(h.dir, tag: tag, interface: nic, mac: "02:11:32:aa:bb:cd", comment: "Finance department",
                     extra: "imitate = \"synology-dsm7\"")
        for daemon in ["smbd", "dcerpcd"] { h.dir.write("\(daemon).toml", SambaScratch.spec(daemon, root: h.dir.path + "/samba")) }
        let port = 45_100 + Int(getpid() % 90)
        let received = h.dir.path + "/received"
        let receiver = spawnSyslogReceiver(netns: device, file: received)
        defer { kill(receiver, SIGKILL); _ = Process.wait(receiver) }
        h.writeConfig("""
            [[jails]]
            name = "dcerpcd"
            spec = "dcerpcd.toml"
            ready_tcp = "192.0.2.10:135"
            [[jails]]
            name = "smbd"
            spec = "smbd.toml"
            ready_tcp = "192.0.2.10:\(port)"
            smb_audit = true
            restart_with = ["dcerpcd"]
            [[uplink]]
            type = "syslog"
            name = "siem"
            protocol = "udp"
            host = "127.0.0.1"
            port = 5514
            """, top: "persona = \"persona.toml\"\nsamba_root = \"samba\"\nsmb_port = \(port)")
        h.start(prefix: VethNamespaces.enter(device) + ["/usr/bin/unshare", "--uts", "--"])
        XCTAssertTrue(waitUntil(20) { h.jail("dcerpcd")?.state == "running" && h.jail("smbd")?.state == "running" }, h.log)

        let inClient = net.inClient
        let p = String(port)
        var seen: [PitEvent.Kind: Int] = [:]
        /// Runs one move and returns the events it raised (by kind), once the expected count arrived and a
        /// moment passed for any extra one.
        func move(_ argv: [String], expect: [PitEvent.Kind: Int], _ check: (Captured) -> Void) -> [PitEvent] {
            let before = alerts(h)
            let result = inClient(argv)
            check(result)
            let total = expect.values.reduce(0, +)
            _ = waitUntil(5) { alerts(h).count >= before.count + total }
            usleep(400_000)
            let raised = Array(alerts(h).dropFirst(before.count))
            var counts: [PitEvent.Kind: Int] = [:]
            for e in raised { counts[e.kind, default: 0] += 1; seen[e.kind, default: 0] += 1 }
            XCTAssertEqual(counts, expect, "\(argv.joined(separator: " ")): \(raised.map { $0.jsonLine() })\n\(h.log)")
            return raised
        }

        // A share listing: the shares with their comments; one logon (smbclient -N tries the local user name with
        // no password: unknown, so mapped to guest) and one enumeration.
        let listing = move(["/usr/bin/smbclient", "-N", "-p", p, "-L", "//192.0.2.10"], expect: [.smbLogon: 1, .smbEnumeration: 1]) {
            XCTAssertTrue($0.stdout.contains("finance") && $0.stdout.contains("Finance department"), $0.stdout + $0.stderr)
        }
        let enumeration = listing.first { $0.kind == .smbEnumeration }
        XCTAssertEqual(enumeration?.client, "192.0.2.20")
        XCTAssertEqual(enumeration?.share, "IPC$")
        XCTAssertNotNil(enumeration?.clientPort)
        XCTAssertEqual(enumeration?.clientPort, listing.first { $0.kind == .smbLogon }?.clientPort, "the listing's own session")

        // rpcclient, anonymous: NetShareEnumAll works, and the lsarpc and wkssvc pipes answer too (what Windows
        // asks for); one logon (anonymous: accepted, as guest), one enumeration for the one IPC$ tree connect.
        let rpc = move(["/usr/bin/rpcclient", "-U%", "-p", p, "-c", "netshareenumall; lsaquery; wkssvc_wkstagetinfo; srvinfo", "192.0.2.10"],
                       expect: [.smbLogon: 1, .smbEnumeration: 1]) {
            XCTAssertTrue($0.stdout.contains("netname: finance") && $0.stdout.contains("remark:\tFinance department"), $0.stdout + $0.stderr)
            XCTAssertTrue($0.stdout.contains("Finance NAS"), "srvinfo shows the persona's server string: \($0.stdout + $0.stderr)")
            XCTAssertTrue($0.stdout.contains("Domain Name: ACME"), "lsarpc: \($0.stdout + $0.stderr)")
            // wkstagetinfo prints nothing at debug level 0: its pipe answered if it could be opened.
            XCTAssertFalse(($0.stdout + $0.stderr).contains("Could not initialise"), "wkssvc: \($0.stdout + $0.stderr)")
        }
        let anonymous = rpc.first { $0.kind == .smbLogon }
        XCTAssertEqual(anonymous?.user, "")
        XCTAssertEqual(anonymous?.success, true)
        XCTAssertEqual(anonymous?.guest, true)

        // administrator with a wrong password, straight to a share: one logon, refused (the unknown user is then
        // mapped to guest, as "map to guest = Bad User" does on a real NAS).
        let admin = move(["/usr/bin/smbclient", "-U", "ACME\\administrator%Winter2026!", "-p", p, "//192.0.2.10/finance", "-c", "exit"],
                         expect: [.smbLogon: 1]) { _ in }
        XCTAssertEqual(admin.first?.user, "administrator")
        XCTAssertEqual(admin.first?.domain, "ACME")
        XCTAssertEqual(admin.first?.success, false)
        XCTAssertEqual(admin.first?.status, "NT_STATUS_NO_SUCH_USER")
        XCTAssertEqual(admin.first?.client, "192.0.2.20")
        XCTAssertNotNil(admin.first?.clientPort)
        XCTAssertNotNil(admin.first?.workstation)

        // A guest logon (user "guest", no password).
        let guest = move(["/usr/bin/smbclient", "-U", "guest%", "-p", p, "//192.0.2.10/finance", "-c", "exit"], expect: [.smbLogon: 1]) { _ in }
        XCTAssertEqual(guest.first?.user, "guest")
        XCTAssertEqual(guest.first?.guest, true)

        // A directory listing inside the share: its logon, nothing else.
        // The decoy keeps its template's date (smbclient prints it as "Tue Mar 14 12:00:00 2023", local time).
        _ = move(["/usr/bin/smbclient", "-N", "-p", p, "//192.0.2.10/finance", "-c", "ls; cd Q3; ls"], expect: [.smbLogon: 1]) {
            XCTAssertTrue($0.stdout.contains("board.pptx"), $0.stdout + $0.stderr)
            let line = $0.stdout.split(separator: "\n").first { $0.contains("salaries-2026.xlsx") } ?? ""
            XCTAssertTrue(line.contains("Mar 14 ") && line.hasSuffix(" 2023"), "the template's mtime: \(line)")
        }
        // The negotiate is the Synology's: a client offering at most SMB2.02 or SMB1 is refused before any logon
        // (no event), one that offers SMB2_10 gets in.
        for oldest in ["SMB2_02", "NT1"] {
            _ = move(["/usr/bin/smbclient", "-N", "-p", p, "--option=client max protocol=\(oldest)", "//192.0.2.10/finance", "-c", "exit"], expect: [:]) {
                XCTAssertNotEqual($0.status, 0, "max protocol \(oldest) should be refused: \($0.stdout + $0.stderr)")
            }
        }
        _ = move(["/usr/bin/smbclient", "-N", "-p", p, "--option=client max protocol=SMB2_10", "//192.0.2.10/finance", "-c", "exit"],
                 expect: [.smbLogon: 1]) { XCTAssertEqual($0.status, 0, $0.stdout + $0.stderr) }
        // A file read: its logon and one smb_access.
        let read = move(["/usr/bin/smbclient", "-N", "-p", p, "//192.0.2.10/finance", "-c", "get salaries-2026.xlsx /dev/null"],
                        expect: [.smbLogon: 1, .smbAccess: 1]) { XCTAssertEqual($0.status, 0, $0.stderr) }
        let access = read.first { $0.kind == .smbAccess }
        XCTAssertEqual(access?.file, "salaries-2026.xlsx")
        XCTAssertEqual(access?.share, "finance")
        XCTAssertEqual(access?.client, "192.0.2.20")
        XCTAssertEqual(access?.clientPort, read.first { $0.kind == .smbLogon }?.clientPort, "the read's own session")

        XCTAssertEqual(h.statusOrNil()?.jails.map(\.violations), [0, 0], h.log)
        // The same events reached the receiver through the uplink agent, once each.
        let expected = seen.values.reduce(0, +)
        XCTAssertTrue(waitUntil(10) { self.received(received).count >= expected }, h.log)
        usleep(500_000)
        var atReceiver: [PitEvent.Kind: Int] = [:]
        for line in self.received(received) {
            for kind in [PitEvent.Kind.smbLogon, .smbEnumeration, .smbAccess] where line.contains("\"kind\":\"\(kind.rawValue)\"") {
                atReceiver[kind, default: 0] += 1
            }
        }
        XCTAssertEqual(atReceiver, seen)
        // The receiver's copies carry the fields: the JSON after the RFC 5424 header is the event.
        let delivered = self.received(received).compactMap { line -> PitEvent? in
            guard let brace = line.firstIndex(of: "{") else { return nil }
            return try? PitEvent.decode(jsonLine: String(line[brace...]).trimmingCharacters(in: .whitespaces))
        }
        XCTAssertEqual(delivered.count, expected, "\(self.received(received))")
        let adminThere = delivered.first { $0.kind == .smbLogon && $0.user == "administrator" }
        XCTAssertEqual(adminThere?.domain, "ACME")
        XCTAssertEqual(adminThere?.success, false)
        XCTAssertEqual(adminThere?.client, "192.0.2.20")
        XCTAssertEqual(adminThere?.clientPort, admin.first?.clientPort)
        XCTAssertEqual(delivered.first { $0.kind == .smbEnumeration }?.share, "IPC$")
        XCTAssertEqual(delivered.first { $0.kind == .smbAccess }?.file, "salaries-2026.xlsx")

        // samba-dcerpcd restarted makes its sockets anew: smbd (restart_with) is restarted after it, and listing
        // works again.
        let smbdBefore = h.jail("smbd")?.pid
        _ = h.request("restart dcerpcd")
        XCTAssertTrue(waitUntil(20) {
            h.jail("dcerpcd")?.state == "running" && h.jail("smbd")?.state == "running" && h.jail("smbd")?.pid != smbdBefore
        }, h.log)
        var again = Captured(status: -1, stdout: "", stderr: "")
        for _ in 0..<20 {
            again = inClient(["/usr/bin/smbclient", "-N", "-p", p, "-L", "//192.0.2.10"])
            if again.stdout.contains("Finance department") { break }
            usleep(250_000)
        }
        XCTAssertTrue(again.stdout.contains("finance") && again.stdout.contains("Finance department"), again.stdout + again.stderr + h.log)

        // A password spray: 30 logons at once from the same client. The client's first 20 logons of the window are
        // events, the rest are counted, and the count arrives in one smb_alerts_suppressed (here when Pit stops,
        // before the window ends): every attempt is an event or a count.
        let logonsBefore = h.events([.smbLogon]).count
        let spray = inClient(["/bin/sh", "-c", "for i in $(seq 30); do /usr/bin/smbclient -U \"spray$i%Summer2026\" -p \(p) //192.0.2.10/finance -c exit >/dev/null 2>&1 & done; wait"])
        XCTAssertEqual(spray.status, 0, spray.stderr)
        XCTAssertTrue(waitUntil(10) { h.events([.smbLogon]).count >= min(20, logonsBefore + 30) }, h.log)
        usleep(1_000_000)
        XCTAssertEqual(h.stop(), 0, h.log)
        let recorded = h.events([.smbLogon]).count - logonsBefore
        let summaries = h.events([.smbAlertsSuppressed])
        XCTAssertEqual(summaries.count, 1, "\(summaries.map { $0.jsonLine() })")
        let summary = summaries.first
        XCTAssertEqual(summary?.client, "192.0.2.20")
        XCTAssertEqual(summary?.jail, "smbd")
        let counted = Int(summary?.details?["smb_logon"] ?? "") ?? 0
        XCTAssertEqual(recorded + counted, 30, "every logon of the spray an event or a count: \(recorded) + \(counted)")
        XCTAssertGreaterThanOrEqual(counted, 10, "at most 20 logons a window are events")
        XCTAssertTrue(summary?.message?.contains("more SMB alerts from 192.0.2.20") ?? false, summary?.message ?? "")
    }

    private func received(_ path: String) -> [String] {
        lines(readText(path) ?? "").filter { $0.contains("\"kind\":\"smb_") }
    }
}

private func alerts(_ h: SupervisorHarness) -> [PitEvent] { h.events([.smbAccess, .smbLogon, .smbEnumeration]) }
