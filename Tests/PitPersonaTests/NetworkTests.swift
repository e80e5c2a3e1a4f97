import Glibc
import PitTestSupport
import XCTest
@testable import PitPersona

/// Applying personas for real, each test in its own network namespace (`ip netns add`), on eth0, one
/// end of a veth pair: the probe applies the persona inside the namespace and prints the read-back
/// state, and the test cross-checks it with `ip -j` in the same namespace.
final class NetworkTests: XCTestCase {
    var dir: ScratchDirectory!
    var ns: TestNamespace!

    override func setUpWithError() throws {
        dir = ScratchDirectory()
        ns = try TestNamespace()
    }

    override func tearDown() {
        ns?.remove()
        dir?.remove()
    }

    static let personaA = """
        hostname = "nas-fin-02"
        interface = "eth0"
        mac = "02:11:22:33:44:55"
        addresses = ["192.0.2.10/24", "2001:db8::10/64"]
        routes = [{ to = "default", via = "192.0.2.1" }, { to = "198.51.100.0/24", via = "192.0.2.254" },
                  { to = "default", via = "2001:db8::1" }, { to = "2001:db8:100::/48", via = "2001:db8::fe" }]
        """

    func write(_ text: String, as name: String = "persona.toml") -> String { dir.write(name, text) }

    /// Applies and returns the probe's output, failing the test with the probe's stderr otherwise.
    func apply(_ path: String, _ extra: [String] = ["--no-hostname"], file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let (result, json) = ns.apply(path, extra)
        guard result.status == 0, let json else {
            XCTFail("probe exited \(result.status): \(result.stderr)\(result.stdout)", file: file, line: line)
            throw XCTSkip("apply failed")
        }
        return json
    }

    /// Global addresses as "ADDR/LEN" from the probe's state.
    func globalAddresses(_ state: JSONValue) -> Set<String> {
        Set(state["addresses"]!.array.filter { $0["scope"]?.string == "global" }.map { "\($0["address"]!.string!)/\($0["prefixlen"]!.int!)" })
    }

    /// Global addresses of eth0 as `ip -j addr` reports them.
    func ipAddresses() throws -> Set<String> {
        let links = try ns.ipJSON("addr", "show", "dev", "eth0").array
        return Set(links.flatMap { $0["addr_info"]!.array }.filter { $0["scope"]?.string == "global" }
            .map { "\($0["local"]!.string!)/\($0["prefixlen"]!.int!)" })
    }

    /// Routes through eth0 as "DST via GW proto P" from `ip -j route` (both families).
    func ipRoutes() throws -> Set<String> {
        var out: Set<String> = []
        for family in ["-4", "-6"] {
            let result = Process.run(["ip", "-n", ns.name, "-j", family, "route", "show", "dev", "eth0"])
            XCTAssertEqual(result.status, 0, result.stderr)
            for route in try JSONValue.parse(result.stdout).array {
                var text = route["dst"]!.string!
                if let gateway = route["gateway"]?.string { text += " via \(gateway)" }
                text += " proto \(route["protocol"]?.string ?? "boot")"  // ip -j omits the default, boot
                out.insert(text)
            }
        }
        return out
    }

    func probeRoutes(_ state: JSONValue) -> Set<String> {
        Set(state["routes"]!.array.map { r in
            r["dst"]!.string! + (r["gateway"]?.string.map { " via \($0)" } ?? "") + " proto \(r["protocol"]!.string!)"
        })
    }

    // MARK: Cases

    func testAppliesMACAddressesAndRoutesAndRemovesExtraAddresses() throws {
        // Leftovers a factory image or a DHCP client might have put there.
        try ns.ip("addr", "add", "10.9.9.9/8", "dev", "eth0")
        try ns.ip("addr", "add", "2001:db8:ffff::9/64", "dev", "eth0")
        let output = try apply(write(Self.personaA))
        let state = output["state"]!

        XCTAssertEqual(state["mac"]?.string, "02:11:22:33:44:55")
        XCTAssertEqual(state["up"]?.bool, true)
        XCTAssertEqual(globalAddresses(state), ["192.0.2.10/24", "2001:db8::10/64"])
        let changes = output["changes"]!.array.compactMap(\.string)
        XCTAssertTrue(changes.contains("address remove 10.9.9.9/8"), "\(changes)")
        XCTAssertTrue(changes.contains("address remove 2001:db8:ffff::9/64"), "\(changes)")

        // Cross-check with iproute2.
        let link = try ns.ipJSON("link", "show", "dev", "eth0").array.first
        XCTAssertEqual(link?["address"]?.string, "02:11:22:33:44:55")
        XCTAssertTrue(link?["flags"]?.array.contains(.string("UP")) ?? false)
        XCTAssertEqual(try ipAddresses(), ["192.0.2.10/24", "2001:db8::10/64"])
        let v4 = try ns.ipJSON("-4", "addr", "show", "dev", "eth0").array.first?["addr_info"]?.array.first
        XCTAssertEqual(v4?["broadcast"]?.string, "192.0.2.255", "IPv4 gets a broadcast address for nmbd")

        let routes = try ipRoutes()
        for wanted in ["default via 192.0.2.1 proto static", "198.51.100.0/24 via 192.0.2.254 proto static",
                       "default via 2001:db8::1 proto static", "2001:db8:100::/48 via 2001:db8::fe proto static"] {
            XCTAssertTrue(routes.contains(wanted), "ip route lacks \(wanted): \(routes)")
        }
        XCTAssertEqual(probeRoutes(state), routes, "the read-back API agrees with ip route")

        // The kernel's link-local address survives: only global addresses are the persona's business.
        let all = try ns.ipJSON("-6", "addr", "show", "dev", "eth0").array.first?["addr_info"]?.array ?? []
        XCTAssertTrue(all.contains { $0["scope"]?.string == "link" && ($0["local"]?.string ?? "").hasPrefix("fe80:") }, "\(all)")
    }

    func testReapplyIsIdempotent() throws {
        let path = write(Self.personaA)
        let first = try apply(path)
        XCTAssertFalse(first["changes"]!.array.isEmpty)
        let addressesBefore = try ipAddresses(), routesBefore = try ipRoutes()
        let second = try apply(path)
        XCTAssertEqual(second["changes"]!.array, [], "a second apply changes nothing (no link flap, no EEXIST)")
        XCTAssertEqual(try ipAddresses(), addressesBefore)
        XCTAssertEqual(try ipRoutes(), routesBefore)
        let (a, b) = (first["state"]!, second["state"]!)
        XCTAssertEqual(a["mac"], b["mac"])
        XCTAssertEqual(a["index"], b["index"])
        XCTAssertEqual(globalAddresses(a), globalAddresses(b))
        XCTAssertEqual(probeRoutes(a), probeRoutes(b))
    }

    func testChangedPersonaReplacesAddressesAndRoutesButKeepsOperatorRoutes() throws {
        _ = try apply(write(Self.personaA))
        // An operator's route (protocol boot, as `ip route add` makes it) is not Pit's to remove.
        try ns.ip("route", "add", "203.0.113.0/24", "via", "192.0.2.1", "dev", "eth0")
        let output = try apply(write("""
            hostname = "nas-fin-02"
            interface = "eth0"
            mac = "02:11:22:33:44:55"
            addresses = ["192.0.2.10/24", "192.0.2.11/24", "2001:db8::20/64"]
            routes = [{ to = "default", via = "192.0.2.2" }, { to = "default", via = "2001:db8::1" }]
            """, as: "b.toml"))
        XCTAssertEqual(try ipAddresses(), ["192.0.2.10/24", "192.0.2.11/24", "2001:db8::20/64"])
        let routes = try ipRoutes()
        XCTAssertTrue(routes.contains("default via 192.0.2.2 proto static"), "gateway replaced: \(routes)")
        XCTAssertFalse(routes.contains("default via 192.0.2.1 proto static"), "\(routes)")
        XCTAssertFalse(routes.contains { $0.hasPrefix("198.51.100.0/24") }, "dropped prefix route removed: \(routes)")
        XCTAssertFalse(routes.contains { $0.hasPrefix("2001:db8:100::/48") }, "\(routes)")
        XCTAssertTrue(routes.contains("default via 2001:db8::1 proto static"), "\(routes)")
        XCTAssertTrue(routes.contains("203.0.113.0/24 via 192.0.2.1 proto boot"), "operator route kept: \(routes)")
        let changes = output["changes"]!.array.compactMap(\.string)
        XCTAssertTrue(changes.contains("address remove 2001:db8::10/64"), "\(changes)")
        XCTAssertFalse(changes.contains { $0.hasPrefix("link") }, "same MAC: the link is not cycled: \(changes)")
    }

    func testPrefixLengthChangeReplacesTheAddress() throws {
        // Same address, another prefix: a different kernel address, so the old one goes.
        try ns.ip("addr", "add", "192.0.2.10/16", "dev", "eth0")
        let output = try apply(write("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/25\"]"))
        XCTAssertEqual(try ipAddresses(), ["192.0.2.10/25"])
        XCTAssertEqual(output["changes"]!.array.compactMap(\.string),
                       ["link eth0 up", "address remove 192.0.2.10/16", "address add 192.0.2.10/25"], "no MAC in the persona: the link keeps its own")
        let routes = try ipRoutes()
        XCTAssertTrue(routes.contains("192.0.2.0/25 proto kernel"), "\(routes)")
        XCTAssertFalse(routes.contains("192.0.0.0/16 proto kernel"), "\(routes)")
    }

    func testMACChangeOnARunningLinkCyclesItAndComesBackUp() throws {
        try ns.ip("link", "set", "eth0", "up")
        let output = try apply(write(Self.personaA))
        let changes = output["changes"]!.array.compactMap(\.string)
        XCTAssertEqual(Array(changes.prefix(3)), ["link eth0 down", "link eth0 address 02:11:22:33:44:55", "link eth0 up"])
        XCTAssertEqual(output["state"]?["up"]?.bool, true)
    }

    func testOUIDerivedMACIsStableAndFollowsTheDeviceID() throws {
        let machineID = dir.write("machine-id", "5c6e0b9a1d2f4e6a8b0c1d2e3f405162\n")
        let persona = """
            hostname = "nas"
            interface = "eth0"
            mac_oui = "00:11:32"
            addresses = ["192.0.2.10/24"]
            """
        let path = write(persona)
        let first = try apply(path, ["--no-hostname", "--machine-id", machineID])
        let mac = first["state"]?["mac"]?.string
        XCTAssertEqual(mac, Persona.deriveMAC(oui: [0, 0x11, 0x32], deviceID: "5c6e0b9a1d2f4e6a8b0c1d2e3f405162").description)
        XCTAssertTrue(mac?.hasPrefix("00:11:32:") ?? false)
        // Another run (another boot): same MAC, nothing to change.
        let again = try apply(path, ["--no-hostname", "--machine-id", machineID])
        XCTAssertEqual(again["state"]?["mac"]?.string, mac)
        XCTAssertEqual(again["changes"]!.array, [])
        // A configured device_id wins over the machine-id and gives another MAC.
        let other = try apply(write(persona + "\ndevice_id = \"canary-0002\"\n", as: "other.toml"), ["--no-hostname", "--machine-id", machineID])
        XCTAssertEqual(other["state"]?["mac"]?.string, Persona.deriveMAC(oui: [0, 0x11, 0x32], deviceID: "canary-0002").description)
        XCTAssertNotEqual(other["state"]?["mac"]?.string, mac)
        XCTAssertEqual(try ns.ipJSON("link", "show", "dev", "eth0").array.first?["address"]?.string, other["state"]?["mac"]?.string)
    }

    func testMissingInterfaceNamesIt() throws {
        let (result, _) = ns.apply(write("hostname = \"nas\"\ninterface = \"eth9\"\naddresses = [\"192.0.2.10/24\"]"), ["--no-hostname"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "RTM_GETLINK eth9: No such device\n")
        let read = ns.run([Probe.executable, "read", "eth9"])
        XCTAssertEqual(read.status, 1)
        XCTAssertEqual(read.stderr, "RTM_GETLINK eth9: No such device\n")
    }

    func testKernelRefusalNamesOperationInterfaceObjectAndKernelReason() throws {
        // With IPv6 disabled on the link the kernel refuses the IPv6 address: the error names the
        // message, the interface and the address, with errno and the kernel's extended-ACK text.
        let sysctl = Process.run(["ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"])
        XCTAssertEqual(sysctl.status, 0, sysctl.stderr)
        let (result, _) = ns.apply(write(Self.personaA), ["--no-hostname"])
        XCTAssertEqual(result.status, 1)
        // Kernel 6.x adds "(ipv6: IPv6 is disabled on this device)"; the wording is the kernel's.
        XCTAssertTrue(result.stderr.hasPrefix("RTM_NEWADDR eth0 2001:db8::10/64: Permission denied"), result.stderr)
        XCTAssertTrue(result.stderr.contains("IPv6 is disabled"), result.stderr)
    }

    func testPersonaFileErrorFromTheProbe() throws {
        let path = write("hostname = \"nas\"\ninterface = \"eth0\"\naddresses = [\"192.0.2.10/24\"]\nmac = \"01:00:5e:00:00:01\"")
        let (result, _) = ns.apply(path)
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.hasPrefix("\(path):4:7: mac: 01:00:5e:00:00:01 is a multicast address"), result.stderr)
    }

    func testHostnameIsSetInTheUTSNamespaceOnly() throws {
        let hostBefore = currentHostname()
        let output = try apply(write(Self.personaA), [])
        XCTAssertEqual(output["hostname"]?.string, "nas-fin-02")
        XCTAssertEqual(output["changes"]?.array.first?.string, "hostname nas-fin-02")
        XCTAssertEqual(currentHostname(), hostBefore, "the test machine's own hostname is untouched")
    }

    /// The read-back API in-process against a link the test cannot see would be meaningless, so it
    /// is exercised here on the host's loopback, read-only: index 1, up or down, no MAC change.
    func testReadBackOfLoopbackIsReadOnly() throws {
        let state = try LinkState.read(interface: "lo")
        XCTAssertEqual(state.interface, "lo")
        XCTAssertEqual(state.index, 1)
        XCTAssertThrowsError(try LinkState.read(interface: "pit-no-such0")) { error in
            XCTAssertEqual("\(error)", "RTM_GETLINK pit-no-such0: No such device")
        }
    }
}
