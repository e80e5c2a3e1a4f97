/// The on-disk layout of a spool segment. All integers little-endian.
///
/// A segment file starts with a 24-byte header:
///
///     0  u32  magic "PITS"
///     4  u32  format version (1)
///     8  u64  seq floor: every seq below it had been assigned when the file was written, so the next seq is at
///             least this even if every record was evicted (seqs are never reused)
///     16 u32  CRC-32C of bytes 0..<16
///     20 u32  reserved, 0
///
/// then records, back to back, each a 24-byte header and the event's JSON:
///
///     0  u32  magic "PITR": a torn or overwritten start shows here first
///     4  u32  payload length
///     8  u64  seq (also inside the JSON; here so eviction and `pending` need not parse it)
///     16 u32  flags: bit 0 = violation (evicted last)
///     20 u32  CRC-32C of bytes 4..<20 and the payload: length, seq and flags are covered too
///     24      payload: the event's JSON line (UTF-8, no newline)
///
/// Records are only appended, and the file is fsynced before an append returns; a crash can therefore only leave a
/// partial last record, which `scan` reports and the spool truncates.
enum RecordFormat {
    static let segmentMagic: UInt32 = 0x5354_4950  // "PITS"
    static let recordMagic: UInt32 = 0x5254_4950   // "PITR"
    static let version: UInt32 = 1
    static let segmentHeaderSize = 24
    static let recordHeaderSize = 24
    /// Larger lengths are corruption: no event comes near it, and it bounds what a bad length makes us read.
    static let maxPayload = 1 << 20

    static let flagViolation: UInt32 = 1

    static func segmentHeader(floor: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segmentHeaderSize)
        put32(&bytes, segmentMagic)
        put32(&bytes, version)
        put64(&bytes, floor)
        put32(&bytes, CRC32C.checksum(bytes))
        put32(&bytes, 0)
        return bytes
    }

    static func record(seq: UInt64, violation: Bool, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(recordHeaderSize + payload.count)
        put32(&bytes, recordMagic)
        put32(&bytes, UInt32(payload.count))
        put64(&bytes, seq)
        put32(&bytes, violation ? flagViolation : 0)
        let crc = CRC32C.update(CRC32C.checksum(bytes[4..<20]), payload)
        put32(&bytes, crc)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// Where one stored record lives. `size` counts header and payload.
    struct Ref: Equatable, Sendable {
        var seq: UInt64
        var offset: Int
        var size: Int
        var isViolation: Bool
    }

    /// What a segment file holds: its whole, valid records, the damaged stretches between them, and what follows
    /// the last of them.
    struct Scan: Equatable {
        var floor: UInt64?          // nil: the segment header is missing or corrupt
        var records: [Ref] = []
        var validEnd: Int           // end of the last valid record; anything beyond is a torn or corrupt tail
        var problem: String?        // why the tail after validEnd is not a record
        /// Stretches in the middle of the file that are no record, each followed by a valid one: a flipped bit or a
        /// bad sector, never a torn append (appends only ever tear the end).
        var damage: [Damage] = []
    }

    struct Damage: Equatable {
        var offset: Int
        var length: Int
        var reason: String
    }

    static func scan(_ bytes: [UInt8]) -> Scan {
        var result = Scan(floor: nil, validEnd: segmentHeaderSize)
        if bytes.count < segmentHeaderSize {
            result.problem = "short segment header"
            result.validEnd = 0
            return result
        }
        if get32(bytes, 0) == segmentMagic && get32(bytes, 16) == CRC32C.checksum(bytes[0..<16]) {
            result.floor = get64(bytes, 8)
        }
        // Records are scanned even under a bad header: each carries its own checksum.
        var offset = segmentHeaderSize
        while offset < bytes.count {
            if let problem = check(bytes, at: offset) {
                // Resynchronise on the next whole, valid record (its magic, length and CRC-32C over header and
                // payload: a stray match inside damaged bytes is a 1 in 2^32 chance on top of the magic). None:
                // the rest is the tail, torn by a crash (the last segment) or damaged.
                guard let next = nextRecord(in: bytes, after: offset) else {
                    result.problem = problem
                    break
                }
                result.damage.append(Damage(offset: offset, length: next - offset, reason: problem))
                offset = next
                continue
            }
            let length = Int(get32(bytes, offset + 4))
            let size = recordHeaderSize + length
            result.records.append(Ref(seq: get64(bytes, offset + 8), offset: offset, size: size,
                                      isViolation: get32(bytes, offset + 16) & flagViolation != 0))
            offset += size
        }
        result.validEnd = offset
        return result
    }

    /// The offset of the first whole, valid record after `offset`, or nil.
    static func nextRecord(in bytes: [UInt8], after offset: Int) -> Int? {
        let magic: [UInt8] = [0x50, 0x49, 0x54, 0x52]   // recordMagic, little-endian: "PITR"
        var candidate = offset + 1
        while candidate + recordHeaderSize <= bytes.count {
            if bytes[candidate] == magic[0] && bytes[candidate + 1] == magic[1] && bytes[candidate + 2] == magic[2]
                && bytes[candidate + 3] == magic[3] && check(bytes, at: candidate) == nil {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    /// Nil when a whole, valid record starts at `offset`; otherwise what is wrong with it.
    static func check(_ bytes: [UInt8], at offset: Int) -> String? {
        let available = bytes.count - offset
        if available < recordHeaderSize { return "short record header (\(available) bytes)" }
        if get32(bytes, offset) != recordMagic { return "bad record magic" }
        let length = Int(get32(bytes, offset + 4))
        if length > maxPayload { return "bad record length \(length)" }
        if available < recordHeaderSize + length {
            return "short record (\(available) of \(recordHeaderSize + length) bytes)"
        }
        let crc = CRC32C.update(CRC32C.checksum(bytes[(offset + 4)..<(offset + 20)]),
                                bytes[(offset + recordHeaderSize)..<(offset + recordHeaderSize + length)])
        if crc != get32(bytes, offset + 20) { return "bad record checksum" }
        return nil
    }

    static func put32(_ bytes: inout [UInt8], _ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    static func put64(_ bytes: inout [UInt8], _ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    static func get32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
        return v
    }

    static func get64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return v
    }
}

extension RecordFormat.Scan {
    /// The seqs a damaged stretch held: from the one after the last valid record before it (the segment's floor
    /// when it comes first) to the one before the next valid record; nil when none is missing. The owner's
    /// repair (Spool.open) and a reader's warning (Spool.damage) both say it from here.
    func lostSeqs(at damage: RecordFormat.Damage) -> ClosedRange<UInt64>? {
        guard let after = records.first(where: { $0.offset > damage.offset })?.seq else { return nil }
        let first = records.last { $0.offset < damage.offset }.map { $0.seq + 1 } ?? floor.map { max($0, 1) } ?? after
        return after > first ? first...(after - 1) : nil
    }
}
