import CPitShim
import Glibc

/// The supervisor's control socket: a path socket (abstract sockets are per network namespace, and jails
/// share the host's), mode 0600 in a 0700 directory that no jail may bind (DeviceConfig refuses such binds),
/// and each peer checked (ControlPeer): only root outside every jail is served. One request line, one JSON
/// answer line, then close.
final class ControlServer {
    let fd: Int32
    let path: String
    private var buffers: [Int32: [UInt8]] = [:]
    static let maxRequest = 1024
    private let emit: (SupervisorEvent) -> Void
    private var lastRefusalEvent: Int64?
    private var suppressedRefusals = 0
    static let refusalQuietMs: Int64 = 10_000

    init(path: String, emit: @escaping (SupervisorEvent) -> Void) throws(SupervisorError) {
        self.path = path
        self.emit = emit
        // Born 0600 in a 0700 directory: no window where others may connect.
        fd = try bindUnixSocket(path, type: Int32(SOCK_STREAM.rawValue), directoryMode: 0o700, fileMode: 0o600, what: "control socket")
        guard listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw SupervisorError("control socket \(path): \(message)")
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Accepts every pending connection. A peer that may not be served (ControlPeer: not root, or inside a
    /// jail) gets one refusal line at once and is closed, and is reported (`refused`). All of it is a few
    /// reads of /proc: the loop is never held.
    func accept(eventLoop: EventLoop, now: Int64) {
        while true {
            let client = pit_accept(fd)
            if client < 0 { return }
            if case .refused(let reply, let detail) = ControlPeer.check(client) {
                let line = "{\"ok\":false,\"error\":\"\(reply)\"}\n"
                _ = line.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                close(client)
                refused(detail, now: now)
                continue
            }
            buffers[client] = []
            eventLoop.add(client, .controlClient(client))
        }
    }

    /// A refused control peer is worth an event (something inside a jail reached for the socket), but a
    /// peer that retries in a loop must not fill the spool: at most one event per `refusalQuietMs`, carrying
    /// the number of refusals it stands for.
    private func refused(_ detail: String, now: Int64) {
        if let last = lastRefusalEvent, now - last < Self.refusalQuietMs { suppressedRefusals += 1; return }
        let more = suppressedRefusals > 0 ? " (and \(suppressedRefusals) more since the last report)" : ""
        suppressedRefusals = 0
        lastRefusalEvent = now
        emit(SupervisorEvent(kind: .controlRefused, message: "control socket: refused \(detail)\(more)"))
    }

    /// Reads what the client sent; answers once a whole line is there. A client never blocks the loop:
    /// reads are nonblocking and a request longer than `maxRequest` bytes is refused.
    func service(fd client: Int32, eventLoop: EventLoop, handler: (String) -> String) {
        var chunk = [UInt8](repeating: 0, count: 512)
        let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, 512, Int32(MSG_DONTWAIT)) }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        if n <= 0 { finish(client, eventLoop: eventLoop, answer: nil); return }
        buffers[client, default: []].append(contentsOf: chunk[0..<n])
        let buffer = buffers[client] ?? []
        if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            let request = String(decoding: buffer[..<newline], as: UTF8.self)
            finish(client, eventLoop: eventLoop, answer: handler(request.trimmingCharacters()))
        } else if buffer.count > Self.maxRequest {
            finish(client, eventLoop: eventLoop, answer: #"{"ok":false,"error":"request too long"}"#)
        }
    }

    private func finish(_ client: Int32, eventLoop: EventLoop, answer: String?) {
        if let answer {
            // Answers are small (a status is a few KB); a client that does not read them loses them.
            let line = answer + "\n"
            _ = line.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        eventLoop.remove(client)
        close(client)
        buffers[client] = nil
    }
}

/// `pit status`, `pit restart JAIL`...: one request to the control socket, the answer line returned.
public enum ControlClient {
    public static func request(_ line: String, socketPath: String) throws(SupervisorError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SupervisorError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let address = try socketAddress(socketPath)
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else {
            throw SupervisorError("\(socketPath): \(String(cString: strerror(errno))) (is pit supervise running?)")
        }
        let request = line + "\n"
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: answer, as: UTF8.self).trimmingCharacters()
    }
}

/// A non-blocking unix socket bound at `path`: its directory created with `directoryMode` (if missing), a stale
/// socket file replaced, and the socket file born with `fileMode` (the umask is set around bind, so there is no
/// moment where it is more open). `what` names it in errors.
func bindUnixSocket(_ path: String, type: Int32, directoryMode: mode_t, fileMode: mode_t, what: String) throws(SupervisorError) -> Int32 {
    let directory = "/" + path.split(separator: "/").dropLast().joined(separator: "/")
    if mkdir(directory, directoryMode) != 0 && errno != EEXIST { throw SupervisorError("\(what) \(directory): \(String(cString: strerror(errno)))") }
    unlink(path)
    let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw SupervisorError("\(what): \(String(cString: strerror(errno)))") }
    let address: UnixSocketAddress
    do { address = try socketAddress(path) } catch { close(fd); throw error }
    let previous = umask(~fileMode & 0o777)
    let bound = address.withSockaddr { bind(fd, $0, $1) }
    umask(previous)
    guard bound == 0 else {
        let message = String(cString: strerror(errno))
        close(fd)
        throw SupervisorError("\(what) \(path): \(message)")
    }
    return fd
}

/// An AF_UNIX address: a path, or "@name" for an abstract socket (a NUL byte in place of the '@', and no
/// terminating NUL). Nil when the name is empty or does not fit.
public struct UnixSocketAddress {
    private var address = sockaddr_un()
    public let length: socklen_t

    public init?(_ name: String) {
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        length = socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1))
    }

    /// Calls `body` with the address as bind(2), connect(2) and sendto(2) take it.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = self.address
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }
}

func socketAddress(_ path: String) throws(SupervisorError) -> UnixSocketAddress {
    guard let address = UnixSocketAddress(path) else { throw SupervisorError("\(path): socket path too long or empty") }
    return address
}

extension String {
    func trimmingCharacters() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\r" || first == "\n" || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\r" || last == "\n" || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
