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

    /// Damage inside a segment (a flipped bit, a bad sector), or a damaged tail of a segment that was closed (only
    /// the last one can be torn by a crash): the records around it were kept, the damaged ones are lost.
    public struct Damage: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var offset: Int
        public var bytes: Int
        public var reason: String
        /// The seqs that were stored there and are gone (the gap between the records either side), when known.
        public var lostSeqs: ClosedRange<UInt64>?

        public var description: String {
            let lost = lostSeqs.map { $0.count == 1 ? "seq \($0.lowerBound) lost" : "seqs \($0.lowerBound)-\($0.upperBound) lost" }
                ?? "no seq lost"
            return "\(file): \(bytes) damaged bytes at offset \(offset) (\(reason)): \(lost), the records around them kept"
        }
    }

    /// Torn tails of the last segment (an append a crash cut short: never acknowledged).
    public var truncations: [Truncation] = []
    public var damage: [Damage] = []
    /// Segment files whose header was damaged and rewritten (their records, each checksummed, were kept).
    public var rewrittenHeaders: [String] = []
    /// Cursor files that did not hold a seq: taken as 0, so that transport re-sends everything still stored.
    public var resetCursors: [String] = []
    /// Leftover temporary files of an interrupted compaction or cursor commit, removed.
    public var removedTemporaries: [String] = []

    public var isClean: Bool { truncations.isEmpty && damage.isEmpty && rewrittenHeaders.isEmpty && resetCursors.isEmpty }
    /// Seqs known lost to damage, in all.
    public var lostSeqCount: Int { damage.reduce(0) { $0 + ($1.lostSeqs?.count ?? 0) } }
    public var bytesTruncated: Int { truncations.reduce(0) { $0 + $1.bytesTruncated } }

    public var description: String {
        if isClean { return "spool clean" }
        return (truncations.map(\.description) + damage.map(\.description) + rewrittenHeaders.map { "\($0): damaged header rewritten" }
            + resetCursors.map { "\($0): damaged cursor reset to 0" }).joined(separator: "; ")
    }
}
