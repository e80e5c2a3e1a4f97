import CPitShim
import Glibc

/// What an fd in the supervisor's epoll stands for. epoll carries only a key into `EventLoop`'s registry,
/// and the registry says which of these it is: no meaning hides in bit ranges of the token.
enum EventSource {
    case signals
    case timer
    case controlListener
    case controlClient(Int32)
    case console
    /// A jail's pidfd: its init exited.
    case jailExit
    /// A jail's seccomp listener: violations wait.
    case violations(JailSlot)
    /// A jail's full_audit socket (SmbAudit.swift).
    case smbAudit(JailSlot)
    /// The pipe of a jail's stdout and stderr (JailOutput.swift).
    case jailOutput(JailSlot)
    /// The persona's DHCP client (DhcpLink.swift): its IPv4 packet socket, its ARP socket, its drained UDP socket.
    case dhcp
    case dhcpARP
    case dhcpUDP
    case dhcpCarrier
}

/// The epoll instance of `pit supervise`, its signalfd and its one timerfd, which always holds the earliest
/// deadline of all the supervisor's parts. The registry maps each watched fd to its `EventSource`.
final class EventLoop {
    private(set) var epfd: Int32 = -1
    private var signalFD: Int32 = -1
    private var timerFD: Int32 = -1
    /// The deadline the timer was armed for: how late its expiry is served is the loop's latency.
    private var timerDeadline: Int64?
    private var sources: [UInt64: EventSource] = [:]
    private var keys: [Int32: UInt64] = [:]
    /// Keys are never reused: an event still queued for a removed fd (whose number a new fd may carry by
    /// now) finds nothing and is dropped.
    private var lastKey: UInt64 = 0

    /// Blocks `signals` (they arrive through the signalfd instead) and creates epoll, signalfd and timerfd.
    func open(signals: [Int32]) throws(SupervisorError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signalFD = signals.withUnsafeBufferPointer { pit_signalfd($0.baseAddress, Int32($0.count)) }
        epfd = pit_epoll_create()
        timerFD = pit_timerfd_create()
        guard signalFD >= 0, epfd >= 0, timerFD >= 0 else { throw SupervisorError("event loop: \(String(cString: strerror(errno)))") }
        add(signalFD, .signals)
        add(timerFD, .timer)
    }

    func add(_ fd: Int32, _ source: EventSource) {
        lastKey += 1
        guard pit_epoll_add(epfd, fd, lastKey, 0) == 0 else { return }
        keys[fd] = lastKey
        sources[lastKey] = source
    }

    /// Watches `fd` for writability too while `writable` (readability always).
    func watchWrites(_ fd: Int32, _ writable: Bool) {
        guard let key = keys[fd] else { return }
        _ = pit_epoll_modify(epfd, fd, key, writable ? 1 : 0)
    }

    func remove(_ fd: Int32) {
        _ = pit_epoll_remove(epfd, fd)
        if let key = keys.removeValue(forKey: fd) { sources[key] = nil }
    }

    /// Waits up to `timeoutMs` (-1: until something happens) and returns the keys of the ready fds, or nil
    /// with errno set. Look each one up with `source(of:)` when its turn comes: a source that an earlier
    /// handler of the same batch removed is gone by then.
    func wait(timeoutMs: Int32) -> [UInt64]? {
        var ready = [UInt64](repeating: 0, count: 64)
        let count = ready.withUnsafeMutableBufferPointer { pit_epoll_wait(epfd, $0.baseAddress, 64, timeoutMs) }
        return count < 0 ? nil : Array(ready.prefix(Int(count)))
    }

    func source(of key: UInt64) -> EventSource? { sources[key] }

    /// Arms the one timer for `deadline` (nil: disarmed).
    func arm(_ deadline: Int64?, now: Int64) {
        timerDeadline = deadline
        _ = pit_timerfd_arm(timerFD, deadline.map { max(0, $0 - now) } ?? -1)
    }

    /// Acknowledges the timer; returns how late it was served (ms) when it was armed.
    func timerFired(now: Int64) -> Int64? {
        pit_timerfd_ack(timerFD)
        return timerDeadline.map { max(0, now - $0) }
    }

    /// The next queued signal, nil when none is left.
    func nextSignal() -> Int32? {
        let signal = pit_signalfd_next(signalFD)
        return signal < 0 ? nil : signal
    }
}
