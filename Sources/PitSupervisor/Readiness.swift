import Glibc

/// Whether a jailed service is ready: for now, that it accepts TCP connections on a loopback port.
/// Samba gives no readiness notification, so Pit asks the way a client would, on a timer while the
/// jail is starting (never once it runs).
enum Readiness {
    static let retryMs: Int64 = 50

    static func tcpAccepts(host: String = "127.0.0.1", port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        // Local connects complete (or are refused) immediately: this never waits.
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
