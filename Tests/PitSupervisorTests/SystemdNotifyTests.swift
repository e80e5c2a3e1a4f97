import func PitProcess.monotonicMilliseconds
import PitTestSupport
import Glibc
import PitSupervisor
import XCTest

/// A real unix datagram socket plays systemd's NOTIFY_SOCKET for a real `pit supervise`
/// (image/init/pit.service: Type=notify, WatchdogSec=).
final class SystemdNotifyTests: XCTestCase {
    func test_readyAfterTheJailIsUp_watchdogPingsOnlyWhileHealthy_stoppingOnStop() throws {
        let h = SupervisorHarness()
        let receiver = try NotifyReceiver(path: h.dir.path + "/notify.sock")
        // Ready only 0.7 s after start: a READY=1 sent before the readiness check passed would catch the jail "starting".
        h.writeJail("web", SupervisorTests.listener(port: 18191, after: "0.7"))
        h.dir.write("device.toml", """
            data_dir = "\(h.dir.path)/data"
            control_socket = "\(h.socket)"
            [watchdog]
            owner = "systemd"
            health_grace_s = 1
            [[jails]]
            name = "web"
            spec = "web.toml"
            ready_tcp = 18191
            """)
        // WatchdogSec=2: WATCHDOG=1 every second.
        h.start(environment: ["NOTIFY_SOCKET=\(receiver.path)", "WATCHDOG_USEC=2000000"])

        let ready = receiver.waitFor(10) { $0.contains("READY=1") }
        XCTAssertNotNil(ready, "no READY=1: \(receiver.received) \(h.log)")
        XCTAssertEqual(h.jail("web")?.state, "running", "READY=1 before the jail was ready")
        XCTAssertTrue(ready?.contains("STATUS=1/1 jails running") == true, "\(ready ?? "")")
        let status = h.statusOrNil()?.watchdog
        XCTAssertEqual(status?.owner, "systemd")
        XCTAssertNil(status?.device, "owner = systemd: Pit must not open a watchdog device")
        XCTAssertEqual(status?.systemd_ping_interval_ms, 1000)
        let text = h.request("status")
        XCTAssertTrue(text.contains("watchdog: owned by systemd, systemd pinged every 1000 ms"), text)

        receiver.drain()
        let healthy = receiver.collect(3.5).filter { $0.text == "WATCHDOG=1" }.map(\.time)
        XCTAssertGreaterThanOrEqual(healthy.count, 3, "\(receiver.received) \(h.log)")
        let gaps = zip(healthy.dropFirst(), healthy).map { $0 - $1 }
        XCTAssertTrue(gaps.allSatisfy { $0 < 1.5 }, "\(gaps)")

        // The required jail cannot come back (its spec now fails to exec): past the 1 s grace the pings stop.
        h.dir.write("web.toml", "command = [\"/nonexistent\"]\n")
        kill(h.pid, SIGHUP)
        XCTAssertTrue(waitUntil(8) { h.log.contains("watchdog no longer fed") }, h.log)
        // Every ping sent before that log line is queued in the socket by now; nothing may follow it.
        let before = receiver.drain()
        let after = receiver.collect(2.5)
        XCTAssertEqual(after.filter { $0.text == "WATCHDOG=1" }.count, 0, "pinged after health failed: \(after) \(h.log)")
        XCTAssertTrue((before + after).contains { $0.text.hasPrefix("STATUS=") && $0.text.contains("watchdog not fed") },
                      "\(before + after)")
        XCTAssertEqual(h.statusOrNil()?.watchdog.health, "starving")

        _ = h.stop()
        XCTAssertTrue(receiver.drain().contains { $0.text.hasPrefix("STOPPING=1") }, receiver.received.description)
    }

    func test_abstractSocketGetsReadyAndStopping_systemdOwnerWithoutWatchdogUsecIsReported() throws {
        let h = SupervisorHarness()
        let name = "@pit-notify-test-\(getpid())"
        let receiver = try NotifyReceiver(path: name)
        h.dir.write("device.toml", """
            data_dir = "\(h.dir.path)/data"
            control_socket = "\(h.socket)"
            [watchdog]
            owner = "systemd"
            """)
        h.start(environment: ["NOTIFY_SOCKET=\(name)"])
        let ready = receiver.waitFor(5) { $0.contains("READY=1") }
        XCTAssertEqual(ready, "READY=1\nSTATUS=0/0 jails running; healthy", "\(receiver.received) \(h.log)")
        XCTAssertTrue(h.log.contains("no WATCHDOG_USEC"), h.log)
        XCTAssertNil(h.statusOrNil()?.watchdog.systemd_ping_interval_ms)
        XCTAssertEqual(receiver.collect(1.5).filter { $0.text == "WATCHDOG=1" }.count, 0, "pinged without WATCHDOG_USEC")
        XCTAssertEqual(h.stop(), 0, h.log)
        XCTAssertTrue(receiver.drain().contains { $0.text.hasPrefix("STOPPING=1") }, receiver.received.description)
    }

    func test_systemdOwnerRefusesAWatchdogDeviceInTheConfig() {
        let h = SupervisorHarness()
        h.dir.write("device.toml", """
            data_dir = "\(h.dir.path)/data"
            [watchdog]
            owner = "systemd"
            device = "/dev/watchdog0"
            """)
        let r = Process.run([Pit.executable, "supervise", "--config", h.dir.path + "/device.toml", "--check"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("device.toml:") && r.stderr.contains("owner") && r.stderr.contains("never opens"), r.stderr)
        h.dir.write("device.toml", "[watchdog]\nowner = \"procd\"\n")
        let bad = Process.run([Pit.executable, "supervise", "--config", h.dir.path + "/device.toml", "--check"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("expected \"pit\" or \"systemd\""), bad.stderr)
    }
}

struct SocketError: Error { var message: String }

/// A bound AF_UNIX datagram socket (a path, or "@name" for an abstract one) that records what arrives and when.
final class NotifyReceiver {
    let path: String
    private let fd: Int32
    private(set) var received: [(time: Double, text: String)] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let rc = UnixSocketAddress(path)?.withSockaddr { bind(fd, $0, $1) } ?? -1
        guard fd >= 0, rc == 0 else { throw SocketError(message: "bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// One datagram, waiting up to `timeoutMs`.
    private func next(timeoutMs: Int32) -> (time: Double, text: String)? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMs) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
        guard n >= 0 else { return nil }
        let message = (time: Double(monotonicMilliseconds()) / 1000, text: String(decoding: buffer[0..<n], as: UTF8.self))
        received.append(message)
        return message
    }

    /// Everything already queued.
    @discardableResult
    func drain() -> [(time: Double, text: String)] {
        var messages: [(time: Double, text: String)] = []
        while let m = next(timeoutMs: 0) { messages.append(m) }
        return messages
    }

    /// Everything that arrives within `seconds`.
    func collect(_ seconds: Double) -> [(time: Double, text: String)] {
        let end = monotonicMilliseconds() + Int64(seconds * 1000)
        var messages: [(time: Double, text: String)] = []
        while case let left = end - monotonicMilliseconds(), left > 0 {
            if let m = next(timeoutMs: Int32(left)) { messages.append(m) }
        }
        return messages
    }

    /// The first message matching `condition` within `seconds`.
    func waitFor(_ seconds: Double, _ condition: (String) -> Bool) -> String? {
        let end = monotonicMilliseconds() + Int64(seconds * 1000)
        while case let left = end - monotonicMilliseconds(), left > 0 {
            if let m = next(timeoutMs: Int32(left)), condition(m.text) { return m.text }
        }
        return nil
    }
}

final class SysfsBootStatusTests: XCTestCase {
    func test_watchdogBootStatusIsReadFromSysfsWhenSystemdHoldsTheDevice() {
        let files = ["/sys/class/watchdog/watchdog0/bootstatus": "32\n", "/sys/class/watchdog/watchdog1/bootstatus": "0\n"]
        XCTAssertEqual(SystemdNotify.sysfsBootStatus(device: "/dev/watchdog0") { files[$0] }, 32)
        XCTAssertEqual(SystemdNotify.sysfsBootStatus(device: "/dev/watchdog") { files[$0] }, 32)
        XCTAssertEqual(SystemdNotify.sysfsBootStatus(device: "/dev/watchdog1") { files[$0] }, 0)
        XCTAssertNil(SystemdNotify.sysfsBootStatus(device: "/dev/watchdog2") { files[$0] })
    }
}
