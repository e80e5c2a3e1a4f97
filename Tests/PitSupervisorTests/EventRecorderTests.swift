import XCTest
import PitUplink
@testable import PitSupervisor

/// The kind is chosen where the event happens and reaches the wire as it was chosen.
final class EventRecorderTests: XCTestCase {
    func test_runtimeFaultReachesTheWireAsItsOwnKindWithItsComponent() {
        let event = EventRecorder.convert(.fault(.watchdog, "watchdog keepalive: Input/output error"), device: "canary-01")
        XCTAssertEqual(event.kind, .runtimeFault)
        XCTAssertEqual(event.component, .watchdog)
        XCTAssertEqual(event.device, "canary-01")
        XCTAssertTrue(event.jsonLine().contains(#""component":"watchdog""#), event.jsonLine())
        XCTAssertTrue(event.jsonLine().contains(#""kind":"runtime_fault""#), event.jsonLine())
    }

    func test_configErrorKeepsItsWireSpellingAndCarriesNoComponent() {
        let event = EventRecorder.convert(SupervisorEvent(kind: .configError, message: "reload rejected"), device: nil)
        XCTAssertTrue(event.jsonLine().contains(#""kind":"config_error""#), event.jsonLine())
        XCTAssertFalse(event.jsonLine().contains("component"), event.jsonLine())
    }

    func test_smbAlertIsSentAsTheKindOfItsAlert() {
        let logon = SmbAlert(kind: .logon, user: "administrator", client: "192.0.2.7", share: "", file: "", operation: "logon",
                             status: "NT_STATUS_NO_SUCH_USER", success: false, guest: false)
        let event = EventRecorder.convert(SupervisorEvent(kind: logon.kind.event, message: logon.summary, smb: logon), device: nil)
        XCTAssertEqual(event.kind, .smbLogon)
    }
}
