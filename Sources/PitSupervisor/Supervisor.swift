import CPitShim
import Glibc
import PitBoard
import PitJail
import PitPolicy
import PitProcess
import PitUplink

/// `pit supervise`: one event loop over epoll — a signalfd, one timerfd carrying the earliest deadline, a
/// pidfd, a seccomp listener and an output pipe per jail, and the control socket. No polling loop, and no
/// thread but the two that only write logs (LogWriter.swift: Pit's stderr, the jails' log files): the
/// watchdog is fed from this loop only, after a health check, so a hung loop means a reset.
///
/// Each concern is a part that owns its state and says when it next needs the loop (`nextDeadline(now:)`):
/// the jails (JailSet), the watchdog and its health gate (WatchdogFeeder), the uplink agent
/// (UplinkAgentProcess), the LEDs (StatusLeds), the console (SupervisorConsole), the control socket
/// (ControlServer) and systemd's notifications (SystemdNotify). This class starts them, hands each epoll
/// event to the part its `EventSource` names, and arms the one timer for the earliest of their deadlines.
public final class Supervisor {
    public let configPath: String
    public private(set) var config: DeviceConfig
    let emit: (SupervisorEvent) -> Void

    let eventLoop: EventLoop
    let jails: JailSet
    let feeder: WatchdogFeeder
    let agent: UplinkAgentProcess
    let leds: StatusLeds
    let samba: SambaGate
    private var control: ControlServer?
    var serial: SupervisorConsole?
    /// systemd's notification socket, when started as a Type=notify service (SystemdNotify.swift).
    var notify: SystemdNotify?
    /// The persona's DHCP client, when its `[dhcp]` is enabled (DhcpLink.swift).
    var dhcp: DhcpLink?

    public var safeMode: Bool { jails.safeMode }
    let startedAt = monotonicMilliseconds()
    var exitCode: Int32 = 0
    var orphansReaped = 0
    var reloads = ReloadCounts()
    /// Set once the start order has run through (or safe mode held it): start-up pages were given back.
    var startupPagesReleased = false
    var loopLatencyMs: Int64 = 0
    var rebootAfterStop = false
    /// The recent events (for the console); set by whoever records them.
    public var recentEvents: () -> [PitEvent] = { [] }
    /// How many lines of its own log were dropped (stderr not read); set by whoever writes them.
    public var logLinesDropped: () -> Int? = { nil }
    /// Where the log lines that are not events go (each step of the jails' lives, for whoever watches the log).
    public var say: (String) -> Void = { _ in } { didSet { jails.say = say } }

    public init(configPath: String, config: DeviceConfig, emit: @escaping (SupervisorEvent) -> Void) {
        self.configPath = configPath
        self.config = config
        self.emit = emit
        let eventLoop = EventLoop(), leds = StatusLeds(), samba = SambaGate(config: config, emit: emit)
        self.eventLoop = eventLoop
        self.leds = leds
        self.samba = samba
        self.feeder = WatchdogFeeder(settings: config.watchdog, emit: emit)
        self.agent = UplinkAgentProcess(configPath: configPath, emit: emit)
        self.jails = JailSet(config.jails, eventLoop: eventLoop, samba: samba, emit: emit)
        jails.violationSeen = { now in leds.violationSeen(at: now) }
        let files = JailLogFiles(dataDirectory: config.dataDirectory)
        // Room for a minute's budget of a few jails at once (JailOutput.fileBytesPerMinute each).
        jails.fileLog = LogWriter(queueLimit: 256 * 1024, sink: files.write)
    }

    // MARK: - Start-up

    /// Runs until SIGTERM/SIGINT; returns the process exit status.
    public func run() throws(SupervisorError) -> Int32 {
        detachStandardInput()
        protectFromOOMKiller()
        setUpSystemdNotify()
        try feeder.open(config.watchdog)   // first: from now on a hang resets the board
        try prepareDataDirectory()
        if let problem = CgroupLeaf.enterIfNeeded() {   // before any child: jails' cgroups go beside this leaf
            emit(.fault(.cgroups, "\(problem): jails with cgroup limits will fail to start"))
        }
        try recordBoot()
        removeLeftoverCgroups()
        applyPersona()
        samba.prepareTree(for: config)
        leds.open(config.board?.leds, emit: emit)
        try setUpLoop()
        dhcp?.open(eventLoop: eventLoop, now: monotonicMilliseconds())
        agent.start(config, now: monotonicMilliseconds())
        if safeMode {
            emit(SupervisorEvent(kind: .safeMode, message: "safe mode: jails are not started until it is cleared"))
        } else {
            jails.startNextInOrder(now: monotonicMilliseconds())
        }
        updateLeds(now: monotonicMilliseconds())
        loop()
        if let serial, serial.console != nil { serial.flush(eventLoop: eventLoop, now: monotonicMilliseconds()) }
        feeder.shutdown(magicClose: config.watchdog.magicClose, nowayout: config.board?.watchdog?.nowayout ?? false)
        leds.release()
        jails.fileLog?.flush()   // the jails' last lines, into their files
        if rebootAfterStop {
            _ = pit_reboot_restart()
        }
        return exitCode
    }

    private func setUpLoop() throws(SupervisorError) {
        // A subreaper inherits orphans that would otherwise go to init, and reaps them.
        if pit_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            // Not fatal (jails are reaped by pid either way), but orphans would go to init: say so.
            emit(.fault(.supervisor, "PR_SET_CHILD_SUBREAPER: \(String(cString: strerror(errno))): orphans go to init"))
        }
        try eventLoop.open(signals: [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE])
        do { control = try ControlServer(path: config.controlSocket, emit: emit) } catch { throw SupervisorError("\(error)") }
        eventLoop.add(control!.fd, .controlListener)
        if let settings = config.console {
            let host = SupervisorConsole(settings: settings)
            serial = host
            if let problem = host.open(eventLoop: eventLoop, now: monotonicMilliseconds()) {
                emit(.fault(.console, "console \(settings.tty): \(problem) (retrying)"))
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
            if jails.stopping && jails.allStopped && agent.pid == 0 { break }
        }
    }

    private func dispatch(_ source: EventSource, now: Int64) {
        switch source {
        case .signals: readSignals(now: now)
        case .timer: if let late = eventLoop.timerFired(now: now) { loopLatencyMs = late }
        case .controlListener: control?.accept(eventLoop: eventLoop, now: now)
        case .controlClient(let fd): control?.service(fd: fd, eventLoop: eventLoop) { [unowned self] request in self.handle(request) }
        case .console: serviceConsole(now: now)
        case .jailExit: reapChildren(now: now)
        case .violations(let slot): jails.serviceViolations(slot, now: now)
        case .smbAudit(let slot): jails.serviceAudit(slot, now: now)
        case .jailOutput(let slot): slot.output.drain(eventLoop: eventLoop, now: now)
        case .dhcp: dhcp?.serviceIP(now: now)
        case .dhcpARP: dhcp?.serviceARP(now: now)
        case .dhcpUDP: dhcp?.drainUDP()
        case .dhcpCarrier: dhcp?.serviceCarrier(now: now)
        }
    }

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

    /// Reaps every exited child: jail inits (by pid), the uplink agent, and orphans this subreaper inherited.
    private func reapChildren(now: Int64) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if agent.reaped(pid, status: status, now: now) || jails.reaped(pid, status: status, now: now) { continue }
            orphansReaped += 1
        }
    }

    /// Everything due by `now`: readiness checks, restarts, stop graces, the watchdog feed, LED blinking.
    private func tick(now: Int64) {
        jails.tick(now: now)
        agent.tick(config, now: now)
        dhcp?.tick(now: now)
        serial?.reopenIfDue(eventLoop: eventLoop, now: now)
        feeder.feed(now: now, systemd: &notify, startedAt: startedAt, requiredJailsDown: jails.requiredDown,
                    loopLatencyMs: loopLatencyMs, dataDirectory: config.dataDirectory)
        notifySystemd(now: now)
        updateLeds(now: now)
    }

    /// The one timer holds the earliest deadline of all the parts.
    private func armTimer(now: Int64) {
        let deadlines = [jails.nextDeadline(now: now), feeder.nextDeadline(now: now), notify?.nextPingDue(startedAt: startedAt),
                         leds.nextDeadline(now: now), agent.nextDeadline(now: now), serial?.nextDeadline(now: now),
                         dhcp?.nextDeadline(now: now)]
        eventLoop.arm(deadlines.compactMap { $0 }.min(), now: now)
    }

    /// After start-up (every jail started once, or safe mode), hand the start-up code's pages back:
    /// see `StartupPages`. Once only: later restarts fault in just what they use.
    private func releaseStartupPagesOnce() {
        guard !startupPagesReleased, !jails.stopping, jails.startOrderSettled else { return }
        startupPagesReleased = true
        if case .failure(let error) = StartupPages.release() {
            // Only memory is at stake (old kernel: EINVAL); say it once and carry on.
            emit(.fault(.supervisor, "releasing start-up pages: \(error)"))
        }
    }

    func serviceConsole(now: Int64) {
        guard let serial else { return }
        serial.service(eventLoop: eventLoop, now: now, context: consoleContext(now: now))
    }

    /// The patterns the jails and the uplink ask for; StatusLeds shows the most urgent.
    func updateLeds(now: Int64) {
        leds.update(now: now, asked: jails.ledPatterns + (agent.state == "down" ? [.uplinkDown] : []))
    }

    // MARK: - Shutdown and reload

    func requestShutdown() { beginShutdown(now: monotonicMilliseconds()) }

    private func beginShutdown(now: Int64) {
        guard !jails.stopping else { return }
        notify?.stopping()
        dhcp?.stop(now: now)   // DHCPRELEASE while the link is still ours
        agent.stop()
        jails.beginShutdown(now: now)
    }

    /// SIGHUP: a valid config is applied (changed jails restarted); an invalid one is reported and ignored.
    func reload(now: Int64) {
        notify?.reloading(now: now)     // READY=1 follows from the loop once the new start order has run through
        let fresh: DeviceConfig
        do { fresh = try DeviceConfig.load(configPath) } catch {
            reloads.rejected += 1
            emit(SupervisorEvent(kind: .configError, message: "reload rejected, the running config stays: \(error)"))
            return
        }
        guard fresh.sourceText != config.sourceText else {
            // Nothing to apply and nothing to record; the Samba tree is still repaired (a decoy replaced or
            // removed by someone comes back), which records only what it finds wrong.
            reloads.unchanged += 1
            samba.prepareTree(for: config)
            return
        }
        jails.reload(fresh.jails, now: now)
        let personaWasBroken = config.personaProblem != nil
        config = fresh
        // The persona a start could not load (DeviceConfig.personaProblem), now fixed: applied as at start.
        if personaWasBroken { applyPersona() }
        // Before any jail of the new config starts: replaced jails start once their predecessors have exited.
        samba.prepareTree(for: config)
        // A jail its config kept from starting is tried with the new one now, not at its next retry.
        jails.retryMisconfigured(now: now)
        reloads.applied += 1
        emit(SupervisorEvent(kind: .configApplied, message: "configuration reloaded from \(configPath)"))
    }
}

public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
