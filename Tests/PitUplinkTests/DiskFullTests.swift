import Glibc
import XCTest
@testable import PitUplink

/// A full file system (ENOSPC) on a real 256 KiB tmpfs: the append fails with a clear error and every event stored
/// before it stays whole and readable.
final class DiskFullTests: XCTestCase {
    private var mountPoint: TemporaryDirectory?

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        let dir = TemporaryDirectory("pit-enospc")
        let mounted = Shell.run(["/bin/mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir.path])
        guard mounted.status == 0 else { throw XCTSkip("mount tmpfs failed (status \(mounted.status))") }
        mountPoint = dir
    }

    override func tearDown() {
        if let dir = mountPoint { _ = Shell.run(["/bin/umount", dir.path]) }
        mountPoint = nil
    }

    func testDiskFullFailsTheAppendClearlyAndKeepsEveryStoredEvent() throws {
        let dir = mountPoint!
        let limit = 4 << 20  // far above the file system: the disk fills before the spool's own limit
        var stored: [PitEvent] = []
        var failure: SpoolError?
        try withSpool(dir.spool, limit: limit) { spool in
            while failure == nil && stored.count < 10_000 {
                do {
                    stored.append(try spool.append(.configError(message: String(repeating: "c", count: 900))))
                } catch let error as SpoolError {
                    failure = error
                }
            }
            XCTAssertEqual(failure?.errno, ENOSPC, "\(String(describing: failure))")
            let text = "\(failure!)"
            XCTAssertTrue(text.hasPrefix("append \(dir.spool)/0000000") || text.hasPrefix("create segment \(dir.spool)/"),
                          text)
            XCTAssertTrue(text.hasSuffix(".log: No space left on device") || text.hasSuffix(".tmp: No space left on device"),
                          text)
            print("disk full after \(stored.count) events: \(text)")
            XCTAssertGreaterThan(stored.count, 100)
            // Still full: the same event fails again the same way, and what is stored reads back.
            XCTAssertThrowsError(try spool.append(.configError(message: String(repeating: "c", count: 900)))) {
                XCTAssertEqual(($0 as? SpoolError)?.errno, ENOSPC)
            }
            XCTAssertEqual(try spool.all().map(\.id), stored.map(\.id))
            XCTAssertTrue(try spool.all() == stored)
        }
        // A restart on the full disk finds whole records only: the failed writes were cut back off.
        try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertTrue(spool.recovery.isClean, "\(spool.recovery)")
            XCTAssertEqual(try spool.all().map(\.id), stored.map(\.id))
            XCTAssertTrue(try spool.all() == stored, "every field intact")
        }
        // Room again: appends resume with the next seq, nothing reused.
        XCTAssertEqual(Shell.run(["/bin/mount", "-o", "remount,size=1m", dir.path]).status, 0)
        try withSpool(dir.spool, limit: limit) { spool in
            XCTAssertEqual(try spool.append(.boot()).seq, stored.last!.seq! + 1)
        }
    }

    func testDiskFullWhileRollingIsAsClearAndLosesNothing() throws {
        // Spool limits that make the disk fill at different steps: mid-segment, while creating the next segment,
        // with a transport committing as it goes. Each case in its own directory, removed before the next.
        let dir = mountPoint!
        var steps: Set<String> = []
        for (index, (limit, size, lag)) in [(512 << 10, 700, nil), (300 << 10, 1500, nil), (400 << 10, 300, 40 as UInt64?),
                                            (160 << 10, 900, nil), (1 << 20, 100, nil)].enumerated() {
            let spoolDir = dir.path + "/case\(index)"
            var stored: [PitEvent] = []
            var failure: SpoolError?
            try withSpool(spoolDir, limit: limit) { spool in
                var i = 0
                while failure == nil && i < 20_000 {
                    do {
                        let event = i % 7 == 0 ? PitEvent.violation(jail: "smbd", pid: 1, comm: nil, exe: nil,
                            arch: "x86_64", syscall: "ptrace", nr: 101, args: [], action: .kill, policy: nil,
                            policyHash: nil) : .configError(message: String(repeating: "d", count: size + i % 50))
                        do {
                            stored.append(try spool.append(event))
                        } catch SpoolError.full where event.isViolation {
                            // Where the spool's own limit comes first, a violation never displaces an undelivered
                            // alert: refused, counted by the caller; the loop goes on to the disk's limit.
                        }
                        if let lag, stored.count > Int(lag) { try spool.commit(stored.last!.seq! - lag, for: "https") }
                    } catch let error as SpoolError {
                        failure = error
                    }
                    i += 1
                }
            }
            guard let failure else { XCTFail("case \(index): the disk never filled"); continue }
            XCTAssertEqual(failure.errno, ENOSPC, "case \(index): \(failure)")
            XCTAssertTrue("\(failure)".hasSuffix(": No space left on device"), "\(failure)")
            steps.insert(String("\(failure)".prefix { $0 != " " }))
            try withSpool(spoolDir, limit: limit) { spool in
                XCTAssertTrue(spool.recovery.isClean, "case \(index): \(spool.recovery)")
                let all = try spool.all()
                let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
                // Undelivered violations are all there; other events may have been evicted by the spool's own
                // limit (some cases reach it before the disk fills), but what is there is intact.
                let delivered = spool.cursor(for: "https")
                for event in stored where event.seq! > delivered && event.isViolation {
                    XCTAssertEqual(byID[event.id], event, "case \(index): violation \(event.seq!) intact")
                }
                let storedByID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
                XCTAssertTrue(all.allSatisfy { storedByID[$0.id] == $0 }, "case \(index): every event intact")
                XCTAssertEqual(all.last, stored.last, "case \(index): the newest is there")
            }
            XCTAssertEqual(Shell.run(["/bin/rm", "-rf", spoolDir]).status, 0)
        }
        print("disk full hit during: \(steps.sorted())")
        XCTAssertGreaterThan(steps.count, 1, "more than one step was caught by a full disk")
    }
}
