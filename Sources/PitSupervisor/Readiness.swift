import Glibc
import PitProcess

/// Whether a jailed service is ready: for now, that it listens on its TCP port. Samba gives no readiness
/// notification, so Pit looks on a timer while the jail is starting (never once it runs).
///
/// Pit reads the kernel's socket table (/proc/PID/net/tcp and tcp6 of the jail's init, so a jail with a
/// network namespace of its own is looked at in that namespace) instead of connecting. A probe `connect` to
/// a port in the ephemeral range (32768-60999 by default) that nothing listens on yet can pick that very port
/// as its source and connect to itself (TCP simultaneous open): the probe then reports a service that is not
/// there, and the self-connected socket holds the port so the service's own bind fails with EADDRINUSE. That
/// happened with smbd on port 44700. Reading the table also leaves no connection in the service's logs.
public enum Readiness {
    static let retryMs: Int64 = 50

    /// True when a socket in LISTEN state is bound to `port` on `host` or on the wildcard address.
    public static func listening(pid: pid_t?, host: String = "127.0.0.1", port: UInt16) -> Bool {
        let base = pid.map { "/proc/\($0)/net" } ?? "/proc/self/net"
        let wanted = addressKeys(host)
        for table in ["tcp", "tcp6"] {
            guard let text = readText(base + "/" + table) else { continue }
            if listeningEntries(text).contains(where: { $0.port == port && wanted.contains($0.address) }) { return true }
        }
        return false
    }

    /// (local address, port) of the LISTEN rows of a /proc/net/tcp or tcp6 table. The address is the
    /// table's hex text, uppercased; the port is parsed.
    public static func listeningEntries(_ table: String) -> [(address: String, port: UInt16)] {
        var entries: [(address: String, port: UInt16)] = []
        for line in table.split(separator: "\n").dropFirst() {
            // "  0: 0100007F:AE9C 00000000:0000 0A ..." (sl, local, remote, state)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[3] == "0A" else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = UInt16(local[1], radix: 16) else { continue }
            entries.append((String(local[0]).uppercased(), port))
        }
        return entries
    }

    /// How the kernel prints `host` and the wildcard addresses in the tables: the address's bytes in memory
    /// order, each 32-bit word printed as a host-order integer (so byte-reversed on little-endian machines).
    static func addressKeys(_ host: String) -> Set<String> {
        var keys: Set<String> = [hex32(0), String(repeating: "0", count: 32)]   // 0.0.0.0 and ::
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            keys.insert(hex32(v4.s_addr))
            // ::ffff:a.b.c.d, where a dual-stack socket bound to the IPv4 address shows up in tcp6.
            keys.insert(hex32(0) + hex32(0) + hex32(UInt32(0xFFFF_0000).bigEndian) + hex32(v4.s_addr))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            keys.insert(withUnsafeBytes(of: &v6) { raw in
                (0..<4).map { hex32(raw.load(fromByteOffset: $0 * 4, as: UInt32.self)) }.joined()
            })
        }
        return keys
    }

    private static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
