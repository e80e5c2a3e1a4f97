import Glibc

/// How a module names a failed file operation in its own error type (`SpoolError`, `BoardError`...), so that
/// `FileIO` can be one layer and every caller still throws the typed error its API promises.
public protocol FileFailure: Error {
    /// `operation` on `path` failed with `errno`; `detail` when errno alone does not explain it (a short write).
    static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> Self
}

/// The small system-call layer over files that the spool, the board and the policy reader share. Every call
/// retries EINTR (the supervisor installs signal handlers) and short transfers where the file allows them, opens
/// close-on-exec (jailed children must inherit nothing), and turns a failure into `Failure`, naming the
/// operation and the path: `append /var/lib/pit/spool/0000000003.log: No space left on device`.
public enum FileIO<Failure: FileFailure> {
    /// O_PATH: the kernel ABI's value on every architecture Pit builds for (asm-generic, x86); Glibc's module
    /// shows it only under _GNU_SOURCE.
    static var openPathOnly: Int32 { 0o1000_0000 }

    /// The failure of the call that just returned, with its errno.
    static func failure(_ operation: String, _ path: String) -> Failure {
        .file(operation, path, errno: Glibc.errno, detail: nil)
    }

    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600, operation: String = "open")
        throws(Failure) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw failure(operation, path) }
        }
    }

    // MARK: Reading

    /// Reads exactly `count` bytes at `offset`, or fewer only at end of file.
    public static func pread(_ fd: Int32, count: Int, at offset: Int, path: String) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n > 0 { done += n; continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw failure("read", path)
        }
        bytes.removeLast(count - done)
        return bytes
    }

    /// The file as it is now: as many bytes as fstat says it has. A file another process appends to (a spool
    /// segment) is read up to that size and no further.
    public static func readFile(_ path: String) throws(Failure) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure("stat", path) }
        return try pread(fd, count: Int(st.st_size), at: 0, path: path)
    }

    /// Reads `fd` to its end, stopping once more than `limit` bytes arrived (the caller decides whether that is an
    /// error). Works where fstat's size means nothing (sysfs says 4096, /proc 0): the first chunk is only sized
    /// from it, and left uninitialised, so reading a small file costs no zeroed 64 KiB buffer.
    public static func readToEnd(_ fd: Int32, path: String, limit: Int) throws(Failure) -> [UInt8] {
        var st = stat()
        var chunk = fstat(fd, &st) == 0 && st.st_size > 0 ? Int(st.st_size) + 1 : 4096
        var bytes: [UInt8] = []
        while bytes.count <= limit {
            var n = 0
            let piece = [UInt8](unsafeUninitializedCapacity: chunk) { buffer, initialized in
                n = Glibc.read(fd, buffer.baseAddress, chunk)
                initialized = max(0, n)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read", path)
            }
            if n == 0 { break }
            if bytes.isEmpty { bytes = piece } else { bytes.append(contentsOf: piece) }
            chunk = 65536
        }
        return bytes
    }

    /// A file an operator names (a config, a policy): a regular file of at most `limit` bytes, or a failure saying
    /// why not. O_NONBLOCK: opening a FIFO must not wait for a writer (a config named a FIFO once froze the
    /// supervisor's loop on SIGHUP); /dev/zero, a device or a file that grows while it is read is refused, not read
    /// for ever. `what` names the file in those refusals: `a config`, `a policy`.
    /// Nothing but a regular file is ever opened for reading: the path is first opened with O_PATH, which runs no
    /// driver's open (opening /dev/watchdog arms the hardware watchdog, /dev/ptmx makes a terminal), and only a
    /// regular file is then reopened, through /proc/self/fd, so the inode examined is the inode read.
    public static func readRegularFile(_ path: String, limit: Int, what: String) throws(Failure) -> [UInt8] {
        let handle = try open(path, openPathOnly)
        defer { close(handle) }
        var st = stat()
        guard fstat(handle, &st) == 0 else { throw failure("examine", path) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw .file("read", path, errno: nil,
                        detail: "not a regular file (\(fileKind(st.st_mode))): \(what) is read from a file only")
        }
        // Without /proc (early boot) the path itself, checked a moment ago; O_NONBLOCK and O_NOCTTY in case it
        // changed since (a FIFO must not hold the open, a tty must not become our terminal), and the inode must be
        // the one examined.
        let examined = (st.st_dev, st.st_ino)
        var fd: Int32
        repeat { fd = Glibc.open("/proc/self/fd/\(handle)", O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        if fd < 0 && errno == ENOENT { fd = try open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY) }
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, (st.st_dev, st.st_ino) == examined else {
            throw .file("read", path, errno: nil, detail: "replaced while it was opened: \(what) is read from a regular file only")
        }
        guard st.st_size <= limit else {
            throw .file("read", path, errno: nil, detail: "\(st.st_size) bytes: larger than the \(Self.size(limit)) \(what) may have")
        }
        let bytes = try readToEnd(fd, path: path, limit: limit)
        guard bytes.count <= limit else {
            throw .file("read", path, errno: nil, detail: "grew past the \(Self.size(limit)) \(what) may have while it was read")
        }
        return bytes
    }

    /// "16 MiB", or bytes below a MiB ("0 MiB" said nothing).
    static func size(_ bytes: Int) -> String { bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes" }

    /// A small file (a sysfs attribute, a counter file) as text, at most `limit` bytes of it.
    public static func read(_ path: String, limit: Int = 64 * 1024) throws(Failure) -> String {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        return String(decoding: try readToEnd(fd, path: path, limit: limit).prefix(limit), as: UTF8.self)
    }

    // MARK: Writing

    /// Writes every byte at `offset`. On failure some bytes may have landed: the caller decides what to undo.
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, operation: String,
                                 path: String) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { errno = EIO }
            throw failure(operation, path)
        }
    }

    /// Writes every byte at the file's offset, as a pipe or a terminal takes them (`-o /dev/stdout`), where a
    /// positioned write fails with ESPIPE.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], operation: String, path: String) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { errno = EIO }
            throw failure(operation, path)
        }
    }

    public static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, operation: String,
                                 path: String) throws(Failure) {
        // withUnsafeBytes only rethrows untyped errors: carry the typed one out as a Result.
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(Failure) in try pwriteAll(fd, buffer, at: offset, operation: operation, path: path) }
        }
        try result.get()
    }

    /// Writes `bytes` in one write(2), as sysfs attributes and devices (a watchdog's keepalive) need: the kernel
    /// takes each write as a whole value, so a short count means the value was not taken and is an error.
    public static func writeOnce(_ fd: Int32, _ bytes: [UInt8], path: String) throws(Failure) {
        while true {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw failure("write", path) }
            if n != bytes.count {
                throw .file("write", path, errno: nil, detail: "short write (\(n) of \(bytes.count) bytes)")
            }
            return
        }
    }

    /// Writes `text` to an existing file in a single write(2), the way sysfs attributes expect.
    /// O_TRUNC is harmless on sysfs and makes the same code right for a test's regular files.
    public static func writeAttribute(_ path: String, _ text: String) throws(Failure) {
        let fd = try open(path, O_WRONLY | O_TRUNC)
        defer { close(fd) }
        try writeOnce(fd, Array(text.utf8), path: path)
    }

    public static func truncate(_ fd: Int32, to size: Int, path: String) throws(Failure) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw failure("truncate", path) }
        }
    }

    // MARK: Durability

    public static func fsync(_ fd: Int32, path: String, operation: String = "fsync") throws(Failure) {
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw failure(operation, path) }
        }
    }

    /// Makes a create, rename or unlink inside `directory` durable: the entry lives in the directory's own data.
    public static func fsyncDirectory(_ directory: String) throws(Failure) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { close(fd) }
        try fsync(fd, path: directory, operation: "fsync directory")
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new content, never a mix:
    /// write a temporary file (`path.tmp` unless named), fsync it, rename it over, fsync the directory.
    /// `operation` names the caller's step in errors (`create segment`, `evict`, `commit`); without it each
    /// error names its system call (`open`, `write`, `fsync`, `rename`).
    public static func atomicWrite(_ bytes: [UInt8], to path: String, directory: String, operation: String? = nil,
                                   temporary: String? = nil, mode: mode_t = 0o600) throws(Failure) {
        let temporary = temporary ?? path + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: mode, operation: operation ?? "open")
        do {
            try pwriteAll(fd, bytes, at: 0, operation: operation ?? "write", path: temporary)
            try fsync(fd, path: temporary, operation: operation ?? "fsync")
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = failure(operation ?? "rename", path)
            unlink(temporary)
            throw error
        }
        try fsyncDirectory(directory)
    }

    // MARK: Directories

    /// mkdir -p. A directory it creates is made durable in its parent, or a power loss could take the new
    /// directory, and what is stored in it, away.
    public static func makeDirectories(_ path: String) throws(Failure) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 {
                try fsyncDirectory(parent)
            } else if errno != EEXIST {
                throw failure("mkdir", prefix)
            }
        }
    }

    /// The names in `directory`, without `.` and `..`, sorted.
    public static func list(_ directory: String) throws(Failure) -> [String] {
        guard let dir = opendir(directory) else { throw failure("list", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    // MARK: Paths

    /// The canonical path (symlinks resolved), or the path as written when it cannot be resolved.
    public static func canonical(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }

    /// The directory part of `path`: `.` for a bare name, `/` for a file at the root.
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
}

/// A failed file call, for callers without an error type of their own: `operation path: strerror`.
public struct SystemCallError: FileFailure, CustomStringConvertible, Equatable, Sendable {
    public var operation: String
    public var path: String
    public var errno: Int32?
    public var detail: String?

    public static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> SystemCallError {
        SystemCallError(operation: operation, path: path, errno: errno, detail: detail)
    }

    public var description: String {
        "\(operation) \(path)" + (errno.map { ": " + errnoText($0) } ?? "") + (detail.map { ": " + $0 } ?? "")
    }
}

/// "a FIFO", "a character device"... for messages.
public func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFDIR: return "a directory"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "not a regular file"
    }
}

/// strerror's text for `code`.
public func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
