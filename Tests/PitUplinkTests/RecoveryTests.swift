import Glibc
import PitTestSupport
import XCTest
@testable import PitUplink

/// Damage a spool the way a crash or a bad sector would, then reopen it.
final class RecoveryTests: XCTestCase {
    /// Five stored events in one segment; returns them and the offset where the last record starts.
    private func fiveEvents(_ dir: TemporaryDirectory) throws -> (events: [PitEvent], lastStart: Int, file: String) {
        let events = try withSpool(dir.spool) { spool in
            try sampleEvents().prefix(5).map { try spool.append($0) }
        }
        let file = dir.spool + "/0000000001.log"
        let lastPayload = events[4].jsonBytes().count
        return (events, Files.size(file) - RecordFormat.recordHeaderSize - lastPayload, file)
    }

    private func reopen(_ dir: TemporaryDirectory) throws -> (RecoveryReport, [PitEvent], UInt64) {
        try withSpool(dir.spool) { spool in (spool.recovery, try spool.all(), try spool.append(.boot()).seq!) }
    }

    func testARecordCutInItsHeaderIsTruncatedAndReported() throws {
        let dir = TemporaryDirectory()
        let (events, lastStart, file) = try fiveEvents(dir)
        XCTAssertEqual(truncate(file, off_t(lastStart + 10)), 0)
        let (report, stored, next) = try reopen(dir)
        XCTAssertEqual(report.truncations, [.init(file: file, offset: lastStart, bytesTruncated: 10,
                                                  reason: "short record header (10 bytes)")])
        XCTAssertEqual(stored, Array(events.prefix(4)))
        XCTAssertEqual(next, 5, "the torn record was never acknowledged, so its seq is free")
        XCTAssertTrue(try withSpool(dir.spool) { $0.recovery.isClean }, "repaired once, clean after")
    }

    func testARecordCutInItsPayloadIsTruncatedAndReported() throws {
        let dir = TemporaryDirectory()
        let (events, lastStart, file) = try fiveEvents(dir)
        let size = Files.size(file)
        XCTAssertEqual(truncate(file, off_t(size - 1)), 0)
        let (report, stored, _) = try reopen(dir)
        XCTAssertEqual(report.truncations.count, 1)
        XCTAssertEqual(report.truncations.first?.offset, lastStart)
        XCTAssertEqual(report.bytesTruncated, size - 1 - lastStart)
        XCTAssertTrue(report.truncations.first?.reason.hasPrefix("short record (") ?? false, "\(report)")
        XCTAssertEqual(stored, Array(events.prefix(4)))
    }

    func testAFlippedByteInTheLastRecordFailsItsChecksum() throws {
        let dir = TemporaryDirectory()
        let (events, lastStart, file) = try fiveEvents(dir)
        let size = Files.size(file)
        var bytes = Files.read(file)
        bytes[lastStart + RecordFormat.recordHeaderSize + 20] ^= 0x01
        Files.write(file, bytes)
        let (report, stored, _) = try reopen(dir)
        XCTAssertEqual(report.truncations, [.init(file: file, offset: lastStart, bytesTruncated: size - lastStart,
                                                  reason: "bad record checksum")])
        XCTAssertEqual(stored, Array(events.prefix(4)))
    }

    func testAFlippedSeqInTheHeaderFailsTheChecksumToo() throws {
        let dir = TemporaryDirectory()
        let (events, lastStart, file) = try fiveEvents(dir)
        var bytes = Files.read(file)
        bytes[lastStart + 8] ^= 0x80
        Files.write(file, bytes)
        let (report, stored, _) = try reopen(dir)
        XCTAssertEqual(report.truncations.map(\.reason), ["bad record checksum"])
        XCTAssertEqual(stored, Array(events.prefix(4)))
    }

    func testZeroesAfterTheLastRecordAreCutAsBadMagic() throws {
        // What some file systems show after a power loss: the size was updated, the data blocks were not.
        let dir = TemporaryDirectory()
        let (events, _, file) = try fiveEvents(dir)
        let size = Files.size(file)
        Files.write(file, Files.read(file) + [UInt8](repeating: 0, count: 4096))
        let (report, stored, next) = try reopen(dir)
        XCTAssertEqual(report.truncations, [.init(file: file, offset: size, bytesTruncated: 4096,
                                                  reason: "bad record magic")])
        XCTAssertEqual(stored, events)
        XCTAssertEqual(next, 6)
    }

    func testADamagedSegmentHeaderIsRewrittenAndItsRecordsKept() throws {
        let dir = TemporaryDirectory()
        let (events, _, file) = try fiveEvents(dir)
        var bytes = Files.read(file)
        bytes[9] ^= 0xff
        Files.write(file, bytes)
        let (report, stored, next) = try reopen(dir)
        XCTAssertEqual(report.rewrittenHeaders, [file])
        XCTAssertEqual(report.truncations, [])
        XCTAssertFalse(report.isClean)
        XCTAssertEqual(stored, events)
        XCTAssertEqual(next, 6)
    }

    func testLeftoverTemporaryFilesAreRemoved() throws {
        let dir = TemporaryDirectory()
        let (events, _, _) = try fiveEvents(dir)
        Files.write(dir.spool + "/0000000001.log.tmp", [1, 2, 3])
        Files.write(dir.spool + "/cursor.https.tmp", Array("99\n".utf8))
        let spool = try Spool.open(directory: dir.spool, limitBytes: 1 << 20)
        XCTAssertEqual(spool.recovery.removedTemporaries.sorted(),
                       [dir.spool + "/0000000001.log.tmp", dir.spool + "/cursor.https.tmp"])
        XCTAssertTrue(spool.recovery.isClean, "an interrupted rename loses nothing")
        XCTAssertEqual(try spool.all(), events)
        XCTAssertEqual(spool.cursor(for: "https"), 0)
        XCTAssertFalse(Files.list(dir.spool).contains { $0.hasSuffix(".tmp") })
    }

    func testAppendsAfterRecoveryReadBackWithTheSurvivors() throws {
        let dir = TemporaryDirectory()
        let (events, lastStart, file) = try fiveEvents(dir)
        XCTAssertEqual(truncate(file, off_t(lastStart + 30)), 0)
        let more = try withSpool(dir.spool) { spool in try (0..<3).map { _ in try spool.append(.boot()) } }
        XCTAssertEqual(try withSpool(dir.spool) { try $0.all() }, Array(events.prefix(4)) + more)
    }

    func testADamagedCursorIsResetToZeroAndReportedRatherThanBlockingTheSpool() throws {
        let dir = TemporaryDirectory()
        let (events, _, _) = try fiveEvents(dir)
        try withSpool(dir.spool) { try $0.commit(3, for: "https") }
        Files.write(dir.spool + "/cursor.https", [0x33, 0xff])
        try withSpool(dir.spool) { spool in
            XCTAssertEqual(spool.recovery.resetCursors, [dir.spool + "/cursor.https"])
            XCTAssertFalse(spool.recovery.isClean)
            XCTAssertEqual(try spool.pending(for: "https"), events, "re-sent: at-least-once")
            try spool.commit(5, for: "https")
        }
        XCTAssertTrue(try withSpool(dir.spool) { $0.recovery.isClean && $0.cursor(for: "https") == 5 })
    }

    /// Twenty stored events in one segment, with one bit flipped in the payload of the sixth (seq 6).
    private func twentyWithOneFlippedBit(_ dir: TemporaryDirectory) throws -> (events: [PitEvent], file: String, damagedAt: Int) {
        let events = try withSpool(dir.spool) { spool in
            try (0..<20).map { i in try spool.append(PitEvent.boot(message: "event \(i)")) }
        }
        let file = dir.spool + "/0000000001.log"
        var bytes = Files.read(file)
        var offset = RecordFormat.segmentHeaderSize
        for event in events.prefix(5) { offset += RecordFormat.recordHeaderSize + event.jsonBytes().count }
        bytes[offset + RecordFormat.recordHeaderSize + 3] ^= 0x10
        Files.write(file, bytes)
        return (events, file, offset)
    }

    func testOneFlippedBitInTheMiddleLosesOneRecordAndSaysWhich() throws {
        let dir = TemporaryDirectory()
        let (events, file, damagedAt) = try twentyWithOneFlippedBit(dir)
        let (report, stored, next) = try reopen(dir)
        XCTAssertEqual(stored, events.filter { $0.seq != 6 }, "every valid record after the damage is kept")
        XCTAssertEqual(report.truncations, [], "damage in the middle is not a torn tail")
        XCTAssertEqual(report.damage, [.init(file: file, offset: damagedAt, bytes: RecordFormat.recordHeaderSize + events[5].jsonBytes().count,
                                             reason: "bad record checksum", lostSeqs: 6...6)])
        XCTAssertEqual(report.lostSeqCount, 1)
        XCTAssertEqual(next, 21, "no seq is reused, the lost one included")
        XCTAssertTrue(try withSpool(dir.spool) { $0.recovery.isClean }, "cut out once, clean after")
        XCTAssertEqual(try withSpool(dir.spool) { try $0.all() }.count, 20, "19 kept and the boot appended after")
    }

    func testDamageToASegmentsFirstRecordNamesTheLostSeqForTheReaderAsForTheRepair() throws {
        let dir = TemporaryDirectory()
        _ = try withSpool(dir.spool) { spool in try (0..<5).map { i in try spool.append(PitEvent.boot(message: "event \(i)")) } }
        let file = dir.spool + "/0000000001.log"
        var bytes = Files.read(file)
        bytes[RecordFormat.segmentHeaderSize + RecordFormat.recordHeaderSize + 3] ^= 0x10   // seq 1, the first record
        Files.write(file, bytes)
        // The reader (pit events) repairs nothing: it must say what the owner's open will cut out, seq 1 included.
        let warnings = try Spool.damage(directory: dir.spool)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings.first?.hasSuffix("(seqs 1-1 lost)") == true, "\(warnings)")
        let (report, _, _) = try reopen(dir)
        XCTAssertEqual(report.damage.map(\.lostSeqs), [1...1])
    }

    func testPitEventsWarnsAboutDamageAndExitsNonZero() throws {
        let dir = TemporaryDirectory()
        _ = try twentyWithOneFlippedBit(dir)
        let r = Process.run([Pit.executable, "events", "--data-dir", dir.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: spool damage:") && r.stderr.contains("seqs 6-6 lost"), r.stderr)
        XCTAssertEqual(lines(r.stdout).count, 19, "the listing goes on past the damage: \(r.stdout)")
        // Control: an undamaged spool lists cleanly with status 0.
        let clean = TemporaryDirectory()
        _ = try withSpool(clean.spool) { spool in try spool.append(PitEvent.boot(message: "only")) }
        let ok = Process.run([Pit.executable, "events", "--data-dir", clean.path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stderr, "")
    }
}
