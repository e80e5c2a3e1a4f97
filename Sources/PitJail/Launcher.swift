import CPitShim
import Glibc
import PitPolicy
import PitProcess

/// How a jail ended.
public struct JailOutcome: Sendable {
    public enum Ending: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32, coreDumped: Bool)

        /// The status a shell would show: the exit code, or 128+N when killed by signal N.
        public var exitStatus: Int32 {
            switch self {
            case .exited(let code): return code
            case .signaled(let signal, _): return 128 + signal
            }
        }

        public var description: String {
            switch self {
            case .exited(let code): return "exited with status \(code)"
            case .signaled(let signal, let core): return "killed by signal \(signal)\(core ? " (core dumped)" : "")"
            }
        }
    }
    public var ending: Ending
    public var timedOut: Bool
    /// Set when Pit itself killed the jail because it received this signal.
    public var interruptedBy: Int32?
    /// What the kernel's audit log said about seccomp kills by explicit KILL rules (rate-limited, may be empty).
    public var seccompKills: [SeccompAuditRecord]

    public var exitStatus: Int32 { ending.exitStatus }
}

/// A failure before the command started: in the parent (`JailError`) or reported by the child's setup.
public enum LaunchError: Error, CustomStringConvertible {
    case parent(JailError)
    case setup(JailError)
    public var description: String {
        switch self {
        case .parent(let error), .setup(let error): return error.description
        }
    }
}

public enum Launcher {
    /// Starts a jail and returns once its command has been exec'd (or throws what went wrong before).
    /// The caller should block SIGCHLD if it wants to learn about the exit through a signalfd. The child
    /// runs no Swift (see `isolationProgram`), so the caller may have other threads.
    /// `onViolation` already applies while waiting for the exec: the jailed command may run (and fork, and
    /// trip the policy) before this parent has read the end-of-file that marks the exec.
    /// `beforeExec` runs in the parent after clone, while the child works, and before the child can execve:
    /// with a listener after the child was let go (it still waits for the parent to take the listener), which
    /// keeps the parent's work off the child's way; otherwise before the child is let go.
    /// `untilExec: false` returns as soon as the child needs nothing more from the parent (it was let go, and
    /// holds no listener Pit must take), without waiting for the exec: the caller then must call
    /// `confirmExec()` once it has reaped the init, which reports a step that failed after that point.
    /// `streams` are the jail's 0-2 (nil: the caller's own).
    public static func start(_ spec: JailSpec, policy: JailPolicy?, untilExec: Bool = true, streams: StandardStreams? = nil,
                             onViolation: (Violation) -> Void = { _ in },
                             beforeExec: (RunningJail) -> Void = { _ in }) throws(LaunchError) -> RunningJail {
        if let streams, !streams.valid {
            throw .parent(JailError("launch", detail: "the jail's stdin/stdout/stderr must be fds above 2"))
        }
        let cgroup: JailCgroup?
        do { cgroup = spec.limits.needsCgroup ? try JailCgroup.create(name: spec.name, limits: spec.limits) : nil } catch {
            throw .parent(error)
        }
        var pair: (Int32, Int32) = (-1, -1)
        let paired = withUnsafeMutableBytes(of: &pair) {
            socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        guard paired == 0 else {
            cgroup?.remove()
            throw .parent(.sys("socketpair"))
        }
        let (parentEnd, childEnd) = pair
        let program = isolationProgram(spec, policy: policy?.compiled, channel: childEnd, parentEnd: parentEnd, streams: streams)
        guard program.slotsNeeded <= PIT_CHILD_SLOTS, let image = ChildImage(program) else {
            let error = program.slotsNeeded > PIT_CHILD_SLOTS
                ? JailError("launch", detail: "the jail needs more than \(PIT_CHILD_SLOTS) open files at once while it is built")
                : JailError.sys("mmap", "the jail's child program")
            close(parentEnd); close(childEnd)
            cgroup?.remove()
            throw .parent(error)
        }
        do throws(JailError) { try spec.namespaces.openLowPorts() } catch {
            close(parentEnd); close(childEnd)
            cgroup?.remove()
            throw .parent(error)
        }
        // A jail under a memory limit never shares Pit's memory while it is in that cgroup (ChildImage.spawn).
        let pid = image.spawn(flags: spec.namespaces.cloneFlags, ownMemory: spec.limits.memoryMax != nil)
        close(childEnd)
        guard pid > 0 else {
            close(parentEnd)
            cgroup?.remove()
            throw .parent(.sys("clone"))
        }
        // The child works on its mounts meanwhile; it waits for our byte before it leaves the parent's cgroup view.
        let jail = RunningJail(name: spec.name, pid: pid, cgroup: cgroup, policy: policy, image: image)
        do throws(JailError) {
            try cgroup?.add(pid: pid)
            try spec.namespaces.writeIDMaps(pid: pid)
            if let adj = spec.limits.oomScoreAdj { try writeFile("/proc/\(pid)/oom_score_adj", "\(adj)\n", step: "write oom_score_adj") }
            // Before the go byte: the jail's init, and whatever it starts, runs at this priority from its first step.
            if let nice = spec.limits.niceLevel, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), nice) != 0 {
                throw JailError.sys("setpriority", "\(nice)")
            }
        } catch {
            close(parentEnd)
            jail.kill()
            _ = jail.reap()
            throw .parent(error)
        }
        let childWaitsForListener = policy?.compiled.needsListener == true
        if !childWaitsForListener { beforeExec(jail) }
        var go: UInt8 = 1
        _ = send(parentEnd, &go, 1, Int32(MSG_NOSIGNAL))
        if childWaitsForListener { beforeExec(jail) }
        do throws(LaunchError) {
            try jail.awaitExec(channel: parentEnd, program: program, untilExec: untilExec,
                               listenerExpected: childWaitsForListener, onViolation: onViolation)
        } catch {
            jail.kill()
            _ = jail.reap()
            throw error
        }
        return jail
    }

    /// `pit run`: starts the jail and waits for it, reporting each violation to `onViolation` as it happens.
    /// One poll loop over a signalfd and the seccomp listener, the time limit as its timeout.
    /// `onSettled` runs once, when the command has been running for `settleMs` without anything to do for the
    /// parent (a command that ends sooner never triggers it).
    public static func run(_ spec: JailSpec, policy: JailPolicy?,
                           settleMs: Int32 = 100, onSettled: () -> Void = {},
                           onViolation: (Violation) -> Void = { _ in }) throws(LaunchError) -> JailOutcome {
        var audit: SeccompAudit?
        defer { audit?.close() }
        var watched = sigset_t(), previous = sigset_t()
        sigemptyset(&watched)
        let signals = [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        for sig in signals { sigaddset(&watched, sig) }
        pthread_sigmask(SIG_BLOCK, &watched, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let signalFD = signals.withUnsafeBufferPointer { pit_signalfd($0.baseAddress, Int32($0.count)) }
        guard signalFD >= 0 else { throw .parent(.sys("signalfd")) }
        defer { close(signalFD) }

        // Only a filter that kills by itself (explicit KILL rules, or a bad architecture without a listener)
        // needs the kernel log to name what it killed; everything else is reported through the listener.
        // Opening the log walks its whole ring (~100 microseconds here): done while the child works, not while it
        // unmounts the old root (that waits for every CPU to pass an RCU grace period).
        // Not until the exec: its end-of-file would only wake Pit in the middle of the command's start.
        let jail = try start(spec, policy: policy, untilExec: false, onViolation: onViolation, beforeExec: { _ in
            if policy?.compiled.killsInKernel == true { audit = SeccompAudit.open() }
        })
        defer { jail.close() }
        var settled = false
        var deadline: Int64 = 0
        if let limit = spec.timeLimit {   // no clock read otherwise: its first one faults in the vDSO's data page
            deadline = monotonicMilliseconds() + Int64(limit) * 1000
        }
        var timedOut = false
        var interruptedBy: Int32?
        while true {
            var timeout: Int32 = spec.timeLimit == nil || timedOut ? -1 : milliseconds(until: deadline)
            if !settled && (timeout < 0 || timeout > settleMs) { timeout = settleMs }
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: jail.listener, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, timeout)
            if ready == 0 && !settled && timeout == settleMs {
                settled = true
                onSettled()
                continue
            }
            if ready == 0 && spec.timeLimit != nil && !timedOut {
                timedOut = true
                jail.kill()
                continue
            }
            if fds[1].revents != 0 { jail.serviceListener(onViolation) }
            guard fds[0].revents != 0 else { continue }
            while true {
                let signal = pit_signalfd_next(signalFD)
                if signal < 0 { break }
                if signal != SIGCHLD {
                    // The jail's init ignores signals it has no handler for; Pit ends it the only sure way.
                    interruptedBy = signal
                    jail.kill()
                }
            }
            if let ending = jail.reap(nonblocking: true) {
                try jail.confirmExec()
                var outcome = JailOutcome(ending: ending, timedOut: timedOut, interruptedBy: interruptedBy, seccompKills: [])
                if let records = audit?.drain(), !records.isEmpty { outcome.seccompKills = records }
                return outcome
            }
        }
    }

    static func milliseconds(until deadline: Int64) -> Int32 {
        Int32(max(0, min(deadline - monotonicMilliseconds(), Int64(Int32.max))))
    }

    /// "exited with status N" / "killed by signal N", for a raw wait status.
    public static func describe(_ status: Int32) -> String { decode(status).description }

    static func decode(_ status: Int32) -> JailOutcome.Ending {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal, coreDumped: status & 0x80 != 0)
    }
}

/// A started jail, as its parent holds it: the init's pid and pidfd, the seccomp listener when the policy
/// reports violations, and the cgroup to remove once it has been reaped.
public final class RunningJail {
    public let name: String
    public let pid: pid_t
    /// Readable when the init exits: what an event loop waits on (-1 once closed).
    public private(set) var pidfd: Int32
    /// The seccomp user-notification fd, or -1: readable when a process of the jail made a reported syscall.
    public private(set) var listener: Int32 = -1
    public let policy: JailPolicy?
    let cgroup: JailCgroup?
    private var execDone = false
    /// The setup channel until the exec is known: its end-of-file is the exec's moment. Owned here.
    private var setupChannel: Int32 = -1
    /// What words a failure report still to come on the setup channel (see `confirmExec`).
    private var setupProgram: ChildProgram?
    private var reaped = false
    /// Pit killed the init for breaking the policy: see `violationEnding`.
    private var initKilledForViolation = false
    /// The child's program and stack, in use until it has exec'd or exited.
    private var image: ChildImage?

    init(name: String, pid: pid_t, cgroup: JailCgroup?, policy: JailPolicy?, image: ChildImage?) {
        self.image = image
        self.name = name
        self.pid = pid
        self.cgroup = cgroup
        self.policy = policy
        self.pidfd = pit_pidfd_open(pid, 0)
    }

    /// Kills the whole jail: SIGKILL to its init takes every process of its PID namespace with it.
    public func kill(_ signal: Int32 = SIGKILL) {
        guard !reaped else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Collects the init's exit status (nil while it runs, when `nonblocking`), then removes the cgroup.
    public func reap(nonblocking: Bool = false) -> JailOutcome.Ending? {
        guard !reaped else { return nil }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, nonblocking ? WNOHANG : 0) } while result < 0 && errno == EINTR
        guard result == pid else { return nil }
        reaped = true
        image = nil
        cgroup?.remove()
        return violationEnding(Launcher.decode(status))
    }

    /// The jail's command, killed for breaking a KILL policy, ends as the kernel's own seccomp kill (and NsJail)
    /// would end it: by SIGSYS, so `pit run` exits 159, not the 137 of a time-out. Pit killed it with SIGKILL
    /// (see `serviceListener`), the only signal it can force; this tells the ending as what it was.
    private func violationEnding(_ ending: JailOutcome.Ending) -> JailOutcome.Ending {
        if initKilledForViolation, case .signaled(SIGKILL, _) = ending { return .signaled(SIGSYS, coreDumped: false) }
        return ending
    }

    /// For a supervisor that reaped the init itself (waitpid(-1) as a subreaper): record the status.
    public func reaped(status: Int32) -> JailOutcome.Ending {
        reaped = true
        image = nil
        cgroup?.remove()
        return violationEnding(Launcher.decode(status))
    }

    public var isReaped: Bool { reaped }

    public func close() {
        if listener >= 0 { Glibc.close(listener); listener = -1 }
        closeSetupChannel()
        // Once only: deinit calls this again, and a second close could hit an fd that reused the number.
        if pidfd >= 0 { Glibc.close(pidfd); pidfd = -1 }
        if !reaped { kill(); _ = reap() }
    }

    deinit { close() }

    private func closeSetupChannel() {
        if setupChannel >= 0 { Glibc.close(setupChannel); setupChannel = -1 }
        setupProgram = nil
    }

    /// After `start(untilExec: false)`, once the init has been reaped: whether it got as far as the exec. A
    /// step that failed after the child was let go (a missing command, the filter's load) is thrown as it
    /// would have been by `start`; end-of-file without a report means the exec happened.
    public func confirmExec() throws(LaunchError) {
        defer { closeSetupChannel() }
        guard !execDone, setupChannel >= 0, let program = setupProgram else { return }
        var buffer = [UInt8](repeating: 0, count: 64)
        var n = -1
        // The child may have ended with our "go" byte unread: the first receive then reports ECONNRESET (the
        // socket's error comes before its queue), the next one the child's report.
        for _ in 0..<3 {
            n = buffer.withUnsafeMutableBytes { recv(setupChannel, $0.baseAddress, 64, Int32(MSG_DONTWAIT)) }
            if n >= 0 || (errno != ECONNRESET && errno != EINTR) { break }
        }
        if let error = Self.failure(in: buffer, count: n, program: program) { throw .setup(error) }
        if n == 0 { execDone = true }
    }

    /// The child's report of a failed step ("E", padding, a `pit_child_failure`) among `count` received bytes,
    /// worded; nil for anything else.
    private static func failure(in buffer: [UInt8], count: Int, program: ChildProgram) -> JailError? {
        let size = MemoryLayout<pit_child_failure>.size
        guard count >= 4 + size, buffer[0] == UInt8(ascii: "E") else { return nil }
        var failure = pit_child_failure()
        withUnsafeMutableBytes(of: &failure) { $0.copyBytes(from: buffer[4..<(4 + size)]) }
        return program.error(for: failure)
    }

    /// Waits for the child's setup: `E` and a `pit_child_failure` a failed step, `L<fd>` the listener is about
    /// to exist at fd, end-of-file once execve closed the child's end (by then the child has left our memory).
    /// Meanwhile the init's own pre-exec syscalls that the filter reports are let through (they are Pit's
    /// code, not the jailed command's). Takes `channel` (closed at the exec, or with this jail). With
    /// `untilExec: false`, returns once nothing more is needed of the parent: at once without a listener to
    /// take, else once it is taken.
    func awaitExec(channel: Int32, program: ChildProgram, untilExec: Bool = true, listenerExpected: Bool,
                   onViolation: (Violation) -> Void) throws(LaunchError) {
        setupChannel = channel
        setupProgram = program
        if !untilExec && !listenerExpected { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // The listener is -1 until taken: poll skips a negative fd.
            var fds = [pollfd(fd: channel, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, -1) < 0 { continue }
            if fds[1].revents != 0 { serviceListener(onViolation) }
            guard fds[0].revents != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(channel, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
            if n < 0 { continue }
            if n == 0 { execDone = true; image = nil; closeSetupChannel(); return }
            if let error = Self.failure(in: buffer, count: n, program: program) { throw .setup(error) }
            let message = String(decoding: buffer[1..<n], as: UTF8.self)
            guard buffer[0] == UInt8(ascii: "L") else {
                throw .setup(JailError("jail setup", detail: "unexpected message from the child"))
            }
            listener = takeListener(at: Int32(message) ?? -1)
            guard listener >= 0 else {
                let error = JailError.sys("take seccomp listener", "/proc/\(pid)/fd/\(message)")
                // The child may have failed a step meanwhile: its report is the better error.
                let n = buffer.withUnsafeMutableBytes { recv(channel, $0.baseAddress, 4096, Int32(MSG_DONTWAIT)) }
                if let report = Self.failure(in: buffer, count: n, program: program) { throw .setup(report) }
                throw .parent(error)
            }
            var ok: UInt8 = 1
            _ = send(channel, &ok, 1, Int32(MSG_NOSIGNAL))
            if !untilExec { return }
        }
    }

    /// The child announced the fd number its listener will get shortly before loading the filter (after
    /// loading, any syscall of its own might be one the policy reports, with nobody yet to answer), loads it,
    /// and polls for our byte. pidfd_getfd copies the listener as soon as it exists: that is a hundred or so
    /// microseconds away, so this yields between tries rather than sleeping (a wake-up would cost as much),
    /// and falls back to sleeping after a few milliseconds. The child needs to send nothing after its load.
    private func takeListener(at number: Int32) -> Int32 {
        guard pidfd >= 0, number >= 0 else { return -1 }
        var deadline: Int64 = 0   // set at the first sleep: a launch that never sleeps here reads no clock
        var tries = 0
        while true {
            let fd = pit_pidfd_getfd(pidfd, number)
            if fd >= 0 {
                if pit_is_seccomp_listener(fd) != 0 { return fd }
                Glibc.close(fd)
            } else if errno != EBADF {
                return -1
            }
            if pit_child_has_exited(pid) != 0 { return -1 }
            tries += 1
            if tries < 4096 { sched_yield(); continue }
            if deadline == 0 { deadline = monotonicMilliseconds() + 5000 }
            if monotonicMilliseconds() >= deadline { errno = ETIMEDOUT; return -1 }
            usleep(500)
        }
    }

    /// Whether the setup channel has reached end-of-file (the exec happened).
    private func channelAtEndOfFile() -> Bool {
        guard setupChannel >= 0 else { return true }
        var byte: UInt8 = 0
        return recv(setupChannel, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Answers one pending notification: records the violation, then applies the policy's outcome.
    public func serviceListener(_ onViolation: (Violation) -> Void) {
        guard listener >= 0 else { return }
        // Never wait here: SECCOMP_IOCTL_NOTIF_RECV blocks until a notification comes, and on Linux 6.1 it keeps
        // blocking after every task under the filter has exited (newer kernels fail it). The supervisor drains a
        // jail's listener when the jail exits, on its one loop: a blocking receive there stopped the watchdog
        // feed for good (the board VM reset during every orderly stop).
        var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 0) > 0 else { return }
        if ready.revents & Int16(POLLIN) == 0 {
            if ready.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { Glibc.close(listener); listener = -1 }
            return
        }
        var notification = pit_notification()
        guard pit_notif_recv(listener, &notification) == 0 else {
            // ENOENT: the task died before we read it. POLLHUP: every task under the filter has exited, so
            // no notification can come any more (and poll would keep waking). Anything else: unusable.
            var check = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let hungUp = poll(&check, 1, 0) > 0 && check.revents & Int16(POLLHUP) != 0
            if hungUp || (errno != ENOENT && errno != EINTR) { Glibc.close(listener); listener = -1 }
            return
        }
        // Before execve every syscall of the init process is Pit's own setup code, the execve included:
        // let it through. execve closes the channel before the new program runs, so a notification that
        // finds the channel at end-of-file comes from the jailed command and is judged like any other.
        if !execDone && notification.pid == UInt32(pid) {
            if channelAtEndOfFile() {
                execDone = true
            } else {
                _ = pit_notif_respond(listener, notification.id, 0, 1)
                return
            }
        }
        guard let policy else { return }
        // A syscall through an architecture the filter does not accept is killed whatever the policy's default.
        let foreign = policy.compiled.rejects(auditArch: notification.arch, nr: Int(notification.nr))
        var outcome = foreign ? .killProcess : policy.outcome
        var violation = Violation.read(notification, policy: policy, action: foreign ? .kill : policy.action)
        // A new namespace asked from inside the jail is refused, not killed: the attempt is what a defender needs
        // to see, and a daemon that probes for namespaces (as some do at start) keeps running without them.
        // Only where Pit's own rule sent it: a policy that filters the syscall's arguments itself keeps its word.
        // (The numbers are the target architecture's; another accepted one is judged by name as before.)
        let pitsRule = notification.arch != policy.compiled.arch.auditValue
            || policy.compiled.refusedInEveryJail.contains(Int(notification.nr))
        if !foreign && pitsRule && PolicyCompiler.isRefusedInEveryJail(violation.syscall, args: violation.args) {
            outcome = .errno(EPERM)
            violation.action = .errno
        }
        // The pid could have been reused while /proc was read: only trust it if the syscall still waits.
        guard pit_notif_id_valid(listener, notification.id) == 0 else { return }
        onViolation(violation)
        switch outcome {
        case .errno(let code):
            _ = pit_notif_respond(listener, notification.id, code, 0)
        case .log, .allow:
            _ = pit_notif_respond(listener, notification.id, 0, 1)
        default:
            // KILL means the whole process (see JailPolicy). SIGKILL, because nothing else is sure: a SIGSYS sent
            // from here can be caught, blocked or ignored (and the disposition changed by another thread between
            // any check and the delivery), and even a fatal one loses to a SIGKILL sent after it (a core-dumping
            // signal ends the process only when it is dequeued). The jail's init is told as killed by SIGSYS
            // (`violationEnding`). The answer after the kill is only a formality.
            if notification.pid == UInt32(pid) { initKilledForViolation = true }
            _ = Glibc.kill(pid_t(notification.pid), SIGKILL)
            _ = pit_notif_respond(listener, notification.id, ENOSYS, 0)
        }
    }
}
