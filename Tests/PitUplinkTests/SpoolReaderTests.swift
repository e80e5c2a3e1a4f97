import Glibc
import XCTest
@testable import PitUplink

final class SpoolReaderTests: XCTestCase {
    func testAnotherProcessCanListAndFollowWhileTheOwnerAppends() throws {
        let dir = TemporaryDirectory()
        let owner = try Spool.open(directory: dir.spool, limitBytes: 64 * 1024)
        let first = try (0..<30).map { i in try owner.append(.boot(message: String(repeating: "r", count: i * 10))) }
        // No lock needed, and the owner's lock is not disturbed.
        XCTAssertEqual(try Spool.read(directory: dir.spool), first)
        XCTAssertEqual(try Spool.read(directory: dir.spool, after: 25).map(\.seq!), [26, 27, 28, 29, 30])
        XCTAssertEqual(try Spool.read(directory: dir.spool, after: 3, limit: 2).map(\.seq!), [4, 5])
        // Following: poll with the last seq seen.
        let more = try owner.append(.uplinkTest())
        XCTAssertEqual(try Spool.read(directory: dir.spool, after: 30), [more])
        // A record the owner is still writing (here: a torn tail) is not listed, and not repaired by the reader.
        let file = Files.segments(dir.spool).last!
        let size = Files.size(file)
        Files.write(file, Files.read(file) + [0x49, 0x54, 0x49, 0x50, 0xff])
        XCTAssertEqual(try Spool.read(directory: dir.spool, after: 30), [more])
        XCTAssertEqual(Files.size(file), size + 5)
        withExtendedLifetime(owner) {}
    }
}
