import Glibc

/// Making room when an append would take the spool past its limit. The order (delivered, then the oldest
/// non-violations, never violations) is documented on `Spool` and in EVENTS.md.
extension Spool {
    func fits(_ needed: Int) -> Bool { totalBytes + needed <= limitBytes }

    /// Drops delivered events, oldest segment first, until `done` holds.
    func dropDelivered(_ delivered: UInt64, until done: () -> Bool) throws(SpoolError) {
        var i = 0
        while i < segments.count && !done() {
            if segments[i].records.contains(where: { $0.seq <= delivered }) || segments[i].records.isEmpty {
                if try rewrite(i, keeping: { $0.seq > delivered }) { continue }  // deleted: same index is the next
            }
            i += 1
        }
    }

    /// Before a violation is refused for its quota, delivered violations make room (they count until dropped).
    func makeViolationRoom(_ needed: Int) throws(SpoolError) -> Bool {
        if violationBytes + needed <= violationQuota { return true }
        try reloadCursors()
        try dropDelivered(cursors.deliveredToAll, until: { violationBytes + needed <= violationQuota })
        return violationBytes + needed <= violationQuota
    }

    func makeRoom(_ needed: Int, forViolation: Bool = false) throws(SpoolError) {
        if fits(needed) { return }
        // The uplink agent commits cursors from its own process (Spool.commitCursor): read them fresh, or events
        // it has delivered since open would be kept (and ones it registered since open would be dropped unsent).
        try reloadCursors()

        // 1. Delivered events, oldest segment first. Empty segments (all evicted earlier) go here too.
        try dropDelivered(cursors.deliveredToAll, until: { fits(needed) })
        // 2. Undelivered events other than violations, oldest segment first: only to store another alert. A
        //    violation never drops an alert (violations have their quota: see Spool).
        var i = 0
        while !forViolation && i < segments.count && !fits(needed) {
            if segments[i].records.contains(where: { !$0.isViolation }) {
                if try rewrite(i, keeping: { $0.isViolation }) { continue }
            }
            i += 1
        }
        // 3. Only undelivered violations are left (and the headers): refuse rather than drop one.
        if !fits(needed) {
            throw .full(path: segments[segments.count - 1].path, needed: needed, limit: limitBytes,
                        violationBytes: violationBytes)
        }
    }

    /// Rewrites segment `index` with only the records `keep` selects, or deletes the file when none is kept and
    /// it is not the active segment. Returns whether the segment was removed from the list.
    ///
    /// Crash-safe: the new content is written to a temporary file, fsynced and renamed over the old one, then the
    /// directory is fsynced; a crash leaves either file whole (the temporary is removed at the next open).
    func rewrite(_ index: Int, keeping keep: (RecordFormat.Ref) -> Bool) throws(SpoolError) -> Bool {
        let segment = segments[index]
        let isActive = index == segments.count - 1
        let kept = segment.records.filter(keep)
        if kept.isEmpty && !isActive {
            if unlink(segment.path) != 0 { throw SpoolError.sys("evict", segment.path) }
            try FileIO.fsyncDirectory(directory)
            totalBytes -= segment.size
            segments.remove(at: index)
            return true
        }
        if kept.count == segment.records.count && segment.size == RecordFormat.segmentHeaderSize { return false }

        let old = isActive ? try FileIO.pread(activeFD, count: segment.size, at: 0, path: segment.path)
                           : try FileIO.readFile(segment.path)
        // The floor moves up to the next seq: this file may now be the only trace of the highest seq ever assigned.
        var bytes = RecordFormat.segmentHeader(floor: nextSeq)
        var refs: [RecordFormat.Ref] = []
        for var ref in kept {
            guard ref.offset + ref.size <= old.count else {
                throw .unreadable(path: segment.path, offset: ref.offset, reason: "file shorter than its index")
            }
            let start = ref.offset
            ref.offset = bytes.count
            bytes.append(contentsOf: old[start..<(start + ref.size)])
            refs.append(ref)
        }
        try FileIO.atomicWrite(bytes, to: segment.path, directory: directory, operation: "evict")
        if isActive {
            // The old descriptor still points at the replaced file.
            let fd = try FileIO.open(segment.path, O_RDWR)
            close(activeFD)
            activeFD = fd
            activeRewrites += 1
        }
        totalBytes += bytes.count - segment.size
        segments[index].size = bytes.count
        segments[index].records = refs
        segments[index].floor = nextSeq
        return false
    }
}
