/// The whole of a small file (a /proc or /sys attribute, a config) as text; nil when it cannot be opened, is not
/// a regular file, or is larger than `limit` bytes.
/// One copy for the jail engine and the supervisor, which both read kernel files this way.
/// Any path may name a FIFO, a device or a file that never ends (/dev/zero): readRegularFile's open does not wait
/// for a FIFO's writer, refuses everything but a regular file (/proc and /sys attributes are regular), and the
/// limit bounds a file that grows while it is read.
public func readText(_ path: String, limit: Int = 4 << 20) -> String? {
    guard let bytes = try? FileIO<SystemCallError>.readRegularFile(path, limit: limit, what: "a file") else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}
