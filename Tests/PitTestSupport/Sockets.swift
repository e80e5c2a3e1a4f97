import Glibc

/// A socket of `type` (SOCK_STREAM, listening, or SOCK_DGRAM) on 127.0.0.1 at a port the kernel picks: its fd and
/// port (0 when it could not be bound). `flags` go with the type (SOCK_NONBLOCK for a listener drained later).
public func loopbackSocket(_ type: __socket_type, flags: Int32 = 0) -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | flags, 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    if type == SOCK_STREAM { listen(fd, 128) }
    return (fd, bound ? Int(UInt16(bigEndian: address.sin_port)) : 0)
}
