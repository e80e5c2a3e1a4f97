import Glibc
import XCTest
@testable import PitUplink

/// A fresh directory under /tmp for one test, removed afterwards.
final class TemporaryDirectory {
    let path: String
    init(_ name: String = "pit-uplink") {
        var template = Array("/tmp/\(name).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp: \(String(cString: strerror(errno)))")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    deinit { _ = Shell.run(["/bin/rm", "-rf", path]) }
    var spool: String { path + "/spool" }
}

enum Files {
    /// The file's bytes. With `orEmpty`, none when it cannot be opened (a /proc entry of a process that just
    /// exited) instead of stopping the test process.
    static func read(_ path: String, orEmpty: Bool = false) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 && orEmpty { return [] }
        precondition(fd >= 0, "open \(path)")
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 65536) }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0o600)
        precondition(fd >= 0, "open \(path)")
        defer { close(fd) }
        precondition(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    static func size(_ path: String) -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        return Int(lseek(fd, 0, SEEK_END))
    }

    static func list(_ directory: String) -> [String] {
        (try? FileIO.list(directory)) ?? []
    }

    static func segments(_ directory: String) -> [String] {
        list(directory).filter { $0.hasSuffix(".log") }.map { directory + "/" + $0 }
    }
}

struct Captured {
    var status: Int32
    var stdout: String
}

/// Real processes through posix_spawn, stdout captured.
enum Shell {
    struct Child { var pid: pid_t; var stdout: Int32 }

    static func spawn(_ argv: [String]) -> Child {
        var out: [Int32] = [0, 0]
        precondition(pipe(&out) == 0)
        _ = fcntl(out[0], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, env)
        precondition(rc == 0, "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))")
        posix_spawn_file_actions_destroy(&actions)
        close(out[1])
        cArgs.forEach { free($0) }
        env.forEach { free($0) }
        return Child(pid: pid, stdout: out[0])
    }

    /// Everything the child writes until it closes stdout (exits or dies).
    static func drain(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 65536) }
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        close(fd)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static func run(_ argv: [String]) -> Captured {
        let child = spawn(argv)
        let out = drain(child.stdout)
        return Captured(status: wait(child.pid), stdout: out)
    }

    /// An executable built next to the test bundle (the directory holding the *.xctest ancestor of this process).
    static func built(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var parts = exe.split(separator: "/").map(String.init)
        while let last = parts.last, !last.hasSuffix(".xctest"), parts.count > 1 { parts.removeLast() }
        parts.removeLast()
        return "/" + parts.joined(separator: "/") + "/" + name
    }
}

/// A small deterministic PRNG (SplitMix64) so a failing crash run can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An event of each kind with every field its kind uses filled in.
func sampleEvents() -> [PitEvent] {
    let violation = PitEvent.violation(jail: "smbd", pid: 4242, comm: "smbd", exe: "/usr/sbin/smbd", arch: "x86_64",
                                       syscall: "ptrace", nr: 101, args: [1, 2, 3, 4, 5, UInt64.max], action: .kill,
                                       policy: "/etc/pit/smbd.policy", policyHash: String(repeating: "ab", count: 32),
                                       device: "canary-01")
    return [
        violation,
        .serviceExit(jail: "nmbd", exitStatus: 1, message: "exited"),
        .restart(jail: "smbd", restarts: 3, signal: 9, message: "restarting in 2s"),
        .crashLoop(jail: "smbd", restarts: 5, exitStatus: 127, message: "5 restarts in 60s"),
        .watchdogReset(message: "previous boot ended by watchdog", details: ["reset_reason": "wdt"]),
        .configError(message: "smbd.toml:3:1: unknown key", details: ["file": "/etc/pit/smbd.toml", "line": "3"]),
        .smbAccess(user: "alice", client: "192.0.2.7", share: "finance", file: "Q3/payroll.xlsx", operation: "open",
                   status: "ok"),
        .smbLogon(user: "administrator", domain: "ACME", workstation: "KALI", client: "192.0.2.7", clientPort: 50123,
                  status: "NT_STATUS_NO_SUCH_USER", success: false, guest: true),
        .smbEnumeration(user: "", domain: "", workstation: "KALI", client: "192.0.2.7", clientPort: 50124, share: "IPC$",
                        operation: "pipe_open"),
        .uplinkTest(message: "test from the web page"),
        .boot(message: "pit 1.0 started", details: ["version": "1.0", "kernel": "6.1"]),
        .safeMode(message: "three crash loops since boot", details: ["since": "2026-11-29T01:00:00.000Z"]),
        PitEvent(kind: .health, message: "health failed past the grace: watchdog no longer fed"),
        PitEvent(kind: .configApplied, message: "configuration reloaded from /etc/pit/device.toml"),
        PitEvent(kind: .controlRefused, message: "control socket: refused pid 4242 (sh) is in the jail cgroup /pit-smbd-17"),
        PitEvent(kind: .spoolDamage, message: "spool damaged: 0000000002.log: 312 damaged bytes at offset 4096",
                 details: ["bytes": "312", "lost_seqs": "1", "lost": "109"]),
        PitEvent(kind: .violationsSuppressed, jail: "smbd", message: "smbd: 19990 more violations in 60 s counted, not recorded one by one: bpf 19990",
                 details: ["bpf": "19990"]),
        {
            var e = PitEvent(kind: .smbAlertsSuppressed, jail: "smbd", message: "smbd: 4980 more SMB alerts from 192.0.2.7 in 60 s counted, not recorded one by one: smb_logon 4980",
                             details: ["smb_logon": "4980"])
            e.client = "192.0.2.7"
            return e
        }(),
        .runtimeFault(.watchdog, message: "watchdog keepalive: /dev/watchdog0: Input/output error"),
        {
            var e = PitEvent(kind: .decoyAccess, jail: "decoy-web", message: "192.0.2.7:51000 \"POST\" \"/login\" as \"admin\"")
            e.client = "192.0.2.7"
            e.clientPort = 51000
            e.operation = "POST"
            e.file = "/login"
            e.user = "admin"
            return e
        }(),
        PitEvent(kind: .uplinkAlarm, message: "uplink console: the console holds another message as seq 3",
                 details: ["transport": "console"]),
        PitEvent(kind: .dhcpLease, message: "DHCP lease 192.0.2.50/24 from 192.0.2.1 on eth0 for 3600 s",
                 details: ["address": "192.0.2.50/24", "server": "192.0.2.1", "lease_seconds": "3600", "renewed": "false",
                           "routes": "0.0.0.0/0 via 192.0.2.1", "dns": "192.0.2.53"]),
        PitEvent(kind: .dhcpLost, message: "DHCP lease 192.0.2.50/24 on eth0 lost: lease expired unrenewed",
                 details: ["address": "192.0.2.50/24", "server": "192.0.2.1", "reason": "lease expired unrenewed"]),
    ]
}

/// Opens a spool, runs `body`, and closes it (releasing the lock) before returning.
func withSpool<T>(_ directory: String, limit: Int = 1 << 20, _ body: (Spool) throws -> T) throws -> T {
    let spool = try Spool.open(directory: directory, limitBytes: limit)
    return try body(spool)
}
