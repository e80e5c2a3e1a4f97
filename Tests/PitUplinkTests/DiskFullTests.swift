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
            XCTAssertTrue(text.hasPrefix("append \(dir.spool)/0000000") || text.hasPrefix("create \(dir.spool)/"),
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
}
