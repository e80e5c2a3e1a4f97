import Glibc

/// Gives the start-up code's pages back once the device is up.
///
/// `pit` is one static executable (jail engine, policy compiler, TOML, uplink, TLS) and start-up touches a lot
/// of it: parsing configs and policies, launching jails. The kernel maps those text pages, and 64 KiB around
/// each fault, and they stay resident for the life of the supervisor, although idle it runs a few pages of
/// its loop. This asks the kernel to reclaim our file-backed pages once (`MADV_PAGEOUT`, Linux 5.4); what the
/// loop needs faults back in from the page cache. On a read-only flash root (squashfs, the usual appliance
/// root) that really frees the RAM; on an initramfs (ramfs) the pages stay in memory and only the RSS drops.
enum StartupPages {
    static let madvPageout: Int32 = 21   // MADV_PAGEOUT, not in every libc's headers

    /// Pages out this executable's own mappings; returns the bytes advised, or an error text.
    static func release() -> Result<Int, StartupPagesError> {
        var exe = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &exe, exe.count - 1)
        guard length > 0 else { return .failure(StartupPagesError("readlink /proc/self/exe: \(String(cString: strerror(errno)))")) }
        let path = String(decoding: exe[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let maps = fopen("/proc/self/maps", "r") else {
            return .failure(StartupPagesError("/proc/self/maps: \(String(cString: strerror(errno)))"))
        }
        defer { fclose(maps) }
        var advised = 0
        var line = [CChar](repeating: 0, count: 4096 + 256)
        while fgets(&line, Int32(line.count), maps) != nil {
            // "00400000-0114b000 r-xp 00000000 fe:01 1234   /path/to/pit"
            let text = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
            guard text.count >= 6, text[5].hasSuffix("\n") ? text[5].dropLast() == path : text[5] == path else { continue }
            let range = text[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(address, Int(end - start), madvPageout) != 0 {
                return .failure(StartupPagesError("madvise(MADV_PAGEOUT): \(String(cString: strerror(errno)))"))
            }
            advised += Int(end - start)
        }
        return .success(advised)
    }
}

struct StartupPagesError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
