import Glibc
import PitTestSupport
import XCTest
@testable import PitPersona

/// `slaac = true`: the persona's interface makes its IPv6 identifiers with RFC 7217 (stable privacy), keyed by the
/// device id, applied for real in throwaway namespaces and read back from the kernel.
final class SlaacTests: XCTestCase {
    var dir: ScratchDirectory!
    var namespaces: [TestNamespace] = []

    override func setUp() { dir = ScratchDirectory() }
    override func tearDown() {
        for ns in namespaces { ns.remove() }
        dir?.remove()
    }

    func persona(_ deviceID: String) -> String {
        dir.write("persona-\(deviceID).toml", """
            hostname = "ws-fin-02"
            interface = "eth0"
            mac = "02:11:22:33:44:55"
            addresses = ["192.0.2.10/24"]
            slaac = true
            device_id = "\(deviceID)"
            """)
    }

    /// Applies `deviceID`'s persona in `ns` (a new namespace if nil); returns the namespace and the changes.
    func apply(_ deviceID: String, in given: TestNamespace? = nil, line: UInt = #line) throws -> (TestNamespace, [String]) {
        let ns = try given ?? TestNamespace()
        if given == nil { namespaces.append(ns) }
        let (result, json) = ns.apply(persona(deviceID), ["--no-hostname"])
        guard result.status == 0, let json else {
            XCTFail("probe exited \(result.status): \(result.stderr)", line: line)
            throw XCTSkip("apply failed")
        }
        return (ns, json["changes"]!.array.compactMap(\.string))
    }

    func sysctl(_ ns: TestNamespace, _ key: String) -> String {
        Validate.trimmed(ns.run(["cat", "/proc/sys/net/ipv6/conf/eth0/\(key)"]).stdout)
    }

    func linkLocal(_ ns: TestNamespace) throws -> String {
        let info = try ns.ipJSON("-6", "addr", "show", "dev", "eth0", "scope", "link").array.first?["addr_info"]?.array ?? []
        return try XCTUnwrap(info.first?["local"]?.string)
    }

    func testStablePrivacyIdentifiersFollowTheDeviceIDNotTheMAC() throws {
        let (first, changes) = try apply("device-1")
        XCTAssertEqual(sysctl(first, "addr_gen_mode"), "2")
        XCTAssertEqual(sysctl(first, "accept_ra"), "2")
        XCTAssertEqual(sysctl(first, "autoconf"), "1")
        XCTAssertEqual(IPAddress(sysctl(first, "stable_secret")), try Persona.parse(readText(persona("device-1"))!, file: "x").slaac?.stableSecret)
        XCTAssertTrue(changes.contains("sysctl eth0 stable_secret set"), "\(changes)")
        XCTAssertFalse(changes.joined().contains(sysctl(first, "stable_secret")), "the secret is never logged")
        let address = try linkLocal(first)
        // The EUI-64 of 02:11:22:33:44:55 would be fe80::11:22ff:fe33:4455.
        XCTAssertNotEqual(address, "fe80::11:22ff:fe33:4455")
        XCTAssertFalse(address.contains("ff:fe"), address)

        // The same device id on another namespace (same MAC, same prefix): the same identifier; another id: another.
        let (second, _) = try apply("device-1")
        XCTAssertEqual(try linkLocal(second), address)
        let (third, _) = try apply("device-2")
        XCTAssertNotEqual(try linkLocal(third), address)

        // A re-apply changes nothing and does not cycle the link.
        let (_, again) = try apply("device-1", in: first)
        XCTAssertEqual(again, [], "re-apply is idempotent")
        XCTAssertEqual(try linkLocal(first), address)
    }

    func testSlaacOnARunningLinkCyclesItOnce() throws {
        let ns = try TestNamespace()
        namespaces.append(ns)
        try ns.ip("link", "set", "eth0", "address", "02:11:22:33:44:55")
        try ns.ip("link", "set", "eth0", "up")
        usleep(200_000)
        XCTAssertEqual(try linkLocal(ns), "fe80::11:22ff:fe33:4455", "the kernel's default: EUI-64")
        let (_, changes) = try apply("device-1", in: ns)
        XCTAssertTrue(changes.contains("link eth0 down (stable privacy addresses)"), "\(changes)")
        XCTAssertTrue(changes.contains("link eth0 up"), "\(changes)")
        XCTAssertTrue(waitUntil(2) { (try? self.linkLocal(ns)) != "fe80::11:22ff:fe33:4455" })
    }

    func testDeviceIDIsAcceptedForSlaacAlone() throws {
        let persona = try Persona.parse("hostname = \"a\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]\nslaac = true\ndevice_id = \"x\"\n",
                                        file: "/t/p.toml", machineIDPath: "/nonexistent")
        XCTAssertNotNil(persona.slaac)
        XCTAssertThrowsError(try Persona.parse("hostname = \"a\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]\nslaac = true\n",
                                               file: "/t/p.toml", machineIDPath: "/nonexistent")) {
            XCTAssertTrue("\($0)".contains("/t/p.toml:4:9: slaac: no device_id set"), "\($0)")
        }
    }
}
