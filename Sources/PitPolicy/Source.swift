#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Policy text plus the name used in error messages and for resolving `#include`.
public struct PolicySource: Sendable {
    public var text: String
    /// A path, or "<seccomp-string>" for inline policy text (includes then resolve against the
    /// current directory).
    public var file: String

    public init(text: String, file: String) {
        self.text = text
        self.file = file
    }

    public static func read(path: String) throws(PolicyError) -> PolicySource {
        switch FileIO.readText(path) {
        case .success(let text): return PolicySource(text: text, file: path)
        case .failure(let e): throw PolicyError("cannot read policy: \(e.message)", file: path)
        }
    }
}

/// Minimal file access on Glibc: Foundation is not allowed in this module.
enum FileIO {
    struct Failure: Error { var errno: Int32; var message: String }

    static func errnoText(_ e: Int32) -> String {
        guard let s = strerror(e) else { return "errno \(e)" }
        return String(cString: s)
    }

    static func readText(_ path: String) -> Result<String, Failure> {
        // O_NONBLOCK: a FIFO must not make the open wait for a writer; only a regular file is read at all.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { let e = errno; return .failure(Failure(errno: e, message: errnoText(e))) }
        defer { close(fd) }
        var data: [UInt8] = []
        // Chunks sized from fstat and left uninitialised: a zeroed 64 KiB buffer costs 16 page faults a launch.
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; return .failure(Failure(errno: e, message: errnoText(e))) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .failure(Failure(errno: EINVAL, message: "not a regular file: a policy is read from a file only"))
        }
        var chunk = st.st_size > 0 ? Int(st.st_size) + 1 : 4096
        while true {
            var n = 0
            let piece = [UInt8](unsafeUninitializedCapacity: chunk) { buffer, initialized in
                n = read(fd, buffer.baseAddress, chunk)
                initialized = max(0, n)
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                return .failure(Failure(errno: e, message: errnoText(e)))
            }
            if n == 0 { break }
            if data.isEmpty { data = piece } else { data.append(contentsOf: piece) }
            chunk = 65536
            // Policies are small; refuse runaway inputs (e.g. an include of /dev/zero).
            if data.count > 16 << 20 { return .failure(Failure(errno: EFBIG, message: "file larger than 16 MiB")) }
        }
        return .success(String(decoding: data, as: UTF8.self))
    }

    static func writeBytes(_ path: String, _ bytes: [UInt8]) -> Result<Void, Failure> {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { let e = errno; return .failure(Failure(errno: e, message: errnoText(e))) }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                return .failure(Failure(errno: e, message: errnoText(e)))
            }
            off += n
        }
        return .success(())
    }

    /// Canonical path for include-cycle detection; falls back to the path as written.
    static func canonical(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
}
