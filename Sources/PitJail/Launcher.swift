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
    /// What the kernel's audit log said about seccomp kills during the run (may be empty: it is rate-limited).
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
    /// Starts the jail and waits for it. The caller must be single-threaded (checked): the child runs
    /// Swift between clone and execve.
    public static func run(_ spec: JailSpec, policy: CompiledPolicy?) throws(LaunchError) -> JailOutcome {
        guard threadCount() == 1 else {
            throw .parent(JailError("launch", detail: "the launcher must be single-threaded at clone (found \(threadCount()) threads)"))
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
        defer { close(parentEnd) }

        let audit = SeccompAudit.open()
        defer { audit?.close() }

        // Signals are blocked before clone and taken synchronously with sigtimedwait: no handler races.
        var watched = sigset_t(), previous = sigset_t()
        sigemptyset(&watched)
        for sig in [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&watched, sig) }
        pthread_sigmask(SIG_BLOCK, &watched, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let pid = pit_clone_fork(UInt(spec.namespaces.cloneFlags))
        if pid == 0 {
            close(parentEnd)
            enterJail(spec, policy: policy, channel: childEnd)
        }
        close(childEnd)
        guard pid > 0 else { throw .parent(.sys("clone")) }

        do throws(JailError) {
            try cgroup?.add(pid: pid)
            try spec.namespaces.writeIDMaps(pid: pid)
        } catch {
            kill(pid, SIGKILL)
            _ = reap(pid)
            throw .parent(error)
        }
        var go: UInt8 = 1
        _ = send(parentEnd, &go, 1, Int32(MSG_NOSIGNAL))

        // Either an error line from a failed step, or end-of-file when execve closed the channel.
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = 0
        repeat {
            received = buffer.withUnsafeMutableBytes { recv(parentEnd, $0.baseAddress, 4096, 0) }
        } while received < 0 && errno == EINTR
        if received > 0 {
            _ = reap(pid)
            throw .setup(String(decoding: buffer[0..<received], as: UTF8.self))
        }

        let outcome = wait(for: pid, timeLimit: spec.timeLimit, signals: &watched)
        var result = outcome
        if case .signaled(SIGSYS, _) = result.ending { result.seccompKills = audit?.drain() ?? [] }
        else if let records = audit?.drain(), !records.isEmpty { result.seccompKills = records }
        return result
    }

    private static func wait(for pid: pid_t, timeLimit: Int?, signals: inout sigset_t) -> JailOutcome {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        deadline.tv_sec += timeLimit ?? 0
        var timedOut = false
        var interruptedBy: Int32?
        while true {
            var info = siginfo_t()
            var signal: Int32
            if let _ = timeLimit, !timedOut {
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                var remaining = timespec(tv_sec: deadline.tv_sec - now.tv_sec, tv_nsec: deadline.tv_nsec - now.tv_nsec)
                if remaining.tv_nsec < 0 { remaining.tv_sec -= 1; remaining.tv_nsec += 1_000_000_000 }
                if remaining.tv_sec < 0 { remaining = timespec() }
                signal = sigtimedwait(&signals, &info, &remaining)
            } else {
                signal = sigwaitinfo(&signals, &info)
            }
            if signal < 0 {
                if errno == EAGAIN && timeLimit != nil && !timedOut {
                    timedOut = true
                    kill(pid, SIGKILL)
                }
                continue
            }
            switch signal {
            case SIGCHLD:
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    return JailOutcome(ending: decode(status), timedOut: timedOut, interruptedBy: interruptedBy, seccompKills: [])
                }
            default:
                // The jail's init ignores signals it has no handler for; Pit ends it the only sure way.
                interruptedBy = signal
                kill(pid, SIGKILL)
            }
        }
    }

    @discardableResult
    private static func reap(_ pid: pid_t) -> JailOutcome.Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return decode(status)
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
