import Glibc
import PitProcess

/// A connected socket with deadlines. Every transport talks to a peer that may hang (a half-dead receiver, a
/// black-holed route), and the agent is one thread serving several transports, so no call may block without
/// bound: the descriptor is non-blocking and each wait is a poll(2) bounded by the operation's deadline.
struct Socket: ~Copyable {
    let fd: Int32
    /// `host:port` or the socket path, for errors.
    let peer: String

    init(fd: Int32, peer: String) {
        self.fd = fd
        self.peer = peer
    }

    deinit { close(fd) }

    // MARK: Connecting

    /// TCP (`datagram == false`) or UDP to `host:port`, trying each address getaddrinfo gives in turn.
    static func connect(host: String, port: Int, datagram: Bool = false, deadline: Int64) throws(UplinkError) -> Socket {
        let peer = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(datagram ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw UplinkError(operation: "resolve", target: peer, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var lastError = UplinkError(operation: "connect", target: peer, reason: "no address")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue)
                            | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 { lastError = .sys("socket", peer); continue }
            let socket = Socket(fd: fd, peer: peer)
            do throws(UplinkError) {
                try socket.finishConnect(Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen),
                                         deadline: deadline)
                if !datagram {
                    // Events are small and written whole: do not let Nagle hold the last one back.
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                }
                return socket
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// A SOCK_STREAM Unix socket.
    static func connect(unixPath path: String, deadline: Int64) throws(UplinkError) -> Socket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw UplinkError(operation: "connect", target: path, reason: "socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                        | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .sys("socket", path) }
        let socket = Socket(fd: fd, peer: path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try socket.finishConnect(rc, deadline: deadline)
        return socket
    }

    private func finishConnect(_ rc: Int32, deadline: Int64) throws(UplinkError) {
        if rc == 0 { return }
        guard errno == EINPROGRESS || errno == EAGAIN else { throw .sys("connect", peer) }
        try wait(for: Int16(POLLOUT), deadline: deadline, operation: "connect")
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if error != 0 { throw UplinkError(operation: "connect", target: peer, errno: error) }
    }

    // MARK: I/O

    /// Waits until `events` is possible; a timeout is an error naming `operation`.
    func wait(for events: Int16, deadline: Int64, operation: String) throws(UplinkError) {
        while true {
            let left = deadline - monotonicMilliseconds()
            if left <= 0 { throw UplinkError(operation: operation, target: peer, reason: "timed out") }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, Int32(min(left, Int64(Int32.max))))
            if n > 0 { return }
            if n < 0 && errno != EINTR { throw .sys("poll", peer) }
        }
    }

    /// Writes every byte. MSG_NOSIGNAL: a receiver that went away is an error to report, not a SIGPIPE.
    func sendAll(_ bytes: [UInt8], deadline: Int64) throws(UplinkError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(for: Int16(POLLOUT), deadline: deadline, operation: "send")
                continue
            }
            throw .sys("send", peer)
        }
    }

    /// One datagram; the caller bounds its size.
    func sendDatagram(_ bytes: [UInt8], deadline: Int64) throws(UplinkError) {
        while true {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n == bytes.count { return }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(for: Int16(POLLOUT), deadline: deadline, operation: "send")
                continue
            }
            if n >= 0 { throw UplinkError(operation: "send", target: peer, reason: "datagram truncated to \(n) bytes") }
            throw .sys("send", peer)
        }
    }

    /// Up to `max` bytes; empty at end of stream.
    func receive(max: Int, deadline: Int64, operation: String = "receive") throws(UplinkError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if n >= 0 { return Array(buffer[0..<n]) }
            if errno == EAGAIN || errno == EINTR {
                try wait(for: Int16(POLLIN), deadline: deadline, operation: operation)
                continue
            }
            throw .sys(operation, peer)
        }
    }

    /// Half-close: tells the peer everything has been sent.
    func shutdownWrite() throws(UplinkError) {
        if shutdown(fd, Int32(SHUT_WR)) != 0 { throw .sys("shutdown", peer) }
    }
}
