import Glibc

/// Event ids: 128 random bits as 32 lowercase hex characters. Random rather than derived from the seq so that two
/// devices, or one device whose spool was wiped, never collide, and a receiver can drop the duplicates that
/// at-least-once delivery produces by id alone.
public enum EventID {
    /// getrandom(2) is not in Swift's Glibc module (its header is not part of the module map), so it is looked up
    /// once in the C library already loaded; glibc has had it since 2.25, musl since 1.1.20.
    private typealias GetRandom = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int
    private static let getrandom: GetRandom? = dlsym(nil, "getrandom").map { unsafeBitCast($0, to: GetRandom.self) }

    public static func make() -> String { hex(randomBytes(16)) }

    /// `count` bytes from getrandom(2): ids here, AEAD nonces for the DNS transport.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        if let getrandom {
            while filled < count {
                // Blocks only before the kernel's pool is first initialised, which a running supervisor is past.
                let n = bytes.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, count - filled, 0) }
                if n > 0 { filled += n } else if errno != EINTR { break }
            }
        }
        if filled < count {
            // Swift's own generator also reads getrandom(2), falling back to /dev/urandom.
            var generator = SystemRandomNumberGenerator()
            for i in 0..<count { bytes[i] = generator.next() }
        }
        return bytes
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `id` has the shape `make()` produces.
    public static func isValid(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
