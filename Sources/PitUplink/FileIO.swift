import Glibc

/// Thin wrappers over the system calls the spool uses, each turning a failure into a `SpoolError` that names the
/// operation and the path. They retry EINTR and short transfers so callers never see either.
enum FileIO {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600, operation: String = "open")
        throws(SpoolError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SpoolError.sys(operation, path) }
        }
    }

    /// Writes every byte at `offset`. On failure some bytes may have landed: the caller decides what to undo.
    static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, operation: String,
                          path: String) throws(SpoolError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { errno = EIO }
            throw SpoolError.sys(operation, path)
        }
    }

    static func pwriteAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, operation: String,
                          path: String) throws(SpoolError) {
        // withUnsafeBytes only rethrows untyped errors: carry the typed one out as a Result.
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SpoolError) in try pwriteAll(fd, buffer, at: offset, operation: operation, path: path) }
        }
        try result.get()
    }

    /// Reads exactly `count` bytes at `offset`, or fewer only at end of file.
    static func pread(_ fd: Int32, count: Int, at offset: Int, path: String) throws(SpoolError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n > 0 { done += n; continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw SpoolError.sys("read", path)
        }
        bytes.removeLast(count - done)
        return bytes
    }

    static func readFile(_ path: String) throws(SpoolError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SpoolError.sys("stat", path) }
        return try pread(fd, count: Int(st.st_size), at: 0, path: path)
    }

    static func fsync(_ fd: Int32, path: String, operation: String = "fsync") throws(SpoolError) {
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw SpoolError.sys(operation, path) }
        }
    }

    /// Makes a create, rename or unlink inside `directory` durable: the entry lives in the directory's own data.
    static func fsyncDirectory(_ directory: String) throws(SpoolError) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { close(fd) }
        try fsync(fd, path: directory, operation: "fsync directory")
    }

    static func truncate(_ fd: Int32, to size: Int, path: String) throws(SpoolError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw SpoolError.sys("truncate", path) }
        }
    }

    /// Replaces `path` with `bytes` so that a crash leaves either the old or the new content, never a mix:
    /// write a temporary file, fsync it, rename it over, fsync the directory.
    /// `operation` names the spool step in errors: `create segment`, `evict`, `commit`.
    static func atomicWrite(_ bytes: [UInt8], to path: String, directory: String, operation: String)
        throws(SpoolError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, operation: operation)
        do {
            try pwriteAll(fd, bytes, at: 0, operation: operation, path: temporary)
            try fsync(fd, path: temporary, operation: operation)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = SpoolError.sys(operation, path)
            unlink(temporary)
            throw error
        }
        try fsyncDirectory(directory)
    }

    /// mkdir -p. A directory it creates is made durable in its parent, or a power loss could take the new spool
    /// directory, and the events stored in it, away.
    static func makeDirectories(_ path: String) throws(SpoolError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 {
                try fsyncDirectory(parent)
            } else if errno != EEXIST {
                throw SpoolError.sys("mkdir", prefix)
            }
        }
    }

    static func list(_ directory: String) throws(SpoolError) -> [String] {
        guard let dir = opendir(directory) else { throw SpoolError.sys("list", directory) }
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
}
