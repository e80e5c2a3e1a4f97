import Glibc
import PitBoard
import PitJail
import PitPolicy

/// One supervised jail: its configuration, phase, process and restart bookkeeping.
final class JailSlot {
    var config: JailConfig
    var phase: JailPhase = .waiting
    var process: RunningJail?
    var tracker: RestartTracker
    var restarts = 0
    var violations = 0
    var lastExit: String?
    /// The next moment this slot needs attention (readiness retry, end of back-off, end of stop grace).
    var deadline: Int64?
    var readyDeadline: Int64 = 0
    var startedAt: Int64 = 0
    /// Stopped on purpose (operator, reload removal, shutdown): do not restart.
    var held = false
    var removeWhenStopped = false
    var replacement: JailConfig?
    /// Why its configuration keeps it from starting (phase `misconfigured`), as last reported.
    var configProblem: String?
    /// How many times it became running (JailDependencies.swift restarts its `restart_with` dependents from the second).
    var runs = 0
    /// smbd's full_audit socket (`audit_socket`), kept across restarts of the jail.
    var audit: AuditSocket?
    /// What the jail wrote to stdout and stderr: its pipe and the ring of its last lines, kept across restarts.
    let output = JailOutput()

    init(_ config: JailConfig) {
        self.config = config
        self.tracker = RestartTracker(policy: config.restart)
    }
}

/// What an operator asks of one jail (`pit start|stop|restart JAIL`, the console's `restart`).
enum JailRequest: String {
    case start, stop, restart
}

/// The supervised jails, in start order: each starts after the one before is ready, exits are restarted
/// with a doubling back-off until a crash loop, stops take SIGTERM then SIGKILL after the grace (one at a
/// time, in reverse order, at shutdown), and a reload is applied as a diff. Its deadlines are the slots'.
final class JailSet {
    private(set) var slots: [JailSlot]
    /// Safe mode after repeated watchdog resets: no jail is started until it is cleared.
    var safeMode = false
    /// Shutting down: jails stop in reverse order and none is started again.
    private(set) var stopping = false
    /// Told the time of each violation (the alert LED shows it for a while).
    var violationSeen: (Int64) -> Void = { _ in }
    /// A log line that is not an event: each jail started, and ready (Supervisor.say).
    var say: (String) -> Void = { _ in }
    /// The oom_score_adj each jail gets (what Pit had before it protected itself): a jail is never protected.
    var jailOOMScoreAdj: Int32?
    private let eventLoop: EventLoop
    private let samba: SambaGate
    let emit: (SupervisorEvent) -> Void
    /// The audit sockets of jails a reload removed. Kept open: releasing one unlinks its path, which a jail
    /// of the new config may have bound since.
    private var retiredAudits: [AuditSocket] = []
    /// Which violations are recorded one by one and which only counted (a flood must not drown the uplink).
    private var limiter = ViolationLimiter()
    /// Which Samba alerts are recorded one by one and which only counted (an attacker's spray must not either).
    private var smbLimiter = SmbAlertLimiter()

    /// Writes the jails' log files (JailLogFiles), off the loop; nil: none are written.
    var fileLog: LogWriter?

    init(_ jails: [JailConfig], eventLoop: EventLoop, samba: SambaGate, emit: @escaping (SupervisorEvent) -> Void) {
        self.slots = jails.map(JailSlot.init)
        self.eventLoop = eventLoop
        self.samba = samba
        self.emit = emit
    }

    func slot(named name: String?) -> JailSlot? { slots.first { $0.config.name == name } }

    func nextDeadline(now: Int64) -> Int64? {
        (slots.compactMap(\.deadline) + slots.compactMap(\.output.pausedUntil) + [limiter.nextDeadline, smbLimiter.nextDeadline].compactMap { $0 }).min()
    }

    /// Readiness checks, restarts and stop graces that are due, then the start order.
    func tick(now: Int64) {
        emitSuppressed(limiter.due(now: now))
        emitSuppressed(smbLimiter.due(now: now))
        for slot in slots { slot.output.resumeIfDue(eventLoop: eventLoop, slot: slot, now: now) }
        for slot in slots {
            guard let deadline = slot.deadline, deadline <= now else { continue }
            slot.deadline = nil
            switch slot.phase {
            case .starting: checkReadiness(slot, now: now)
            case .backoff, .failed, .misconfigured: if !stopping && !slot.held { start(slot, now: now) }
            case .stopping: slot.process?.kill(SIGKILL)
            default: break
            }
        }
        if !stopping { startNextInOrder(now: now) }
    }

    /// Whether the start order has run through: every jail was started and is ready, or was given up on
    /// for now (back-off, crash loop, setup failure), or is held by the operator. This is when systemd
    /// hears READY=1: Type=notify units ordered after pit.service then see the decoys up.
    var startOrderSettled: Bool {
        safeMode || !slots.contains { ($0.phase == .waiting && !$0.held) || $0.phase == .starting }
    }

    var allStopped: Bool { slots.allSatisfy { $0.process == nil } }

    /// The required jails that are not serving, for the health gate: not running, or running but stopped by a
    /// signal (SIGSTOP: the process is there, its listening socket still completes handshakes, and nothing is
    /// answered). A misconfigured jail is not among them: a watchdog reset cannot fix a config (ledPatterns
    /// shows it as degraded).
    func requiredDown() -> [String] {
        guard !safeMode, !stopping else { return [] }
        return slots.filter { $0.config.required && !$0.held && $0.phase != .misconfigured }.compactMap { slot in
            if slot.phase != .running { return slot.config.name }
            return ProcessState.stopped(slot.process?.pid) ? slot.config.name + " (stopped by a signal)" : nil
        }
    }

    /// The LED patterns the jails ask for (the most urgent of all patterns is shown).
    var ledPatterns: [LedPattern] {
        var patterns: [LedPattern] = []
        if safeMode { patterns.append(.safeMode) }
        if slots.contains(where: { $0.phase == .crashLoop }) { patterns.append(.crashLoop) }
        if !requiredDown().isEmpty { patterns.append(slots.contains { $0.phase == .waiting || $0.phase == .starting } ? .booting : .degraded) }
        if !safeMode && slots.contains(where: { $0.phase == .misconfigured && !$0.held }) { patterns.append(.degraded) }
        return patterns
    }

    var status: [SupervisorStatus.Jail] {
        slots.map { slot in
            SupervisorStatus.Jail(name: slot.config.name, state: slot.phase.rawValue, pid: slot.process?.pid,
                                  restarts: slot.restarts, last_exit: slot.lastExit, violations: slot.violations,
                                  required: slot.config.required, walls: Self.walls(of: slot.config),
                                  log_bytes: slot.output.ring.bytesHeld, log_capacity: slot.output.ring.capacity,
                                  log_dropped_bytes: slot.output.ring.droppedBytes)
        }
    }

    // MARK: - Starting

    /// Starts the first waiting jail once every jail before it is settled (ready, or given up on).
    func startNextInOrder(now: Int64) {
        guard !safeMode else { return }
        for slot in slots {
            switch slot.phase {
            case .waiting:
                if slot.held { return }
                start(slot, now: now)
                // A jail without a readiness check is running as soon as it started: go on with the next
                // now, not on whatever wakes the loop next (that may be the watchdog feed, seconds away).
                if slot.phase == .running { continue }
                // One that could not start is settled too: it must not hold back the rest of the device.
                if slot.phase == .failed || slot.phase == .crashLoop || slot.phase == .misconfigured { continue }
                return
            case .starting:
                return
            default:
                continue
            }
        }
    }

    func start(_ slot: JailSlot, now: Int64) {
        if let path = slot.config.auditSocket, slot.audit?.path != path || slot.audit?.format != slot.config.auditFormat {
            do {
                let audit = try AuditSocket(path: path, format: slot.config.auditFormat)
                if let old = slot.audit { eventLoop.remove(old.fd) }
                slot.audit = audit
                eventLoop.add(audit.fd, .smbAudit(slot))
            } catch {
                emit(.fault(.auditSocket, jail: slot.config.name, "\(error)"))
            }
        }
        switch samba.startProblem(slot.config.spec) {
        case .configuration(let problem)?: misconfigured(slot, problem, now: now); return
        case .runtime(let problem)?: startFailed(slot, problem, now: now); return
        case nil: break
        }
        // stdin /dev/null, stdout and stderr a pipe this loop drains: never the supervisor's own terminal or
        // log, which a jail could otherwise fill (or stop with TCXONC) until the loop blocks in a write.
        slot.output.file = fileLog.map { ($0, slot.config.name) }
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard input >= 0, let output = slot.output.openPipe(eventLoop: eventLoop, slot: slot) else {
            let problem = "stdio: \(String(cString: strerror(errno)))"
            if input >= 0 { close(input) }
            startFailed(slot, problem, now: now)
            return
        }
        defer { close(input); close(output) }
        do {
            var spec = slot.config.spec
            if spec.limits.oomScoreAdj == nil { spec.limits.oomScoreAdj = jailOOMScoreAdj }
            let streams = StandardStreams(input: input, output: output, error: output)
            samba.willStart(spec)
            let process = try Launcher.start(spec, policy: slot.config.policy, streams: streams) { violation in
                self.recordViolation(violation, slot: slot, now: now)
            }
            slot.process = process
            slot.configProblem = nil
            slot.startedAt = now
            slot.phase = .starting
            say("\(slot.config.name) started, pid \(process.pid)"
                + (slot.config.readyTCPPort.map { ", waiting for it to accept on \(slot.config.readyTCPHost):\($0)" } ?? ""))
            eventLoop.add(process.pidfd, .jailExit)
            if process.listener >= 0 { eventLoop.add(process.listener, .violations(slot)) }
            slot.readyDeadline = now + slot.config.readyTimeoutMs
            checkReadiness(slot, now: now)
        } catch {
            startFailed(slot, "\(error)", now: now)
        }
    }

    /// A start that failed before the jail ran: an event, then the back-off like any exit (a crash loop ends it).
    /// After an applied reload: the misconfigured jails wait for their turn in the start order again (all of
    /// Samba's are misconfigured by a broken persona, and smbd must start after samba-dcerpcd is ready).
    func retryMisconfigured(now: Int64) {
        for slot in slots where slot.phase == .misconfigured {
            slot.phase = .waiting
            slot.deadline = nil
        }
    }

    /// How often a misconfigured jail is tried again (a reload that changes its config tries at once).
    static let misconfiguredRetryMs: Int64 = 30_000

    /// The jail's configuration keeps it from starting (JailPhase.misconfigured): one config_error per distinct
    /// problem, not a crash (the restart tracker does not count it, so it never becomes a crash loop).
    private func misconfigured(_ slot: JailSlot, _ problem: String, now: Int64) {
        if slot.configProblem != problem {
            emit(SupervisorEvent(kind: .configError, jail: slot.config.name, message: "\(slot.config.name) not started: \(problem)"))
        }
        slot.configProblem = problem
        slot.lastExit = "not started: \(problem)"
        slot.phase = .misconfigured
        slot.deadline = now + Self.misconfiguredRetryMs
    }

    private func startFailed(_ slot: JailSlot, _ problem: String, now: Int64) {
        slot.lastExit = "setup failed: \(problem)"
        emit(SupervisorEvent(kind: .serviceExit, jail: slot.config.name, message: "\(slot.config.name) could not start: \(problem)"))
        scheduleRestart(slot, now: now)
        if slot.phase == .backoff { slot.phase = .failed }
    }

    private func checkReadiness(_ slot: JailSlot, now: Int64) {
        guard slot.phase == .starting else { return }
        guard let port = slot.config.readyTCPPort else { becameRunning(slot, now: now); return }
        if Readiness.listening(pid: slot.process?.pid, host: slot.config.readyTCPHost, port: port) && samba.ready(slot.config.spec) {
            becameRunning(slot, now: now)
        } else if now >= slot.readyDeadline {
            emit(SupervisorEvent(kind: .serviceExit, jail: slot.config.name,
                                 message: "\(slot.config.name) did not accept on port \(port) within \(slot.config.readyTimeoutMs / 1000) s: restarted"))
            slot.process?.kill(SIGKILL)
        } else {
            slot.deadline = now + Readiness.retryMs
        }
    }

    private func scheduleRestart(_ slot: JailSlot, now: Int64) {
        switch slot.tracker.recordExit(at: now) {
        case .restart(let delay):
            slot.phase = .backoff
            slot.deadline = now + delay
        case .crashLoop:
            slot.phase = .crashLoop
            slot.deadline = nil
            emit(SupervisorEvent(kind: .crashLoop, jail: slot.config.name,
                                 message: "\(slot.config.name) exited \(slot.config.restart.crashLoopExits) times within \(slot.config.restart.crashLoopWindowMs / 1000) s: not restarted",
                                 restarts: slot.restarts))
        }
    }

    // MARK: - Exits, violations, audit lines

    /// Takes the exit of `pid` if it was one of the jails' inits; false for any other child.
    func reaped(_ pid: pid_t, status: Int32, now: Int64) -> Bool {
        guard let slot = slots.first(where: { $0.process?.pid == pid }), let process = slot.process else { return false }
        let ending = process.reaped(status: status)
        jailExited(slot, process: process, ending: ending, now: now)
        return true
    }

    private func jailExited(_ slot: JailSlot, process: RunningJail, ending: JailOutcome.Ending, now: Int64) {
        eventLoop.remove(process.pidfd)
        slot.output.drain(eventLoop: eventLoop, now: now)   // its last words; the pipe closes at end-of-file
        if process.listener >= 0 {
            serviceViolations(slot, now: now)
            eventLoop.remove(process.listener)
        }
        process.close()
        slot.process = nil
        slot.lastExit = ending.description
        slot.tracker.recordRunning(since: slot.startedAt, now: now)
        var event = SupervisorEvent(kind: .serviceExit, jail: slot.config.name, message: "\(slot.config.name) \(ending)")
        switch ending {
        case .exited(let code): event.exitStatus = code
        case .signaled(let signal, _): event.signal = signal
        }
        emit(event)
        if let replacement = slot.replacement {
            slot.replacement = nil
            slot.config = replacement
            slot.tracker = RestartTracker(policy: replacement.restart)
            slot.phase = .waiting
            slot.held = false
            return
        }
        if slot.removeWhenStopped {
            if let audit = slot.audit { eventLoop.remove(audit.fd); retiredAudits.append(audit) }
            slot.output.closePipe(eventLoop: eventLoop)
            slots.removeAll { $0 === slot }
            return
        }
        if stopping || slot.held || slot.phase == .stopping {
            slot.phase = .stopped
            slot.deadline = nil
            if stopping { stopNextForShutdown(now: now) }
            return
        }
        scheduleRestart(slot, now: now)
        if slot.phase == .backoff {
            slot.restarts += 1
            emit(SupervisorEvent(kind: .restart, jail: slot.config.name,
                                 message: "\(slot.config.name) restarts in \(max(0, (slot.deadline ?? now) - now)) ms", restarts: slot.restarts))
        }
    }

    func serviceViolations(_ slot: JailSlot, now: Int64) {
        guard let process = slot.process else { return }
        process.serviceListener { violation in recordViolation(violation, slot: slot, now: now) }
    }

    private func recordViolation(_ violation: Violation, slot: JailSlot, now: Int64) {
        slot.violations += 1            // every one, whether recorded in full or only counted
        violationSeen(now)
        guard limiter.admit(jail: slot.config.name, syscall: violation.syscall, now: now) else { return }
        emit(SupervisorEvent(kind: .violation, jail: slot.config.name, message: violation.summary, violation: violation))
    }

    /// One `violations_suppressed` event per summary: the counts of what was not recorded one by one.
    private func emitSuppressed(_ summaries: [ViolationLimiter.Summary]) {
        for summary in summaries {
            var details: [String: String] = [:]
            for (syscall, count) in summary.counts { details[syscall] = String(count) }
            emit(SupervisorEvent(kind: .violationsSuppressed, jail: summary.jail, message: summary.message, details: details))
        }
    }

    /// What the Samba jails send to their /dev/log: logons, enumerations and file reads, each an event unless its
    /// client has had `SmbAlertLimiter.burst` of its kind in the window (then counted for the summary).
    func serviceAudit(_ slot: JailSlot, now: Int64) {
        guard let audit = slot.audit else { return }
        for alert in audit.drain() {
            guard smbLimiter.admit(jail: slot.config.name, client: alert.client, kind: alert.kind.event.rawValue, now: now) else { continue }
            emit(SupervisorEvent(kind: alert.kind.event, jail: slot.config.name, message: alert.summary, smb: alert))
        }
    }

    /// One `smb_alerts_suppressed` event per summary: the client and the counts by kind of what was not recorded.
    private func emitSuppressed(_ summaries: [SmbAlertLimiter.Summary]) {
        for summary in summaries {
            var details: [String: String] = [:]
            for (kind, count) in summary.counts { details[kind] = String(count) }
            emit(SupervisorEvent(kind: .smbAlertsSuppressed, jail: summary.jail, message: summary.message, details: details,
                                 client: summary.client))
        }
    }

    // MARK: - Stopping, operator requests, reload

    func stop(_ slot: JailSlot, now: Int64) {
        guard let process = slot.process else {
            slot.phase = .stopped
            slot.deadline = nil
            return
        }
        slot.phase = .stopping
        process.kill(SIGTERM)
        slot.deadline = now + slot.config.stopGraceMs
    }

    func beginShutdown(now: Int64) {
        stopping = true
        // What was counted so far is said now: the windows would end after Pit has.
        emitSuppressed(limiter.due(now: Int64.max / 2))
        emitSuppressed(smbLimiter.due(now: Int64.max / 2))
        for slot in slots where slot.process == nil { slot.phase = .stopped; slot.deadline = nil }
        stopNextForShutdown(now: now)
    }

    /// Reverse start order, one at a time: a jail stops only after the ones started after it are gone.
    private func stopNextForShutdown(now: Int64) {
        guard let last = slots.last(where: { $0.process != nil }) else { return }
        if last.phase != .stopping { stop(last, now: now) }
    }

    /// Carries out an operator's request; false when there is no such jail.
    func handle(_ request: JailRequest, jail name: String?, now: Int64) -> Bool {
        guard let slot = slot(named: name) else { return false }
        switch request {
        case .stop:
            slot.held = true
            stop(slot, now: now)
        case .start:
            slot.held = false
            slot.tracker.reset()
            if slot.process == nil { start(slot, now: now) }
        case .restart:
            slot.held = false
            slot.tracker.reset()
            if slot.process != nil {
                slot.replacement = slot.config
                stop(slot, now: now)
            } else {
                start(slot, now: now)
            }
        }
        return true
    }

    /// A reloaded config's jails: changed ones are restarted with their new config, new ones are started in
    /// order, removed ones are stopped (and dropped once they have exited).
    func reload(_ jails: [JailConfig], now: Int64) {
        var kept: [JailSlot] = []
        for jail in jails {
            if let slot = slots.first(where: { $0.config.name == jail.name }) {
                if slot.removeWhenStopped {
                    // Removed by an earlier reload and still stopping, now named again: it starts again once stopped
                    // (without this it was dropped at its exit and stayed away until some later reload).
                    slot.removeWhenStopped = false
                    slot.held = false
                    if slot.process != nil {
                        slot.replacement = jail
                    } else {
                        slot.config = jail
                        slot.tracker = RestartTracker(policy: jail.restart)
                        slot.phase = .waiting
                    }
                } else if slot.config.fingerprint != jail.fingerprint || slot.config.spec != jail.spec {
                    if slot.process != nil {
                        slot.replacement = jail
                        stop(slot, now: now)
                    } else {
                        slot.config = jail
                        slot.tracker = RestartTracker(policy: jail.restart)
                        if slot.phase != .stopped { slot.phase = .waiting }
                    }
                } else {
                    slot.config = jail
                }
                kept.append(slot)
            } else {
                kept.append(JailSlot(jail))
            }
        }
        for slot in slots where !kept.contains(where: { $0 === slot }) {
            slot.removeWhenStopped = true
            slot.held = true
            stop(slot, now: now)
            kept.append(slot)   // until it has stopped
        }
        slots = kept
    }

    /// What `pit status` says of a jail's walls beyond the common ones (namespaces, read-only root, caps, no_new_privs):
    /// a user namespace, the filter, and Landlock with the kernel's ABI and anything it could only give in part.
    static func walls(of config: JailConfig) -> [String] {
        var walls: [String] = []
        if let start = config.spec.namespaces.userRangeStart {
            walls.append("user namespace (root is host uid \(start))")
        }
        if let policy = config.policy { walls.append("seccomp \(policy.compiled.file)") }
        if let landlock = config.spec.landlock {
            walls.append("landlock ABI \(landlock.abi)")
            for gap in landlock.missing { walls.append("landlock: \(gap) (best effort)") }
        }
        return walls
    }
}
