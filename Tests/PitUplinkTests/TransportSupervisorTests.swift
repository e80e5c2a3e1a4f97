import FoundationEssentials
import Glibc
import PitUplink
import XCTest

/// The whole path of a violation: a grandchild in a jail run by `pit supervise` makes a syscall its policy
/// reports; the supervisor spools the event; the uplink agent it spawned delivers it to a real syslog (TCP,
/// octet counting) receiver on loopback — once, with the syscall's name and arguments.
final class TransportSupervisorTests: XCTestCase {
    func testViolationInAGrandchildArrivesOnceAtTheReceiverWithItsArguments() throws {
        let temp = TemporaryDirectory("pit-e2e")
        let receiver = Receiver("syslog-tcp", in: temp.path)
        receiver.start()
        let (supervisor, log) = superviseViolationProbe(in: temp.path, uplink: """
            type = "syslog"
            name = "siem"
            protocol = "tcp"
            host = "127.0.0.1"
            port = \(receiver.port)
            """)
        defer { Proc.kill(supervisor, SIGTERM) }
        XCTAssertTrue(Proc.waitUntil(15) { receiver.events().contains { ($0.line ?? "").contains("\"kind\":\"violation\"") } }, log())
        Proc.sleepMs(500)
        let violations = receiver.events().compactMap { $0.line }.filter { $0.contains("\"kind\":\"violation\"") }
        XCTAssertEqual(violations.count, 1, "\(violations)")
        let event = try PitEvent.decode(jsonLine: try XCTUnwrap(violations.first))
        XCTAssertEqual(event.syscall, "uname")
        XCTAssertEqual(event.nr, 63)
        XCTAssertEqual(event.args?.first, 0x1234abcd)
        XCTAssertEqual(event.comm, "perl")
        XCTAssertEqual(event.jail, "probe")
        XCTAssertEqual(event.action, .kill)
    }
}
