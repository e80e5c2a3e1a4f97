import XCTest
@testable import PitUplink

/// What the spool gives up when it is full: delivered events first, then (for a new alert only) the oldest
/// non-violations, never a violation (it refuses the new event instead); violations hold at most 3/4 of it.
final class EvictionTests: XCTestCase {
    let limit = 16 * 1024

    private func filler(_ i: Int) -> PitEvent {
        .smbAccess(user: "u\(i)", client: "192.0.2.1", share: "s", file: String(repeating: "f", count: 250),
                   operation: "open", status: "ok")
    }

    private func violation(_ i: Int) -> PitEvent {
        .violation(jail: "smbd", pid: Int32(i), comm: "smbd", exe: "/usr/sbin/smbd", arch: "x86_64",
                   syscall: "ptrace", nr: 101, args: [UInt64(i)], action: .kill, policy: "p", policyHash: "h",
                   message: String(repeating: "v", count: 150))
    }

    func testDeliveredEventsAreDroppedBeforeAnyUndeliveredOne() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool, limit: limit) { spool in
            var delivered: [UInt64] = []
            while spool.sizeBytes < limit / 2 {
                let i = delivered.count
                delivered.append(try spool.append(i % 3 == 0 ? violation(i) : filler(i)).seq!)
            }
            try spool.commit(delivered.last!, for: "https")
            var undelivered: [UInt64] = []
            while undelivered.count * 400 < limit * 45 / 100 {
                undelivered.append(try spool.append(filler(undelivered.count)).seq!)
                XCTAssertLessThanOrEqual(spool.sizeBytes, limit)
            }
            let stored = Set(try spool.all().map(\.seq!))
            XCTAssertTrue(stored.isSuperset(of: undelivered), "no undelivered event dropped while delivered ones were")
            XCTAssertFalse(stored.isSuperset(of: delivered), "the spool had to drop something")
            // Oldest first: what is left of the delivered ones is a suffix of them.
            let kept = delivered.filter(stored.contains)
            XCTAssertEqual(kept, Array(delivered.suffix(kept.count)))
        }
    }

    func testTheOldestNonViolationsGoNextAndEveryViolationStays() throws {
        let dir = TemporaryDirectory()
        var violations: [UInt64] = [], others: [UInt64] = []
        try withSpool(dir.spool, limit: limit) { spool in
            for i in 0..<(3 * limit / 300) {  // about three times what fits
                if i % 10 == 0 {
                    // A violation never displaces an undelivered alert: once alerts fill the room, it is refused.
                    do { violations.append(try spool.append(violation(i)).seq!) } catch SpoolError.full {}
                } else {
                    others.append(try spool.append(filler(i)).seq!)
                }
                XCTAssertLessThanOrEqual(spool.sizeBytes, limit, "never above the limit")
            }
        }
        // Check what a restarted Pit finds.
        let stored = try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertTrue(spool.recovery.isClean, "rewrites leave whole segments: \(spool.recovery)")
            return Set(try spool.all().map(\.seq!))
        }
        // Violations are refused once alerts fill the room: with none stored, the check below would check nothing.
        XCTAssertFalse(violations.isEmpty, "no violation was stored at all")
        XCTAssertTrue(stored.isSuperset(of: violations), "every violation kept")
        let kept = others.filter(stored.contains)
        XCTAssertLessThan(kept.count, others.count, "non-violations were dropped")
        XCTAssertGreaterThan(kept.count, 0)
        XCTAssertEqual(kept, Array(others.suffix(kept.count)), "the oldest went first")
    }

    func testAViolationFloodStopsAtItsQuotaAndAlertsKeepTheirRoom() throws {
        let dir = TemporaryDirectory()
        var stored: [UInt64] = []
        var refusal: SpoolError?
        try withSpool(dir.spool, limit: limit) { spool in
            while refusal == nil && stored.count < 1000 {
                do {
                    stored.append(try spool.append(violation(stored.count)).seq!)
                } catch let error as SpoolError {
                    refusal = error
                }
            }
            guard case .violationQuota(_, let bytes, let quota)? = refusal else {
                return XCTFail("expected SpoolError.violationQuota, got \(String(describing: refusal))")
            }
            XCTAssertEqual(quota, limit * 3 / 4)
            XCTAssertLessThanOrEqual(bytes, quota)
            XCTAssertTrue("\(refusal!)".contains("the rest is kept for alerts"), "\(refusal!)")
            XCTAssertEqual(spool.lastSeq, stored.last, "refused events take no seq")
            // An alert still fits, and keeps fitting (older undelivered alerts make room, never a violation).
            var alerts: [UInt64] = []
            for i in 0..<40 { alerts.append(try spool.append(filler(i)).seq!) }
            XCTAssertTrue(try spool.all().map(\.seq!).contains(alerts.last!))
            stored = try spool.all().filter(\.isViolation).map(\.seq!)
        }
        try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertEqual(try spool.all().filter(\.isViolation).map(\.seq!), stored, "every acknowledged violation is still there")
            // Once they are delivered, there is room again.
            try spool.commit(stored[stored.count / 2], for: "https")
            let next = spool.lastSeq + 1
            XCTAssertEqual(try spool.append(violation(0)).seq, next)
            XCTAssertTrue(try spool.all().map(\.seq!).contains(stored.last!))
        }
    }

    func testAViolationNeverDisplacesAnUndeliveredAlert() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool, limit: limit) { spool in
            var alerts: [UInt64] = []
            // Alerts up to the limit (older alerts make room for newer ones once it is reached).
            for i in 0..<(2 * limit / 300) { alerts.append(try spool.append(filler(i)).seq!) }
            let before = try spool.all().map(\.seq!)
            // A violation larger than the room left (and within the violations' quota): it could only be stored by
            // dropping alerts.
            var big = violation(0)
            big.message = String(repeating: "v", count: min(limit - spool.sizeBytes + 600, limit / 2))
            XCTAssertThrowsError(try spool.append(big)) { error in
                guard case SpoolError.full(_, _, _, let violationBytes) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(violationBytes, 0)
                // What is left is alerts: the refusal must not say it is violations.
                XCTAssertTrue("\(error)".contains("what is left is undelivered (0 bytes of it violations"), "\(error)")
            }
            XCTAssertEqual(try spool.all().map(\.seq!), before, "the violation took no alert's place")
        }
    }

    func testDeliveredMeansCommittedByEveryTransportWithACursor() throws {
        let dir = TemporaryDirectory()
        try withSpool(dir.spool, limit: limit) { spool in
            for i in 0..<10 { try spool.append(violation(i)) }
            try spool.commit(10, for: "https")
            try spool.commit(5, for: "mqtt")
            _ = try spool.pending(for: "sftp")  // reading gives no say: only a commit registers a transport
            XCTAssertEqual(spool.transports, ["https", "mqtt"])
            for i in 0..<(3 * limit / 300) { try spool.append(filler(i)) }
            let seqs = Set(try spool.all().map(\.seq!))
            XCTAssertTrue(seqs.isDisjoint(with: 1...5), "violations delivered to both transports were dropped")
            XCTAssertTrue(seqs.isSuperset(of: 6...10), "violations mqtt has not delivered were kept")
        }
    }

    func testSeqIsNotReusedWhenTheNewestEventWasEvicted() throws {
        // Violations nearly fill the spool; X is the newest event; a large event then evicts X and is still
        // refused. X's seq must not be handed out again after a restart, though no record and no cursor holds it.
        let dir = TemporaryDirectory()
        let x = try withSpool(dir.spool, limit: limit) { spool -> UInt64 in
            var i = 0
            while (try? spool.append(violation(i))) != nil { i += 1 }   // violations up to their quota
            while spool.sizeBytes < limit - 1400 { try spool.append(filler(i)); i += 1 }
            let x = try spool.append(filler(0)).seq!
            // Larger than all the room alerts have: every alert (X too) is evicted to try, and it is still refused.
            XCTAssertThrowsError(try spool.append(.boot(message: String(repeating: "B", count: 5000)))) { error in
                guard case SpoolError.full = error else { return XCTFail("\(error)") }
            }
            XCTAssertFalse(try spool.all().contains { $0.seq == x }, "X was evicted to try to make room")
            return x
        }
        XCTAssertEqual(try withSpool(dir.spool, limit: limit) { try $0.append(.boot()).seq }, x + 1)
    }
}
