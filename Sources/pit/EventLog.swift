import Glibc
import PitProcess
import PitUplink

/// `pit run --events-json PATH`: events appended as JSON lines, numbered after the file's last `seq`,
/// each written with one write(2) and fsync'd, so a reader never sees half a line and none is lost.
struct EventLog {
    let fd: Int32
    let path: String
    var seq: UInt64

    init(path: String) throws(EventLogError) {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EventLogError(description: "\(path): \(String(cString: strerror(errno)))") }
        seq = Self.lastSeq(in: path)
    }

    mutating func append(_ event: PitEvent) {
        var event = event
        seq += 1
        event.seq = seq
        event.pitVersion = pitVersion
        let line = event.jsonLine() + "\n"
        let written = line.withCString { write(fd, $0, strlen($0)) }
        if written != line.utf8.count || fsync(fd) != 0 {
            writeError("pit: --events-json \(path): \(String(cString: strerror(errno)))\n")
        }
    }

    /// The `seq` of the file's last complete line, so numbering continues across runs.
    static func lastSeq(in path: String) -> UInt64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - 65536)
        var buffer = [UInt8](repeating: 0, count: Int(size - start))
        guard pread(fd, &buffer, buffer.count, start) == buffer.count else { return 0 }
        let lines = buffer.split(separator: UInt8(ascii: "\n"))
        for line in lines.reversed() {
            if let event = try? PitEvent.decode(jsonBytes: Array(line)), let seq = event.seq { return seq }
        }
        return 0
    }
}

struct EventLogError: Error, CustomStringConvertible {
    var description: String
}
