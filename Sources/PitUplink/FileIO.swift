import Glibc
import PitProcess

/// The spool's file calls are PitProcess's, failing as `SpoolError`s.
typealias FileIO = PitProcess.FileIO<SpoolError>

extension SpoolError: FileFailure {
    public static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> SpoolError {
        // Every call the spool makes fails with an errno (a short write is retried, not reported).
        .system(operation: operation, path: path, errno: errno ?? EIO)
    }
}
