import Glibc
import PitTestSupport
@testable import PitSupervisor
import XCTest

/// The per-jail ring and the supervisor's own log writer, on their own.
final class LogRingTests: XCTestCase {
    func append(_ ring: inout LogRing, _ text: String) {
        Array(text.utf8).withUnsafeBytes { ring.append($0) }
    }

    func test_theRingKeepsWholeLinesWithinItsCapacityAndCountsWhatItDropped() {
        var ring = LogRing(capacity: 64)
        for i in 0..<100 { append(&ring, "line \(i)\n") }   // 7-8 bytes each
        XCTAssertLessThanOrEqual(ring.bytesHeld, 64)
        let all = ring.read(from: 0, maxBytes: 1 << 20)
        XCTAssertEqual(all.lines.last, "line 99")
        XCTAssertTrue(all.lines.allSatisfy { $0.hasPrefix("line ") }, "\(all.lines)")   // no torn first line
        XCTAssertEqual(all.skipped, ring.droppedBytes)
        XCTAssertEqual(ring.droppedBytes + ring.bytesHeld, (0..<100).reduce(0) { $0 + "line \($1)\n".utf8.count })
        XCTAssertEqual(ring.last(2, maxBytes: 1000), ["line 98", "line 99"])
    }

    func test_aCursorReadsOnInBatchesAndAPartialLineWaitsForItsNewline() {
        var ring = LogRing(capacity: 1024)
        append(&ring, "a\nbb\nccc\npart")
        let first = ring.read(from: 0, maxBytes: 5)          // "a\n" and "bb\n" fit, "ccc\n" not
        XCTAssertEqual(first.lines, ["a", "bb"])
        let second = ring.read(from: first.next, maxBytes: 5)
        XCTAssertEqual(second.lines, ["ccc"])
        XCTAssertEqual(ring.read(from: second.next, maxBytes: 5).lines, [])
        append(&ring, "ial\n")
        XCTAssertEqual(ring.read(from: second.next, maxBytes: 5).lines, ["partial"])
        XCTAssertEqual(ring.read(from: 1 << 40, maxBytes: 5).lines, [], "a cursor past the end finds nothing")
    }

    func test_aLineWithoutNewlineIsCutAtTheLineLimit() {
        var ring = LogRing(capacity: 3 * LogRing.maxLine)
        append(&ring, String(repeating: "x", count: LogRing.maxLine * 2 + 10))
        ring.finishLine()
        XCTAssertEqual(ring.read(from: 0, maxBytes: 1 << 20).lines.map(\.count), [LogRing.maxLine, LogRing.maxLine, 10])
    }

    /// With its fd a full pipe nobody reads, `write` returns at once, the queue stops at its bound and the rest
    /// is counted; once the pipe is read the queued lines come out, then how many were dropped.
    func test_theLogWriterNeverBlocksAndSaysWhatItDropped() {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        defer { close(ends[0]); close(ends[1]) }
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "f"), count: 4096)
        while filler.withUnsafeBytes({ write(ends[1], $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(ends[1], F_SETFL, 0)   // the writer's writes block, as on a real stderr

        let writer = LogWriter(fd: ends[1])
        let line = String(repeating: "l", count: 99) + "\n"
        let start = monotonicSeconds()
        for _ in 0..<2000 { writer.write(line) }   // 200 KB against a 64 KiB queue
        XCTAssertLessThan(monotonicSeconds() - start, 0.5)
        // At most two queues' worth got through: the batch the thread took before its write blocked, and the queue
        // behind it (the thread may or may not have taken its first batch yet: both happen).
        XCTAssertGreaterThan(writer.dropped, 2000 - 2 * (LogWriter.maxQueuedBytes / 100) - 2)

        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        XCTAssertTrue(waitUntil(5) {
            while true { let n = read(ends[0], &buffer, buffer.count); if n <= 0 { break }; text += buffer[0..<n] }
            return String(decoding: text, as: UTF8.self).contains("dropped: stderr was not read in time\n")
        })
        let said = String(decoding: text, as: UTF8.self)
        XCTAssertTrue(said.contains("pit: \(writer.dropped) log lines dropped"), String(said.suffix(200)))
    }

    /// A jail's file is cut at the cap into NAME.log.1 (replacing the one before): at most twice the cap on disk.
    func test_jailLogFilesRotateAtTheCap() {
        let dir = ScratchDirectory()
        let files = JailLogFiles(dataDirectory: dir.path)
        let line = Array((String(repeating: "r", count: 1023) + "\n").utf8)
        for _ in 0..<(JailLogFiles.capBytes / 1024 * 2 + 10) { files.write("svc", line) }
        var current = stat(), previous = stat()
        XCTAssertEqual(stat(dir.path + "/logs/svc.log", &current), 0)
        XCTAssertEqual(stat(dir.path + "/logs/svc.log.1", &previous), 0)
        XCTAssertLessThanOrEqual(Int(current.st_size), JailLogFiles.capBytes)
        XCTAssertEqual(Int(previous.st_size), JailLogFiles.capBytes)
        XCTAssertEqual(Int(current.st_size), 10 * 1024)
        XCTAssertEqual(stat(dir.path + "/logs/svc.log.2", &previous), -1)
    }
}
