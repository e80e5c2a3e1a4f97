import Glibc
import XCTest
@testable import PitUplink

/// The durability promise under the crash a supervisor actually sees: the real `spool-writer` process appending and
/// printing "SEQ ID" after each append returns, killed with SIGKILL at a random moment. Every printed event must be
/// in the spool, intact, in order, once.
final class CrashTests: XCTestCase {
    private var long: Bool { getenv("PIT_LONG").map { String(cString: $0) == "1" } ?? false }
    private var seed: UInt64 { getenv("PIT_SEED").flatMap { UInt64(String(cString: $0)) } ?? 0x5EED_2026 }

    func testEveryAcknowledgedEventSurvivesKill9AtRandomMoments() throws {
        let stats = try killLoop(iterations: long ? 2000 : 100, limit: 64 << 20, lag: nil)
        print("kill -9: \(stats)")
    }

    func testEvictionAndCursorCommitsSurviveKill9() throws {
        // A 64 KiB spool with a transport 5 events behind: the writer deletes and rewrites segments and replaces
        // the cursor file all the time, and is killed in the middle of that. Everything not yet delivered must be
        // there; delivered events may be gone.
        let stats = try killLoop(iterations: long ? 1000 : 100, limit: 64 << 10, lag: 5)
        print("kill -9 while evicting: \(stats)")
    }

    struct Stats: CustomStringConvertible {
        var iterations = 0, killed = 0, acknowledged = 0, runsWithAcknowledged = 0, checked = 0, repairs = 0
        var seconds = 0.0
        var description: String {
            "\(iterations) iterations, \(killed) killed mid-run, \(acknowledged) events acknowledged (in "
                + "\(runsWithAcknowledged) runs), \(checked) checked present and intact, \(repairs) reopen(s) "
                + "repaired a tail, \(Int(seconds * 1000)) ms"
        }
    }

    private func now() -> Double {
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }

    /// Runs the writer `iterations` times, each killed at a random moment, and checks the spool after each kill.
    /// With `lag`, only events above the transport's cursor are required to be present.
    private func killLoop(iterations: Int, limit: Int, lag: UInt64?) throws -> Stats {
        var random = SplitMix64(state: seed)
        let writer = Shell.built("spool-writer")
        XCTAssertEqual(access(writer, X_OK), 0, "spool-writer is built next to the test bundle: \(writer)")
        let started = now()
        var stats = Stats(iterations: iterations)
        var dir = TemporaryDirectory("pit-crash")
        var acknowledged: [UInt64: String] = [:]  // seq -> id, for the current directory

        /// Every acknowledged event that must still be there is, with its id; seqs strictly increasing.
        func verify(_ context: String) throws {
            try withSpool(dir.spool, limit: limit) { spool in
                if !spool.recovery.isClean { stats.repairs += 1 }
                XCTAssertTrue(spool.recovery.truncations.allSatisfy { $0.file == Files.segments(dir.spool).last },
                              "\(context): only the newest segment can have a torn tail: \(spool.recovery)")
                XCTAssertLessThanOrEqual(spool.sizeBytes, limit)
                let all = try spool.all()
                let seqs = all.map(\.seq!)
                XCTAssertTrue(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "\(context): strictly increasing")
                let stored = Dictionary(all.map { ($0.seq!, $0.id) }, uniquingKeysWith: { a, _ in a })
                let delivered = lag == nil ? 0 : spool.cursor(for: "https")
                for (seq, id) in acknowledged where seq > delivered {
                    stats.checked += 1
                    if stored[seq] != id {
                        XCTFail("\(context): acknowledged seq \(seq) id \(id) is \(stored[seq] ?? "missing")")
                    }
                }
            }
        }

        for iteration in 0..<iterations {
            let context = "seed \(seed) iteration \(iteration)"
            if iteration > 0 && iteration % 100 == 0 && lag == nil {
                // A fresh spool every 100 runs keeps it far below its limit: nothing is evicted, so every
                // acknowledged event must still be there.
                dir = TemporaryDirectory("pit-crash")
                acknowledged = [:]
            }
            var arguments = [writer, dir.spool, "100000", String(limit)]
            if let lag { arguments.append(String(lag)) }
            let child = Shell.spawn(arguments)
            var early: [UInt8] = []
            if iteration % 2 == 0 {
                // 0 to 80 ms after the spawn: from before the spool is even open to deep into appending.
                usleep(UInt32(random.next() % 80_000))
            } else {
                // After its first acknowledged event, 0 to 20 ms more (60 when each append also commits a cursor):
                // always in the middle of appending, however slow this machine's start-up or fsync is.
                var byte: UInt8 = 0
                while byte != 0x0a && read(child.stdout, &byte, 1) == 1 { early.append(byte) }
                usleep(UInt32(random.next() % (lag == nil ? 20_000 : 60_000)))
            }
            kill(child.pid, SIGKILL)
            let output = String(decoding: early, as: UTF8.self) + Shell.drain(child.stdout)
            let status = Shell.wait(child.pid)
            XCTAssertEqual(status, 128 + SIGKILL, "\(context): the writer must not finish or fail")
            if status == 128 + SIGKILL { stats.killed += 1 }

            // Only whole lines count: each is printed with one write(2) after its append returned.
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()  // the part after the last newline: empty, or cut by the kill
            for line in lines {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let seq = UInt64(parts[0]) else {
                    XCTFail("\(context): bad line \(line.debugDescription)")
                    continue
                }
                XCTAssertNil(acknowledged[seq], "\(context): seq \(seq) acknowledged twice")
                acknowledged[seq] = String(parts[1])
            }
            stats.acknowledged += lines.count
            if !lines.isEmpty { stats.runsWithAcknowledged += 1 }

            // Reopen as the restarted supervisor would.
            try verify(context)
        }
        stats.seconds = now() - started
        if lag != nil {
            XCTAssertFalse(Files.segments(dir.spool).contains { $0.hasSuffix("/0000000001.log") },
                           "the spool evicted while being killed")
        }
        if !long { XCTAssertLessThan(stats.seconds, 60) }
        XCTAssertGreaterThanOrEqual(stats.runsWithAcknowledged, iterations / 2, "kills landed while appending")
        return stats
    }
}
