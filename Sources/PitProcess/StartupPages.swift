import Glibc

/// Gives the start-up code's pages back once a long-running Pit process (the supervisor, the uplink agent, a
/// `pit run` waiting for its command) is up.
///
/// `pit` is one static executable (jail engine, policy compiler, TOML, uplink, TLS) and start-up touches a lot
/// of it: parsing configs and policies, launching jails, initialising TLS. The kernel maps those pages, and 64 KiB
/// around each fault, and they stay mapped for the life of the process, although idle it runs a few pages of its
/// loop. Once, after start-up, this drops them from the process: executable text with MADV_DONTNEED (text is
/// never written, so this only unmaps; it works even while the supervisor and the agent map the same pages, where
/// MADV_PAGEOUT skips them), the other file mappings with MADV_PAGEOUT (Linux 5.4; it never discards written
/// data: relocated read-only data and written data pages are anonymous copies it leaves alone without swap).
/// What the loop needs faults back in from the page cache. The page cache itself is the kernel's: on a read-only
/// flash root (squashfs) it is reclaimed under pressure; on an initramfs (ramfs) the file stays in RAM anyway.
public enum StartupPages {
    static let madvPageout: Int32 = 21   // MADV_PAGEOUT, not in every libc's headers
    static let madvDontneed: Int32 = 4

    /// Drops this executable's own mappings as above; returns the bytes advised, or an error text.
    public static func release() -> Result<Int, StartupPagesError> {
        var exe = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard length > 0 else { return .failure(StartupPagesError("readlink /proc/self/exe: \(String(cString: strerror(errno)))")) }
        let path = String(decoding: exe[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let maps = fopen("/proc/self/maps", "r") else {
            return .failure(StartupPagesError("/proc/self/maps: \(String(cString: strerror(errno)))"))
        }
        // Collect first, advise last: parsing after the text is dropped would fault the parser straight back in.
        var ranges: [(address: UnsafeMutableRawPointer, length: Int, textOnly: Bool)] = []
        var line = [CChar](repeating: 0, count: 4096 + 256)
        while fgets(&line, Int32(line.count), maps) != nil {
            // "00400000-0114b000 r-xp 00000000 fe:01 1234   /path/to/pit"
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(separator: " ", omittingEmptySubsequences: true)
            guard text.count >= 6, text[5].hasSuffix("\n") ? text[5].dropLast() == path : text[5] == path else { continue }
            let range = text[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            // "r-xp": text, read-only and never written. Anything writable or once written (RELRO) is left to
            // MADV_PAGEOUT, which cannot lose data.
            ranges.append((address, Int(end - start), text[1] == "r-xp"))
        }
        fclose(maps)
        var advised = 0
        for range in ranges {
            if madvise(range.address, range.length, range.textOnly ? madvDontneed : madvPageout) != 0 {
                return .failure(StartupPagesError("madvise(\(range.textOnly ? "MADV_DONTNEED" : "MADV_PAGEOUT")): \(String(cString: strerror(errno)))"))
            }
            advised += range.length
        }
        return .success(advised)
    }
}

public struct StartupPagesError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
