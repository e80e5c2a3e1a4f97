import Glibc
import XCTest
@testable import PitConsole

final class BaudTests: XCTestCase {
    func testSupportedRatesMapToTermiosConstants() throws {
        XCTAssertEqual(try Baud.speed(for: 9600), speed_t(B9600))
        XCTAssertEqual(try Baud.speed(for: 115200), speed_t(B115200))
        XCTAssertEqual(try Baud.speed(for: 1500000), speed_t(B1500000))
        XCTAssertEqual(try Baud.speed(for: 4000000), speed_t(B4000000))
        XCTAssertEqual(Baud.supportedRates.first, 9600)
        XCTAssertEqual(Baud.supportedRates.last, 4000000)
        for rate in Baud.supportedRates { XCTAssertEqual(Baud.rate(of: try Baud.speed(for: rate)), rate) }
    }

    func testUnsupportedRatesAreRefusedClearly() {
        for rate in [0, 300, 4800, 100000, 115201, 5000000, -1] {
            XCTAssertThrowsError(try Baud.speed(for: rate, path: "/dev/ttyS0")) { error in
                XCTAssertEqual(error as? ConsoleError, .unsupportedBaud(rate, path: "/dev/ttyS0"))
                XCTAssertTrue("\(error)".contains("unsupported baud rate \(rate)"))
                XCTAssertTrue("\(error)".contains("115200"), "the message lists what would work")
            }
        }
    }
}

final class OutputBufferTests: XCTestCase {
    func testOverflowDropsOldestWithMarkerAndStaysBounded() {
        var buffer = OutputBuffer(capacity: 1024)
        for i in 0..<200 { buffer.append(Array("line \(i) ..........................\r\n".utf8)) }
        XCTAssertLessThanOrEqual(buffer.count, 1024)
        let text = String(decoding: buffer.pending, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("\r\n[console: output overflow, "), text)
        XCTAssertTrue(text.contains("line 199 "), "the newest output survives")
        XCTAssertFalse(text.contains("line 0 "), "the oldest is gone")
        XCTAssertGreaterThan(buffer.droppedBytes, 0)
        // After the marker, the surviving output starts at a line boundary.
        let afterMarker = text.crlfLines().dropFirst(2).first ?? ""
        XCTAssertTrue(afterMarker.hasPrefix("line "), afterMarker)
    }

    func testHugeAnswerKeepsItsTail() {
        var buffer = OutputBuffer(capacity: 1024)
        buffer.append(Array("old\r\n".utf8))
        buffer.append([UInt8](repeating: 0x41, count: 5000) + Array("END".utf8))
        XCTAssertLessThanOrEqual(buffer.count, 1024)
        XCTAssertTrue(String(decoding: buffer.pending, as: UTF8.self).hasSuffix("AEND"))
        XCTAssertEqual(buffer.droppedBytes, 5 + 5003 - 512)
    }

    func testPartialSendsAndCompaction() {
        var buffer = OutputBuffer(capacity: 1024)
        buffer.append(Array("abcdef".utf8))
        XCTAssertEqual(buffer.send { _ in 2 }, 2)
        XCTAssertEqual(buffer.pending, Array("cdef".utf8))
        buffer.append(Array("gh".utf8))
        XCTAssertEqual(buffer.send { $0.count }, 6)
        XCTAssertTrue(buffer.isEmpty)
    }
}
