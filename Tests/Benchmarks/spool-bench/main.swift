import Glibc
import PitUplink

// spool-bench [DIR] [COUNT]
//
// Measures the spool on the file system of DIR (default /tmp/pit-spool-bench; point it at the data directory,
// e.g. /var/lib/pit/bench, to measure the real device). Each mode gets a fresh spool in DIR/MODE, removed after.
// Prints appends per second (every append durable: fsync before it returns) and bytes on disk per event.

let arguments = CommandLine.arguments
let root = arguments.count > 1 ? arguments[1] : "/tmp/pit-spool-bench"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func removeTree(_ path: String) {
    guard let dir = opendir(path) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafePointer(to: entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(dir)
    rmdir(path)
}

/// A realistic mix: one violation in ten, the rest SMB accesses and service events.
func event(_ i: Int) -> PitEvent {
    switch i % 10 {
    case 0:
        return .violation(jail: "smbd", pid: 4242, comm: "smbd", exe: "/usr/sbin/smbd", arch: "aarch64",
                          syscall: "ptrace", nr: 117, args: [16, 1, 0, 0, 0, 0], action: .kill,
                          policy: "/etc/pit/policies/smbd.kafel", policyHash: String(repeating: "5e", count: 32),
                          device: "canary-0042")
    case 5:
        return .restart(jail: "nmbd", restarts: 2, exitStatus: 1, message: "nmbd exited with status 1", device: "canary-0042")
    default:
        return .smbAccess(user: "administrator", client: "10.0.0.\(i % 250)", share: "Finance",
                          file: "2026/Q\(i % 4 + 1)/payroll-\(i).xlsx", operation: "open", status: "ok",
                          device: "canary-0042")
    }
}

struct Row { var mode: String; var events: Int; var seconds: Double; var bytes: Int }

func run(_ mode: String, limit: Int, batch: Int, commitEvery: Int? = nil) throws(SpoolError) -> Row {
    let dir = root + "/" + mode.replacingOccurrences(of: " ", with: "-")
    removeTree(dir)
    let spool = try Spool.open(directory: dir, limitBytes: limit)
    let events = (0..<count).map(event)
    let start = now()
    var i = 0
    while i < count {
        if batch == 1 {
            try spool.append(events[i])
        } else {
            try spool.append(contentsOf: Array(events[i..<min(i + batch, count)]))
        }
        i += batch
        if let commitEvery, i % commitEvery < batch { try spool.commit(spool.lastSeq, for: "https") }
    }
    let seconds = now() - start
    let row = Row(mode: mode, events: count, seconds: seconds, bytes: spool.sizeBytes / max(spool.count, 1))
    removeTree(dir)
    return row
}

extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
    func padded(_ width: Int, right: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return right ? pad + self : self + pad
    }
}

mkdir(root, 0o700)
/// The file system holding `path`: the longest mount point in /proc/self/mounts that prefixes it.
func fileSystem(of path: String) -> String {
    let fd = open("/proc/self/mounts", O_RDONLY)
    guard fd >= 0 else { return "unknown" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    var best = (point: "", description: "unknown")
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        let f = line.split(separator: " ").map(String.init)
        guard f.count > 2 else { continue }
        let point = f[1]
        let under = point == "/" || path == point || path.hasPrefix(point + "/")
        if under && point.count >= best.point.count { best = (point, "\(f[2]) \(f[0]) on \(point)") }
    }
    return best.description
}
let fsName = fileSystem(of: root)
print("spool-bench: \(count) events per mode in \(root) (\(fsName)); every append fsynced before it returns")
print("mode".padded(34) + "events".padded(8, right: true) + "seconds".padded(10, right: true)
      + "appends/s".padded(12, right: true) + "events/s".padded(11, right: true) + "bytes/event".padded(13, right: true))
do {
    let big = 256 << 20
    for (mode, limit, batch, commitEvery) in [
        ("append, 1 event per fsync", big, 1, nil as Int?),
        ("append(contentsOf:), 10 per fsync", big, 10, nil),
        ("append(contentsOf:), 100 per fsync", big, 100, nil),
        ("append, 256 KiB spool, evicting", 256 << 10, 1, nil),
        ("append, 256 KiB, delivered + evict", 256 << 10, 1, 50),
    ] {
        let row = try run(mode, limit: limit, batch: batch, commitEvery: commitEvery)
        let perSecond = Double(row.events) / row.seconds
        let appends = perSecond / Double(batch)
        print(row.mode.padded(34) + String(row.events).padded(8, right: true)
              + String(Int(row.seconds * 1000) / 1000).padded(6, right: true) + "."
              + String(Int(row.seconds * 1000) % 1000 + 1000).dropFirst()
              + String(Int(appends)).padded(12, right: true) + String(Int(perSecond)).padded(11, right: true)
              + String(row.bytes).padded(13, right: true))
    }
    // Opening scans and checksums every record: what a restart costs.
    let dir = root + "/open"
    removeTree(dir)
    do {
        let spool = try Spool.open(directory: dir, limitBytes: 256 << 20)
        for start in stride(from: 0, to: count * 10, by: 100) {
            try spool.append(contentsOf: (start..<start + 100).map(event))
        }
    }
    let start = now()
    let spool = try Spool.open(directory: dir, limitBytes: 256 << 20)
    print("open (scan + checksum) of \(spool.count) events, \(spool.sizeBytes) bytes: "
          + "\(Int((now() - start) * 1000)) ms")
    removeTree(dir)
    rmdir(root)
} catch {
    print("spool-bench: \(error)")
    exit(1)
}
