import CPersonaShim
import Glibc

/// The persona interface's carrier, as rtnetlink announces it (RTMGRP_LINK): the supervisor's loop watches the fd
/// and asks `carrierChanges()` when it is readable, so a cable unplugged and plugged in again (maybe into another
/// network) reaches the DHCP client without polling.
public final class LinkWatch {
    public let fd: Int32
    public let index: Int32
    /// The last carrier state seen (IFF_LOWER_UP).
    public private(set) var carrier: Bool

    public init(interface: String) throws(PersonaError) {
        var socket = try NetlinkSocket()
        let link = try RouteNetlink.link(named: interface, on: &socket)
        index = link.index
        carrier = link.hasCarrier
        fd = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw PersonaError(operation: "socket(NETLINK_ROUTE)", target: interface, errno: errno) }
        var local = sockaddr_nl()
        local.nl_family = sa_family_t(AF_NETLINK)
        local.nl_groups = 1   // RTMGRP_LINK
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
        }
        if bound != 0 {
            let code = errno
            close(fd)
            throw PersonaError(operation: "bind(RTMGRP_LINK)", target: interface, errno: code)
        }
    }

    deinit { close(fd) }

    /// Reads what is queued (at most 64 datagrams per call) and returns the carrier edges of this interface, in
    /// order: `[false, true]` for a down and up seen together. A queue overrun (ENOBUFS) is answered with the
    /// state read afresh, so an edge lost in a flood is still reported.
    public func carrierChanges(interface: String) -> [Bool] {
        var edges: [Bool] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == ENOBUFS, let now = try? Self.readCarrier(interface), now != carrier {
                    carrier = now
                    edges.append(now)
                    continue
                }
                break
            }
            var offset = 0
            while offset + 16 <= n {
                let length = Int(Netlink.read32(buffer, offset))
                guard length >= 16, offset + length <= n else { break }
                let type = Netlink.read16(buffer, offset + 4)
                let payload = Array(buffer[(offset + 16)..<(offset + length)])
                offset += Netlink.align(length)
                guard type == UInt16(RTM_NEWLINK), let info = NetlinkMessage(type: type, flags: 0, sequence: 0, payload: payload).header(ifinfomsg.self),
                      info.ifi_index == index else { continue }
                let now = info.ifi_flags & (1 << 16) != 0
                if now != carrier {
                    carrier = now
                    edges.append(now)
                }
            }
        }
        return edges
    }

    static func readCarrier(_ interface: String) throws(PersonaError) -> Bool {
        var socket = try NetlinkSocket()
        return try RouteNetlink.link(named: interface, on: &socket).hasCarrier
    }
}
