import Glibc
import PitTestSupport
import PitTOML
import XCTest
@testable import PitPersona
import PitHash

/// Reading persona files: every accepted field and every error path, each error checked for its
/// file:line:col and field name (the contract `pit` relies on to print one actionable line).
final class PersonaFileTests: XCTestCase {
    var dir: ScratchDirectory!

    override func setUp() {
        dir = ScratchDirectory()
        dir.makeDirectory("decoys/finance")
        dir.write("decoys/finance/Q3-forecast.xlsx", "decoy")
    }

    override func tearDown() { dir.remove() }

    static let minimal = """
        hostname = "nas-fin-02"
        interface = "eth0"
        addresses = ["192.0.2.10/24", "2001:db8::10/64"]
        """

    func load(_ text: String, machineID: String? = nil) throws -> Persona {
        let path = dir.write("persona.toml", text)
        return try Persona.load(contentsOf: path, machineIDPath: machineID ?? dir.path + "/no-machine-id")
    }

    /// Loads `text` (written as persona.toml) and checks the error is "FILE:LINE:COL: ..." and
    /// contains every fragment.
    func expectError(_ text: String, line: Int, column: Int, _ fragments: [String], file: StaticString = #filePath, at: UInt = #line) {
        do {
            let persona = try load(text)
            XCTFail("expected an error, got \(persona)", file: file, line: at)
        } catch let error as TOMLError {
            let prefix = "\(dir.path)/persona.toml:\(line):\(column): "
            XCTAssertTrue(error.description.hasPrefix(prefix), "\(error) does not start with \(prefix)", file: file, line: at)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "\(error) lacks '\(fragment)'", file: file, line: at)
            }
        } catch {
            XCTFail("unexpected \(error)", file: file, line: at)
        }
    }

    // MARK: Accepted files

    func testFullPersona() throws {
        let persona = try load("""
            hostname = "nas-fin-02.corp.example"
            netbios_name = "nas-fin-02"
            workgroup = "acme"
            server_string = "Finance NAS"
            interface = "eth0"
            mac = "02:11:22:33:44:55"
            addresses = ["192.0.2.10/24", "2001:db8::10/64"]
            routes = [{ to = "default", via = "192.0.2.1" }, { to = "198.51.100.0/24", via = "192.0.2.254" },
                      { to = "default", via = "2001:db8::1" }, { to = "203.0.113.0/24" }]

            [[shares]]
            name = "finance"
            comment = "Quarterly reports"
            template = "decoys/finance"
            """)
        XCTAssertEqual(persona.hostname, "nas-fin-02.corp.example")
        XCTAssertEqual(persona.netbiosName, "NAS-FIN-02", "NetBIOS names are stored uppercased")
        XCTAssertEqual(persona.workgroup, "ACME")
        XCTAssertEqual(persona.serverString, "Finance NAS")
        XCTAssertEqual(persona.interface, "eth0")
        XCTAssertEqual(persona.mac, .explicit(MACAddress("02:11:22:33:44:55")!))
        XCTAssertEqual(persona.addresses.map(\.description), ["192.0.2.10/24", "2001:db8::10/64"])
        XCTAssertEqual(persona.routes.map(\.description),
                       ["default via 192.0.2.1", "198.51.100.0/24 via 192.0.2.254", "default via 2001:db8::1", "203.0.113.0/24"])
        XCTAssertEqual(persona.routes.map(\.family), [.v4, .v4, .v6, .v4])
        XCTAssertEqual(persona.shares, [DecoyShare(name: "finance", comment: "Quarterly reports", template: dir.path + "/decoys/finance")])
    }

    func testDefaults() throws {
        let persona = try load(Self.minimal)
        XCTAssertEqual(persona.netbiosName, "NAS-FIN-02", "defaults to the hostname's first label")
        XCTAssertEqual(persona.workgroup, "WORKGROUP")
        XCTAssertEqual(persona.serverString, "Samba %v")
        XCTAssertEqual(persona.mac, .keep)
        XCTAssertEqual(persona.routes, [])
        XCTAssertEqual(persona.shares, [])
    }

    func testShippedExampleParses() throws {
        let path = packageRoot + "/policies/persona.example.toml"
        let persona = try Persona.load(contentsOf: path, machineIDPath: dir.path + "/absent")
        XCTAssertFalse(persona.shares.isEmpty)
        guard case .vendor(let mac, let oui, "device_id") = persona.mac else { return XCTFail("example should derive its MAC: \(persona.mac)") }
        XCTAssertEqual(Array(mac.bytes.prefix(3)), oui)
    }

    // MARK: MAC derivation

    func testSHA256KnownAnswers() {
        func hex(_ b: [UInt8]) -> String { b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
        XCTAssertEqual(hex(SHA256.digest([UInt8]())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.digest(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256.digest([UInt8](repeating: 0x61, count: 1000))),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    func testOUIMACFromDeviceIDIsStableAndDeviceSpecific() throws {
        let text = Self.minimal + "\nmac_oui = \"00:11:32\"\ndevice_id = \"canary-0001\"\n"
        let first = try load(text), second = try load(text)
        XCTAssertEqual(first.mac, second.mac, "same device id, same MAC across loads (and so across boots)")
        guard case .vendor(let mac, [0x00, 0x11, 0x32], "device_id") = first.mac else { return XCTFail("\(first.mac)") }
        XCTAssertEqual(Array(mac.bytes.prefix(3)), [0x00, 0x11, 0x32], "the vendor's OUI is kept")
        XCTAssertFalse(mac.isMulticast)
        XCTAssertFalse(mac.isLocallyAdministered, "looks like real vendor hardware")

        // Cross-check the documented derivation with coreutils: SHA-256("pit-persona-mac\0" + id)[0..<3].
        let shell = Process.run(["sh", "-c", "printf 'pit-persona-mac\\000canary-0001' | sha256sum"])
        let digest = String(shell.stdout.prefix(6))
        XCTAssertEqual(mac.description, "00:11:32:" + stride(from: 0, to: 6, by: 2).map { i in
            String(digest[digest.index(digest.startIndex, offsetBy: i)..<digest.index(digest.startIndex, offsetBy: i + 2)])
        }.joined(separator: ":"))

        let other = try load(Self.minimal + "\nmac_oui = \"00:11:32\"\ndevice_id = \"canary-0002\"\n")
        XCTAssertNotEqual(other.mac.address, mac, "another device id gives another MAC")
        XCTAssertEqual(other.mac.address.map { Array($0.bytes.prefix(3)) }, [0x00, 0x11, 0x32])
    }

    func testOUIMACFromMachineID() throws {
        let machineID = dir.write("machine-id", "0123456789abcdef0123456789abcdef\n")
        let persona = try load(Self.minimal + "\nmac_oui = \"00:11:32\"\n", machineID: machineID)
        guard case .vendor(let mac, _, let source) = persona.mac else { return XCTFail("\(persona.mac)") }
        XCTAssertEqual(source, machineID)
        // The trailing newline of /etc/machine-id is not part of the id.
        XCTAssertEqual(mac, Persona.deriveMAC(oui: [0x00, 0x11, 0x32], deviceID: "0123456789abcdef0123456789abcdef"))
        let again = try load(Self.minimal + "\nmac_oui = \"00:11:32\"\n", machineID: machineID)
        XCTAssertEqual(again.mac.address, mac)
        dir.write("machine-id", "fedcba9876543210fedcba9876543210\n")
        XCTAssertNotEqual(try load(Self.minimal + "\nmac_oui = \"00:11:32\"\n", machineID: machineID).mac.address, mac)
    }

    // MARK: Errors, each with file:line:col and the field

    func testBadMAC() {
        expectError(Self.minimal + "\nmac = \"02:11:22:33:44\"", line: 4, column: 7, ["mac:", "'02:11:22:33:44' is not a MAC address"])
        expectError(Self.minimal + "\nmac = \"02-11-22-33-44-55\"", line: 4, column: 7, ["mac:", "not a MAC address"])
        expectError(Self.minimal + "\nmac = \"01:00:5e:00:00:01\"", line: 4, column: 7, ["mac:", "01:00:5e:00:00:01 is a multicast address"])
        expectError(Self.minimal + "\nmac = \"ff:ff:ff:ff:ff:ff\"", line: 4, column: 7, ["mac:", "multicast"])
        expectError(Self.minimal + "\nmac = 42", line: 4, column: 7, ["mac: expected a string, found integer"])
    }

    func testBadOUI() {
        expectError(Self.minimal + "\nmac_oui = \"01:11:32\"\ndevice_id = \"x\"", line: 4, column: 11, ["mac_oui:", "multicast bit"])
        expectError(Self.minimal + "\nmac_oui = \"02:11:32\"\ndevice_id = \"x\"", line: 4, column: 11, ["mac_oui:", "locally-administered"])
        expectError(Self.minimal + "\nmac_oui = \"00:11\"\ndevice_id = \"x\"", line: 4, column: 11, ["mac_oui:", "not an OUI"])
        expectError(Self.minimal + "\nmac = \"02:11:22:33:44:55\"\nmac_oui = \"00:11:32\"", line: 5, column: 11, ["mac_oui:", "not both"])
        expectError(Self.minimal + "\ndevice_id = \"x\"", line: 4, column: 13, ["device_id:", "mac_oui"])
        // No device_id and no machine-id: the error names the file it tried.
        expectError(Self.minimal + "\nmac_oui = \"00:11:32\"", line: 4, column: 11,
                    ["mac_oui:", dir.path + "/no-machine-id cannot be read: No such file or directory"])
    }

    func testBadCIDR() {
        expectError("""
            hostname = "nas"
            interface = "eth0"
            addresses = ["192.0.2.10/24", "192.0.2.300/24"]
            """, line: 3, column: 31, ["addresses[1]:", "'192.0.2.300/24' is not an address with a prefix length"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10\"]", line: 3, column: 14, ["addresses[0]:", "prefix length"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/33\"]", line: 3, column: 14, ["addresses[0]:"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"2001:db8::10/129\"]", line: 3, column: 14, ["addresses[0]:"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.0/24\"]", line: 3, column: 14, ["network address"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"fe80::1/64\"]", line: 3, column: 14, ["link-local"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\", \"192.0.2.10/25\"]", line: 3, column: 31, ["listed twice"])
        expectError("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = []", line: 3, column: 13, ["addresses:", "at least one"])
    }

    func testBadRoutes() {
        let head = "hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\", \"2001:db8::10/64\"]\n"
        expectError(head + "routes = [{ to = \"198.51.100.7/24\", via = \"192.0.2.1\" }]", line: 4, column: 18,
                    ["routes[0].to:", "host bits set; did you mean 198.51.100.0/24?"])
        expectError(head + "routes = [{ to = \"default\" }]", line: 4, column: 18, ["routes[0].to:", "needs a gateway"])
        expectError(head + "routes = [{ to = \"default\", via = \"192.0.2.1\" }, { to = \"default\", via = \"192.0.2.2\" }]",
                    line: 4, column: 57, ["routes[1].to:", "already listed"])
        expectError(head + "routes = [{ to = \"default\", via = \"10.0.0.1\" }]", line: 4, column: 35,
                    ["routes[0].via:", "10.0.0.1 is not inside any of the persona's addresses"])
        expectError(head + "routes = [{ to = \"198.51.100.0/24\", via = \"2001:db8::1\" }]", line: 4, column: 43,
                    ["routes[0].via:", "different IP versions"])
        expectError(head + "routes = [{ to = \"default\", gw = \"192.0.2.1\" }]", line: 4, column: 34,
                    ["unknown field 'routes[0].gw'"])
    }

    func testNetbiosName() {
        expectError(Self.minimal + "\nnetbios_name = \"FINANCE-SERVER-01\"", line: 4, column: 16,
                    ["netbios_name:", "'FINANCE-SERVER-01' is 17 characters; NetBIOS names have at most 15"])
        expectError(Self.minimal + "\nnetbios_name = \"NAS FIN\"", line: 4, column: 16, ["netbios_name:", "contains ' '"])
        expectError(Self.minimal + "\nnetbios_name = \"nas.fin\"", line: 4, column: 16, ["netbios_name:", "contains '.'"])
        // Without netbios_name, a hostname whose first label is too long is the error.
        expectError("hostname = \"finance-server-0001\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]", line: 1, column: 12,
                    ["hostname:", "set netbios_name"])
        expectError(Self.minimal + "\nworkgroup = \"A-VERY-LONG-WORKGROUP\"", line: 4, column: 13, ["workgroup:", "at most 15"])
    }

    /// Unknown fields point at their value (PitTOML's convention), with the closest known field.
    // MARK: The imitated system

    func testImitateSetsTheNegotiateAndPersonaFieldsOverrideIt() throws {
        XCTAssertEqual(try load(Self.minimal).smb, .samba, "no imitate: Samba's defaults")
        let dsm = try load(Self.minimal + "\nimitate = \"synology-dsm7\"")
        XCTAssertEqual(dsm.smb.system, "synology-dsm7")
        XCTAssertEqual(dsm.smb.minProtocol?.name, "SMB2")
        XCTAssertEqual(dsm.smb.maxProtocol?.name, "SMB3")
        XCTAssertEqual(dsm.smb.signing, .auto)
        XCTAssertEqual(dsm.serverString, "Samba %v")
        let windows = try load(Self.minimal + "\nimitate = \"windows-server-2019\"\nsmb_min_protocol = \"smb3_02\"\nsmb_signing = \"Mandatory\"")
        XCTAssertEqual(windows.smb.minProtocol?.name, "SMB3_02", "dialects are read case-insensitively, as Samba does")
        XCTAssertEqual(windows.smb.maxProtocol?.name, "SMB3_11")
        XCTAssertEqual(windows.smb.signing, .mandatory)
        XCTAssertEqual(windows.serverString, "", "a Windows server's comment is empty unless set: 'Samba %v' would give it away")
        XCTAssertEqual(try load(Self.minimal + "\nimitate = \"windows-server-2022\"\nserver_string = \"Files\"").serverString, "Files")
        XCTAssertEqual(try load(Self.minimal + "\nimitate = \"Windows-Server-2019\"").smb.system, "windows-server-2019",
                       "the system's name is read case-insensitively, as the dialects are")
    }

    func testUnknownSystemOrDialectIsOneLineWithItsPosition() {
        expectError(Self.minimal + "\nimitate = \"synology-dsm6\"", line: 4, column: 11,
                    ["imitate: unknown system 'synology-dsm6' (did you mean 'synology-dsm7'?); known: samba, synology-dsm7, windows-server-2019, windows-server-2022"])
        expectError(Self.minimal + "\nimitate = \"netapp\"", line: 4, column: 11, ["imitate: unknown system 'netapp'; known: samba"])
        expectError(Self.minimal + "\nsmb_min_protocol = \"SMB2_2\"", line: 4, column: 20,
                    ["smb_min_protocol: 'SMB2_2' is not an SMB dialect Samba serves (did you mean 'SMB2_02'?)", "known: LANMAN1,"])
        expectError(Self.minimal + "\nsmb_max_protocol = \"SMB4\"", line: 4, column: 20, ["smb_max_protocol: 'SMB4' is not an SMB dialect Samba serves"])
        expectError(Self.minimal + "\nsmb_max_protocol = \"CORE\"", line: 4, column: 20, ["smb_max_protocol: 'CORE' is not an SMB dialect Samba serves"])
        expectError(Self.minimal + "\nsmb_signing = \"required\"", line: 4, column: 15,
                    ["smb_signing: 'required' is not a signing setting; known: auto, mandatory, disabled"])
        expectError(Self.minimal + "\nsmb_signing = \"mandatroy\"", line: 4, column: 15, ["(did you mean 'mandatory'?)"])
        expectError(Self.minimal + "\nimitate = \"synology-dsm7\"\nsmb_max_protocol = \"NT1\"", line: 5, column: 20,
                    ["smb_max_protocol: the minimum dialect SMB2 is newer than the maximum NT1"])
        expectError(Self.minimal + "\nsmb_min_protocol = \"SMB3\"\nsmb_max_protocol = \"SMB2_10\"", line: 5, column: 20, ["minimum dialect SMB3 is newer"])
        expectError(Self.minimal + "\nsmb_max_protocol = \"nt1\"", line: 4, column: 20,
                    ["smb_max_protocol: the minimum dialect SMB2_02 (Samba's default) is newer than the maximum NT1"])
        XCTAssertEqual(try load(Self.minimal + "\nsmb_min_protocol = \"NT1\"\nsmb_max_protocol = \"NT1\"").smb.maxProtocol?.name, "NT1",
                       "an SMB1-only decoy is the persona's to ask for")
        expectError(Self.minimal + "\nimitate = 2019", line: 4, column: 11, ["imitate: expected"])
    }

    func testUnknownFieldSuggestsTheClosest() {
        expectError(Self.minimal + "\nnetbois_name = \"NAS\"", line: 4, column: 16, ["unknown field 'netbois_name' (did you mean 'netbios_name'?)"])
        expectError(Self.minimal + "\naddress = [\"192.0.2.11/24\"]", line: 4, column: 11, ["unknown field 'address' (did you mean 'addresses'?)"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"x\"\ntemplate = \"decoys/finance\"\ncoment = \"y\"", line: 7, column: 10,
                    ["unknown field 'shares[0].coment' (did you mean 'comment'?)"])
    }

    func testMissingFields() {
        expectError("interface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]", line: 1, column: 1, ["missing required field 'hostname'"])
        expectError("hostname = \"nas\"\naddresses = [\"192.0.2.10/24\"]", line: 1, column: 1, ["missing required field 'interface'"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"x\"", line: 4, column: 1, ["missing required field 'shares[0].template'"])
    }

    func testBadHostnameAndInterface() {
        expectError("hostname = \"nas_01\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]", line: 1, column: 12, ["hostname:", "letters, digits"])
        expectError("hostname = \"nas\"\ninterface = \"a-very-long-ifname0\"\naddresses = [\"192.0.2.10/24\"]", line: 2, column: 13,
                    ["interface:", "IFNAMSIZ"])
        expectError("hostname = \"nas\"\ninterface = \"eth0:1\"\naddresses = [\"192.0.2.10/24\"]", line: 2, column: 13, ["interface:"])
    }

    func testShareTemplateMustExist() {
        expectError(Self.minimal + "\n[[shares]]\nname = \"hr\"\ntemplate = \"decoys/hr\"", line: 6, column: 12,
                    ["shares[0].template:", dir.path + "/decoys/hr: No such file or directory"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"hr\"\ntemplate = \"decoys/finance/Q3-forecast.xlsx\"", line: 6, column: 12,
                    ["shares[0].template:", "is not a directory"])
    }

    func testShareNamesAndTextCannotInjectConfig() {
        // A newline in any value would add an smb.conf line of the file author's choosing.
        expectError(Self.minimal + "\n[[shares]]\nname = \"x\"\ntemplate = \"decoys/finance\"\ncomment = \"a\\n[global]\\nusername map script = /bin/sh\"",
                    line: 7, column: 11, ["shares[0].comment:", "one line"])
        expectError(Self.minimal + "\nserver_string = \"NAS\\r\\nx = y\"", line: 4, column: 17, ["server_string:", "one line"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"global\"\ntemplate = \"decoys/finance\"", line: 5, column: 8, ["reserved"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"a]b\"\ntemplate = \"decoys/finance\"", line: 5, column: 8, ["contains ']'"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"..\"\ntemplate = \"decoys/finance\"", line: 5, column: 8, ["shares[0].name:"])
        expectError(Self.minimal + "\n[[shares]]\nname = \"x\"\ntemplate = \"decoys/finance\"\n[[shares]]\nname = \"X\"\ntemplate = \"decoys/finance\"",
                    line: 8, column: 8, ["shares[1].name:", "listed twice"])
    }

    func testTOMLSyntaxErrorsKeepTheirPosition() {
        expectError("hostname = \"nas\"\ninterface = eth0\n", line: 2, column: 13, [])
    }
}
