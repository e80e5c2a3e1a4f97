import Glibc
import SystemPackage

/// Small whole-file helpers for sysfs attributes and the boot counter. sysfs attributes must be
/// written in one write(2) (the kernel parses each write as a whole value), and EINTR must be
/// retried because the supervisor installs signal handlers.
enum FileIO {
    static func open(_ path: String, _ mode: FileDescriptor.AccessMode,
                     options: FileDescriptor.OpenOptions = [], permissions: FilePermissions? = nil,
                     operation: String = "open") throws(BoardError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), mode, options: options.union(.closeOnExec),
                                           permissions: permissions, retryOnInterrupt: true)
        } catch {
            throw BoardError(operation, path: path, errno: errnoValue(error))
        }
    }

    /// Reads a small file (sysfs attribute, counter file) completely.
    static func read(_ path: String, limit: Int = 64 * 1024) throws(BoardError) -> String {
        let fd = try open(path, .readOnly)
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw BoardError("read", path: path, errno: errnoValue(error))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to an existing file in a single write(2), the way sysfs attributes expect.
    /// O_TRUNC is harmless on sysfs and makes the same code right for a test's regular files.
    static func writeAttribute(_ path: String, _ text: String) throws(BoardError) {
        let fd = try open(path, .writeOnly, options: [.truncate])
        defer { try? fd.close() }
        try writeAll(fd, Array(text.utf8), path: path)
    }

    static func writeAll(_ fd: FileDescriptor, _ bytes: [UInt8], path: String) throws(BoardError) {
        do {
            let written = try bytes.withUnsafeBytes { try fd.write($0, retryOnInterrupt: true) }
            // sysfs and small regular-file writes are all-or-nothing; a short count means the
            // value was not taken as a whole.
            if written != bytes.count {
                throw BoardError("write", path: path, detail: "short write (\(written) of \(bytes.count) bytes)")
            }
        } catch let error as BoardError {
            throw error
        } catch let error as Errno {
            throw BoardError("write", path: path, errno: errnoValue(error))
        } catch {
            throw BoardError("write", path: path, detail: "\(error)")
        }
    }

    /// swift-system throws untyped errors that are always `Errno`; keep the number, not the type.
    static func errnoValue(_ error: any Error) -> Int32? {
        (error as? Errno)?.rawValue
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}
