import COpenSSL

/// SHA-256 for policy hashes, the policy cache key and the persona's MAC derivation, computed by the OpenSSL
/// that `pit` already links for the uplink.
public enum SHA256 {
    public static func digest(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        pit_sha256(message, message.count, &out)   // see COpenSSL/shim.h: not EVP, for start-up's sake
        return out
    }

    /// The digest as 64 lowercase hex digits.
    public static func hex(_ message: [UInt8]) -> String {
        digest(message).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
