#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PitProcess

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

/// A policy file that could not be read or written, as the messages show it: errno's text, or why the file was
/// refused.
struct PolicyFileError: FileFailure {
    var errno: Int32
    var message: String

    static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> PolicyFileError {
        PolicyFileError(errno: errno ?? EIO, message: detail ?? errnoText(errno ?? EIO))
    }
}

/// The policy reader's file calls are PitProcess's, failing as `PolicyFileError`s.
typealias FileIO = PitProcess.FileIO<PolicyFileError>

extension PitProcess.FileIO where Failure == PolicyFileError {
    /// A policy file's text. Only a regular file is read, and at most 16 MiB of it (an include of /dev/zero).
    static func readText(_ path: String) -> Result<String, PolicyFileError> {
        Result { () throws(PolicyFileError) in
            String(decoding: try readRegularFile(path, limit: 16 << 20, what: "a policy"), as: UTF8.self)
        }
    }

    static func writeBytes(_ path: String, _ bytes: [UInt8]) -> Result<Void, PolicyFileError> {
        Result { () throws(PolicyFileError) in
            let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            defer { close(fd) }
            try writeAll(fd, bytes, operation: "write", path: path)
        }
    }
}
