import PitProcess

/// The board's file calls (sysfs attributes, the watchdog device, the boot counter) are PitProcess's, failing
/// as `BoardError`s.
typealias FileIO = PitProcess.FileIO<BoardError>

extension BoardError: FileFailure {
    public static func file(_ operation: String, _ path: String, errno: Int32?, detail: String?) -> BoardError {
        BoardError(operation, path: path, errno: errno, detail: detail)
    }
}
