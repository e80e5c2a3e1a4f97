import XCTest
@testable import PitUplink

final class CRC32CTests: XCTestCase {
    func testKnownVectors() {
        // The CRC catalogue's check value and RFC 3720 appendix B.4's iSCSI vectors.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
    }

    func testUpdateContinuesAChecksum() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        XCTAssertEqual(CRC32C.update(CRC32C.checksum(bytes[..<10]), bytes[10...]), CRC32C.checksum(bytes))
        XCTAssertEqual(CRC32C.checksum(bytes), 0x2262_0404)
    }

    func testEverySingleBitFlipChangesTheChecksum() {
        let bytes = Array(#"{"id":"x","kind":"violation","v":1}"#.utf8)
        let good = CRC32C.checksum(bytes)
        for i in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[i] ^= 1 << bit
                XCTAssertNotEqual(CRC32C.checksum(flipped), good, "byte \(i) bit \(bit)")
            }
        }
    }
}
