import Glibc

/// One `type=1326` (AUDIT_SECCOMP) record from the kernel log: which process a seccomp kill hit, and the syscall.
public struct SeccompAuditRecord: Sendable, Equatable {
    public var pid: Int32
    public var comm: String
    public var exe: String
    public var syscall: Int
    public var arch: UInt32
    public var signal: Int32
}

/// Reads seccomp kill records from /dev/kmsg written while a jail ran. The kernel emits them when no audit
/// daemon runs; they are rate-limited and carry no arguments, so this is only the fallback that names the
/// syscall for a one-shot `pit run`; supervised jails report through seccomp user notification instead.
final class SeccompAudit {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    static func open() -> SeccompAudit? {
        let fd = Glibc.open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        lseek(fd, 0, SEEK_END)  // only records from now on
        return SeccompAudit(fd: fd)
    }

    func close() { Glibc.close(fd) }

    func drain() -> [SeccompAuditRecord] {
        var records: [SeccompAuditRecord] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 8192) }
            if n < 0 && errno == EPIPE { continue }  // overwritten records: keep reading newer ones
            guard n > 0 else { break }
            let line = String(decoding: buffer[0..<n], as: UTF8.self)
            if let record = Self.parse(line) { records.append(record) }
        }
        return records
    }

    static func parse(_ line: String) -> SeccompAuditRecord? {
        guard line.contains("type=1326") else { return nil }
        var fields: [String: String] = [:]
        var rest = Substring(line)
        // key=value pairs; comm and exe values are quoted (or hex-encoded when unusual).
        while let eq = rest.firstIndex(of: "=") {
            let keyStart = rest[..<eq].lastIndex(of: " ").map { rest.index(after: $0) } ?? rest.startIndex
            let key = String(rest[keyStart..<eq])
            var valueStart = rest.index(after: eq)
            var value: Substring
            if valueStart < rest.endIndex, rest[valueStart] == "\"" {
                valueStart = rest.index(after: valueStart)
                let end = rest[valueStart...].firstIndex(of: "\"") ?? rest.endIndex
                value = rest[valueStart..<end]
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest[valueStart...].firstIndex(where: { $0 == " " || $0 == "\n" }) ?? rest.endIndex
                value = rest[valueStart..<end]
                rest = rest[end...]
            }
            fields[key] = String(value)
        }
        guard let pid = fields["pid"].flatMap({ Int32($0) }), let nr = fields["syscall"].flatMap({ Int($0) }) else { return nil }
        return SeccompAuditRecord(pid: pid, comm: fields["comm"] ?? "?", exe: fields["exe"] ?? "?", syscall: nr,
                                  arch: fields["arch"].flatMap { UInt32($0, radix: 16) } ?? 0,
                                  signal: fields["sig"].flatMap { Int32($0) } ?? 0)
    }
}
