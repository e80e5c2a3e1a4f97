import Glibc

/// Cursor access for a process that does not own the spool: the uplink agent reads events with the lock-free
/// `Spool.read` and moves its cursors through these, while the supervisor owns the spool and appends. The cursor
/// files are the shared truth; the owner re-reads them (`reloadCursors`) before it evicts, so it never drops an
/// event a transport still needs because its in-memory copy was stale.
extension Spool {
    /// Atomically replaces `cursor.TRANSPORT` with `seq` (temporary file, fsync, rename, fsync directory): a crash
    /// leaves the old or the new value. The caller (the only writer of this transport's cursor) only moves it
    /// forward. Does not take the spool lock: the owner never writes the cursors of transports the agent runs.
    public static func commitCursor(directory: String, transport: String, seq: UInt64) throws(SpoolError) {
        try Cursors.validate(transport)
        let path = directory + "/" + Cursors.prefix + transport
        try FileIO.atomicWrite(Array("\(seq)\n".utf8), to: path, directory: directory, operation: "commit")
    }

    /// The committed cursor of `transport`, nil when it has none (never registered). A damaged file reads as 0,
    /// as at `open`: re-sending is the side to err on.
    public static func readCursor(directory: String, transport: String) throws(SpoolError) -> UInt64? {
        try Cursors.validate(transport)
        let name = Cursors.prefix + transport
        let path = directory + "/" + name
        guard access(path, F_OK) == 0 else { return nil }
        return try Cursors.load(directory: directory, names: [name]).cursors.values[transport]
    }

    /// Re-reads every cursor file (the agent moves them from its own process). Eviction calls this before deciding
    /// what counts as delivered.
    public func reloadCursors() throws(SpoolError) {
        let names = try FileIO.list(directory)
        cursors = try Cursors.load(directory: directory, names: names).cursors
    }

    /// `Spool.read` for a follower that is usually near the end: the same result (events above `seq`, in seq order,
    /// at most `limit`), but segments that hold nothing above `seq` are skipped unread. Every seq in segment N is
    /// below the floor in segment N+1's header (the next seq when N+1 was created, and appends only ever go to the
    /// newest segment), so when that floor is at most `seq + 1`, N has nothing to give. Reading and checksumming the
    /// whole spool for each batch would cost O(spool) per delivery: with a 4 MiB spool on an ARM board, more than
    /// the delivery itself.
    public static func readPending(directory: String, after seq: UInt64, limit: Int = .max)
        throws(SpoolError) -> [PitEvent] {
        var result: [PitEvent] = []
        var last = seq
        var failure: SpoolError?
        for path in try segmentsAbove(directory: directory, seq: seq) where result.count < limit {
            let bytes: [UInt8]
            do { bytes = try FileIO.readFile(path) } catch where error.errno == ENOENT { continue }
            walk(bytes) { offset, recordSeq, size in
                guard recordSeq > last else { return true }
                // Only the records returned are checksummed; the walk stops where the spool's own scan would.
                guard RecordFormat.check(bytes, at: offset) == nil else { return false }
                let payload = Array(bytes[(offset + RecordFormat.recordHeaderSize)..<(offset + size)])
                guard let event = try? PitEvent.decode(jsonBytes: payload) else {
                    failure = .unreadable(path: path, offset: offset, reason: "record does not decode as an event")
                    return false
                }
                result.append(event)
                last = recordSeq
                return result.count < limit
            }
            if let failure { throw failure }
        }
        return result
    }

    /// Calls `body(offset, seq, size)` for each record of a segment image, in file order, until it returns false or
    /// a record header is not whole and plausible (magic, length). Checksums are left to the caller: records at or
    /// below the cursor are passed over without reading their payload, which is what makes following cheap.
    static func walk(_ bytes: [UInt8], _ body: (Int, UInt64, Int) -> Bool) {
        guard bytes.count >= RecordFormat.segmentHeaderSize else { return }
        var offset = RecordFormat.segmentHeaderSize
        while bytes.count - offset >= RecordFormat.recordHeaderSize {
            guard RecordFormat.get32(bytes, offset) == RecordFormat.recordMagic else { return }
            let length = Int(RecordFormat.get32(bytes, offset + 4))
            let size = RecordFormat.recordHeaderSize + length
            guard length <= RecordFormat.maxPayload, bytes.count - offset >= size else { return }
            if !body(offset, RecordFormat.get64(bytes, offset + 8), size) { return }
            offset += size
        }
    }

    /// How many stored records have a seq above `seq` (record headers only: no checksum, no JSON), for `queued` in
    /// state.json.
    public static func pendingCount(directory: String, after seq: UInt64) throws(SpoolError) -> Int {
        var count = 0
        for path in try segmentsAbove(directory: directory, seq: seq) {
            let bytes: [UInt8]
            do { bytes = try FileIO.readFile(path) } catch where error.errno == ENOENT { continue }
            walk(bytes) { _, recordSeq, _ in
                if recordSeq > seq { count += 1 }
                return true
            }
        }
        return count
    }

    /// The highest seq the spool's owner has assigned, read without the lock from the newest segment (its last
    /// record, or its floor - 1 when it holds none); nil if the spool has no readable segment.
    public static func highestAssignedSeq(directory: String) throws(SpoolError) -> UInt64? {
        guard let number = try FileIO.list(directory).compactMap(Segment.number(ofFileName:)).max() else { return nil }
        let path = directory + "/" + Segment.fileName(number)
        let bytes = try FileIO.readFile(path)
        var last: UInt64?
        walk(bytes) { _, seq, _ in last = max(last ?? 0, seq); return true }
        if let last { return last }
        guard let floor = RecordFormat.scan(Array(bytes.prefix(RecordFormat.segmentHeaderSize))).floor else { return nil }
        return floor > 0 ? floor - 1 : 0
    }

    /// Paths of the segments, oldest first, that may hold a seq above `seq`.
    static func segmentsAbove(directory: String, seq: UInt64) throws(SpoolError) -> [String] {
        let numbers = try FileIO.list(directory).compactMap(Segment.number(ofFileName:)).sorted()
        var paths: [String] = []
        for (i, number) in numbers.enumerated() {
            if i + 1 < numbers.count, let floor = headerFloor(directory + "/" + Segment.fileName(numbers[i + 1])),
               floor > 0, floor - 1 <= seq {
                continue
            }
            paths.append(directory + "/" + Segment.fileName(number))
        }
        return paths
    }

    /// The floor in a segment's header, nil if it cannot be read or does not check (then nothing is skipped).
    static func headerFloor(_ path: String) -> UInt64? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: RecordFormat.segmentHeaderSize)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n == header.count else { return nil }
        return RecordFormat.scan(header).floor
    }
}
