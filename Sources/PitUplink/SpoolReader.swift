import Glibc

/// Reading a spool that another process owns: `pit events` (and `pit events --follow`) while the supervisor runs.
/// Takes no lock and repairs nothing: a record still being written, or a damaged tail, simply ends the listing
/// of that file until the owner (which does repair) has dealt with it.
extension Spool {
    /// Stored events with a seq above `seq`, in seq order, at most `limit`. Follow by calling again with the last
    /// seq seen. A segment evicted while this runs is skipped (its events are gone anyway).
    public static func read(directory: String, after seq: UInt64 = 0, limit: Int = .max)
        throws(SpoolError) -> [PitEvent] {
        let numbers = try FileIO.list(directory).compactMap(Segment.number(ofFileName:)).sorted()
        var result: [PitEvent] = []
        var last = seq
        for number in numbers where result.count < limit {
            let path = directory + "/" + Segment.fileName(number)
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readFile(path)
            } catch let error where error.errno == ENOENT {
                continue
            }
            for ref in RecordFormat.scan(bytes).records where ref.seq > last && result.count < limit {
                let payload = Array(bytes[(ref.offset + RecordFormat.recordHeaderSize)..<(ref.offset + ref.size)])
                do {
                    result.append(try PitEvent.decode(jsonBytes: payload))
                } catch {
                    throw .unreadable(path: path, offset: ref.offset, reason: error.description)
                }
                // A segment rewritten between listing and reading cannot make a seq appear twice.
                last = ref.seq
            }
        }
        return result
    }

    /// Damage a reader sees in the spool, worded (nothing repaired: the owner cuts it out at its next open and
    /// raises `spool_damage`): stretches between valid records, and a bad tail of any segment but the last (only
    /// the last one's tail is an append in progress or torn by a crash).
    public static func damage(directory: String) throws(SpoolError) -> [String] {
        let numbers = try FileIO.list(directory).compactMap(Segment.number(ofFileName:)).sorted()
        var found: [String] = []
        for (index, number) in numbers.enumerated() {
            let path = directory + "/" + Segment.fileName(number)
            let bytes: [UInt8]
            do { bytes = try FileIO.readFile(path) } catch let error where error.errno == ENOENT { continue }
            let scan = RecordFormat.scan(bytes)
            for damage in scan.damage {
                let lost = scan.lostSeqs(at: damage).map { " (seqs \($0.lowerBound)-\($0.upperBound) lost)" } ?? ""
                found.append("\(path): \(damage.length) damaged bytes at offset \(damage.offset): \(damage.reason)\(lost)")
            }
            if index < numbers.count - 1, let problem = scan.problem, scan.validEnd < bytes.count {
                found.append("\(path): \(bytes.count - scan.validEnd) damaged bytes at offset \(scan.validEnd), the end of a closed segment: \(problem)")
            }
        }
        return found
    }
}
