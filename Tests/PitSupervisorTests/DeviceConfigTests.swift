@testable import PitSupervisor
import XCTest

/// The device config's [console] table, through the text entry point (no board, persona or jails: nothing is read).
final class DeviceConfigTests: XCTestCase {
    func console(_ lines: String) throws -> ConsoleSettings? {
        try DeviceConfig.parse("[console]\ntty = \"/dev/ttyS0\"\n" + lines, file: "/etc/pit/device.toml").console
    }

    func test_consoleBaudTermiosCannotSetIsRefusedWhenTheConfigLoads() throws {
        // 2^33: Int(_:) of it trapped on armv7 (32-bit Int); 12345 was accepted and failed only at the console's open.
        for baud in ["12345", "8589934592", "-115200"] {
            XCTAssertThrowsError(try console("baud = \(baud)\n")) { error in
                XCTAssertEqual("\(error)", "/etc/pit/device.toml:3:8: console.baud: \(baud) is not a rate termios can set (e.g. 115200, 1500000)")
            }
        }
        XCTAssertEqual(try console("baud = 1500000\n")?.baud, 1_500_000)
        XCTAssertEqual(try console("")?.baud, 115_200)
    }

    func test_consolePinOfNonASCIIDigitsIsRefused_theConsoleCannotTypeThem() throws {
        for pin in ["٤٤٤٤", "½½½½", "１２３４", "123"] {
            XCTAssertThrowsError(try console("pin = \"\(pin)\"\n"), pin) { error in
                XCTAssertEqual("\(error)", "/etc/pit/device.toml:3:7: console.pin: use at least 4 digits")
            }
        }
        XCTAssertEqual(try console("pin = \"0042\"\n")?.pin, "0042")
    }
}
