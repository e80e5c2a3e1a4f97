import Glibc

/// The durable, bounded, append-only store of events waiting to be reported.
///
///     let spool = try Spool.open(directory: "/var/lib/pit/spool", limitBytes: 4 << 20)
///     if !spool.recovery.isClean { log(spool.recovery) }
///     let stored = try spool.append(.serviceExit(jail: "smbd", exitStatus: 1))   // stored.seq is set
///     for event in try spool.pending(for: "https", limit: 100) { ... send ... }
///     try spool.commit(lastSentSeq, for: "https")
///
/// Durability: `append` returns only after the record and the file are fsynced (and the directory, when the append
/// created a segment file); an event counts as stored from then on and survives kill -9 and power loss. A crash
/// mid-append leaves at most a partial last record, which the next `open` truncates and reports in `recovery`.
///
/// Sequence numbers: each append assigns one more than the highest seq ever stored, starting at 1. Segment headers
/// carry a floor so this holds after restarts and after every record has been evicted.
///
/// Size: the segment files together never exceed `limitBytes`. Files roll at `limitBytes / 8` so that freeing space
/// mostly means deleting a file. When an append does not fit, room is made in this order, each step oldest segment
/// first, stopping as soon as the event fits:
///  1. events every transport has delivered (seq at or below every cursor) are dropped: a segment holding only such
///     events is deleted, otherwise it is rewritten without them;
///  2. undelivered events that are not violations are dropped: the oldest segment that holds any is rewritten
///     keeping only its violations (a whole segment's worth at once, at most 1/8 of the spool, so one rewrite buys
///     room for many appends rather than one);
///  3. violations are never dropped to make room: if only undelivered violations are left, the append throws
///     `SpoolError.full` and the new event is not stored. The caller decides (Pit logs it and lights the fault LED);
///     nothing is lost silently.
/// Room for alerts: violations may hold at most `violationQuota` (3/4 of the spool), and a violation's append never
/// drops an undelivered alert (step 2 is for alerts only). Beyond the quota a violation is refused with
/// `SpoolError.violationQuota` (the supervisor counts it into a `violations_suppressed` summary), so a jail that
/// floods violations can never take the space an `smb_access` alert needs.
/// A rewrite goes through a temporary file, fsync and rename, so a crash leaves the old or the new segment.
///
/// One process at a time: `open` takes an exclusive flock on `DIR/lock` and fails with `SpoolError.locked` otherwise.
///
/// A class rather than a struct: it owns file descriptors, the lock and an index that must have exactly one owner;
/// copies would fight over them. Not Sendable: use it from one task (Pit's supervisor actor owns it).
public final class Spool {
    public let directory: String
    public let limitBytes: Int
    /// A segment is closed and a new one started when the next record would take it past this.
    public let segmentLimit: Int
    /// What `open` had to repair.
    public let recovery: RecoveryReport

    var segments: [Segment]
    var activeFD: Int32
    var nextSeq: UInt64
    var cursors: Cursors
    var totalBytes: Int
    /// The share of the spool violations may hold (3/4), so alerts always have room.
    public var violationQuota: Int { limitBytes / 4 * 3 }
    /// What stored violations take now.
    public var violationBytes: Int { segments.reduce(0) { $0 + $1.violationBytes } }
    /// Bumped whenever eviction rewrites the active segment: offsets noted before it are stale.
    var activeRewrites = 0
    /// This spool's epoch (`DIR/epoch`): random, made with the spool and made anew whenever its seqs start over
    /// at 1. A receiver that keeps replay marks by seq keys them by (device, epoch), so a reset spool's seq 1 is
    /// never taken for an old seq 1 (the DNS uplink's `duplicate`).
    public let epoch: UInt64
    private let lockFD: Int32

    /// The smallest spool that makes sense: 8 segments of at least 512 bytes.
    public static let minimumLimit = 4096

    private init(directory: String, limitBytes: Int, recovery: RecoveryReport, segments: [Segment], activeFD: Int32,
                 nextSeq: UInt64, cursors: Cursors, lockFD: Int32, epoch: UInt64) {
        self.directory = directory
        self.epoch = epoch
        self.limitBytes = limitBytes
        self.segmentLimit = limitBytes / 8
        self.recovery = recovery
        self.segments = segments
        self.activeFD = activeFD
        self.nextSeq = nextSeq
        self.cursors = cursors
        self.lockFD = lockFD
        self.totalBytes = segments.reduce(0) { $0 + $1.size }
    }

    deinit {
        close(activeFD)
        close(lockFD)  // releases the flock
    }

    // MARK: Opening and recovery

    /// Opens (creating if needed) the spool in `directory`, repairing a torn or corrupt tail.
    public static func open(directory: String, limitBytes: Int) throws(SpoolError) -> Spool {
        guard limitBytes >= minimumLimit else {
            throw .invalid(operation: "open \(directory)", reason: "limit \(limitBytes) is below \(minimumLimit) bytes")
        }
        try FileIO.makeDirectories(directory)
        let lockPath = directory + "/lock"
        let lockFD = try FileIO.open(lockPath, O_RDWR | O_CREAT)
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            let error: SpoolError = errno == EWOULDBLOCK ? .locked(path: lockPath) : .sys("lock", lockPath)
            close(lockFD)
            throw error
        }
        do {
            return try load(directory: directory, limitBytes: limitBytes, lockFD: lockFD)
        } catch {
            close(lockFD)
            throw error
        }
    }

    private static func load(directory: String, limitBytes: Int, lockFD: Int32) throws(SpoolError) -> Spool {
        var report = RecoveryReport()
        var names = try FileIO.list(directory)
        // A temporary file is an interrupted compaction, cursor commit or segment creation: the rename never
        // happened, so the file it was to replace (or its absence) is the truth.
        for name in names where name.hasSuffix(".tmp") {
            if unlink(directory + "/" + name) != 0 { throw SpoolError.sys("remove", directory + "/" + name) }
            report.removedTemporaries.append(directory + "/" + name)
        }
        names.removeAll { $0.hasSuffix(".tmp") }

        let (cursors, damagedCursors) = try Cursors.load(directory: directory, names: names)
        report.resetCursors = damagedCursors
        var segments: [Segment] = []
        for name in names {
            guard let number = Segment.number(ofFileName: name) else { continue }
            segments.append(try recover(path: directory + "/" + name, number: number, directory: directory, report: &report))
        }
        segments.sort { $0.number < $1.number }
        // Only the last segment's tail can be torn by a crash: a full segment is fsynced before the next one exists.
        // A bad tail anywhere else is damage, and the seqs between it and the next segment's first are lost.
        for index in segments.indices.dropLast() {
            let path = segments[index].path
            for truncation in report.truncations where truncation.file == path {
                let after = (segments[index].lastSeq ?? max(segments[index].floor, 1) - 1) + 1
                let next = segments[(index + 1)...].lazy.compactMap { $0.records.first?.seq }.first
                let lost = next.flatMap { $0 > after ? after...($0 - 1) : nil }
                report.damage.append(.init(file: path, offset: truncation.offset, bytes: truncation.bytesTruncated,
                                           reason: truncation.reason, lostSeqs: lost))
            }
            report.truncations.removeAll { $0.file == path }
        }

        // Never reuse a seq: not one still stored, not one below a segment's floor, not one a transport delivered.
        var nextSeq: UInt64 = 1
        for segment in segments {
            nextSeq = max(nextSeq, segment.floor, (segment.lastSeq ?? 0) + 1)
        }
        nextSeq = max(nextSeq, (cursors.values.values.max() ?? 0) + 1)

        // A new epoch when nothing bounds the seqs any more (no segment, no cursor: the next seq is 1 again, which
        // a receiver may already have seen from this device), or when there is none yet (a spool from before
        // epochs) or it does not read. A new epoch is always safe: the worst it costs is replay marks starting over.
        var epoch = segments.isEmpty && cursors.values.isEmpty ? nil : Self.readEpoch(directory: directory)
        if epoch == nil {
            var fresh: UInt64 = 0
            while fresh == 0 { fresh = EventID.randomBytes(8).reduce(0) { $0 << 8 | UInt64($1) } }
            try FileIO.atomicWrite(Array((Self.epochText(fresh) + "\n").utf8), to: directory + "/" + Self.epochFile,
                                   directory: directory, operation: "create epoch")
            epoch = fresh
        }

        if segments.isEmpty {
            segments.append(try createSegment(number: 1, floor: nextSeq, directory: directory))
        }
        let activeFD = try FileIO.open(segments[segments.count - 1].path, O_RDWR)
        return Spool(directory: directory, limitBytes: limitBytes, recovery: report, segments: segments,
                     activeFD: activeFD, nextSeq: nextSeq, cursors: cursors, lockFD: lockFD, epoch: epoch!)
    }

    static let epochFile = "epoch"

    static func epochText(_ epoch: UInt64) -> String {
        let hex = String(epoch, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The epoch the spool's owner wrote (16 hex digits), read without the lock; nil if missing or malformed.
    public static func readEpoch(directory: String) -> UInt64? {
        guard let bytes = try? FileIO.readRegularFile(directory + "/" + epochFile, limit: 64, what: "a spool epoch"),
              bytes.count == 17, bytes[16] == 0x0A,
              let value = UInt64(String(decoding: bytes[0..<16], as: UTF8.self), radix: 16), value != 0 else { return nil }
        return value
    }

    /// Scans one segment file; cuts it back to its last whole, valid record and notes what was cut. Damage between
    /// valid records is cut out (the file rewritten with every valid record, crash-safe) and reported with the
    /// seqs it held, so one flipped bit costs one record, not every record after it.
    private static func recover(path: String, number: UInt64, directory: String, report: inout RecoveryReport)
        throws(SpoolError) -> Segment {
        var bytes = try FileIO.readFile(path)
        var scan = RecordFormat.scan(bytes)
        if !scan.damage.isEmpty {
            for damage in scan.damage {
                report.damage.append(.init(file: path, offset: damage.offset, bytes: damage.length, reason: damage.reason,
                                           lostSeqs: scan.lostSeqs(at: damage)))
            }
            var rewritten = Array(bytes[0..<RecordFormat.segmentHeaderSize])
            if scan.floor == nil { rewritten = RecordFormat.segmentHeader(floor: 0) }
            for record in scan.records { rewritten.append(contentsOf: bytes[record.offset..<(record.offset + record.size)]) }
            // The tail after the last valid record (torn or damaged) goes with the rewrite; it is reported below.
            let tail = scan.problem.map { ($0, scan.validEnd, bytes.count - scan.validEnd) }
            try FileIO.atomicWrite(rewritten, to: path, directory: directory, operation: "repair")
            if let (reason, offset, length) = tail, length > 0 {
                report.truncations.append(.init(file: path, offset: offset, bytesTruncated: length, reason: reason))
            }
            if scan.floor == nil { report.rewrittenHeaders.append(path) }
            bytes = rewritten
            scan = RecordFormat.scan(bytes)
            return Segment(number: number, path: path, size: bytes.count, floor: scan.floor ?? 0, records: scan.records)
        }
        var size = bytes.count
        if scan.problem != nil || scan.floor == nil {
            let fd = try FileIO.open(path, O_RDWR)
            defer { close(fd) }
            if scan.floor == nil {
                // The header is only ever written whole (create goes through rename), so a bad one is damage.
                // Floor 0 is safe: the records and the other segments still bound the next seq.
                try FileIO.pwriteAll(fd, RecordFormat.segmentHeader(floor: 0), at: 0, operation: "repair", path: path)
                report.rewrittenHeaders.append(path)
            }
            if let problem = scan.problem, scan.validEnd < bytes.count {
                try FileIO.truncate(fd, to: max(scan.validEnd, RecordFormat.segmentHeaderSize), path: path)
                report.truncations.append(.init(file: path, offset: scan.validEnd,
                                                bytesTruncated: bytes.count - scan.validEnd, reason: problem))
                size = max(scan.validEnd, RecordFormat.segmentHeaderSize)
            }
            try FileIO.fsync(fd, path: path)
        }
        return Segment(number: number, path: path, size: size, floor: scan.floor ?? 0, records: scan.records)
    }

    /// A new, empty segment file, made durable (file and directory entry) before it is used: written under a
    /// temporary name and renamed so the file is never seen without its header.
    static func createSegment(number: UInt64, floor: UInt64, directory: String) throws(SpoolError) -> Segment {
        let path = directory + "/" + Segment.fileName(number)
        let header = RecordFormat.segmentHeader(floor: floor)
        try FileIO.atomicWrite(header, to: path, directory: directory, operation: "create segment")
        return Segment(number: number, path: path, size: header.count, floor: floor, records: [])
    }

    // MARK: Appending

    /// Stores `event` durably and returns it with its `seq` set. Throws without storing it on any failure; the
    /// records already stored are left intact (a failed write is cut back off the file).
    @discardableResult
    public func append(_ event: PitEvent) throws(SpoolError) -> PitEvent {
        try append(contentsOf: [event])[0]
    }

    /// Stores several events with a single fsync at the end (plus one per segment filled on the way), for bursts.
    /// All are stored when it returns. If it throws, a prefix of the batch may have been stored; appending the
    /// batch again is safe because the ids are unchanged and the receiver drops duplicate ids.
    @discardableResult
    public func append(contentsOf events: [PitEvent]) throws(SpoolError) -> [PitEvent] {
        var stored: [PitEvent] = []
        stored.reserveCapacity(events.count)
        // Where this batch started writing in the active segment: what to cut back if the final fsync fails.
        var batchStart = (segment: segments[segments.count - 1].number, size: segments[segments.count - 1].size,
                          records: segments[segments.count - 1].records.count, seq: nextSeq, rewrites: activeRewrites)
        for var event in events {
            event.seq = nextSeq
            let record = RecordFormat.record(seq: nextSeq, violation: event.isViolation, payload: event.jsonBytes())
            if event.isViolation, !(try makeViolationRoom(record.count)) {
                throw .violationQuota(path: segments[segments.count - 1].path, bytes: violationBytes, quota: violationQuota)
            }
            let rolled = try place(record, forViolation: event.isViolation)
            if rolled {
                batchStart = (segments[segments.count - 1].number, RecordFormat.segmentHeaderSize, 0, nextSeq,
                              activeRewrites)
            }
            try write(record, seq: nextSeq, violation: event.isViolation)
            nextSeq += 1
            stored.append(event)
        }
        let active = segments.count - 1
        do {
            try FileIO.fsync(activeFD, path: segments[active].path)
        } catch {
            // After a failed fsync the kernel may have dropped the dirty pages: these records are not stored.
            // Cut them off so a later append cannot build on them (a compaction may have rewritten the file, in
            // which case it was synced then and nothing is cut).
            if segments[active].number == batchStart.segment && activeRewrites == batchStart.rewrites {
                try? FileIO.truncate(activeFD, to: batchStart.size, path: segments[active].path)
                totalBytes -= segments[active].size - batchStart.size
                segments[active].size = batchStart.size
                segments[active].records.removeLast(segments[active].records.count - batchStart.records)
                nextSeq = batchStart.seq
            }
            throw error
        }
        return stored
    }

    /// Makes room for `record` (evicting if needed) and rolls to a new segment when the active one is full.
    /// Returns whether it rolled.
    private func place(_ record: [UInt8], forViolation: Bool) throws(SpoolError) -> Bool {
        let path = segments[segments.count - 1].path
        let header = RecordFormat.segmentHeaderSize
        if record.count > RecordFormat.recordHeaderSize + RecordFormat.maxPayload || record.count + header > limitBytes {
            throw .tooLarge(path: path, bytes: record.count,
                            limit: min(RecordFormat.recordHeaderSize + RecordFormat.maxPayload, limitBytes - header))
        }
        func needsRoll() -> Bool {
            let active = segments[segments.count - 1]
            return !active.records.isEmpty && active.size + record.count > segmentLimit
        }
        try makeRoom(record.count + (needsRoll() ? header : 0), forViolation: forViolation)
        guard needsRoll() else { return false }
        // The full segment is fsynced before the next one exists, so only the last segment can have a torn tail.
        try FileIO.fsync(activeFD, path: segments[segments.count - 1].path)
        let next = try Self.createSegment(number: segments[segments.count - 1].number + 1, floor: nextSeq,
                                          directory: directory)
        let fd = try FileIO.open(next.path, O_RDWR)
        close(activeFD)
        activeFD = fd
        segments.append(next)
        totalBytes += next.size
        return true
    }

    /// Writes one record at the end of the active segment. A partial write (ENOSPC, EIO) is cut back off so the
    /// file still ends on a whole record and the next append starts clean.
    private func write(_ record: [UInt8], seq: UInt64, violation: Bool) throws(SpoolError) {
        let active = segments.count - 1
        let offset = segments[active].size
        do {
            try FileIO.pwriteAll(activeFD, record, at: offset, operation: "append", path: segments[active].path)
        } catch {
            // Best effort: if even this fails the torn tail is found and cut at the next open.
            _ = ftruncate(activeFD, off_t(offset))
            throw error
        }
        segments[active].size += record.count
        segments[active].records.append(.init(seq: seq, offset: offset, size: record.count, isViolation: violation))
        totalBytes += record.count
    }

    // MARK: Reading

    /// Every stored event, in seq order. For `pit events`.
    public func all() throws(SpoolError) -> [PitEvent] {
        try events(after: 0)
    }

    /// Stored events with a seq above `seq`, in seq order, at most `limit`. Following the spool (`pit events -f`)
    /// is calling this again with the last seq seen.
    public func events(after seq: UInt64, limit: Int = .max) throws(SpoolError) -> [PitEvent] {
        var result: [PitEvent] = []
        for segment in segments where (segment.lastSeq ?? 0) > seq {
            if result.count >= limit { break }
            let wanted = segment.records.filter { $0.seq > seq }.prefix(limit - result.count)
            guard let first = wanted.first, let last = wanted.last else { continue }
            // One read per segment: the wanted records are contiguous.
            let fd = segment.number == segments[segments.count - 1].number
                ? activeFD : try FileIO.open(segment.path, O_RDONLY)
            defer { if fd != activeFD { close(fd) } }
            let bytes = try FileIO.pread(fd, count: last.offset + last.size - first.offset, at: first.offset,
                                         path: segment.path)
            for ref in wanted {
                result.append(try decode(ref, in: bytes, base: first.offset, path: segment.path))
            }
        }
        return result
    }

    /// Undelivered events for `transport`, oldest first: those above its cursor. Sending them and then committing
    /// the last one's seq is the delivery loop.
    public func pending(for transport: String, limit: Int = .max) throws(SpoolError) -> [PitEvent] {
        try Cursors.validate(transport)
        return try events(after: cursors.value(for: transport), limit: limit)
    }

    private func decode(_ ref: RecordFormat.Ref, in bytes: [UInt8], base: Int, path: String)
        throws(SpoolError) -> PitEvent {
        let start = ref.offset - base
        guard start + ref.size <= bytes.count else {
            throw .unreadable(path: path, offset: ref.offset, reason: "file shorter than its index")
        }
        let slice = Array(bytes[start..<(start + ref.size)])
        if let problem = RecordFormat.check(slice, at: 0) {
            throw .unreadable(path: path, offset: ref.offset, reason: problem)
        }
        do {
            return try PitEvent.decode(jsonBytes: Array(slice[RecordFormat.recordHeaderSize...]))
        } catch {
            throw .unreadable(path: path, offset: ref.offset, reason: error.description)
        }
    }

    // MARK: Delivery cursors

    /// The highest seq `transport` has committed, 0 if it never has.
    public func cursor(for transport: String) -> UInt64 { cursors.value(for: transport) }

    /// Records that `transport` has delivered every event up to `seq`. Durable when it returns. Cursors only move
    /// forward (a lower seq is ignored), and cannot pass the last stored seq. The first commit of a transport, even
    /// of 0, registers it: from then on eviction treats events as delivered only once this transport has them too.
    public func commit(_ seq: UInt64, for transport: String) throws(SpoolError) {
        try Cursors.validate(transport)
        guard seq < nextSeq else {
            throw .invalid(operation: "commit \(seq) for \(transport)", reason: "last stored seq is \(nextSeq - 1)")
        }
        if let current = cursors.values[transport], seq <= current { return }
        try cursors.commit(seq, for: transport, directory: directory)
    }

    /// Transports with a cursor.
    public var transports: [String] { cursors.values.keys.sorted() }

    // MARK: State

    /// The last seq assigned (0 before the first append). The next append gets `lastSeq + 1`.
    public var lastSeq: UInt64 { nextSeq - 1 }
    /// Bytes used by the segment files, headers included; never above `limitBytes`.
    public var sizeBytes: Int { totalBytes }
    public var segmentCount: Int { segments.count }
    /// Stored events, and how many of them are violations.
    public var count: Int { segments.reduce(0) { $0 + $1.records.count } }
    public var violationCount: Int { segments.reduce(0) { $0 + $1.records.filter(\.isViolation).count } }
}
