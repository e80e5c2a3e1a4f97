import Glibc

/// The supervisor's own log lines (stderr), written by a thread of their own so the event loop never waits
/// for the reader: stderr may be a pipe nobody drains, a terminal stopped with ^S or TCXONC, or a console at
/// 9600 baud. The loop only queues, up to `maxQueuedBytes`; beyond that a line is dropped and counted, and
/// once the writer gets through again it says how many were lost. The counter is in `pit status`.
///
/// The jails' log files go through a second writer of this kind (JailLogFiles): file writes can wait for slow
/// flash as long as they like there.
///
/// The only places Pit runs more threads than its loop, and why it is safe: the thread only takes lines from the queue and
/// writes them (no Swift between fork and exec anywhere: jails are started by CPitShim's child, helpers by
/// posix_spawn; the thread keeps nothing alive, since the watchdog is fed by the loop, not here), and it
/// blocks every signal, so the signalfd keeps receiving all of the supervisor's.
public final class LogWriter: @unchecked Sendable {
    public static let maxQueuedBytes = 64 * 1024
    /// The queue's bound (`maxQueuedBytes` for stderr).
    let queueLimit: Int
    /// Where the thread puts each queued entry: the file it names (nil: the writer's main output) and its bytes.
    /// Called on the writer's thread only.
    private let sink: (String?, [UInt8]) -> Void
    // Allocated, not stored properties: a pthread mutex must not move, and Swift does not promise that of `&property`.
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `lock`.
    private var queue: [(String?, [UInt8])] = []
    private var queuedBytes = 0
    private var droppedTotal = 0
    private var droppedUnsaid = 0
    private var started = false
    /// The thread holds a batch it has not finished writing.
    private var writing = false

    /// A writer to `fd`. Its thread starts with the first line (a writer never used costs no thread).
    public convenience init(fd: Int32) {
        self.init(queueLimit: Self.maxQueuedBytes) { _, bytes in LogWriter.writeAll(bytes, to: fd) }
    }

    /// A writer whose thread hands each entry to `sink` (JailLogFiles: the jails' log files).
    init(queueLimit: Int, sink: @escaping (String?, [UInt8]) -> Void) {
        self.queueLimit = queueLimit
        self.sink = sink
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
    }

    /// Lines dropped so far because the queue was full.
    public var dropped: Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return droppedTotal
    }

    /// Queues `line` (already one escaped line with its newline); never blocks on the reader of `fd`.
    public func write(_ line: String, to file: String? = nil) {
        let bytes = Array(line.utf8)
        pthread_mutex_lock(lock)
        if !started { started = startThread() }
        if !started || queuedBytes + bytes.count > queueLimit {
            droppedTotal += 1
            droppedUnsaid += 1
        } else {
            queue.append((file, bytes))
            queuedBytes += bytes.count
            pthread_cond_broadcast(wake)   // `flush` may wait on the same condition: wake the thread for sure
        }
        pthread_mutex_unlock(lock)
    }

    /// At exit: waits up to `timeoutMs` for what is queued to be written (the last lines say how Pit ended),
    /// but no longer: a reader that never reads must not hold up the shutdown either.
    public func flush(timeoutMs: Int = 1000) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)   // pthread_cond_timedwait's default clock
        deadline.tv_sec += timeoutMs / 1000
        deadline.tv_nsec += (timeoutMs % 1000) * 1_000_000
        if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
        pthread_mutex_lock(lock)
        while started && (!queue.isEmpty || droppedUnsaid > 0 || writing) {
            if pthread_cond_timedwait(wake, lock, &deadline) == ETIMEDOUT { break }
        }
        pthread_mutex_unlock(lock)
    }

    /// Called with `lock` held.
    private func startThread() -> Bool {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        // The new thread inherits this mask: it must never take a signal meant for the signalfd.
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<LogWriter>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context)
        if rc != 0 { Unmanaged<LogWriter>.fromOpaque(context).release(); return false }
        pthread_detach(thread)
        return true
    }

    private func run() {
        while true {
            pthread_mutex_lock(lock)
            while queue.isEmpty && droppedUnsaid == 0 { pthread_cond_wait(wake, lock) }
            let batch = queue, lost = droppedUnsaid
            queue.removeAll()
            queuedBytes = 0
            droppedUnsaid = 0
            writing = true
            pthread_mutex_unlock(lock)
            for (file, line) in batch { sink(file, line) }
            if lost > 0 { sink(nil, Array("pit: \(lost) log line\(lost == 1 ? "" : "s") dropped: stderr was not read in time\n".utf8)) }
            pthread_mutex_lock(lock)
            writing = false
            pthread_cond_broadcast(wake)   // for `flush`
            pthread_mutex_unlock(lock)
        }
    }

    /// Blocking, whole: this thread may wait as long as the reader takes.
    static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }   // EPIPE, EIO: the line is lost, as it would be with no log at all
            offset += n
        }
    }
}
