import CPitShim
import PitTestSupport
import Glibc
import PitSupervisor
import XCTest

/// Readiness looks at the kernel's socket table instead of connecting (a probe connect to a port in the
/// ephemeral range can connect to itself and then hold the service's port).
final class ReadinessTests: XCTestCase {
    func testParsesListenRowsOnly() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:AE9C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
               1: 0100007F:AE9C 0100007F:AE9C 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
               2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
            """
        let rows = Readiness.listeningEntries(table)
        XCTAssertEqual(rows.map(\.address), ["0100007F", "00000000"])
        XCTAssertEqual(rows.map(\.port), [0xAE9C, 8080], "the self-connected ESTABLISHED row (01) is not a listener")
    }

    /// A real listener, on loopback and on the wildcard address, is seen; once closed it is not.
    func testSeesARealListenerAndItsAbsence() throws {
        for (bindTo, asked) in [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "127.0.0.2")] {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, bindTo, &address.sin_addr)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            XCTAssertEqual(bound, 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            let port = UInt16(bigEndian: address.sin_port)
            XCTAssertFalse(Readiness.listening(pid: nil, host: asked, port: port), "bound but not listening yet")
            XCTAssertEqual(listen(fd, 1), 0)
            // 127.0.0.2 is not where a 127.0.0.1 listener accepts.
            XCTAssertEqual(Readiness.listening(pid: nil, host: asked, port: port), bindTo == "0.0.0.0" || bindTo == asked,
                           "\(bindTo) asked as \(asked)")
            XCTAssertEqual(Readiness.listening(pid: getpid(), host: asked, port: port), bindTo == "0.0.0.0" || bindTo == asked)
            close(fd)
            XCTAssertFalse(Readiness.listening(pid: nil, host: asked, port: port))
        }
    }

    /// A jail with a network namespace of its own is looked at in that namespace, through its init's /proc.
    func testLooksInTheJailsNetworkNamespace() {
        let dir = ScratchDirectory()
        let port: UInt16 = 17071
        let child = spawnDetached(["/usr/bin/unshare", "--net", "/usr/bin/python3", "-c",
                                   "import socket, sys, time; s = socket.socket(); s.bind(('0.0.0.0', \(port))); s.listen(); open(sys.argv[1], 'w').write('up'); time.sleep(30)",
                                   dir.path + "/up"])
        defer { kill(child, SIGKILL); _ = Process.wait(child) }
        XCTAssertTrue(waitUntil(5) { readText(dir.path + "/up") == "up" })
        XCTAssertTrue(Readiness.listening(pid: child, port: port), "listening in the child's namespace")
        XCTAssertFalse(Readiness.listening(pid: nil, port: port), "not in the host's")
    }
}
