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

    /// A device named where a file belongs is never opened for reading: the open of /dev/watchdog arms the
    /// hardware watchdog, and a driver's open is its business. Seen through inotify's IN_OPEN on a private node
    /// of /dev/null's device (O_PATH opens raise no IN_OPEN; a read open does: the control).
    func test_aDeviceIsNeverOpenedForReading() throws {
        var template = Array("/tmp/pit-readtext-XXXXXX".utf8CString)
        let dir = try XCTUnwrap(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let node = dir + "/null"
        defer { unlink(node); rmdir(dir) }
        var null = stat()
        XCTAssertEqual(stat("/dev/null", &null), 0)
        XCTAssertEqual(mknod(node, S_IFCHR | 0o600, null.st_rdev), 0)
        let watch = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        defer { close(watch) }
        XCTAssertGreaterThanOrEqual(inotify_add_watch(watch, node, UInt32(IN_OPEN)), 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        XCTAssertNil(readText(node))
        XCTAssertEqual(read(watch, &buffer, buffer.count), -1, "readText opened the device")
        let control = open(node, O_RDONLY | O_CLOEXEC)
        close(control)
        XCTAssertGreaterThan(read(watch, &buffer, buffer.count), 0, "control: a read open raises IN_OPEN")
    }
}
