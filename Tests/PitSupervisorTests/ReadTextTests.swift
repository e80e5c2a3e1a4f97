import Glibc
import PitProcess
import XCTest

/// Files the supervisor reads may be FIFOs with no writer or devices that never end: readText refuses them at
/// once instead of blocking or growing.
final class ReadTextTests: XCTestCase {
    func test_readTextRefusesWhatIsNotASmallRegularFile() throws {
        var template = Array("/tmp/pit-readtext-XXXXXX".utf8CString)
        let dir = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { unlink(dir + "/fifo"); unlink(dir + "/big"); rmdir(dir) }
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        let fd = open(dir + "/big", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        XCTAssertEqual(write(fd, String(repeating: "x", count: 100), 100), 100)
        close(fd)
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        XCTAssertNil(readText(dir + "/fifo"), "a FIFO with no writer")
        XCTAssertNil(readText("/dev/zero"), "a device that never ends")
        XCTAssertNil(readText(dir + "/big", limit: 99), "over the limit")
        XCTAssertEqual(readText(dir + "/big", limit: 100)?.count, 100)
        XCTAssertEqual(readText("/proc/self/comm")?.isEmpty, false, "/proc attributes are regular files")
        clock_gettime(CLOCK_MONOTONIC, &end)
        XCTAssertLessThan(end.tv_sec - start.tv_sec, 2)
    }
}
