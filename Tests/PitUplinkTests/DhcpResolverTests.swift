import Glibc
import PitTestSupport
import XCTest
@testable import PitUplink

/// The DNS uplink without a `resolver` follows the persona's DHCP lease: the supervisor writes the lease's DNS
/// servers to DATA/dhcp-resolv.conf, and the transport asks the first nameserver there before /etc/resolv.conf's.
final class DhcpResolverTests: XCTestCase {
    func testTheLeasesResolverComesBeforeTheSystemOne() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        dir.write("device.key", String(repeating: "ab", count: 32))
        chmod(dir.path + "/device.key", 0o600)
        dir.write("device.toml", """
            data_dir = "\(dir.path)/data"
            [[uplink]]
            type = "dns"
            name = "tunnel"
            zone = "abc123.console.example"
            device = "d1"
            key_file = "\(dir.path)/device.key"
            """)
        mkdir(dir.path + "/data", 0o700)
        let config = try UplinkConfig.load(devicePath: dir.path + "/device.toml")
        guard case .dns(let dns) = try XCTUnwrap(config.transports.first).kind else { return XCTFail("not a DNS transport") }
        XCTAssertEqual(dns.resolvConfPaths, [dir.path + "/data/dhcp-resolv.conf", "/etc/resolv.conf"])

        dir.write("data/dhcp-resolv.conf", "nameserver 192.0.2.53\nnameserver 192.0.2.54\n")
        XCTAssertEqual(try DNSClient(config: dns, timeoutMs: 1_000).target, "abc123.console.example via 192.0.2.53:53")
        // A lease without DNS servers leaves an empty file: the system's resolver is asked, as before.
        dir.write("data/dhcp-resolv.conf", "")
        if let system = ResolverAddress.fromResolvConf() {
            XCTAssertEqual(try DNSClient(config: dns, timeoutMs: 1_000).target, "abc123.console.example via \(system)")
        }
    }
}
