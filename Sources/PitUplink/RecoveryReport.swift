/// What `Spool.open` had to cut away to get back to whole, checksummed records. After kill -9 this is normally
/// empty (an append is a single write); after a power loss or a flipped bit it names each file, where the cut was
/// and why, so Pit can raise an event saying some unacknowledged or damaged bytes were dropped.
public struct RecoveryReport: Sendable, Equatable, CustomStringConvertible {
    public struct Truncation: Sendable, Equatable, CustomStringConvertible {
        /// The segment file that was truncated.
        public var file: String
        /// Where it now ends.
        public var offset: Int
        /// How many bytes were removed from `offset` to the old end of file.
        public var bytesTruncated: Int
        /// The first thing found wrong at `offset`: short record, bad magic, bad checksum...
        public var reason: String

        public var description: String { "\(file): truncated \(bytesTruncated) bytes at offset \(offset): \(reason)" }
    }

    public var truncations: [Truncation] = []
    /// Segment files whose header was damaged and rewritten (their records, each checksummed, were kept).
    public var rewrittenHeaders: [String] = []
    /// Cursor files that did not hold a seq: taken as 0, so that transport re-sends everything still stored.
    public var resetCursors: [String] = []
    /// Leftover temporary files of an interrupted compaction or cursor commit, removed.
    public var removedTemporaries: [String] = []

    public var isClean: Bool { truncations.isEmpty && rewrittenHeaders.isEmpty && resetCursors.isEmpty }
    public var bytesTruncated: Int { truncations.reduce(0) { $0 + $1.bytesTruncated } }

    public var description: String {
        if isClean { return "spool clean" }
        return (truncations.map(\.description) + rewrittenHeaders.map { "\($0): damaged header rewritten" }
            + resetCursors.map { "\($0): damaged cursor reset to 0" }).joined(separator: "; ")
    }
}
