import Glibc
import PitProcess

/// The scheduler state of a jail's init, from /proc/PID/stat: whether a signal has stopped it.
///
/// A stopped smbd (SIGSTOP, or a debugger's stop) keeps its pid, its cgroup and its listening socket, whose
/// backlog still completes TCP handshakes: neither the pidfd nor the socket table shows that nothing is
/// answered. The state letter does: `T` (stopped by a signal) or `t` (stopped by a tracer).
enum ProcessState {
    /// True when `pid` exists and is stopped. The command name in the line is the jail's to choose (up to 15
    /// bytes, any of them ')' or a space), so the state is the field after the last ')'.
    static func stopped(_ pid: pid_t?) -> Bool {
        guard let pid, let text = readText("/proc/\(pid)/stat", limit: 1024) else { return false }
        return state(inStat: text).map { $0 == "T" || $0 == "t" } ?? false
    }

    /// The state letter of a /proc/PID/stat line, or nil when the line has no `) S ` part.
    static func state(inStat line: String) -> Character? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let rest = line[line.index(after: close)...]
        guard rest.first == " ", rest.count >= 2 else { return nil }
        return rest[rest.index(after: rest.startIndex)]
    }
}
