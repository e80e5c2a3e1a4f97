import CPitShim
import Glibc
import PitPolicy

/// How a jail ended, as `pit run` reports it.
public struct JailOutcome: Sendable {
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32, coreDumped: Bool)
    }
    public var ending: Ending
    public var timedOut: Bool
    /// Set when Pit itself killed the jail because it received this signal.
    public var interruptedBy: Int32?
    /// What the kernel's audit log said about seccomp kills by explicit KILL rules (rate-limited, may be empty).
    public var seccompKills: [SeccompAuditRecord]

    /// The exit status `pit run` returns: the command's, or 128+N when it was killed by signal N.
    public var exitStatus: Int32 {
        switch ending {
        case .exited(let code): return code
        case .signaled(let signal, _): return 128 + signal
        }
    }
}

/// A failure before the command started: in the parent (`JailError`) or reported by the child's setup.
public enum LaunchError: Error, CustomStringConvertible {
    case parent(JailError)
    case setup(String)
    public var description: String {
        switch self {
        case .parent(let error): return error.description
        case .setup(let line): return line
        }
    }
}

public enum Launcher {
    /// Starts the jail and waits for it, reporting each policy violation to `onViolation` as it happens.
    /// The caller must be single-threaded (checked): the child runs Swift between clone and execve.
    public static func run(_ spec: JailSpec, policy: JailPolicy?,
                           onViolation: (Violation) -> Void = { _ in }) throws(LaunchError) -> JailOutcome {
        let threads = threadCount()
        guard threads == 1 else {
            throw .parent(JailError("launch", detail: "the launcher must be single-threaded at clone (found \(threads) threads)"))
        }
        let cgroup: JailCgroup?
        do { cgroup = spec.limits.needsCgroup ? try JailCgroup.create(name: spec.name, limits: spec.limits) : nil } catch {
            throw .parent(error)
        }
        defer { cgroup?.remove() }

        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .parent(.sys("socketpair"))
        }
        let (parentEnd, childEnd) = (pair[0], pair[1])

        let audit = SeccompAudit.open()
        defer { audit?.close() }

        // Signals are blocked before clone and read from a signalfd in the monitor's poll loop.
        var watched = sigset_t(), previous = sigset_t()
        sigemptyset(&watched)
        let signals = [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        for sig in signals { sigaddset(&watched, sig) }
        pthread_sigmask(SIG_BLOCK, &watched, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let signalFD = signals.withUnsafeBufferPointer { pit_signalfd($0.baseAddress, Int32($0.count)) }
        guard signalFD >= 0 else { close(parentEnd); close(childEnd); throw .parent(.sys("signalfd")) }

        let pid = pit_clone_fork(UInt(spec.namespaces.cloneFlags))
        if pid == 0 {
            close(parentEnd)
            close(signalFD)
            enterJail(spec, policy: policy?.compiled, channel: childEnd)
        }
        close(childEnd)
        guard pid > 0 else { close(parentEnd); close(signalFD); throw .parent(.sys("clone")) }

        var monitor = JailMonitor(pid: pid, channel: parentEnd, signalFD: signalFD, policy: policy, timeLimit: spec.timeLimit)
        defer { monitor.close() }
        do throws(JailError) {
            try cgroup?.add(pid: pid)
            try spec.namespaces.writeIDMaps(pid: pid)
        } catch {
            kill(pid, SIGKILL)
            _ = monitor.reap()
            throw .parent(error)
        }
        var go: UInt8 = 1
        _ = send(parentEnd, &go, 1, Int32(MSG_NOSIGNAL))

        var outcome = try monitor.run(onViolation: onViolation)
        if let records = audit?.drain(), !records.isEmpty { outcome.seccompKills = records }
        return outcome
    }

    static func decode(_ status: Int32) -> JailOutcome.Ending {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal, coreDumped: status & 0x80 != 0)
    }

    static func threadCount() -> Int {
        guard let dir = opendir("/proc/self/task") else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}

/// The parent's side of a running jail: one poll loop over the setup channel, the seccomp listener and a
/// signalfd, with the time limit as the poll timeout. No sleeping, no busy loop.
struct JailMonitor {
    let pid: pid_t
    var channel: Int32
    let signalFD: Int32
    let policy: JailPolicy?
    let deadline: timespec?
    var listener: Int32 = -1
    var execDone = false
    var timedOut = false
    var interruptedBy: Int32?

    init(pid: pid_t, channel: Int32, signalFD: Int32, policy: JailPolicy?, timeLimit: Int?) {
        self.pid = pid
        self.channel = channel
        self.signalFD = signalFD
        self.policy = policy
        if let timeLimit {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            now.tv_sec += timeLimit
            deadline = now
        } else {
            deadline = nil
        }
    }

    mutating func run(onViolation: (Violation) -> Void) throws(LaunchError) -> JailOutcome {
        while true {
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: channel, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds())
            if ready < 0 && errno != EINTR { continue }
            if ready == 0, deadline != nil, !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
                continue
            }
            if fds[2].revents != 0 { serviceListener(onViolation) }
            if fds[1].revents != 0 { try readChannel() }
            if fds[0].revents != 0, let ending = readSignals() {
                // Violations still queued when init died belong to processes that are gone: nothing to answer.
                return JailOutcome(ending: ending, timedOut: timedOut, interruptedBy: interruptedBy, seccompKills: [])
            }
        }
    }

    private func timeoutMilliseconds() -> Int32 {
        guard let deadline, !timedOut else { return -1 }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1_000_000
        return Int32(max(0, min(ms, Int(Int32.max))))
    }

    /// Messages from the child's setup: `E<line>` a failed step, `L<fd>` the listener is about to exist at fd.
    /// End-of-file means execve closed the child's end: the command runs.
    private mutating func readChannel() throws(LaunchError) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { recv(channel, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
        if n < 0 { return }
        if n == 0 {
            execDone = true
            Glibc.close(channel)
            channel = -1
            return
        }
        let message = String(decoding: buffer[1..<n], as: UTF8.self)
        switch buffer[0] {
        case UInt8(ascii: "L"):
            listener = takeListener(at: Int32(message) ?? -1)
            if listener < 0 {
                kill(pid, SIGKILL)
                _ = reap()
                throw .parent(.sys("take seccomp listener", "/proc/\(pid)/fd/\(message)"))
            }
            var ok: UInt8 = 1
            _ = send(channel, &ok, 1, Int32(MSG_NOSIGNAL))
        default:
            _ = reap()
            throw .setup(message)
        }
    }

    /// The child announced the fd number its listener will get before loading the filter (after loading,
    /// any syscall of its own might be one the policy reports, with nobody yet to answer). pidfd_getfd
    /// copies it once the load has happened: a bounded wait of microseconds, once per jail start.
    private func takeListener(at number: Int32) -> Int32 {
        let pidfd = pit_pidfd_open(pid, 0)
        guard pidfd >= 0, number >= 0 else { return -1 }
        defer { Glibc.close(pidfd) }
        for _ in 0..<200_000 {
            let fd = pit_pidfd_getfd(pidfd, number)
            if fd >= 0 {
                if Self.isSeccompListener(fd) { return fd }
                Glibc.close(fd)
            } else if errno != EBADF {
                return -1
            }
            if kill(pid, 0) != 0 { return -1 }
            sched_yield()
        }
        errno = ETIMEDOUT
        return -1
    }

    private static func isSeccompListener(_ fd: Int32) -> Bool {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, 63)
        return n > 0 && String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("seccomp")
    }

    private mutating func serviceListener(_ onViolation: (Violation) -> Void) {
        var notification = pit_notification()
        guard pit_notif_recv(listener, &notification) == 0 else {
            if errno != ENOENT && errno != EINTR { Glibc.close(listener); listener = -1 }
            return
        }
        // Before execve every syscall of the init process is Pit's own setup code: let it through.
        if !execDone && notification.pid == UInt32(pid) {
            _ = pit_notif_respond(listener, notification.id, 0, 1)
            return
        }
        guard let policy else { return }
        let violation = Violation.read(notification, policy: policy)
        // The pid could have been reused while /proc was read: only trust it if the syscall still waits.
        guard pit_notif_id_valid(listener, notification.id) == 0 else { return }
        onViolation(violation)
        switch policy.outcome {
        case .errno(let code):
            _ = pit_notif_respond(listener, notification.id, code, 0)
        case .log, .allow:
            _ = pit_notif_respond(listener, notification.id, 0, 1)
        default:
            // KILL means the whole process (see JailPolicy). The answer after the kill is only a formality.
            kill(pid_t(notification.pid), SIGKILL)
            _ = pit_notif_respond(listener, notification.id, ENOSYS, 0)
        }
    }

    /// Drains the signalfd; returns the ending once the jail's init has been reaped.
    private mutating func readSignals() -> JailOutcome.Ending? {
        var ended: JailOutcome.Ending?
        while true {
            let signal = pit_signalfd_next(signalFD)
            if signal < 0 { break }
            if signal == SIGCHLD {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { ended = Launcher.decode(status) }
            } else {
                // The jail's init ignores signals it has no handler for; Pit ends it the only sure way.
                interruptedBy = signal
                kill(pid, SIGKILL)
            }
        }
        return ended
    }

    func reap() -> JailOutcome.Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Launcher.decode(status)
    }

    func close() {
        if channel >= 0 { Glibc.close(channel) }
        if listener >= 0 { Glibc.close(listener) }
        Glibc.close(signalFD)
    }
}
