import Glibc
import PitProcess

/// The delivery loop: `pit uplink-agent`, a process of its own so a hung receiver or a TLS bug can never stall the
/// supervisor (which spawns it and restarts it).
///
/// For each transport: read the events after its cursor (`Spool.readPending`: `Spool.read`, lock-free, skipping
/// segments already delivered), deliver them in seq order (a
/// batch at a time), and after the receiver's acknowledgement commit the cursor file atomically. A crash between
/// delivery and commit re-delivers that batch after restart: at-least-once, ids unchanged, order kept per
/// transport. On failure the transport backs off exponentially with jitter, independently of the others.
///
/// Waiting: inotify on the spool directory wakes it when a segment is written; a poll(2) timeout wakes it when the
/// earliest back-off expires. Nothing polls the spool on a timer, except a slow safety re-read (`idleRecheckMs`) in
/// case an inotify event was lost (queue overflow).
///
/// Transports are served one after another on one thread, so a receiver that hangs delays the others by at most
/// its `timeout_ms` per attempt; each transport's back-off and cursor stay its own.
public struct UplinkAgent {
    public let config: UplinkAgentConfig
    let device: String
    var lanes: [Lane]
    var random = SystemRandomNumberGenerator()
    static let idleRecheckMs: Int64 = 60_000
    /// Batches per transport per pass before the others get their turn.
    static let batchesPerPass = 8

    struct Lane {
        var config: TransportConfig
        var client: TransportClient?
        var cursor: UInt64 = 0
        var registered = false
        var failures = 0
        var nextAttempt: Int64 = 0
        var lastError: String?
        /// The transport's last alarm (`TransportClient.alarm`): kept until a later delivery succeeds.
        var alarm: String?
        /// Events may be waiting: set by inotify, cleared when a read finds nothing.
        var dirty = true
        var queued = 0
        /// When the next heartbeat is due (transports with heartbeats: DNS); the first goes out at start.
        var nextHeartbeat: Int64 = 0

        var heartbeatMs: Int64 {
            if case .dns(let d) = config.kind { return Int64(d.heartbeatMs) }
            return 0
        }
    }

    public init(config: UplinkAgentConfig) {
        self.config = config
        self.device = localHostName()
        self.lanes = config.transports.map { Lane(config: $0) }
    }

    // MARK: The loop

    /// Runs until killed. Throws only if the spool directory cannot be watched at all.
    public mutating func run() throws(UplinkError) -> Never {
        // Writes to a receiver that went away must fail with EPIPE, not kill the agent (OpenSSL writes with write(2)).
        signal(SIGPIPE, SIG_IGN)
        let spool = config.spoolDirectory
        do { try FileIO.makeDirectories(spool) } catch {
            throw UplinkError(operation: "create spool directory", target: spool, errno: error.errno)
        }
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotify >= 0 else { throw .sys("inotify_init1", spool) }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
        guard inotify_add_watch(inotify, spool, mask) >= 0 else { throw .sys("inotify_add_watch", spool) }
        var lastWritten: [UplinkState.Transport]?
        var startupPagesReleased = false
        while true {
            let wait = pass()
            let state = snapshot()
            // Write on change only; next_attempt_in_ms alone changing is not news.
            let comparable = state.transports.map { var t = $0; t.nextAttemptInMs = 0; return t }
            if comparable != lastWritten {
                do { try state.write(dataDirectory: config.dataDirectory); lastWritten = comparable } catch {
                    // The state file is for people; delivery goes on without it.
                    writeStderr("pit uplink-agent: \(error)\n")
                }
            }
            if !startupPagesReleased {
                // After the first pass (config read, TLS initialised, backlog sent): see StartupPages.
                startupPagesReleased = true
                if case .failure(let error) = StartupPages.release() { writeStderr("pit uplink-agent: releasing start-up pages: \(error)\n") }
            }
            var p = pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)
            let n = poll(&p, 1, Int32(min(wait, Self.idleRecheckMs)))
            if n > 0 {
                let (segments, rewatch) = Self.drainInotify(inotify)
                if rewatch { inotify_add_watch(inotify, spool, mask) }
                if segments || rewatch { for i in lanes.indices { lanes[i].dirty = true } }
            } else if n == 0 && wait >= Self.idleRecheckMs {
                for i in lanes.indices { lanes[i].dirty = true }
            }
        }
    }

    /// Reads every pending inotify event. Returns whether a segment file (`*.log`) changed, and whether the watch
    /// was lost (directory removed or replaced) or the queue overflowed, which calls for a re-read anyway.
    static func drainInotify(_ fd: Int32) -> (segments: Bool, rewatch: Bool) {
        var segments = false
        var rewatch = false
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let (mask, length) = buffer.withUnsafeBytes { raw in
                    (raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + header)..<min(offset + header + length, n)].prefix { $0 != 0 }
                if String(decoding: nameBytes, as: UTF8.self).hasSuffix(".log") { segments = true }
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { segments = true }
                if mask & UInt32(IN_IGNORED) != 0 { rewatch = true }
                offset += header + length
            }
        }
        return (segments, rewatch)
    }

    /// Serves every transport that is due; returns the milliseconds until one is due again (`Int64.max`: only new
    /// events can make one due).
    public mutating func pass() -> Int64 {
        for i in lanes.indices where lanes[i].dirty || lanes[i].failures > 0 {
            if lanes[i].nextAttempt <= monotonicMilliseconds() { serve(i) }
        }
        for i in lanes.indices where lanes[i].heartbeatMs > 0 && lanes[i].nextHeartbeat <= monotonicMilliseconds() {
            // While deliveries fail, the heartbeat waits for the lane's next attempt: sent over a link that just
            // failed it would only spend a second timeout, and every other lane would wait through it.
            if lanes[i].failures > 0 { lanes[i].nextHeartbeat = lanes[i].nextAttempt; continue }
            heartbeat(i)
        }
        updateQueued()
        let now = monotonicMilliseconds()
        var wait = Int64.max
        for lane in lanes where lane.dirty || lane.failures > 0 {
            wait = min(wait, max(0, lane.nextAttempt - now))
        }
        for lane in lanes where lane.heartbeatMs > 0 {
            wait = min(wait, max(0, lane.nextHeartbeat - now))
        }
        return wait
    }

    /// Heartbeats keep their own schedule: a failed one is not retried early and does not touch the lane's
    /// back-off (delivery failures do that), it only shows in the agent's log until the next one.
    mutating func heartbeat(_ i: Int) {
        lanes[i].nextHeartbeat = monotonicMilliseconds() + Self.jittered(lanes[i].heartbeatMs, using: &random)
        do throws(UplinkError) {
            if lanes[i].client == nil {
                lanes[i].client = try TransportClient(lanes[i].config, defaultDevice: device,
                                                      spoolDirectory: config.spoolDirectory)
            }
            let error = lanes[i].client!.heartbeat()
            if let alarm = lanes[i].client!.alarm { lanes[i].alarm = alarm }
            if let error { throw error }
        } catch {
            writeStderr("pit uplink-agent: \(lanes[i].config.name): heartbeat: \(error)\n")
        }
    }

    mutating func serve(_ i: Int) {
        let spool = config.spoolDirectory
        let name = lanes[i].config.name
        do throws(UplinkError) {
            if !lanes[i].registered {
                // A transport without a cursor file is invisible to the spool's eviction, which would then treat
                // events as delivered once the others had them: register it with cursor 0 before sending anything.
                do {
                    if let seq = try Spool.readCursor(directory: spool, transport: name) {
                        lanes[i].cursor = seq
                    } else {
                        try Spool.commitCursor(directory: spool, transport: name, seq: 0)
                    }
                } catch {
                    throw UplinkError(operation: "register cursor", target: spool + "/cursor." + name,
                                      errno: error.errno, reason: error.errno == nil ? error.description : nil)
                }
                lanes[i].registered = true
            }
            for _ in 0..<Self.batchesPerPass {
                let events: [PitEvent]
                do { events = try Spool.readPending(directory: spool, after: lanes[i].cursor, limit: lanes[i].config.batch) }
                catch {
                    throw UplinkError(operation: "read spool", target: spool, errno: error.errno,
                                      reason: error.errno == nil ? error.description : nil)
                }
                if events.isEmpty {
                    lanes[i].dirty = false
                    break
                }
                if lanes[i].client == nil {
                    lanes[i].client = try TransportClient(lanes[i].config, defaultDevice: device,
                                                          spoolDirectory: spool)
                }
                let delivery = lanes[i].client!.deliver(events)
                if let alarm = lanes[i].client!.alarm { lanes[i].alarm = alarm }
                // Committed after every acknowledged batch, not once per pass: an agent killed over and over (a
                // watchdog loop, a flapping supervisor) must still make progress, and the two fsyncs are shared by
                // a whole batch.
                if delivery.acknowledged > 0, let seq = events[delivery.acknowledged - 1].seq {
                    do { try Spool.commitCursor(directory: spool, transport: name, seq: seq) } catch {
                        throw UplinkError(operation: "commit cursor", target: spool + "/cursor." + name,
                                          errno: error.errno, reason: error.errno == nil ? error.description : nil)
                    }
                    lanes[i].cursor = seq
                }
                if let error = delivery.error { throw error }
                lanes[i].failures = 0
                lanes[i].lastError = nil
                if delivery.acknowledged > 0 { lanes[i].alarm = nil }
            }
        } catch {
            fail(i, error)
        }
    }

    mutating func fail(_ i: Int, _ error: UplinkError) {
        lanes[i].failures += 1
        lanes[i].lastError = error.description
        // Rebuilt at the next attempt: picks up a replaced CA or key file, and drops any state of a broken session.
        lanes[i].client = nil
        lanes[i].nextAttempt = monotonicMilliseconds() + backoff(failures: lanes[i].failures, config: lanes[i].config)
    }

    /// A heartbeat period give or take a quarter, at random: at an exact period a box's heartbeats stand out in the
    /// network's DNS as a machine's (the DNS uplink's threat model in README.md).
    static func jittered(_ period: Int64, using random: inout SystemRandomNumberGenerator) -> Int64 {
        guard period >= 4 else { return period }
        return period + Int64.random(in: -(period / 4)...(period / 4), using: &random)
    }

    /// base × 2^(failures-1), capped at max, then "equal jitter": a random point in the upper half, so devices that
    /// lost the same collector at the same moment do not all come back in step, yet none retries much too early.
    mutating func backoff(failures: Int, config: TransportConfig) -> Int64 {
        let base = Int64(config.backoffBaseMs)
        let cap = Int64(config.backoffMaxMs)
        // base is at most 3.6e6 < 2^22 (config bounds), so shifting by up to 40 stays below 2^62: no overflow.
        let delay = min(cap, base << Int64(min(max(failures - 1, 0), 40)))
        let half = delay / 2
        return half + Int64.random(in: 0...(delay - half), using: &random)
    }

    mutating func updateQueued() {
        for i in lanes.indices {
            if let count = try? Spool.pendingCount(directory: config.spoolDirectory, after: lanes[i].cursor) {
                lanes[i].queued = count
            }
        }
    }

    /// The state as state.json shows it.
    public func snapshot() -> UplinkState {
        let now = monotonicMilliseconds()
        return UplinkState(pid: getpid(), updated: EventTime.now(), transports: lanes.map { lane in
            let state = lane.alarm != nil ? "alarm"
                : lane.failures == 0 ? "up" : lane.failures >= lane.config.downAfter ? "down" : "backoff"
            return UplinkState.Transport(name: lane.config.name, type: lane.config.typeName, state: state,
                                         lastError: lane.lastError, lastDeliveredSeq: lane.cursor,
                                         queued: lane.queued,
                                         nextAttemptInMs: lane.failures == 0 ? 0 : max(0, lane.nextAttempt - now),
                                         consecutiveFailures: lane.failures, alarm: lane.alarm)
        })
    }
}

func writeStderr(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
