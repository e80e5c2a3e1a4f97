/// One segment file of the spool, as indexed in memory: the events themselves stay on disk.
struct Segment: Sendable {
    /// Segment files are numbered in creation order: `0000000001.log`, `0000000002.log`... Seqs increase with the
    /// number, so the oldest events are in the lowest-numbered file and eviction works from there.
    var number: UInt64
    var path: String
    /// Bytes in the file, header included; appends go here.
    var size: Int
    var floor: UInt64
    var records: [RecordFormat.Ref]

    static let suffix = ".log"

    static func fileName(_ number: UInt64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits + suffix
    }

    /// The number of a segment file name, nil for any other file.
    static func number(ofFileName name: String) -> UInt64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard !stem.isEmpty, stem.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(stem)
    }

    var lastSeq: UInt64? { records.last?.seq }
    var violationBytes: Int { records.reduce(0) { $0 + ($1.isViolation ? $1.size : 0) } }
}
