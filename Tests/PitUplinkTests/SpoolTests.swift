import Glibc
import XCTest
@testable import PitUplink

final class SpoolTests: XCTestCase {
    func testAppendAssignsSeqsFromOneAndStoresEveryKind() throws {
        let dir = TemporaryDirectory()
        let events = sampleEvents()
        let stored = try withSpool(dir.spool) { spool in try events.map { try spool.append($0) } }
        XCTAssertEqual(stored.map(\.seq), (1...UInt64(events.count)).map { $0 })
        for (original, saved) in zip(events, stored) {
            var expected = original
            expected.seq = saved.seq
            XCTAssertEqual(saved, expected, "only the seq is added")
        }
        // Read back by a fresh open: what is on disk, not what is in memory.
        XCTAssertEqual(try withSpool(dir.spool) { try $0.all() }, stored)
    }

    func testSeqKeepsIncreasingAcrossReopens() throws {
        let dir = TemporaryDirectory()
        var seqs: [UInt64] = []
        for round in 0..<4 {
            try withSpool(dir.spool) { spool in
                XCTAssertEqual(spool.lastSeq, UInt64(round * 3))
                for _ in 0..<3 { seqs.append(try spool.append(.uplinkTest(message: "round \(round)")).seq!) }
            }
        }
        XCTAssertEqual(seqs, Array(1...12))
        XCTAssertEqual(try withSpool(dir.spool) { try $0.all().map(\.seq!) }, Array(1...12))
    }

    func testSeqIsNotReusedAfterEveryEventWasEvicted() throws {
        let dir = TemporaryDirectory()
        let limit = 8192
        let last = try withSpool(dir.spool, limit: limit) { spool -> UInt64 in
            try spool.commit(0, for: "https")
            var last: UInt64 = 0
            // Fill several times over, delivering everything as we go, so every old segment is deleted.
            for i in 0..<200 {
                last = try spool.append(.uplinkTest(message: "m\(i) " + String(repeating: "y", count: 100))).seq!
                try spool.commit(last, for: "https")
            }
            XCTAssertLessThanOrEqual(spool.sizeBytes, limit)
            return last
        }
        let files = Files.segments(dir.spool)
        XCTAssertFalse(files.contains { $0.hasSuffix("/0000000001.log") }, "the first segment was evicted")
        let next = try withSpool(dir.spool, limit: limit) { try $0.append(.boot()).seq! }
        XCTAssertEqual(next, last + 1)
    }

    func testBatchAppendStoresAllInOrder() throws {
        let dir = TemporaryDirectory()
        let stored = try withSpool(dir.spool) { spool in
            _ = try spool.append(.boot())
            return try spool.append(contentsOf: sampleEvents())
        }
        XCTAssertEqual(stored.map(\.seq!), Array(2...(1 + UInt64(sampleEvents().count))))
        XCTAssertEqual(try withSpool(dir.spool) { try $0.events(after: 1) }, stored)
    }

    func testABatchSpanningSeveralSegmentsIsStoredWhole() throws {
        let dir = TemporaryDirectory()
        let limit = 256 * 1024
        let batch = (0..<150).map { i in PitEvent.boot(message: String(repeating: "k", count: 100 + i)) }
        let stored = try withSpool(dir.spool, limit: limit) { try $0.append(contentsOf: batch) }
        XCTAssertEqual(stored.map(\.seq!), Array(1...150))
        XCTAssertGreaterThan(Files.segments(dir.spool).count, 1, "the batch rolled over segments")
        try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertTrue(spool.recovery.isClean)
            XCTAssertEqual(try spool.all(), stored)
        }
    }

    func testRecordsRollIntoNumberedSegmentsAndReadBackInOrder() throws {
        let dir = TemporaryDirectory()
        let limit = 64 * 1024
        let stored = try withSpool(dir.spool, limit: limit) { spool in
            try (0..<100).map { i in try spool.append(.boot(message: String(repeating: "z", count: 200 + i))) }
        }
        let files = Files.segments(dir.spool).map { String($0.split(separator: "/").last!) }
        XCTAssertGreaterThan(files.count, 3)
        XCTAssertEqual(files.first, "0000000001.log")
        for file in Files.segments(dir.spool) { XCTAssertLessThanOrEqual(Files.size(file), limit / 8) }
        try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertEqual(try spool.all(), stored)
            XCTAssertEqual(try spool.events(after: 50, limit: 7).map(\.seq!), Array(51...57))
            XCTAssertEqual(try spool.events(after: 100), [])
        }
    }

    func testCursorsPersistAcrossReopenAndPendingFollowsThem() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool) { spool in
            for i in 0..<10 { try spool.append(.uplinkTest(message: "\(i)")) }
            XCTAssertEqual(spool.cursor(for: "https"), 0)
            XCTAssertEqual(try spool.pending(for: "https", limit: 4).map(\.seq!), [1, 2, 3, 4])
            try spool.commit(4, for: "https")
            try spool.commit(7, for: "mqtt")
        }
        XCTAssertEqual(String(decoding: Files.read(dir.spool + "/cursor.https"), as: UTF8.self), "4\n")
        try withSpool(dir.spool) { spool in
            XCTAssertEqual(spool.cursor(for: "https"), 4)
            XCTAssertEqual(spool.cursor(for: "mqtt"), 7)
            XCTAssertEqual(spool.transports, ["https", "mqtt"])
            XCTAssertEqual(try spool.pending(for: "https").map(\.seq!), Array(5...10))
            XCTAssertEqual(try spool.pending(for: "mqtt").map(\.seq!), [8, 9, 10])
            XCTAssertEqual(try spool.pending(for: "never-committed").count, 10)
        }
    }

    func testUncommittedEventsAreDeliveredAgainWithTheSameIds() throws {
        let dir = TemporaryDirectory()
        let first = try withSpool(dir.spool) { spool in
            for i in 0..<5 { try spool.append(.uplinkTest(message: "\(i)")) }
            try spool.commit(2, for: "https")
            return try spool.pending(for: "https")  // "sent", then the process dies before committing
        }
        let again = try withSpool(dir.spool) { try $0.pending(for: "https") }
        XCTAssertEqual(again, first)
        XCTAssertEqual(again.map(\.seq!), [3, 4, 5])
    }

    func testCursorsOnlyMoveForwardAndNeverPastTheLastSeq() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool) { spool in
            for _ in 0..<3 { try spool.append(.boot()) }
            try spool.commit(3, for: "https")
            try spool.commit(1, for: "https")
            XCTAssertEqual(spool.cursor(for: "https"), 3)
            XCTAssertThrowsError(try spool.commit(4, for: "https")) { error in
                guard case SpoolError.invalid = error else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try spool.commit(1, for: "../etc")) { error in
                XCTAssertTrue("\(error)".contains("transport names"), "\(error)")
            }
        }
    }

    func testASecondOpenWhileTheFirstIsAliveIsRefused() throws {
        let dir = TemporaryDirectory()
        do {
            let first = try Spool.open(directory: dir.spool, limitBytes: 1 << 20)
            XCTAssertThrowsError(try Spool.open(directory: dir.spool, limitBytes: 1 << 20)) { error in
                XCTAssertEqual(error as? SpoolError, .locked(path: dir.spool + "/lock"))
            }
            withExtendedLifetime(first) {}
        }
        // Once the first is gone, the lock is free again.
        XCTAssertNoThrow(try withSpool(dir.spool) { _ in })
    }

    func testErrorsNameTheOperationThePathAndTheCause() {
        let error = SpoolError.system(operation: "append", path: "/var/lib/pit/spool/0000000001.log", errno: ENOSPC)
        XCTAssertEqual("\(error)", "append /var/lib/pit/spool/0000000001.log: No space left on device")
        XCTAssertThrowsError(try Spool.open(directory: "/proc/1/nope/spool", limitBytes: 1 << 20)) { error in
            XCTAssertTrue("\(error)".hasPrefix("mkdir /proc/1/nope: "), "\(error)")
        }
    }

    func testAnEventLargerThanTheSpoolIsRefusedAndNothingElseChanges() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool, limit: 8192) { spool in
            try spool.append(.boot())
            XCTAssertThrowsError(try spool.append(.boot(message: String(repeating: "b", count: 9000)))) { error in
                guard case SpoolError.tooLarge = error else { return XCTFail("\(error)") }
            }
            XCTAssertEqual(try spool.all().map(\.seq!), [1])
            XCTAssertEqual(try spool.append(.boot()).seq, 2)
        }
    }
}
