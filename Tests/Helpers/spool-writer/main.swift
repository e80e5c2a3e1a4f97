import Glibc
import PitUplink

// spool-writer DIR COUNT [LIMIT_BYTES [LAG]]
//
// Appends COUNT events to the spool in DIR, cycling through every kind with messages of varying size, and prints
// "SEQ ID" for each one only after `append` has returned: a printed line means that event is durable. The crash
// test kills this process with SIGKILL at random moments and then checks every printed event is in the spool.
// With LAG, it also plays a transport that is LAG events behind: after each append it commits seq - LAG for
// "https", so a small LIMIT_BYTES makes the spool evict (and rewrite segments) while it is being killed.

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    emit("usage: spool-writer DIR COUNT [LIMIT_BYTES [LAG]]\n", to: 2)
    exit(2)
}
let limit = arguments.count > 3 ? Int(arguments[3]) ?? 0 : 64 << 20
let lag = arguments.count > 4 ? UInt64(arguments[4]) : nil

/// write(2) straight to the fd: stdio buffering would hold back lines for events already stored.
func emit(_ line: String, to fd: Int32 = 1) {
    var bytes = Array(line.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n > 0 { done += n } else if errno != EINTR { exit(3) }
    }
}

do {
    let spool = try Spool.open(directory: arguments[1], limitBytes: limit)
    let kinds = PitEvent.Kind.allCases
    let base = Int(spool.lastSeq)
    for i in 0..<count {
        let n = base + i
        let filler = String(repeating: "x", count: (n * 37) % 1500)
        var event = PitEvent(kind: kinds[n % kinds.count], jail: "smbd", message: "event \(n) \(filler)")
        if event.kind == .violation {
            event = .violation(jail: "smbd", pid: Int32(1000 + n % 5000), comm: "smbd", exe: "/usr/sbin/smbd",
                               arch: "x86_64", syscall: "ptrace", nr: 101, args: [UInt64(n), 0, 0, 0, 0, UInt64.max],
                               action: .kill, policy: "/etc/pit/smbd.policy", policyHash: "ab12",
                               message: "event \(n) \(filler)")
        }
        let stored = try spool.append(event)
        emit("\(stored.seq!) \(stored.id)\n")
        if let lag, stored.seq! > lag { try spool.commit(stored.seq! - lag, for: "https") }
    }
} catch {
    emit("spool-writer: \(error)\n", to: 2)
    exit(1)
}
