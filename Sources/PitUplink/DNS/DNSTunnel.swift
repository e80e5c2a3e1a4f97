import Glibc
import COpenSSL
import CZlib

/// The message protocol the DNS transport speaks inside query names and TXT answers (version 2; the console still
/// reads version 1). Shared by the device (`DNSClient`) and the console (`DNSConsole`); `README.md` ("DNS uplink")
/// describes it, with its threat model, for a third party.
///
/// A message (one event's JSON line, or a heartbeat) is compressed when that makes it shorter, then cut into
/// fragments that each fit one query name. Each fragment is sealed on its own with ChaCha20-Poly1305 under the
/// device's 32-byte key and a fresh random 96-bit nonce, so:
/// - every query is unique (a resolver's cache can never answer for the console, a retransmission is a new name);
/// - a fragment that was altered, swapped into another message or device, or sealed with another key fails alone,
///   as soon as it arrives, and the console refuses that query;
/// - the associated data binds the protocol version, the zone and the device id; the fragment header, sealed with
///   the slice (an observer reads neither), names the spool epoch and a digest of the whole message: fragments of two messages never mix, even two that carry
///   the same id (two devices cloned with one id and one spool), and a reset spool's seqs are new ids.
///
/// Query name: `<base32 fragment, in labels of up to 63>.<device id>.<zone>`, TXT, class IN. Base32 (RFC 4648,
/// lower case, no padding) because resolvers may randomise letter case (0x20) and only case-free data survives it.
///
/// Fragment bytes (before Base32), version 2: 0x20 (the version, the only byte in the clear), the 12-byte nonce, then
/// sealed together (ChaCha20-Poly1305, 16-byte tag) the header and the slice of the message. The header:
///
///     0       type: 0x21 event, 0x22 heartbeat, 0x23 event without seq (high nibble: protocol version)
///     1..8    spool epoch (`Spool.epoch`), big-endian
///     9..16   message id: the event's seq; for 0x22/0x23 a session (high 32 bits, random per sender) and a
///             counter within it (low 32 bits): no clock, so a wrong clock cannot poison the console's marks
///     17..24  message digest: the first 8 bytes of SHA-256 of the message bytes
///     25..26  fragment index  27..28  fragment count (1...maxFragments)
///
/// Version 1 (read by the console only): type 0x11/0x12/0x13, message id (seq, or wall-clock ms), index, count,
/// nonce, ciphertext: 13 header bytes, no epoch, no digest.
///
/// Message bytes (what the fragments' plaintexts concatenate to): in version 2 first the seq of the event sent just
/// before this one in the same delivery (8 bytes, 0 for none: the console writes an event only after that one, so
/// pipelined messages are still written in seq order); then a flag byte (bit 0: zlib-compressed, then a 4-byte
/// big-endian uncompressed length follows) and the body.
///
/// Answer: one TXT record whose strings concatenate to Base32 of `nonce(12) ‖ sealed(ack)`, sealed under the same
/// key with the query's nonce in the associated data (an answer cannot be replayed onto another query). The ack:
/// status, the message id, fragments held, fragment count, and (version 2) the console's mark: the highest seq it
/// has written for this device and epoch. Bytes after those are reserved for console commands.
public enum DNSTunnel {
    public static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16
    /// The version devices send.
    public static let version = 2
    static func headerLength(_ version: Int) -> Int { version == 1 ? 13 : 29 }
    /// Header, nonce, tag: what each fragment carries besides message bytes.
    /// Version 2 sends the header inside the ciphertext, after one plaintext byte naming the version.
    static func overhead(_ version: Int) -> Int { (version == 1 ? 0 : 1) + headerLength(version) + nonceLength + tagLength }
    /// A message is at most this many fragments (about 80 KB with a short zone); the ack counts fit 16 bits and
    /// the console's reassembly memory per device stays bounded.
    public static let maxFragments = 1024
    /// The console refuses to inflate a message beyond this: a compressed body may not be a decompression bomb.
    public static let maxMessage = 1 << 20

    /// The message kind: the low nibble of the type byte.
    public enum Kind: UInt8, Sendable {
        case event = 1
        case heartbeat = 2
        /// An event that never went through the spool (`pit uplink test`): no seq, so a session id like a heartbeat.
        case unsequenced = 3
    }

    public enum AckStatus: UInt8, Sendable {
        /// The fragment is held; the message is not whole yet.
        case stored = 1
        /// This fragment completed the message and its line is written.
        case complete = 2
        /// The message was written before (same id, same digest).
        case duplicate = 3
        /// Version 2: a different message with this id was written before, or the id is below the console's
        /// window and it cannot tell: never delivered, the device raises an alarm.
        case conflict = 4
        /// Version 2: the epoch (or heartbeat session) was replaced by a newer one from this device id: an old
        /// spool's replay, or a second device with this id. Never delivered, the device raises an alarm.
        case retired = 5
    }

    public struct Ack: Sendable, Equatable {
        public var status: AckStatus
        public var messageID: UInt64
        public var held: Int
        public var count: Int
        /// Version 2: the highest seq the console has written for this device and epoch (0: none).
        public var mark: UInt64 = 0
    }

    /// What a fragment's header says, authenticated (it is associated data).
    public struct Header: Sendable, Equatable {
        public var version = DNSTunnel.version
        public var kind: Kind
        /// Version 2: the sender's spool epoch (0 in version 1).
        public var epoch: UInt64 = 0
        public var messageID: UInt64
        /// Version 2: SHA-256 of the message bytes, first 8 bytes (0 in version 1).
        public var digest: UInt64 = 0
        public var index: Int
        public var count: Int

        public init(version: Int = DNSTunnel.version, kind: Kind, epoch: UInt64 = 0, messageID: UInt64, digest: UInt64 = 0,
                    index: Int, count: Int) {
            self.version = version
            self.kind = kind
            self.epoch = epoch
            self.messageID = messageID
            self.digest = digest
            self.index = index
            self.count = count
        }

        var bytes: [UInt8] {
            var out: [UInt8] = [UInt8(version << 4) | kind.rawValue]
            if version >= 2 { put64(&out, epoch) }
            put64(&out, messageID)
            if version >= 2 { put64(&out, digest) }
            out += [UInt8(index >> 8), UInt8(index & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
            return out
        }

        /// Nil unless `data` starts with a whole header of a known version and kind, with index < count <= max.
        init?(_ data: [UInt8]) {
            guard let first = data.first, let kind = Kind(rawValue: first & 0x0F) else { return nil }
            let version = Int(first >> 4)
            guard version == 1 || version == 2, data.count >= DNSTunnel.headerLength(version) else { return nil }
            self.version = version
            self.kind = kind
            var at = 1
            if version >= 2 { epoch = get64(data, at); at += 8 }
            messageID = get64(data, at); at += 8
            if version >= 2 { digest = get64(data, at); at += 8 }
            index = Int(data[at]) << 8 | Int(data[at + 1])
            count = Int(data[at + 2]) << 8 | Int(data[at + 3])
            guard (1...maxFragments).contains(count), index < count else { return nil }
        }
    }

    /// One fragment as the console reads it from a query name, authenticated and decrypted.
    public struct Fragment: Sendable, Equatable {
        public var header: Header
        public var nonce: [UInt8]
        public var plaintext: [UInt8]
        public var kind: Kind { header.kind }
        public var messageID: UInt64 { header.messageID }
        public var index: Int { header.index }
        public var count: Int { header.count }
    }

    static func put64(_ out: inout [UInt8], _ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func get64(_ data: [UInt8], _ at: Int) -> UInt64 {
        (at..<(at + 8)).reduce(0) { $0 << 8 | UInt64(data[$1]) }
    }

    /// The first 8 bytes of SHA-256 of the message bytes: what binds a fragment to its message.
    public static func digest(_ message: [UInt8]) -> UInt64 {
        var out = [UInt8](repeating: 0, count: 32)
        pit_sha256(message, message.count, &out)
        return get64(out, 0)
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
    public static func fragmentPayload(device: String, zone: DNSName, version: Int = DNSTunnel.version) -> Int? {
        let bytes = nameCapacity(device: device, zone: zone) * 5 / 8
        let payload = bytes - overhead(version)
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

    /// Version 2's message bytes: the seq of the event sent just before this one in the same delivery (0: none, or
    /// not an event), then `frame(body)`. The console writes an event only after that one, so a device may have
    /// many messages in flight and the console's output still goes in seq order.
    public static func message(_ body: [UInt8], after previous: UInt64 = 0) -> [UInt8] {
        var out: [UInt8] = []
        put64(&out, previous)
        return out + frame(body)
    }

    /// The previous seq and the body of version 2 message bytes; nil if they are malformed.
    public static func openMessage(_ message: [UInt8]) -> (previous: UInt64, body: [UInt8])? {
        guard message.count > 8, let body = unframe(Array(message[8...])) else { return nil }
        return (get64(message, 0), body)
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
    public static func queryName(_ header: Header, slice: [UInt8], device: String, zone: DNSName,
                                 key: [UInt8]) -> (name: DNSName, nonce: [UInt8]) {
        let headerBytes = header.bytes
        let nonce = EventID.randomBytes(nonceLength)
        let data: [UInt8]
        if header.version == 1 {
            let sealed = AEAD.seal(key: key, nonce: nonce,
                                   aad: associatedData("pit-dns/1", zone: zone, device: device, tail: headerBytes[...]),
                                   plaintext: slice)
            data = headerBytes + nonce + sealed
        } else {
            // Only the version is in the clear; kind, epoch, id, digest, index and count are sealed with the slice.
            let version = [UInt8(header.version << 4)]
            let sealed = AEAD.seal(key: key, nonce: nonce,
                                   aad: associatedData("pit-dns/\(header.version)", zone: zone, device: device, tail: version[...]),
                                   plaintext: headerBytes + slice)
            data = version + nonce + sealed
        }
        let name = DNSName(labels: labels(of: data) + [Array(device.utf8)] + zone.labels)
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
        guard let data = Base32.decode(text), data.count >= overhead(1) else { return nil }
        return (device, data)
    }

    /// Verifies and decrypts fragment bytes (either version) for `device` with its `key`.
    public static func openFragment(_ data: [UInt8], device: String, zone: DNSName, key: [UInt8]) throws(Rejection) -> Fragment {
        guard let first = data.first else { throw .malformed }
        if first >> 4 == 1 {
            guard let header = Header(data), data.count >= overhead(1) else { throw .malformed }
            let length = headerLength(1)
            let nonce = Array(data[length..<(length + nonceLength)])
            guard let plaintext = AEAD.open(key: key, nonce: nonce,
                                            aad: associatedData("pit-dns/1", zone: zone, device: device, tail: data[0..<length]),
                                            sealed: Array(data[(length + nonceLength)...])) else {
                throw .forged(device)
            }
            return Fragment(header: header, nonce: nonce, plaintext: plaintext)
        }
        guard first == 0x20, data.count >= overhead(2) else { throw .malformed }
        let nonce = Array(data[1..<(1 + nonceLength)])
        guard let plaintext = AEAD.open(key: key, nonce: nonce,
                                        aad: associatedData("pit-dns/2", zone: zone, device: device, tail: data[0..<1]),
                                        sealed: Array(data[(1 + nonceLength)...])) else {
            throw .forged(device)
        }
        // Sealed by the key's holder, yet checked like anything else from the network.
        guard let header = Header(plaintext), header.version == 2 else { throw .malformed }
        return Fragment(header: header, nonce: nonce, plaintext: Array(plaintext[headerLength(2)...]))
    }

    // MARK: Answers

    public static func sealAck(_ ack: Ack, version: Int = DNSTunnel.version, device: String, zone: DNSName, key: [UInt8],
                               queryNonce: [UInt8]) -> [UInt8] {
        var plain: [UInt8] = [ack.status.rawValue]
        put64(&plain, ack.messageID)
        plain += [UInt8(ack.held >> 8 & 0xFF), UInt8(ack.held & 0xFF), UInt8(ack.count >> 8 & 0xFF), UInt8(ack.count & 0xFF)]
        if version >= 2 { put64(&plain, ack.mark) }
        let nonce = EventID.randomBytes(nonceLength)
        let sealed = AEAD.seal(key: key, nonce: nonce, aad: associatedData("pit-dns-ack/\(version)", zone: zone, device: device,
                                                                           tail: queryNonce[...]),
                               plaintext: plain)
        return Base32.encode(nonce + sealed)
    }

    /// Reads an answer's TXT text; nil unless it verifies under `key` for the query sealed with `queryNonce`.
    public static func openAck(_ text: [UInt8], version: Int = DNSTunnel.version, device: String, zone: DNSName, key: [UInt8],
                               queryNonce: [UInt8]) -> Ack? {
        let length = version >= 2 ? 21 : 13
        guard let data = Base32.decode(text), data.count >= nonceLength + tagLength + length else { return nil }
        guard let plain = AEAD.open(key: key, nonce: Array(data[0..<nonceLength]),
                                    aad: associatedData("pit-dns-ack/\(version)", zone: zone, device: device, tail: queryNonce[...]),
                                    sealed: Array(data[nonceLength...])),
              plain.count >= length, let status = AckStatus(rawValue: plain[0]) else { return nil }
        return Ack(status: status, messageID: get64(plain, 1), held: Int(plain[9]) << 8 | Int(plain[10]),
                   count: Int(plain[11]) << 8 | Int(plain[12]), mark: version >= 2 ? get64(plain, 13) : 0)
    }

    // MARK: Keys

    /// A key file holds the 32-byte key as 64 hex digits, optionally followed by one newline; nothing else (a file
    /// of 32 raw bytes is refused: taken silently as a key, a truncated or garbled hex file would be one too).
    /// It must be a regular file not readable or writable by group or others: whoever reads it can forge the
    /// device's alerts (or, on the console, any answer to it). Errors name `file:line:column`.
    public static func readKey(_ path: String) throws(UplinkError) -> [UInt8] {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw UplinkError(operation: "read key_file", target: path,
                              reason: "mode \(String(st.st_mode & 0o777, radix: 8)) lets group or others at the key: chmod 600")
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.readRegularFile(path, limit: 4096, what: "a key file") } catch {
            throw UplinkError(operation: "read key_file", target: path, errno: error.errno,
                              reason: error.errno == nil ? error.description : nil)
        }
        return try parseKey(bytes, path: path)
    }

    static func parseKey(_ bytes: [UInt8], path: String) throws(UplinkError) -> [UInt8] {
        func fail(_ offset: Int, _ why: String) -> UplinkError {
            let line = bytes[..<min(offset, bytes.count)].filter { $0 == 0x0A }.count + 1
            let column = offset - (bytes[..<min(offset, bytes.count)].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
            return UplinkError(operation: "read key_file", target: "\(path):\(line):\(column)",
                               reason: why + "; a key file holds 64 hex digits and a newline (`pit console-dns keygen DEVICE` writes one)")
        }
        let end = bytes.last == 0x0A ? bytes.count - 1 : bytes.count
        if let bad = bytes[0..<end].firstIndex(where: { Hex.digit($0) == nil }) {
            if bad == keyLength * 2 && bytes[bad] == 0x0A { throw fail(bad + 1, "a second line (the key is the first)") }
            throw fail(bad, bytes.count == keyLength ? "32 bytes that are not hex digits (raw key bytes are not accepted)"
                                                     : "byte 0x\(String(bytes[bad], radix: 16)) is not a hex digit")
        }
        guard end == keyLength * 2, let key = Hex.decode(String(decoding: bytes[0..<end], as: UTF8.self)) else {
            throw fail(min(end, keyLength * 2), "\(end) hex digits, 64 needed")
        }
        return key
    }

    /// A new random key as a key file's text.
    public static func keyFileText() -> String { Hex.encode(EventID.randomBytes(keyLength)) + "\n" }
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
