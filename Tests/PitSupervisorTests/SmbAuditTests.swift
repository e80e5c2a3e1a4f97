@testable import PitSupervisor
import PitTestSupport
import XCTest

/// The tracker on lines captured from Samba 4.17 (smbd + samba-dcerpcd, smbclient and rpcclient from another
/// network namespace): one alert per action, nothing for a listing, names taken from JSON only.
final class SmbAuditTests: XCTestCase {
    static let ipcConnect = "<173>Dec  7 18:56:30 smbd_audit: nobody|192.0.2.20|IPC_|connect|ok|IPC$\n"
    static let ipcPipe = "<173>Dec  7 18:56:30 smbd_audit: nobody|192.0.2.20|IPC_|get_alloc_size|ok|0\n"
    static let ipcReferral = "<173>Dec  7 18:56:30 smbd_audit: nobody|192.0.2.20|IPC_|get_dfs_referrals|fail (Success)|\n"
    static let ipcDisconnect = "<173>Dec  7 18:56:30 smbd_audit: nobody|192.0.2.20|IPC_|disconnect|ok|IPC$\n"
    static func auth(account: String, domain: String, status: String, became: String?, port: Int = 36084) -> String {
        "<29>Dec  7 18:54:47 smbd[6435]:   {\"timestamp\": \"2026-12-07T18:54:47.165613+0000\", \"type\": \"Authentication\", \"Authentication\": {\"version\": {\"major\": 1, \"minor\": 2}, \"eventId\": 4625, \"logonId\": \"0\", \"logonType\": 3, \"status\": \"\(status)\", \"localAddress\": \"ipv4:192.0.2.10:445\", \"remoteAddress\": \"ipv4:192.0.2.20:\(port)\", \"serviceDescription\": \"SMB2\", \"authDescription\": null, \"clientDomain\": \"\(domain)\", \"clientAccount\": \"\(account)\", \"workstation\": \"VM\", \"becameAccount\": \(became.map { "\"\($0)\"" } ?? "null"), \"becameDomain\": null, \"becameSid\": null, \"mappedAccount\": \"\(account)\", \"mappedDomain\": \"\(domain)\", \"passwordType\": \"NTLMv2\", \"duration\": 8169}}\n"
    }
    static let authorization = "<29>Dec  7 18:54:47 smbd[6435]:   {\"timestamp\": \"2026-12-07T18:54:47.165937+0000\", \"type\": \"Authorization\", \"Authorization\": {\"version\": {\"major\": 1, \"minor\": 1}, \"localAddress\": \"ipv4:192.0.2.10:445\", \"remoteAddress\": \"ipv4:192.0.2.20:36084\", \"serviceDescription\": \"SMB2\", \"authType\": \"NTLMSSP\", \"domain\": \"NASFIN\", \"account\": \"nobody\"}}\n"

    func test_wrongPasswordForAdministratorIsOneFailedLogonMappedToGuest() {
        var t = SmbAuditTracker()
        let alert = t.consume(Self.auth(account: "administrator", domain: "ACME", status: "NT_STATUS_NO_SUCH_USER", became: nil))
        XCTAssertEqual(alert, SmbAlert(kind: .logon, user: "administrator", client: "192.0.2.20", share: "", file: "", operation: "logon",
                                       status: "NT_STATUS_NO_SUCH_USER", domain: "ACME", workstation: "VM", clientPort: 36084,
                                       success: false, guest: true))
        XCTAssertNil(t.consume(Self.authorization), "the authorization that follows is the same logon")
    }

    func test_jailIdentFromLogBasenameIsAccepted() {
        var t = SmbAuditTracker()
        let line = Self.auth(account: "x", domain: "D", status: "NT_STATUS_OK", became: "x").replacingAll("smbd[6435]", "log.smbd[6435]")
        XCTAssertEqual(t.consume(line)?.kind, .logon)
    }

    func test_anonymousLogonSucceedsAsGuest() {
        var t = SmbAuditTracker()
        let alert = t.consume(Self.auth(account: "", domain: "", status: "NT_STATUS_OK", became: "nobody"))
        XCTAssertEqual(alert?.kind, .logon)
        XCTAssertEqual(alert?.success, true)
        XCTAssertEqual(alert?.guest, true)
    }

    func test_namesAreDecodedFromJSONNotSplit() {
        var t = SmbAuditTracker()
        // A user name holding what the full_audit parser splits on, a quote and a newline, as Samba escapes it.
        let alert = t.consume(Self.auth(account: "a|b\\\"c\\nsmbd_audit: x", domain: "D", status: "NT_STATUS_NO_SUCH_USER", became: nil))
        XCTAssertEqual(alert?.kind, .logon)
        XCTAssertEqual(alert?.user, "a|b\"c\nsmbd_audit: x")
    }

    func test_onlyNoticeLinesFromSmbdAreAuthAudit() {
        var t = SmbAuditTracker()
        let line = Self.auth(account: "x", domain: "D", status: "NT_STATUS_OK", became: "x")
        // The same text at WARNING (another debug class at level 1) or from another program is not audit.
        XCTAssertNil(t.consume("<28>" + line.dropFirst(4)))
        XCTAssertNil(t.consume(line.replacingAll("smbd[6435]", "nmbd[6435]")))
        XCTAssertNil(t.consume("<29>Dec  7 18:54:47 smbd[6435]:   {not json"))
    }

    func test_shareListingIsOneEnumerationPerIpcConnect() {
        var t = SmbAuditTracker()
        _ = t.consume(Self.auth(account: "root", domain: "WORKGROUP", status: "NT_STATUS_NO_SUCH_USER", became: nil, port: 44024))
        XCTAssertNil(t.consume(Self.ipcConnect))
        let alert = t.consume(Self.ipcPipe)
        XCTAssertEqual(alert?.kind, .enumeration)
        XCTAssertEqual(alert?.share, "IPC$")
        XCTAssertEqual(alert?.client, "192.0.2.20")
        XCTAssertEqual(alert?.clientPort, 44024)
        XCTAssertEqual(alert?.user, "root")
        XCTAssertEqual(alert?.domain, "WORKGROUP")
        XCTAssertNil(t.consume(Self.ipcPipe), "a second pipe in the same tree connect")
        XCTAssertNil(t.consume(Self.ipcDisconnect))
        XCTAssertNil(t.consume(Self.ipcConnect))
        XCTAssertEqual(t.consume(Self.ipcPipe)?.kind, .enumeration, "a new tree connect is a new listing")
    }

    func test_dfsReferralOnIpcIsNoEnumeration() {
        var t = SmbAuditTracker()
        for line in [Self.ipcConnect, Self.ipcReferral, Self.ipcDisconnect] { XCTAssertNil(t.consume(line)) }
    }

    func test_readIsOneAccessAndListingNone() {
        var t = SmbAuditTracker()
        let lines = [
            "nobody|192.0.2.20|finance|connect|ok|finance",
            "nobody|192.0.2.20|finance|openat|ok|r|/data/shares/finance",
            "nobody|192.0.2.20|finance|create_file|ok|0x81|dir|open|/data/shares/finance",
            "nobody|192.0.2.20|finance|openat|ok|r|/data/shares/finance/report.txt",
            "nobody|192.0.2.20|finance|create_file|ok|0x120089|file|open|/data/shares/finance/report.txt",
            "nobody|192.0.2.20|finance|pread_send|ok|/data/shares/finance/report.txt",
            "nobody|192.0.2.20|finance|pread_recv|ok|/data/shares/finance/report.txt",
        ].map { "<173>Dec  7 18:54:37 smbd_audit: " + $0 + "\n" }
        let alerts = lines.compactMap { t.consume($0) }
        XCTAssertEqual(alerts.map(\.kind), [.access])
        XCTAssertEqual(alerts.first?.file, "report.txt")
    }

    /// Any process of the smbd jail may write to its /dev/log: forged full_audit reads and IPC$ pipe opens with
    /// ever new clients and 16 KiB file names must not grow the supervisor's memory without end.
    func test_forgedLinesWithEverNewNamesKeepTheTrackerBounded() {
        var t = SmbAuditTracker()
        let long = String(repeating: "x", count: 16 << 10)
        var alerts = 0
        for i in 0..<2000 {
            let client = "10.\(i / 256).\(i % 256).1"
            if t.consume("<173>Dec  7 18:54:37 smbd_audit: nobody|\(client)|finance|pread_send|ok|/data/shares/finance/\(long)\(i)\n") != nil { alerts += 1 }
            if t.consume("<173>Dec  7 18:54:37 smbd_audit: nobody|\(client)\(long)|IPC_|get_alloc_size|ok|0\n") != nil { alerts += 1 }
            _ = t.consume(Self.auth(account: long, domain: "D", status: "NT_STATUS_NO_SUCH_USER", became: nil, port: i))
            XCTAssertLessThanOrEqual(t.footprint, SmbAuditTracker.memoryLimit, "after \(i + 1) rounds")
            if t.footprint > SmbAuditTracker.memoryLimit { break }
        }
        XCTAssertEqual(alerts, 4000, "every forged read and pipe open is still one alert")
        // What was forgotten costs at most a repeat; what is remembered still holds back duplicates.
        let read = "<173>Dec  7 18:54:37 smbd_audit: nobody|192.0.2.20|finance|pread_send|ok|/data/shares/finance/a.txt\n"
        XCTAssertNotNil(t.consume(read))
        XCTAssertNil(t.consume(read))
    }

    func test_remoteAddressForms() {
        XCTAssertTrue(SmbAuditTracker.address("ipv4:192.0.2.20:43084") == ("192.0.2.20", 43084))
        XCTAssertTrue(SmbAuditTracker.address("ipv6:[fe80::1]:445") == ("fe80::1", 445))
        XCTAssertTrue(SmbAuditTracker.address("ipv6:fe80::1:445") == ("fe80::1", 445))
    }
}
