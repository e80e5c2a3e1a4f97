import PitTestSupport
import Glibc
@testable import PitSupervisor
import PitUplink
import XCTest

/// The demonstration decoy (policies/demo-web.toml, as `bash image/demo` runs it) shows the point of the
/// product: touching it raises an alert, in the supervisor's log and in the spool, with the attacker's strings
/// carried exactly and never raw into a terminal.
final class DemoTests: XCTestCase {
    private let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// One HTTP request from the host to the decoy, the way curl would send it; returns the answer.
    private func request(_ raw: String) -> String {
        let script = "import socket,sys; s=socket.create_connection(('127.0.0.1',8080),timeout=5); s.sendall(sys.argv[1].encode('latin-1')); "
            + "d=b''\nwhile True:\n  b=s.recv(4096)\n  if not b: break\n  d+=b\nprint(d.decode('latin-1'))"
        return Process.run(["/usr/bin/python3", "-c", script, raw]).stdout
    }

    func test_touchingTheDemoDecoyRaisesADecoyAccessAlert() throws {
        try XCTSkipUnless(fileExists("/usr/bin/python3") && fileExists("/usr/bin/perl"), "needs perl and python3")
        try XCTSkipIf(Process.run(["/usr/bin/python3", "-c", "import socket; socket.create_connection(('127.0.0.1',8080),timeout=0.3)"]).status == 0,
                      "something already listens on 127.0.0.1:8080")
        let h = SupervisorHarness()
        h.dir.write("demo.policy", readText(root + "/policies/demo.policy") ?? "")
        h.dir.write("demo-web.toml", readText(root + "/policies/demo-web.toml") ?? "")
        h.writeConfig("""
            [[jails]]
            name = "decoy-web"
            spec = "demo-web.toml"
            ready_tcp = 8080
            decoy_audit = true
            stop_grace_s = 2
            """)
        h.start()
        XCTAssertTrue(waitUntil(10) { h.jail("decoy-web")?.state == "running" }, h.log)

        let page = request("GET / HTTP/1.0\r\n\r\n")
        XCTAssertTrue(page.contains("NAS-01 login"), page)
        let body = "user=admin&password=hunter2"
        let failed = request("POST /login HTTP/1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertTrue(failed.contains("Login failed."), failed)
        // An attacker's path with a quote, a backslash and an escape sequence.
        _ = request("GET /a\"b\\c\u{1b}[2J HTTP/1.0\r\n\r\n")

        XCTAssertTrue(waitUntil(5) { h.events([.decoyAccess]).count == 3 }, "\(h.events([.decoyAccess])) \(h.log)")
        let alerts = h.events([.decoyAccess])
        XCTAssertEqual(alerts.map(\.operation), ["GET", "POST", "GET"])
        XCTAssertEqual(alerts.map(\.file), ["/", "/login", "/a\"b\\c\u{1b}[2J"], "the strings as the attacker sent them")
        XCTAssertEqual(alerts[1].user, "admin")
        XCTAssertNil(alerts[0].user)
        XCTAssertTrue(alerts.allSatisfy { $0.client == "127.0.0.1" && ($0.clientPort ?? 0) > 0 && $0.jail == "decoy-web" }, "\(alerts)")
        // Seen at once in the supervisor's log, escaped: no raw escape byte reaches a terminal.
        XCTAssertTrue(waitUntil(3) { h.log.contains("decoy_access [decoy-web]: 127.0.0.1:") && h.log.contains("\"POST\" \"/login\" as \"admin\"") }, h.log)
        XCTAssertFalse(h.log.contains("\u{1b}"), "a raw escape byte reached the log")
        // A line that is not the decoy's tag is not an alert.
        _ = h.stop()
    }

    /// The tag is matched at the start only, and a malformed or oversized record is no alert. A jail's /dev/log
    /// speaks one format: a decoy cannot forge Samba's alerts, nor smbd a decoy's.
    func test_decoyLinesAreRecognisedByTheirTagOnly() {
        func alert(_ line: String) -> SmbAlert? { DecoyLine.alert(line: Array(line.utf8)) }
        var samba = SmbAuditTracker()
        XCTAssertNil(samba.consume(#"<14>pit-decoy: {"client":"192.0.2.7","operation":"GET"}"#), "Samba's socket took a decoy line")
        XCTAssertNil(alert("<173>Dec  7 18:56:30 smbd_audit: nobody|192.0.2.7|finance|pread_send|ok|/data/shares/finance/a"),
                     "a decoy's socket took a Samba line")
        XCTAssertEqual(alert(#"<14>pit-decoy: {"client":"192.0.2.7","client_port":5000,"operation":"GET","file":"/x"}"#)?.file, "/x")
        XCTAssertNil(alert(#"<13>pit-decoy: {"client":"192.0.2.7","operation":"GET"}"#), "another priority")
        XCTAssertNil(alert(#"<14>x pit-decoy: {"client":"192.0.2.7","operation":"GET"}"#), "the tag not at the start")
        XCTAssertNil(alert(#"<14>pit-decoy: {"client":"192.0.2.7"}"#), "no operation")
        XCTAssertNil(alert(#"<14>pit-decoy: {"client":"","operation":"GET"}"#), "no client")
        XCTAssertNil(alert("<14>pit-decoy: {\"client\":\"192.0.2.7\",\"operation\":\"GET\",\"file\":\"" + String(repeating: "a", count: 2000) + "\"}"), "oversized")
        XCTAssertNil(alert("<14>pit-decoy: not json"))
    }

    func test_aJailsLogTakesOneAuditFormat() {
        let dir = ScratchDirectory()
        dir.write("web.toml", "command = [\"/bin/true\"]\n")
        dir.write("device.toml", "data_dir = \"data\"\n[[jails]]\nname = \"web\"\nspec = \"web.toml\"\nsmb_audit = true\ndecoy_audit = true\n")
        let r = Process.run([Pit.executable, "supervise", "--check", "--config", dir.path + "/device.toml"])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("device.toml:") && r.stderr.contains("decoy_audit") && r.stderr.contains("not both"), r.stderr)
    }
}
