import Glibc

/// The shipped Samba jails (policies/samba) pointed at a scratch tree, for the tests that run them without the
/// supervisor's SambaTree (PitJailTests, and PitSupervisorTests without a persona).
public enum SambaScratch {
    /// The package's policies/samba: Tests/PitTestSupport/<file> -> the package root.
    public static let policies = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/policies/samba"

    /// The named pipes smbd.toml binds from samba-dcerpcd's directory (SambaTree.forwardedPipes).
    public static let pipes = ["srvsvc", "wkssvc", "lsarpc"]

    /// The shipped spec of `daemon` (smbd, nmbd, dcerpcd), its /run/pit-samba paths swapped for `root` and its
    /// policy named by its full path.
    public static func spec(_ daemon: String, root: String) -> String {
        (readText(policies + "/\(daemon).toml") ?? "").replacingAll("/run/pit-samba", root)
            .replacingAll("policy = \"\(daemon).policy\"", "policy = \"\(policies)/\(daemon).policy\"")
    }

    /// Writes, under `root`, what the shipped smbd jail binds, as SambaTree makes it: etc/ with the shipped
    /// smb.conf serving `port` (passed through `conf` first), a passwd and group with root and nobody, hosts
    /// naming this machine and an nsswitch.conf reading files; data/ with the directories smb.conf names and an
    /// empty share "share"; and a placeholder per forwarded pipe both in `pipes` (samba-dcerpcd's directory,
    /// bound over) and in data/run/ncalrpc/np. Returns the smb.conf written.
    @discardableResult
    public static func writeTree(root: String, port: Int, pipes pipeDirectory: String, conf: (String) -> String = { $0 }) -> String {
        for sub in ["", "/etc", "/data", "/data/shares", "/data/shares/share", "/data/lock", "/data/state", "/data/cache", "/data/private",
                    "/data/pid", "/data/ncalrpc", "/data/log", "/data/run", "/data/run/ncalrpc", "/data/run/ncalrpc/np"] {
            mkdir(root + sub, 0o755)
        }
        var built = ""
        for part in pipeDirectory.split(separator: "/") { built += "/" + part; _ = mkdir(built, 0o755) }
        let smbConf = conf((readText(policies + "/smb.conf.template") ?? "").replacingAll("@PORT@", String(port)))
        write(root + "/etc/smb.conf", smbConf)
        write(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        write(root + "/etc/group", "root:x:0:\nnogroup:x:65534:\n")
        write(root + "/etc/hosts", "127.0.0.1 localhost \((readText("/proc/sys/kernel/hostname") ?? "").filter { $0 != "\n" })\n")
        write(root + "/etc/nsswitch.conf", "hosts: files\npasswd: files\ngroup: files\n")
        for pipe in pipes {
            write(pipeDirectory + "/" + pipe, "")
            write(root + "/data/run/ncalrpc/np/" + pipe, "")
        }
        return smbConf
    }

    private static func write(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "open \(path): \(String(cString: strerror(errno)))")
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// `chown -R id:id path`: a tree handed to a jail whose root is host uid `id` (its user namespace), as the
/// supervisor hands it. False when chown fails.
public func chownTree(_ path: String, to id: Int) -> Bool {
    Process.run(["/bin/chown", "-R", "\(id):\(id)", path]).status == 0
}

/// Two named network namespaces, `device` and `client`, joined by a veth pair: `nic` in device (loopback up there
/// too; its address is the test's or the persona's to give) and `peer` in client, 192.0.2.20/24 and up. Every
/// `ip` command that failed is in `failures` (the caller asserts it empty). `remove()` (or deinit) deletes both
/// namespaces, and the pair if it never left the host's, whatever step a failure stopped at.
public final class VethNamespaces {
    public let device: String, client: String, nic: String, peer: String
    public private(set) var failures: [String] = []

    public init(device: String, client: String, nic: String, peer: String) {
        (self.device, self.client, self.nic, self.peer) = (device, client, nic, peer)
        ip(["netns", "add", device]); ip(["netns", "add", client])
        ip(["link", "add", nic, "type", "veth", "peer", "name", peer])
        ip(["link", "set", nic, "netns", device]); ip(["link", "set", peer, "netns", client])
        ip(["-n", client, "addr", "add", "192.0.2.20/24", "dev", peer]); ip(["-n", client, "link", "set", peer, "up"])
        ip(["-n", device, "link", "set", "lo", "up"])
    }

    /// `ip ARGS`, its failure recorded.
    public func ip(_ args: [String]) {
        let r = Process.run(["/usr/sbin/ip"] + args)
        if r.status != 0 { failures.append("ip \(args.joined(separator: " ")): \(r.stderr)") }
    }

    /// `argv` run in the namespace `name` (nsenter, not `ip netns exec`: the latter remounts /sys for the namespace).
    public static func enter(_ name: String) -> [String] { ["/usr/bin/nsenter", "--net=/run/netns/" + name] }

    public func inClient(_ argv: [String]) -> Captured { Process.run(Self.enter(client) + argv) }

    public func remove() {
        for name in [device, client] where fileExists("/run/netns/" + name) { _ = Process.run(["/usr/sbin/ip", "netns", "del", name]) }
        if fileExists("/sys/class/net/" + nic) { _ = Process.run(["/usr/sbin/ip", "link", "del", nic]) }
    }

    deinit { remove() }
}
