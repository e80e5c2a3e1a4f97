import PitTOML
import XCTest
@testable import PitPersona

/// `[dhcp]` in a persona file: the profiles, a custom profile's options in order, and every refusal as one
/// file:line:col line.
final class DhcpPersonaTests: XCTestCase {
    let file = "/test/persona.toml"

    func parse(_ text: String) throws -> Persona {
        try Persona.parse(text, file: file, machineIDPath: "/nonexistent")
    }

    func expectError(_ text: String, line: Int, column: Int, _ fragments: [String], at: UInt = #line) {
        do {
            let persona = try parse(text)
            XCTFail("expected an error, got \(persona)", line: at)
        } catch let error as TOMLError {
            let prefix = "\(file):\(line):\(column): "
            XCTAssertTrue(error.description.hasPrefix(prefix), "\(error) does not start with \(prefix)", line: at)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "\(error) lacks '\(fragment)'", line: at)
            }
            XCTAssertFalse(error.description.contains("\n"), "one line: \(error)", line: at)
        } catch {
            XCTFail("unexpected \(error)", line: at)
        }
    }

    static let head = "hostname = \"fs01.corp.example\"\ninterface = \"eth0\"\n"

    func testBuiltInProfilesNeedNoAddresses() throws {
        for name in ["windows-server-2019", "windows-10", "synology-dsm7"] {
            let persona = try parse(Self.head + "[dhcp]\nenabled = true\nprofile = \"\(name)\"\n")
            XCTAssertEqual(persona.dhcp?.profile.name, name)
            XCTAssertEqual(persona.addresses, [])
        }
        let windows = try XCTUnwrap(parse(Self.head + "[dhcp]\nprofile = \"Windows-Server-2019\"\n").dhcp)
        XCTAssertEqual(windows.profile.parameterRequestList, [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252])
        XCTAssertEqual(windows.profile.vendorClass, Array("MSFT 5.0".utf8))
        XCTAssertEqual(windows.profile.discoverOptions, [61, 50, 12, 60, 55])
        XCTAssertEqual(windows.profile.requestOptions, [61, 50, 54, 12, 81, 60, 55])
        let synology = try XCTUnwrap(DhcpProfile.named("synology-dsm7"))
        XCTAssertEqual(synology.parameterRequestList, [1, 3, 6, 12, 15, 17, 23, 28, 29, 31, 33, 40, 41, 42, 44])
        XCTAssertNil(synology.vendorClass)
    }

    func testDisabledIsStaticAndIPv6StaysBesideDhcp() throws {
        let off = try parse(Self.head + "addresses = [\"192.0.2.10/24\"]\n[dhcp]\nenabled = false\nprofile = \"windows-10\"\n")
        XCTAssertNil(off.dhcp)
        XCTAssertEqual(off.addresses.count, 1)
        let both = try parse(Self.head + "addresses = [\"2001:db8::10/64\"]\nroutes = [{ to = \"::/0\", via = \"fe80::1\" }]\n" +
                             "[dhcp]\nprofile = \"windows-10\"\n")
        XCTAssertNotNil(both.dhcp)
        XCTAssertEqual(both.addresses.map(\.description), ["2001:db8::10/64"])
        XCTAssertEqual(both.routes.count, 1)
    }

    func testCustomProfileKeepsTheOrderGiven() throws {
        let persona = try parse(Self.head + """
            [dhcp]
            profile = "custom"
            options = [57, 61, 50, 60, 12, 55]
            request_options = [57, 61, 50, 54, 60, 12, 55]
            parameter_request_list = [1, 3, 6, 12, 15, 28, 42]
            vendor_class = "udhcp 1.36.1"
            max_message_size = 576

            """)
        let profile = try XCTUnwrap(persona.dhcp?.profile)
        XCTAssertEqual(profile.name, "custom")
        XCTAssertEqual(profile.discoverOptions, [57, 61, 50, 60, 12, 55])
        XCTAssertEqual(profile.requestOptions, [57, 61, 50, 54, 60, 12, 55])
        XCTAssertEqual(profile.parameterRequestList, [1, 3, 6, 12, 15, 28, 42])
        XCTAssertEqual(profile.vendorClass, Array("udhcp 1.36.1".utf8))
        XCTAssertEqual(profile.maxMessageSize, 576)
    }

    func testStaticIPv4AndDhcpOnOneInterfaceIsAPositionedError() {
        expectError(Self.head + "addresses = [\"192.0.2.10/24\"]\n[dhcp]\nprofile = \"windows-10\"\n", line: 3, column: 14,
                    ["addresses[0]", "static IPv4 address on an interface configured by DHCP", "remove [dhcp]"])
        expectError(Self.head + "routes = [{ to = \"198.51.100.0/24\", via = \"192.0.2.1\" }]\n[dhcp]\nprofile = \"windows-10\"\n",
                    line: 3, column: 18, ["routes[0].to", "IPv4 route", "option 121"])
    }

    func testUnknownProfileSuggestsTheClosest() {
        expectError(Self.head + "[dhcp]\nenabled = true\nprofile = \"windows-server-2016\"\n", line: 5, column: 11,
                    ["dhcp.profile", "unknown DHCP profile 'windows-server-2016'", "did you mean 'windows-server-2019'", "custom"])
        expectError(Self.head + "[dhcp]\nenabled = true\n", line: 3, column: 1, ["missing required field 'dhcp.profile'"])
        expectError(Self.head + "[dhcp]\nprofile = \"windows-10\"\nenable = true\n", line: 5, column: 10, ["unknown field 'dhcp.enable'", "did you mean 'enabled'"])
    }

    func testABuiltInProfileCannotBeHalfOverridden() {
        expectError(Self.head + "[dhcp]\nprofile = \"windows-10\"\nvendor_class = \"MSFT 5.0\"\n", line: 5, column: 16,
                    ["dhcp.vendor_class", "only for profile = \"custom\""])
    }

    func testCustomProfileRefusals() {
        let base = Self.head + "[dhcp]\nprofile = \"custom\"\nparameter_request_list = [1, 3, 6]\n"
        expectError(base, line: 3, column: 1, ["dhcp.options", "missing"])
        expectError(base + "options = [61, 53, 55]\n", line: 6, column: 16, ["dhcp.options[1]", "option 53 is not one the client sends"])
        expectError(base + "options = [61, 61, 55]\n", line: 6, column: 16, ["options[1]", "listed twice"])
        expectError(base + "options = [61, 300]\n", line: 6, column: 16, ["options[1]", "300 is not a DHCP option code"])
        expectError(base + "options = [61, 12]\n", line: 6, column: 11, ["must contain 55"])
        expectError(base + "options = [60, 55]\n", line: 6, column: 11, ["lists 60", "vendor_class is not set"])
        expectError(base + "options = [57, 55]\n", line: 6, column: 11, ["lists 57", "max_message_size is not set"])
        expectError(base + "options = [57, 55]\nmax_message_size = 100\n", line: 7, column: 20, ["outside 576-1500"])
        expectError(base + "options = [60, 55]\nvendor_class = \"a\\nb\"\n", line: 7, column: 16, ["dhcp.vendor_class", "control characters"])
        expectError(Self.head + "[dhcp]\nprofile = \"custom\"\noptions = [55]\nparameter_request_list = [0]\n", line: 6, column: 27,
                    ["parameter_request_list[0]", "not a DHCP option code"])
    }

    func testNoAddressesAndNoDhcpIsStillAnError() {
        expectError(Self.head, line: 1, column: 1, ["addresses", "or enable [dhcp]"])
    }
}
