import Glibc

/// The whole of a small file (a /proc or /sys attribute, a config) as text; nil when it cannot be opened, is not
/// a regular file, or is larger than `limit` bytes.
/// One copy for the jail engine and the supervisor, which both read kernel files this way.
/// Any path may name a FIFO, a device or a file that never ends (/dev/zero): O_NONBLOCK keeps the open of a FIFO
/// without a writer from blocking, the type check refuses everything but a regular file (/proc and /sys
/// attributes are regular), and the limit bounds a file that grows while it is read.
public func readText(_ path: String, limit: Int = 4 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 8192) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
        if bytes.count > limit { return nil }
    }
    return String(decoding: bytes, as: UTF8.self)
}
