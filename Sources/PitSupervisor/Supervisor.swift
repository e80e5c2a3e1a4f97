import CPitShim
import Glibc
import PitBoard
import PitJail
import PitPolicy
import PitProcess
import PitUplink
import SystemPackage

/// Something the supervisor reports: the uplink turns these into durable events.
public struct SupervisorEvent: Sendable {
    public var kind: String          // violation, service_exit, restart, crash_loop, watchdog_reset, config_error, safe_mode, boot
    public var jail: String?
    public var message: String
    public var violation: Violation?
    public var exitStatus: Int32?
    public var signal: Int32?
    public var restarts: Int?
    public var smb: SmbAccess?
}

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
    /// smbd's full_audit socket (`audit_socket`), kept across restarts of the jail.
    var audit: AuditSocket?

    init(_ config: JailConfig) {
        self.config = config
        self.tracker = RestartTracker(policy: config.restart)
    }
}

/// `pit supervise`: one event loop over epoll — a signalfd, one timerfd carrying the earliest deadline, a
/// pidfd and a seccomp listener per jail, and the control socket. No thread, no polling loop: the
/// watchdog is fed from this loop only, after a health check, so a hung loop means a reset.
public final class Supervisor {
    public let configPath: String
    public private(set) var config: DeviceConfig
    var slots: [JailSlot] = []
    let emit: (SupervisorEvent) -> Void

    private let eventLoop = EventLoop()
    private var control: ControlServer?

    let feeder: WatchdogFeeder
    public private(set) var safeMode = false
    let leds = StatusLeds()
    let startedAt = monotonicMilliseconds()
    var stopping = false
    var exitCode: Int32 = 0
    var orphansReaped = 0
    /// Set once the start order has run through (or safe mode held it): start-up pages were given back.
    var startupPagesReleased = false
    var loopLatencyMs: Int64 = 0
    let agent: UplinkAgentProcess
    var serial: SupervisorConsole?
    /// systemd's notification socket, when started as a Type=notify service (SystemdNotify.swift).
    var notify: SystemdNotify?
    var rebootAfterStop = false
    /// Why the Samba tree could not be prepared, until it can.
    var sambaTreeProblem: String?
    let sambaPreflight = SambaPreflight()
    /// The recent events (for the console); set by whoever records them.
    public var recentEvents: () -> [PitEvent] = { [] }
    /// The audit sockets of jails a reload removed. Kept open: releasing one unlinks its path, which a jail
    /// of the new config may have bound since.
    private var retiredAudits: [AuditSocket] = []

    public init(configPath: String, config: DeviceConfig, emit: @escaping (SupervisorEvent) -> Void) {
        self.configPath = configPath
        self.config = config
        self.emit = emit
        self.feeder = WatchdogFeeder(settings: config.watchdog, emit: emit)
        self.agent = UplinkAgentProcess(configPath: configPath, emit: emit)
        self.slots = config.jails.map(JailSlot.init)
    }

    // MARK: - Start-up

    /// Runs until SIGTERM/SIGINT; returns the process exit status.
    public func run() throws(SupervisorError) -> Int32 {
        detachStandardInput()
        setUpSystemdNotify()
        try feeder.open(config.watchdog)   // first: from now on a hang resets the board
        try prepareDataDirectory()
        if let problem = CgroupLeaf.enterIfNeeded() {   // before any child: jails' cgroups go beside this leaf
            emit(SupervisorEvent(kind: "config_error", message: "\(problem): jails with cgroup limits will fail to start"))
        }
        try recordBoot()
        applyPersona()
        prepareSambaTree()
        leds.open(config.board?.leds, emit: emit)
        try setUpLoop()
        agent.start(config, now: monotonicMilliseconds())
        if safeMode {
            emit(SupervisorEvent(kind: "safe_mode", message: "safe mode: jails are not started until it is cleared"))
        } else {
            startNextInOrder(now: monotonicMilliseconds())
        }
        updateLeds(now: monotonicMilliseconds())
        loop()
        if let serial, serial.console != nil { serial.flush(eventLoop: eventLoop, now: monotonicMilliseconds()) }
        feeder.shutdown(magicClose: config.watchdog.magicClose, nowayout: config.board?.watchdog?.nowayout ?? false)
        leds.release()
        if rebootAfterStop {
            _ = pit_reboot_restart()
        }
        return exitCode
    }

    /// Jails and the uplink agent inherit fds 0-2. Under init, stdin is the console, whose input (the PIN
    /// included) no jail may read; under a test harness or a pipe it may be at EOF, which makes
    /// `smbd --foreground` exit at once. Pit never reads its stdin, so it becomes /dev/null for everyone.
    private func detachStandardInput() {
        // Not O_CLOEXEC: with stdin closed the open lands on fd 0 itself, which must survive execve.
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 {
            if null != 0 { _ = dup2(null, 0); close(null) }
        } else {
            close(0)   // no /dev/null: better no stdin than the console
        }
    }

    private func prepareDataDirectory() throws(SupervisorError) {
        var path = ""
        for part in config.dataDirectory.split(separator: "/") {
            path += "/" + part
            if mkdir(path, 0o700) != 0 && errno != EEXIST { throw SupervisorError("data directory \(path): \(String(cString: strerror(errno)))") }
        }
    }

    private func recordBoot() throws(SupervisorError) {
        let counter = BootCounter(directory: config.dataDirectory, threshold: config.watchdog.safeModeAfter)
        let watchdogReset = (feeder.bootStatus ?? 0) & Int(WatchdogFlags.cardReset.rawValue) != 0
        if watchdogReset {
            emit(SupervisorEvent(kind: "watchdog_reset", message: "the last boot was caused by the watchdog (bootstatus \(feeder.bootStatus ?? 0))"))
        }
        do {
            let record = try counter.recordBoot(watchdogReset: watchdogReset)
            safeMode = record.safeMode
        } catch {
            throw SupervisorError("boot counter: \(error)")
        }
    }

    /// The device's face on the customer network: hostname, MAC, addresses and routes, natively over rtnetlink.
    /// A failure is reported and the jails still start (a canary that is up but mis-addressed is visible in
    /// its events; one that refuses to start is not).
    private func applyPersona() {
        guard let persona = config.persona else { return }
        do {
            let report = try persona.apply()
            if !report.changes.isEmpty {
                emit(SupervisorEvent(kind: "boot", message: "persona \(persona.hostname): " + report.changes.joined(separator: "; ")))
            }
        } catch {
            emit(SupervisorEvent(kind: "config_error", message: "persona: \(error)"))
        }
    }

    /// Renders the Samba tree (SambaTree) for the current config: at start and when a reload is applied, before
    /// any jail of that config starts. A failure (a symlink a jail planted where a directory belongs) is an
    /// event; the jails that bind the tree then do not start until a later attempt succeeds (`start` retries),
    /// and the others run.
    private func prepareSambaTree() {
        guard let persona = config.persona, let root = config.sambaRoot else { sambaTreeProblem = nil; return }
        do {
            let warnings = try SambaTree.prepare(persona, root: root, port: config.smbPort, jails: config.jails.map(\.spec))
            sambaTreeProblem = nil
            for warning in warnings { emit(SupervisorEvent(kind: "config_error", message: "samba tree: \(warning)")) }
        } catch {
            sambaTreeProblem = error.description
            emit(SupervisorEvent(kind: "config_error", message: "\(error): jails that bind it do not start"))
        }
    }

    /// True when one of the jail's binds comes from the Samba tree.
    private func usesSambaTree(_ spec: JailSpec) -> Bool {
        guard let root = config.sambaRoot else { return false }
        return spec.root.mounts.contains { mount in
            guard case .bind(let source, _, _) = mount else { return false }
            return source == root || source.hasPrefix(root + "/")
        }
    }

    /// Why the jail cannot start now, checked before each start: the Samba tree it binds could not be prepared
    /// (tried again here), or smbd's smb.conf names a VFS module this Samba lacks (SambaPreflight).
    private func startProblem(_ slot: JailSlot) -> String? {
        if sambaTreeProblem != nil && usesSambaTree(slot.config.spec) {
            prepareSambaTree()
            if let problem = sambaTreeProblem { return problem }
        }
        return sambaPreflight.problem(for: slot.config.spec)
    }

    private func setUpLoop() throws(SupervisorError) {
        // A subreaper inherits orphans that would otherwise go to init, and reaps them.
        if pit_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            // Not fatal (jails are reaped by pid either way), but orphans would go to init: say so.
            emit(SupervisorEvent(kind: "config_error", message: "PR_SET_CHILD_SUBREAPER: \(String(cString: strerror(errno))): orphans go to init"))
        }
        try eventLoop.open(signals: [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE])
        do { control = try ControlServer(path: config.controlSocket) } catch { throw SupervisorError("\(error)") }
        eventLoop.add(control!.fd, .controlListener)
        if let settings = config.console {
            let host = SupervisorConsole(settings: settings)
            serial = host
            if let problem = host.open(eventLoop: eventLoop, now: monotonicMilliseconds()) {
                emit(SupervisorEvent(kind: "config_error", message: "console \(settings.tty): \(problem) (retrying)"))
            }
        }
    }

    // MARK: - The loop

    private func loop() {
        while true {
            armTimer(now: monotonicMilliseconds())
            releaseStartupPagesOnce()   // before going idle, so the check needs no wakeup of its own
            // Input a flood left for the next iteration is served without waiting for another epoll event.
            let wait: Int32 = serial?.hasPendingInput == true ? 0 : -1
            guard let ready = eventLoop.wait(timeoutMs: wait) else { if errno == EINTR { continue } else { break } }
            let now = monotonicMilliseconds()
            for key in ready {
                if let source = eventLoop.source(of: key) { dispatch(source, now: now) }
            }
            if ready.isEmpty, serial?.hasPendingInput == true { serviceConsole(now: now) }
            tick(now: monotonicMilliseconds())
            if stopping && slots.allSatisfy({ $0.process == nil }) && agent.pid == 0 { break }
        }
    }

    private func dispatch(_ source: EventSource, now: Int64) {
        switch source {
        case .signals: readSignals(now: now)
        case .timer: if let late = eventLoop.timerFired(now: now) { loopLatencyMs = late }
        case .controlListener:
            control?.accept(eventLoop: eventLoop) { [unowned self] detail in controlRefused(detail, now: now) }
        case .controlClient(let fd): control?.service(fd: fd, eventLoop: eventLoop) { [unowned self] request in self.handle(request) }
        case .console: serviceConsole(now: now)
        case .jailExit: reapChildren(now: now)
        case .violations(let slot): serviceViolations(slot, now: now)
        case .smbAudit(let slot):
            guard let audit = slot.audit else { return }
            for access in audit.drain() {
                emit(SupervisorEvent(kind: "smb_access", jail: slot.config.name,
                                     message: "\(access.user)@\(access.client) read \(access.share)/\(access.file)", smb: access))
            }
        }
    }

    /// A refused control peer is worth an event (something inside a jail reached for the socket), but a
    /// peer that retries in a loop must not fill the spool: at most one event per `refusalQuietMs`, carrying
    /// the number of refusals it stands for.
    private func controlRefused(_ detail: String, now: Int64) {
        if let last = lastRefusalEvent, now - last < Self.refusalQuietMs { suppressedRefusals += 1; return }
        let more = suppressedRefusals > 0 ? " (and \(suppressedRefusals) more since the last report)" : ""
        suppressedRefusals = 0
        lastRefusalEvent = now
        emit(SupervisorEvent(kind: "control_refused", message: "control socket: refused \(detail)\(more)"))
    }

    private var lastRefusalEvent: Int64?
    private var suppressedRefusals = 0
    static let refusalQuietMs: Int64 = 10_000

    private func readSignals(now: Int64) {
        while let signal = eventLoop.nextSignal() {
            switch signal {
            case SIGCHLD: reapChildren(now: now)
            case SIGHUP: reload(now: now)
            case SIGTERM, SIGINT: beginShutdown(now: now)
            default: break
            }
        }
    }

    /// Everything due by `now`: readiness checks, restarts, stop graces, the watchdog feed, LED blinking.
    private func tick(now: Int64) {
        for slot in slots {
            guard let deadline = slot.deadline, deadline <= now else { continue }
            slot.deadline = nil
            switch slot.phase {
            case .starting: checkReadiness(slot, now: now)
            case .backoff, .failed: if !stopping && !slot.held { start(slot, now: now) }
            case .stopping: slot.process?.kill(SIGKILL)
            default: break
            }
        }
        if !stopping { startNextInOrder(now: now) }
        agent.tick(config, now: now)
        if let serial, serial.console == nil, let at = serial.reopenAt, at <= now {
            _ = serial.open(eventLoop: eventLoop, now: now)
        }
        feeder.feed(now: now, systemd: &notify, startedAt: startedAt, requiredJailsDown: requiredJailsDown,
                    loopLatencyMs: loopLatencyMs, dataDirectory: config.dataDirectory)
        notifySystemd(now: now)
        updateLeds(now: now)
    }

    /// After start-up (every jail started once, or safe mode), hand the start-up code's pages back:
    /// see `StartupPages`. Once only: later restarts fault in just what they use.
    private func releaseStartupPagesOnce() {
        guard !startupPagesReleased, !stopping, startOrderSettled else { return }
        startupPagesReleased = true
        if case .failure(let error) = StartupPages.release() {
            // Only memory is at stake (old kernel: EINVAL); say it once and carry on.
            emit(SupervisorEvent(kind: "config_error", message: "releasing start-up pages: \(error)"))
        }
    }

    private func armTimer(now: Int64) {
        var next = slots.compactMap(\.deadline).min()
        if let feed = feeder.nextDeadline(now: now) { next = min(next ?? .max, feed) }
        if let ping = notify?.nextPingDue(startedAt: startedAt) { next = min(next ?? .max, ping) }
        if let led = leds.nextDeadline(now: now) { next = min(next ?? .max, led) }
        if let at = agent.nextDeadline(now: now) { next = min(next ?? .max, at) }
        if let serial, serial.console == nil, let at = serial.reopenAt { next = min(next ?? .max, at) }
        eventLoop.arm(next, now: now)
    }

    // MARK: - Jails

    /// Starts the first waiting jail once every jail before it is settled (ready, or given up on).
    private func startNextInOrder(now: Int64) {
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
                if slot.phase == .failed || slot.phase == .crashLoop { continue }
                return
            case .starting:
                return
            default:
                continue
            }
        }
    }

    func start(_ slot: JailSlot, now: Int64) {
        if let path = slot.config.auditSocket, slot.audit?.path != path {
            do {
                let audit = try AuditSocket(path: path)
                if let old = slot.audit { eventLoop.remove(old.fd) }
                slot.audit = audit
                eventLoop.add(audit.fd, .smbAudit(slot))
            } catch {
                emit(SupervisorEvent(kind: "config_error", jail: slot.config.name, message: "\(error)"))
            }
        }
        if let problem = startProblem(slot) {
            startFailed(slot, problem, now: now)
            return
        }
        do {
            let process = try Launcher.start(slot.config.spec, policy: slot.config.policy) { violation in
                self.recordViolation(violation, slot: slot, now: now)
            }
            slot.process = process
            slot.startedAt = now
            slot.phase = .starting
            eventLoop.add(process.pidfd, .jailExit)
            if process.listener >= 0 { eventLoop.add(process.listener, .violations(slot)) }
            slot.readyDeadline = now + slot.config.readyTimeoutMs
            checkReadiness(slot, now: now)
        } catch {
            startFailed(slot, "\(error)", now: now)
        }
    }

    /// A start that failed before the jail ran: an event, then the back-off like any exit (a crash loop ends it).
    private func startFailed(_ slot: JailSlot, _ problem: String, now: Int64) {
        slot.lastExit = "setup failed: \(problem)"
        emit(SupervisorEvent(kind: "service_exit", jail: slot.config.name, message: "\(slot.config.name) could not start: \(problem)"))
        scheduleRestart(slot, now: now)
        if slot.phase == .backoff { slot.phase = .failed }
    }

    private func checkReadiness(_ slot: JailSlot, now: Int64) {
        guard slot.phase == .starting else { return }
        guard let port = slot.config.readyTCPPort else { slot.phase = .running; return }
        if Readiness.listening(pid: slot.process?.pid, host: slot.config.readyTCPHost, port: port) {
            slot.phase = .running
        } else if now >= slot.readyDeadline {
            emit(SupervisorEvent(kind: "service_exit", jail: slot.config.name,
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
            emit(SupervisorEvent(kind: "crash_loop", jail: slot.config.name,
                                 message: "\(slot.config.name) exited \(slot.config.restart.crashLoopExits) times within \(slot.config.restart.crashLoopWindowMs / 1000) s: not restarted",
                                 restarts: slot.restarts))
        }
    }

    /// Reaps every exited child: jail inits (by pid), the uplink agent, and orphans this subreaper inherited.
    private func reapChildren(now: Int64) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if agent.reaped(pid, status: status, now: now) { continue }
            guard let slot = slots.first(where: { $0.process?.pid == pid }), let process = slot.process else {
                orphansReaped += 1
                continue
            }
            let ending = process.reaped(status: status)
            jailExited(slot, process: process, ending: ending, now: now)
        }
    }

    private func jailExited(_ slot: JailSlot, process: RunningJail, ending: JailOutcome.Ending, now: Int64) {
        eventLoop.remove(process.pidfd)
        if process.listener >= 0 {
            serviceViolations(slot, now: now)
            eventLoop.remove(process.listener)
        }
        process.close()
        slot.process = nil
        slot.lastExit = ending.description
        slot.tracker.recordRunning(since: slot.startedAt, now: now)
        var event = SupervisorEvent(kind: "service_exit", jail: slot.config.name, message: "\(slot.config.name) \(ending)")
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
            emit(SupervisorEvent(kind: "restart", jail: slot.config.name,
                                 message: "\(slot.config.name) restarts in \(max(0, (slot.deadline ?? now) - now)) ms", restarts: slot.restarts))
        }
    }

    private func serviceViolations(_ slot: JailSlot, now: Int64) {
        guard let process = slot.process else { return }
        process.serviceListener { violation in recordViolation(violation, slot: slot, now: now) }
    }

    private func recordViolation(_ violation: Violation, slot: JailSlot, now: Int64) {
        slot.violations += 1
        leds.violationSeen(at: now)
        emit(SupervisorEvent(kind: "violation", jail: slot.config.name, message: violation.summary, violation: violation))
    }

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

    // MARK: - Shutdown and reload

    func serviceConsole(now: Int64) {
        guard let serial else { return }
        serial.service(eventLoop: eventLoop, now: now, context: consoleContext(now: now))
    }

    func requestShutdown() { beginShutdown(now: monotonicMilliseconds()) }

    private func beginShutdown(now: Int64) {
        guard !stopping else { return }
        stopping = true
        notify?.stopping()
        agent.stop()
        for slot in slots where slot.process == nil { slot.phase = .stopped; slot.deadline = nil }
        stopNextForShutdown(now: now)
    }

    /// Reverse start order, one at a time: a jail stops only after the ones started after it are gone.
    private func stopNextForShutdown(now: Int64) {
        guard let last = slots.last(where: { $0.process != nil }) else { return }
        if last.phase != .stopping { stop(last, now: now) }
    }

    /// SIGHUP: a valid config is applied (changed jails restarted); an invalid one is reported and ignored.
    func reload(now: Int64) {
        notify?.reloading(now: now)     // READY=1 follows from the loop once the new start order has run through
        let fresh: DeviceConfig
        do { fresh = try DeviceConfig.load(configPath) } catch {
            emit(SupervisorEvent(kind: "config_error", message: "reload rejected, the running config stays: \(error)"))
            return
        }
        var kept: [JailSlot] = []
        for jail in fresh.jails {
            if let slot = slots.first(where: { $0.config.name == jail.name }) {
                if slot.config.fingerprint != jail.fingerprint || slot.config.spec != jail.spec {
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
        config = fresh
        // Before any jail of the new config starts: replaced jails start once their predecessors have exited.
        prepareSambaTree()
        emit(SupervisorEvent(kind: "config_applied", message: "configuration reloaded from \(configPath)"))
    }

    // MARK: - Health and LEDs

    private func requiredJailsDown() -> [String] {
        guard !safeMode, !stopping else { return [] }
        return slots.filter { $0.config.required && $0.phase != .running && !$0.held }.map(\.config.name)
    }

    /// The patterns the jails and the uplink ask for; StatusLeds shows the most urgent.
    func updateLeds(now: Int64) {
        var patterns: [LedPattern] = []
        if safeMode { patterns.append(.safeMode) }
        if slots.contains(where: { $0.phase == .crashLoop }) { patterns.append(.crashLoop) }
        if !requiredJailsDown().isEmpty { patterns.append(slots.contains { $0.phase == .waiting || $0.phase == .starting } ? .booting : .degraded) }
        if agent.state == "down" { patterns.append(.uplinkDown) }
        leds.update(now: now, asked: patterns)
    }

    // MARK: - Control requests

    func handle(_ request: String) -> String {
        let words = request.split(separator: " ").map(String.init)
        let now = monotonicMilliseconds()
        func find(_ name: String?) -> JailSlot? { slots.first { $0.config.name == name } }
        switch words.first {
        case "status":
            return statusJSON(now: now)
        case "restart", "stop", "start":
            guard let slot = find(words.count > 1 ? words[1] : nil) else {
                return #"{"ok":false,"error":"no such jail"}"#
            }
            switch words[0] {
            case "stop":
                slot.held = true
                stop(slot, now: now)
            case "start":
                slot.held = false
                slot.tracker.reset()
                if slot.process == nil { start(slot, now: now) }
            default:
                slot.held = false
                slot.tracker.reset()
                if slot.process != nil {
                    slot.replacement = slot.config
                    stop(slot, now: now)
                } else {
                    start(slot, now: now)
                }
            }
            return #"{"ok":true}"#
        case "clear-safe-mode":
            do {
                try BootCounter(directory: config.dataDirectory, threshold: config.watchdog.safeModeAfter).clearSafeMode()
            } catch {
                return #"{"ok":false,"error":"boot counter"}"#
            }
            safeMode = false
            startNextInOrder(now: now)
            return #"{"ok":true}"#
        default:
            return #"{"ok":false,"error":"unknown request"}"#
        }
    }

    public func status(now: Int64 = monotonicMilliseconds()) -> SupervisorStatus {
        agent.refreshState(config)
        return SupervisorStatus(
            jails: slots.map { slot in
                SupervisorStatus.Jail(name: slot.config.name, state: slot.phase.rawValue, pid: slot.process?.pid,
                                      restarts: slot.restarts, last_exit: slot.lastExit, violations: slot.violations,
                                      required: slot.config.required)
            },
            watchdog: feeder.status(now: now, settings: config.watchdog, notify: notify),
            leds: leds.status,
            uplink: SupervisorStatus.UplinkStatus(state: agent.state, queued: agent.queued),
            uptime_s: (now - startedAt) / 1000, safe_mode: safeMode, orphans_reaped: orphansReaped, config: configPath)
    }

    func statusJSON(now: Int64) -> String {
        JSON.encode(status(now: now))
    }
}

public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
