import Glibc
import COpenSSL
import CZlib

/// The message protocol the DNS transport speaks inside query names and TXT answers (version 1). Shared by the
/// device (`DNSClient`) and the console (`DNSConsole`); `README.md` ("DNS uplink") describes it for a third party.
///
/// A message (one event's JSON line, or a heartbeat) is compressed when that makes it shorter, then cut into
/// fragments that each fit one query name. Each fragment is sealed on its own with ChaCha20-Poly1305 under the
/// device's 32-byte key and a fresh random 96-bit nonce, so:
/// - every query is unique (a resolver's cache can never answer for the console, a retransmission is a new name);
/// - a fragment that was altered, swapped into another message or device, or sealed with another key fails alone,
///   as soon as it arrives, and the console refuses that query;
/// - the associated data binds the protocol version, the zone, the device id and the fragment header.
///
/// Query name: `<base32 fragment, in labels of up to 63>.<device id>.<zone>`, TXT, class IN. Base32 (RFC 4648,
/// lower case, no padding) because resolvers may randomise letter case (0x20) and only case-free data survives it.
///
/// Fragment bytes (before Base32):
///
///     0      type: 0x11 event, 0x12 heartbeat, 0x13 event without seq (high nibble: protocol version 1)
///     1..8   message id, big-endian: the event's spool seq, or for 0x12/0x13 wall-clock milliseconds
///     9..10  fragment index     11..12  fragment count (1...maxFragments)
///     13..24 nonce              25..    ciphertext of this slice of the message, then the 16-byte tag
///
/// Message bytes (what the fragments' plaintexts concatenate to): a flag byte (bit 0: zlib-compressed, then a
/// 4-byte big-endian uncompressed length follows) and the body.
///
/// Answer: one TXT record whose strings concatenate to Base32 of `nonce(12) ‖ sealed(ack)`, sealed under the same
/// key with the query's nonce in the associated data (an answer cannot be replayed onto another query). The ack:
/// status (1 stored, 2 message complete, 3 already delivered), the message id, fragments held, fragment count;
/// bytes after those are reserved for console commands (version 1 devices ignore them).
public enum DNSTunnel {
    public static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16
    static let headerLength = 13
    /// Header, nonce, tag: what each fragment carries besides message bytes.
    static let overhead = headerLength + nonceLength + tagLength
    /// A message is at most this many fragments (about 90 KB with a short zone); the ack counts fit 16 bits and
    /// the console's reassembly memory per device stays bounded.
    public static let maxFragments = 1024
    /// The console refuses to inflate a message beyond this: a compressed body may not be a decompression bomb.
    public static let maxMessage = 1 << 20

    public enum Kind: UInt8, Sendable {
        case event = 0x11
        case heartbeat = 0x12
        /// An event that never went through the spool (`pit uplink test`): no seq, so a clock id like a heartbeat.
        case unsequenced = 0x13
    }

    public enum AckStatus: UInt8, Sendable {
        case stored = 1
        case complete = 2
        case duplicate = 3
    }

    public struct Ack: Sendable, Equatable {
        public var status: AckStatus
        public var messageID: UInt64
        public var held: Int
        public var count: Int
    }

    /// One fragment as the console reads it from a query name, authenticated and decrypted.
    public struct Fragment: Sendable, Equatable {
        public var kind: Kind
        public var messageID: UInt64
        public var index: Int
        public var count: Int
        public var nonce: [UInt8]
        public var plaintext: [UInt8]
    }

    // MARK: Names

    /// Device ids are one DNS label of lower-case letters, digits and hyphens (also the key file's name).
    public static func isValidDevice(_ id: String) -> Bool {
        let b = Array(id.utf8)
        return (1...63).contains(b.count) && b.first != 0x2D
            && b.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// How many Base32 characters of fragment fit in a name under `device.zone` (253 presentation characters).
    static func nameCapacity(device: String, zone: DNSName) -> Int {
        let suffix = device.utf8.count + 1 + zone.labels.reduce(0) { $0 + $1.count + 1 } - 1
        let available = 253 - suffix - 1
        var chars = available
        // n characters need ceil(n/63) - 1 dots between their labels.
        while chars > 0 && chars + (chars + 62) / 63 - 1 > available { chars -= 1 }
        return chars
    }

    /// The message bytes one fragment can carry; nil if the zone and device leave no room at all.
    public static func fragmentPayload(device: String, zone: DNSName) -> Int? {
        let bytes = nameCapacity(device: device, zone: zone) * 5 / 8
        let payload = bytes - overhead
        return payload >= 16 ? payload : nil
    }

    static func labels(of data: [UInt8]) -> [[UInt8]] {
        let text = Base32.encode(data)
        return stride(from: 0, to: text.count, by: 63).map { Array(text[$0..<min($0 + 63, text.count)]) }
    }

    // MARK: Messages

    /// The message bytes for `body`: compressed when that is shorter (short events rarely are), else as is.
    public static func frame(_ body: [UInt8]) -> [UInt8] {
        if body.count > 64, let packed = Zlib.compress(body), packed.count + 4 < body.count {
            let n = UInt32(body.count)
            return [1, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + packed
        }
        return [0] + body
    }

    /// The body of reassembled message bytes; nil if the framing or the compressed data is wrong.
    public static func unframe(_ message: [UInt8]) -> [UInt8]? {
        guard let flag = message.first else { return nil }
        switch flag {
        case 0: return Array(message.dropFirst())
        case 1:
            guard message.count > 5 else { return nil }
            let n = Int(message[1]) << 24 | Int(message[2]) << 16 | Int(message[3]) << 8 | Int(message[4])
            guard n <= maxMessage else { return nil }
            return Zlib.uncompress(Array(message[5...]), length: n)
        default: return nil
        }
    }

    /// What a fragment's or an ack's seal binds: a tag naming what it is and the protocol version, the zone
    /// (lowercased: resolvers randomise case), the device, then the fragment header or the query's nonce.
    static func associatedData(_ tag: String, zone: DNSName, device: String, tail: ArraySlice<UInt8>) -> [UInt8] {
        Array(tag.utf8) + [0] + Array(zone.description.lowercased().utf8) + [0] + Array(device.utf8) + [0] + tail
    }

    /// Cuts message bytes into fragment slices of at most `payload` bytes (at least one, even when empty).
    public static func slices(_ message: [UInt8], payload: Int) -> [[UInt8]] {
        if message.isEmpty { return [[]] }
        return stride(from: 0, to: message.count, by: payload).map { Array(message[$0..<min($0 + payload, message.count)]) }
    }

    /// The query name of one fragment, sealed with a fresh nonce; also returns the nonce (the answer is bound to it).
    public static func queryName(kind: Kind, messageID: UInt64, index: Int, count: Int, slice: [UInt8],
                                 device: String, zone: DNSName, key: [UInt8]) -> (name: DNSName, nonce: [UInt8]) {
        var header: [UInt8] = [kind.rawValue]
        for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: messageID >> UInt64(shift))) }
        header += [UInt8(index >> 8), UInt8(index & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
        let nonce = EventID.randomBytes(nonceLength)
        let sealed = AEAD.seal(key: key, nonce: nonce,
                               aad: associatedData("pit-dns/1", zone: zone, device: device, tail: header[...]), plaintext: slice)
        let name = DNSName(labels: labels(of: header + nonce + sealed) + [Array(device.utf8)] + zone.labels)
        return (name, nonce)
    }

    public enum Rejection: Error, Equatable, Sendable {
        /// Not a fragment name at all (another name under the zone, bad Base32, wrong sizes).
        case malformed
        /// A well-formed fragment for a device the console has no key for.
        case unknownDevice(String)
        /// The AEAD tag does not verify: altered, swapped, or sealed with another device's key.
        case forged(String)
    }

    /// Splits a query name under `zone` into the device id and the still-sealed fragment bytes.
    public static func splitName(_ name: DNSName, zone: DNSName) -> (device: String, data: [UInt8])? {
        guard name.isSubdomain(of: zone), name.labels.count >= zone.labels.count + 2 else { return nil }
        let deviceLabel = name.labels[name.labels.count - zone.labels.count - 1].map(DNSName.lower)
        let device = String(decoding: deviceLabel, as: UTF8.self)
        guard isValidDevice(device) else { return nil }
        var text: [UInt8] = []
        for label in name.labels.prefix(name.labels.count - zone.labels.count - 1) { text += label }
        guard let data = Base32.decode(text), data.count >= overhead else { return nil }
        return (device, data)
    }

    /// Verifies and decrypts fragment bytes for `device` with its `key`.
    public static func openFragment(_ data: [UInt8], device: String, zone: DNSName, key: [UInt8]) throws(Rejection) -> Fragment {
        guard data.count >= overhead, let kind = Kind(rawValue: data[0]) else { throw .malformed }
        var id: UInt64 = 0
        for i in 1...8 { id = id << 8 | UInt64(data[i]) }
        let index = Int(data[9]) << 8 | Int(data[10])
        let count = Int(data[11]) << 8 | Int(data[12])
        guard (1...maxFragments).contains(count), index < count else { throw .malformed }
        let nonce = Array(data[headerLength..<(headerLength + nonceLength)])
        guard let plaintext = AEAD.open(key: key, nonce: nonce,
                                        aad: associatedData("pit-dns/1", zone: zone, device: device, tail: data[0..<headerLength]),
                                        sealed: Array(data[(headerLength + nonceLength)...])) else {
            throw .forged(device)
        }
        return Fragment(kind: kind, messageID: id, index: index, count: count, nonce: nonce, plaintext: plaintext)
    }

    // MARK: Answers

    public static func sealAck(_ ack: Ack, device: String, zone: DNSName, key: [UInt8], queryNonce: [UInt8]) -> [UInt8] {
        var plain: [UInt8] = [ack.status.rawValue]
        for shift in stride(from: 56, through: 0, by: -8) { plain.append(UInt8(truncatingIfNeeded: ack.messageID >> UInt64(shift))) }
        plain += [UInt8(ack.held >> 8 & 0xFF), UInt8(ack.held & 0xFF), UInt8(ack.count >> 8 & 0xFF), UInt8(ack.count & 0xFF)]
        let nonce = EventID.randomBytes(nonceLength)
        let sealed = AEAD.seal(key: key, nonce: nonce, aad: associatedData("pit-dns-ack/1", zone: zone, device: device, tail: queryNonce[...]),
                               plaintext: plain)
        return Base32.encode(nonce + sealed)
    }

    /// Reads an answer's TXT text; nil unless it verifies under `key` for the query sealed with `queryNonce`.
    public static func openAck(_ text: [UInt8], device: String, zone: DNSName, key: [UInt8], queryNonce: [UInt8]) -> Ack? {
        guard let data = Base32.decode(text), data.count >= nonceLength + tagLength + 13 else { return nil }
        guard let plain = AEAD.open(key: key, nonce: Array(data[0..<nonceLength]),
                                    aad: associatedData("pit-dns-ack/1", zone: zone, device: device, tail: queryNonce[...]),
                                    sealed: Array(data[nonceLength...])),
              plain.count >= 13, let status = AckStatus(rawValue: plain[0]) else { return nil }
        var id: UInt64 = 0
        for i in 1...8 { id = id << 8 | UInt64(plain[i]) }
        return Ack(status: status, messageID: id, held: Int(plain[9]) << 8 | Int(plain[10]),
                   count: Int(plain[11]) << 8 | Int(plain[12]))
    }

    // MARK: Keys

    /// A key file holds the 32-byte key as 64 hex digits (a trailing newline is fine) or as 32 raw bytes.
    /// The file must not be readable or writable by group or others: whoever reads it can forge the device's
    /// alerts (or, on the console, any answer to it).
    public static func readKey(_ path: String) throws(UplinkError) -> [UInt8] {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw UplinkError(operation: "read key_file", target: path,
                              reason: "mode \(String(st.st_mode & 0o777, radix: 8)) lets group or others at the key: chmod 600")
        }
        var bytes: [UInt8]
        do { bytes = try FileIO.readFile(path) } catch {
            throw UplinkError(operation: "read key_file", target: path, errno: error.errno,
                              reason: error.errno == nil ? error.description : nil)
        }
        if bytes.count == keyLength { return bytes }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        guard let key = Hex.decode(String(decoding: bytes, as: UTF8.self)), key.count == keyLength else {
            throw UplinkError(operation: "read key_file", target: path,
                              reason: "must hold 64 hex digits or 32 raw bytes (a 256-bit key)")
        }
        return key
    }
}

/// RFC 4648 Base32, lower case, without padding; decoding accepts either case (resolvers' 0x20 randomisation).
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func encode(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((data.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in data {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return out
    }

    /// Nil on any character outside the alphabet, an impossible length, or non-zero padding bits (so each byte
    /// string has exactly one encoding, up to case, and a flipped trailing bit cannot pass unnoticed).
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard ![1, 3, 6].contains(text.count % 8) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text {
            let v: UInt32
            switch c {
            case 0x61...0x7A: v = UInt32(c - 0x61)
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x32...0x37: v = UInt32(c - 0x32 + 26)
            default: return nil
            }
            buffer = (buffer << 5 | v) & 0xFFF
            bits += 5
            if bits >= 8 {
                out.append(UInt8(buffer >> UInt32(bits - 8) & 0xFF))
                bits -= 8
            }
        }
        if bits > 0 && buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }
}

/// ChaCha20-Poly1305 (RFC 8439) through OpenSSL's EVP interface: 32-byte key, 12-byte nonce, 16-byte tag appended.
enum AEAD {
    static func seal(key: [UInt8], nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: Int32 = 0
        // Failures here are allocation or programming errors (fixed algorithm and sizes), not input errors.
        precondition(EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nil, key, nonce) == 1, "chacha20-poly1305 init")
        if !aad.isEmpty { precondition(EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1) }
        var written = 0
        if !plaintext.isEmpty {
            precondition(EVP_EncryptUpdate(ctx, &out, &length, plaintext, Int32(plaintext.count)) == 1)
            written = Int(length)
        }
        out.withUnsafeMutableBufferPointer { p in
            precondition(EVP_EncryptFinal_ex(ctx, p.baseAddress! + written, &length) == 1)
            precondition(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, p.baseAddress! + plaintext.count) == 1)
        }
        return out
    }

    static func open(key: [UInt8], nonce: [UInt8], aad: [UInt8], sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 16, key.count == 32, nonce.count == 12 else { return nil }
        let ctx = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(ctx) }
        let n = sealed.count - 16
        var out = [UInt8](repeating: 0, count: n + 16)
        var length: Int32 = 0
        guard EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), nil, key, nonce) == 1 else { return nil }
        if !aad.isEmpty { guard EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { return nil } }
        if n > 0 {
            guard EVP_DecryptUpdate(ctx, &out, &length, sealed, Int32(n)) == 1 else { return nil }
        }
        var tag = Array(sealed[n...])
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, &tag) == 1 else { return nil }
        let ok = out.withUnsafeMutableBufferPointer { p in EVP_DecryptFinal_ex(ctx, p.baseAddress! + n, &length) }
        return ok == 1 ? Array(out[0..<n]) : nil
    }
}

/// zlib (RFC 1950) one-shot compression; the Adler-32 inside also catches a corrupt reassembly.
enum Zlib {
    static func compress(_ data: [UInt8]) -> [UInt8]? {
        var length = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        guard compress2(&out, &length, data, uLong(data.count), 9) == Z_OK else { return nil }
        return Array(out[0..<Int(length)])
    }

    /// Nil unless the data inflates to exactly `length` bytes.
    static func uncompress(_ data: [UInt8], length: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: max(length, 1))
        var produced = uLong(length)
        guard CZlib.uncompress(&out, &produced, data, uLong(data.count)) == Z_OK, Int(produced) == length else {
            return nil
        }
        return Array(out[0..<length])
    }
}
