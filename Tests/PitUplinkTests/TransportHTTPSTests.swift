import Glibc
import XCTest
@testable import PitUplink

/// A CA, a server certificate it signed (SAN localhost and 127.0.0.1), a second CA that signed nothing the server
/// uses, the server key's SPKI pin and an HMAC key; made with the openssl CLI for each test.
struct TestPKI {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var otherCAFile: String { directory + "/other-ca.pem" }
    var certFile: String { directory + "/server.pem" }
    var keyFile: String { directory + "/server.key" }
    var hmacKeyFile: String { directory + "/hmac.key" }
    let pin: String

    init(in directory: String) {
        self.directory = directory
        let script = """
            set -e
            cd '\(directory)'
            gen() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" 2>/dev/null; }
            gen ca 'Pit Test CA'
            gen other-ca 'Other CA'
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf 2>/dev/null
            printf 'subjectAltName=DNS:elsewhere.example\nbasicConstraints=CA:FALSE\n' > ext2.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrongname.pem -days 2 -extfile ext2.cnf 2>/dev/null
            printf 'correct horse battery staple\\n' > hmac.key
            openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1
            """
        let result = Shell.run(["/bin/sh", "-c", script])
        precondition(result.status == 0, "openssl failed")
        pin = result.stdout.trimmedWhitespace()
    }
}

extension String {
    func trimmedWhitespace() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}

final class TransportHTTPSTests: XCTestCase {
    func config(name: String = "cloud", port: Int, pki: TestPKI, ca: String? = nil, pin: String? = nil,
                host: String = "localhost", batch: Int = 10) -> String {
        var text = """
            [[uplink]]
            type = "https"
            name = "\(name)"
            url = "https://\(host):\(port)/v1/events"
            hmac_key_file = "\(pki.hmacKeyFile)"
            device = "pit-test-07"
            batch = \(batch)
            backoff_base_ms = 50
            backoff_max_ms = 300
            timeout_ms = 5000

            """
        if let ca { text += "ca_file = \"\(ca)\"\n" }
        if let pin { text += "pin_sha256 = \"\(pin)\"\n" }
        return text
    }

    func testBatchesArriveOnceInOrderSignedAndIntact() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        let stored = h.append(45)
        h.configure(config(port: receiver.port, pki: pki, ca: pki.caFile))
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(20) { receiver.events().count >= 45 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
        XCTAssertEqual(receiver.records().filter { $0.rejected != nil || $0.bad != nil }.count, 0)
        XCTAssertEqual(Set(receiver.events().map(\.device)), ["pit-test-07"])
        XCTAssertEqual(receiver.events().compactMap(\.batch).max(), 10, "batched up to `batch` events per POST")
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("cloud")?.lastDeliveredSeq == 45 })
        XCTAssertEqual(h.transportState("cloud")?.state, "up")
    }

    /// The server's certificate was signed by another CA: refused, retried with the error shown; once the right CA
    /// is in the configured file, delivery succeeds without a restart.
    func testWrongCARefusedThenRightCADelivers() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        let stored = h.append(12)
        let caInUse = h.temp.path + "/trusted.pem"
        Files.write(caInUse, Files.read(pki.otherCAFile))
        h.configure(config(port: receiver.port, pki: pki, ca: caInUse))
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { (h.transportState("cloud")?.consecutiveFailures ?? 0) >= 2 }, h.agentLog)
        let state = h.transportState("cloud")
        XCTAssertNotEqual(state?.state, "up")
        XCTAssertTrue(state?.lastError?.contains("tls verify") == true, state?.lastError ?? "no error")
        XCTAssertTrue(state?.lastError?.contains("unable to get local issuer certificate") == true, state?.lastError ?? "")
        XCTAssertEqual(receiver.events().count, 0)
        XCTAssertEqual(h.cursor("cloud"), 0)

        Files.write(caInUse, Files.read(pki.caFile))
        XCTAssertTrue(Proc.waitUntil(10) { receiver.events().count >= 12 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("cloud")?.state == "up" })
    }

    /// Hostname checked: a certificate from the trusted CA that names another host is refused.
    func testHostnameMismatchRefused() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path,
                                extra: [pki.directory + "/wrongname.pem", pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        let transport = TransportConfig(name: "x", kind: .https(.init(
            url: "", host: "localhost", port: receiver.port, path: "/", caFile: pki.caFile, pinSHA256: nil,
            hmacKeyFile: pki.hmacKeyFile, device: nil)))
        var client = try! TransportClient(transport, defaultDevice: "d")
        let delivery = client.deliver([PitEvent.uplinkTest()])
        XCTAssertEqual(delivery.error?.operation, "tls verify")
        XCTAssertEqual(delivery.error?.reason, "hostname mismatch")
        XCTAssertEqual(delivery.acknowledged, 0)
        XCTAssertEqual(receiver.events().count, 0)
    }

    func testWrongHMACKeyRejectedAndNotCounted() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let serverKey = h.temp.path + "/server-hmac.key"
        Files.write(serverKey, Array("a different key\n".utf8))
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, serverKey])
        receiver.start()
        let stored = h.append(8)
        h.configure(config(port: receiver.port, pki: pki, ca: pki.caFile))
        h.startAgent()
        XCTAssertTrue(Proc.waitUntil(10) { receiver.records().filter { $0.rejected != nil }.count >= 2 }, h.agentLog)
        XCTAssertTrue(Proc.waitUntil(5) { h.transportState("cloud")?.lastError?.contains("401") == true },
                      h.transportState("cloud")?.lastError ?? "none")
        XCTAssertEqual(receiver.events().count, 0)
        XCTAssertEqual(h.cursor("cloud"), 0, "a rejected batch is not delivered")
        XCTAssertEqual(h.transportState("cloud")?.lastDeliveredSeq, 0)
        XCTAssertEqual(h.transportState("cloud")?.queued, 8)

        // The receiver learns the device's key: the same events now go through, once each.
        Files.write(serverKey, Files.read(pki.hmacKeyFile))
        XCTAssertTrue(Proc.waitUntil(10) { receiver.events().count >= 8 }, h.agentLog)
        Proc.sleepMs(200)
        assertDeliveredOnce(receiver.events(), stored)
    }

    func testPinnedKeyAcceptedWrongPinRefused() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        let pinned = TransportConfig(name: "p", kind: .https(.init(
            url: "", host: "127.0.0.1", port: receiver.port, path: "/p", caFile: nil, pinSHA256: Hex.decode(pki.pin),
            hmacKeyFile: pki.hmacKeyFile, device: nil)))
        var client = try! TransportClient(pinned, defaultDevice: "d")
        var event = PitEvent.uplinkTest(message: "pin")
        XCTAssertNil(client.deliver([event]).error)
        XCTAssertTrue(Proc.waitUntil(5) { receiver.events().count == 1 })

        var wrong = pinned
        wrong.kind = .https(.init(url: "", host: "127.0.0.1", port: receiver.port, path: "/p", caFile: nil,
                                  pinSHA256: [UInt8](repeating: 7, count: 32), hmacKeyFile: pki.hmacKeyFile, device: nil))
        var bad = try! TransportClient(wrong, defaultDevice: "d")
        event.id = EventID.make()
        let delivery = bad.deliver([event])
        XCTAssertEqual(delivery.error?.operation, "tls pin")
        XCTAssertTrue(delivery.error?.reason?.contains(pki.pin) == true, "names the key actually seen")
        Proc.sleepMs(100)
        XCTAssertEqual(receiver.events().count, 1)
    }

    /// `pit uplink test` reports per transport, OK or the error, exit status 1 if any failed; bypasses the spool.
    func testUplinkTestCommand() {
        let h = AgentHarness()
        let pki = TestPKI(in: h.temp.path)
        let receiver = Receiver("https", in: h.temp.path, extra: [pki.certFile, pki.keyFile, pki.hmacKeyFile])
        receiver.start()
        h.configure(config(port: receiver.port, pki: pki, ca: pki.caFile) + """

            [[uplink]]
            type = "syslog"
            name = "nowhere"
            host = "127.0.0.1"
            port = 1
            """)
        let result = Shell.run([Shell.built("pit"), "uplink", "test", "--config", h.configPath])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("cloud (https): OK"), result.stdout)
        XCTAssertTrue(result.stdout.contains("nowhere (syslog): FAILED: connect 127.0.0.1:1: Connection refused"),
                      result.stdout)
        XCTAssertEqual(receiver.events().map(\.seq), [0])
        XCTAssertTrue(receiver.events().first?.line?.contains("\"kind\":\"uplink_test\"") == true)
        XCTAssertNil(h.cursor("cloud"), "the test does not touch cursors")
    }
}
