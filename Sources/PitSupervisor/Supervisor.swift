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
    /// How many times it became running (JailDependencies.swift restarts its `restart_with` dependents from the second).
    var runs = 0

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

    private var epfd: Int32 = -1
    private var signalFD: Int32 = -1
    private var timerFD: Int32 = -1
    private var control: ControlServer?
    private var timerDeadline: Int64?

    var watchdog: Watchdog?
    var feedIntervalMs: Int64 = 0
    var lastFeed: Int64?
    /// When the health gate is next asked for a hardware feed: a feed interval after a feed, a second after a
    /// refused one (see `feedWatchdog`).
    var nextFeedCheckAt: Int64?
    var keepaliveError: String?
    var health: HealthGate
    var healthProblems: [String] = []
    var bootStatus: Int?
    public private(set) var safeMode = false
    var leds: Leds?
    var ledPattern: LedPattern = .booting
    /// The console's `leds test` while it runs: it takes the LEDs over, then the pattern comes back.
    var ledWalk: LedWalk?
    var recentViolation: Int64?
    let startedAt = monotonicMilliseconds()
    var stopping = false
    var exitCode: Int32 = 0
    var orphansReaped = 0
    /// Set once the start order has run through (or safe mode held it): start-up pages were given back.
    var startupPagesReleased = false
    var loopLatencyMs: Int64 = 0
    var uplinkState = "none"
    var uplinkQueued = 0
    /// `pit uplink-agent`, the separate process that delivers spooled events (TLS stays out of this loop).
    var agentPid: pid_t = 0
    var agentRestartAt: Int64?
    var agentDelayMs: Int64 = 1000
    var serial: SupervisorConsole?
    /// systemd's notification socket, when started as a Type=notify service (SystemdNotify.swift).
    var notify: SystemdNotify?
    var rebootAfterStop = false
    /// Why the Samba tree could not be prepared, until it can.
    var sambaTreeProblem: String?
    let sambaPreflight = SambaPreflight()
    /// The recent events (for the console); set by whoever records them.
    public var recentEvents: () -> [PitEvent] = { [] }
    private static let consoleToken: UInt64 = 4

    // Tokens in epoll: fixed ones, then per-jail pidfd/listener keyed by slot identity.
    private static let signalToken: UInt64 = 1, timerToken: UInt64 = 2, controlToken: UInt64 = 3
    private static let clientBase: UInt64 = 1 << 40
    private static let pidfdBase: UInt64 = 1 << 32, listenerBase: UInt64 = 1 << 33, auditBase: UInt64 = 1 << 34
    private var audits: [UInt64: AuditSocket] = [:]
    private var slotIDs: [ObjectIdentifier: UInt64] = [:]
    private var nextSlotID: UInt64 = 0

    public init(configPath: String, config: DeviceConfig, emit: @escaping (SupervisorEvent) -> Void) {
        self.configPath = configPath
        self.config = config
        self.emit = emit
        self.health = HealthGate(graceMilliseconds: Int64(config.watchdog.healthGraceSeconds) * 1000,
                                 maxEventLoopLatencyMilliseconds: Int64(config.watchdog.maxLoopLatencyMs))
        self.slots = config.jails.map(JailSlot.init)
    }

    // MARK: - Start-up

    /// Runs until SIGTERM/SIGINT; returns the process exit status.
    public func run() throws(SupervisorError) -> Int32 {
        detachStandardInput()
        setUpSystemdNotify()
        try openWatchdog()              // first: from now on a hang resets the board
        try prepareDataDirectory()
        if let problem = CgroupLeaf.enterIfNeeded() {   // before any child: jails' cgroups go beside this leaf
            emit(SupervisorEvent(kind: "config_error", message: "\(problem): jails with cgroup limits will fail to start"))
        }
        try recordBoot()
        applyPersona()
        prepareSambaTree()
        openLeds()
        try setUpLoop()
        startUplinkAgent(now: monotonicMilliseconds())
        if safeMode {
            emit(SupervisorEvent(kind: "safe_mode", message: "safe mode: jails are not started until it is cleared"))
        } else {
            startNextInOrder(now: monotonicMilliseconds())
        }
        updateLeds(now: monotonicMilliseconds())
        loop()
        if let serial, serial.console != nil { serial.flush(epfd: epfd, token: Self.consoleToken, now: monotonicMilliseconds()) }
        shutdownWatchdog()
        leds?.release()
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

    private func openWatchdog() throws(SupervisorError) {
        let settings = config.watchdog
        // owner = "systemd": systemd's RuntimeWatchdogSec holds the device; Pit pings systemd instead.
        if settings.owner == .systemd, let device = settings.device {
            bootStatus = SystemdNotify.sysfsBootStatus(device: device)
        }
        guard settings.enabled, let device = settings.device else { return }   // owner = "systemd" disables it
        do {
            var dog = try Watchdog.open(device)
            let applied = try dog.configure(timeoutSeconds: settings.timeoutSeconds, pretimeoutSeconds: settings.pretimeoutSeconds)
            feedIntervalMs = applied.feedIntervalMilliseconds
            bootStatus = Int((try? dog.bootStatus())?.flags.rawValue ?? 0)
            try dog.keepalive()
            watchdog = dog
        } catch {
            // A FIFO stands in for the device where there is none (tests, development machines):
            // it records the feeds, which are writes once the ioctls fail.
            var st = stat()
            guard stat(device, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO else {
                // One opener at a time: EBUSY means systemd (RuntimeWatchdogSec) or procd already holds it.
                let hint = error.errno == EBUSY ? " (held by systemd or procd? set [watchdog] owner in the device config)" : ""
                throw SupervisorError("watchdog \(device): \(error)\(hint)")
            }
            let fd = open(device, O_RDWR | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { throw SupervisorError("watchdog \(device): \(String(cString: strerror(errno)))") }
            var dog = Watchdog(adopting: FileDescriptor(rawValue: fd), path: device)
            try? dog.keepalive()
            watchdog = dog
            feedIntervalMs = FeedPolicy.intervalMilliseconds(timeoutSeconds: settings.timeoutSeconds, pretimeoutSeconds: settings.pretimeoutSeconds)
            bootStatus = 0
        }
        let now = monotonicMilliseconds()
        lastFeed = now
        if feedIntervalMs > 0 { nextFeedCheckAt = now + feedIntervalMs }
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
        let watchdogReset = (bootStatus ?? 0) & Int(WatchdogFlags.cardReset.rawValue) != 0
        if watchdogReset {
            emit(SupervisorEvent(kind: "watchdog_reset", message: "the last boot was caused by the watchdog (bootstatus \(bootStatus ?? 0))"))
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

    /// Spawns `pit uplink-agent` (this same executable) when transports are configured.
    private func startUplinkAgent(now: Int64) {
        guard !config.uplinks.isEmpty, agentPid == 0 else { return }
        let argv = ["pit", "uplink-agent", "--config", configPath]
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        // The agent must not start with the supervisor's blocked signals.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        defer { posix_spawnattr_destroy(&attributes) }
        let rc = posix_spawn(&pid, "/proc/self/exe", nil, &attributes, cArgs, environ)
        if rc == 0 {
            agentPid = pid
        } else {
            emit(SupervisorEvent(kind: "config_error", message: "uplink agent: \(String(cString: strerror(rc)))"))
            agentRestartAt = now + agentDelayMs
        }
    }

    /// The uplink's state as the agent last wrote it (DATA/uplink/state.json).
    private func refreshUplinkState() {
        guard !config.uplinks.isEmpty else { uplinkState = "none"; uplinkQueued = 0; return }
        guard let state = try? UplinkState.load(dataDirectory: config.dataDirectory) else {
            uplinkState = agentPid > 0 ? "starting" : "down"
            return
        }
        let states = Set(state.transports.map(\.state))
        uplinkState = states == ["up"] ? "up" : (states.contains("down") ? "down" : (states.contains("backoff") ? "backoff" : "up"))
        uplinkQueued = state.transports.map(\.queued).max() ?? 0
    }

    private func openLeds() {
        guard let wiring = config.board?.leds, !wiring.isEmpty else { return }
        do { leds = try Leds.open(wiring) } catch {
            emit(SupervisorEvent(kind: "config_error", message: "LEDs: \(error)"))
        }
    }

    private func setUpLoop() throws(SupervisorError) {
        // A subreaper inherits orphans that would otherwise go to init, and reaps them.
        if pit_prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0 {
            // Not fatal (jails are reaped by pid either way), but orphans would go to init: say so.
            emit(SupervisorEvent(kind: "config_error", message: "PR_SET_CHILD_SUBREAPER: \(String(cString: strerror(errno))): orphans go to init"))
        }
        var set = sigset_t()
        sigemptyset(&set)
        let signals = [SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE]
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signalFD = signals.withUnsafeBufferPointer { pit_signalfd($0.baseAddress, Int32($0.count)) }
        epfd = pit_epoll_create()
        timerFD = pit_timerfd_create()
        guard signalFD >= 0, epfd >= 0, timerFD >= 0 else { throw SupervisorError("event loop: \(String(cString: strerror(errno)))") }
        _ = pit_epoll_add(epfd, signalFD, Self.signalToken, 0)
        _ = pit_epoll_add(epfd, timerFD, Self.timerToken, 0)
        do { control = try ControlServer(path: config.controlSocket) } catch { throw SupervisorError("\(error)") }
        _ = pit_epoll_add(epfd, control!.fd, Self.controlToken, 0)
        if let settings = config.console {
            let host = SupervisorConsole(settings: settings)
            serial = host
            if let problem = host.open(epfd: epfd, token: Self.consoleToken, now: monotonicMilliseconds()) {
                emit(SupervisorEvent(kind: "config_error", message: "console \(settings.tty): \(problem) (retrying)"))
            }
        }
    }

    // MARK: - The loop

    private func loop() {
        var tokens = [UInt64](repeating: 0, count: 64)
        while true {
            armTimer(now: monotonicMilliseconds())
            releaseStartupPagesOnce()   // before going idle, so the check needs no wakeup of its own
            // Input a flood left for the next iteration is served without waiting for another epoll event.
            let wait: Int32 = serial?.hasPendingInput == true ? 0 : -1
            let count = tokens.withUnsafeMutableBufferPointer { pit_epoll_wait(epfd, $0.baseAddress, 64, wait) }
            let now = monotonicMilliseconds()
            if count < 0 { if errno == EINTR { continue } else { break } }
            for token in tokens.prefix(Int(count)) { dispatch(token, now: now) }
            if count == 0, serial?.hasPendingInput == true { serviceConsole(now: now) }
            tick(now: monotonicMilliseconds())
            if stopping && slots.allSatisfy({ $0.process == nil }) && agentPid == 0 { break }
        }
    }

    private func dispatch(_ token: UInt64, now: Int64) {
        switch token {
        case Self.signalToken: readSignals(now: now)
        case Self.timerToken:
            pit_timerfd_ack(timerFD)
            if let expected = timerDeadline { loopLatencyMs = max(0, now - expected) }
        case Self.controlToken:
            control?.accept(epfd: epfd, tokenBase: Self.clientBase) { [unowned self] detail in controlRefused(detail, now: now) }
        case Self.consoleToken: serviceConsole(now: now)
        case Self.clientBase...:
            control?.service(fd: Int32(token - Self.clientBase), epfd: epfd) { [unowned self] request in self.handle(request) }
        case Self.auditBase..<(Self.auditBase + (1 << 32)):
            if let audit = audits[token - Self.auditBase], let slot = slot(for: token - Self.auditBase) {
                for access in audit.drain() {
                    emit(SupervisorEvent(kind: access.kind.rawValue, jail: slot.config.name, message: access.summary, smb: access))
                }
            }
        case Self.listenerBase..<(Self.listenerBase + (1 << 32)):
            if let slot = slot(for: token - Self.listenerBase) { serviceViolations(slot, now: now) }
        case Self.pidfdBase..<(Self.pidfdBase + (1 << 32)):
            reapChildren(now: now)
        default: break
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

    private func slot(for id: UInt64) -> JailSlot? {
        slots.first { slotIDs[ObjectIdentifier($0)] == id }
    }

    private func id(of slot: JailSlot) -> UInt64 {
        if let id = slotIDs[ObjectIdentifier(slot)] { return id }
        nextSlotID += 1
        slotIDs[ObjectIdentifier(slot)] = nextSlotID
        return nextSlotID
    }

    private func readSignals(now: Int64) {
        while true {
            let signal = pit_signalfd_next(signalFD)
            if signal < 0 { return }
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
        if let at = agentRestartAt, at <= now, !stopping { agentRestartAt = nil; startUplinkAgent(now: now) }
        if let serial, serial.console == nil, let at = serial.reopenAt, at <= now {
            _ = serial.open(epfd: epfd, token: Self.consoleToken, now: now)
        }
        feedWatchdog(now: now)
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
        if watchdog != nil, let feed = nextFeedCheckAt { next = min(next ?? .max, feed) }
        if let ping = notify?.nextPingDue(startedAt: startedAt) { next = min(next ?? .max, ping) }
        if let blink = leds?.nextDeadline(after: now) { next = min(next ?? .max, blink) }
        if let step = ledWalk?.nextDeadline(after: now) { next = min(next ?? .max, step) }
        if recentViolation != nil { next = min(next ?? .max, (recentViolation ?? now) + Self.violationLedMs) }
        if let at = agentRestartAt { next = min(next ?? .max, at) }
        if let serial, serial.console == nil, let at = serial.reopenAt { next = min(next ?? .max, at) }
        timerDeadline = next
        _ = pit_timerfd_arm(timerFD, next.map { max(0, $0 - now) } ?? -1)
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
        let id = id(of: slot)
        if let path = slot.config.auditSocket, audits[id]?.path != path {
            do {
                let audit = try AuditSocket(path: path)
                audits[id] = audit
                _ = pit_epoll_add(epfd, audit.fd, Self.auditBase + id, 0)
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
            _ = pit_epoll_add(epfd, process.pidfd, Self.pidfdBase + id, 0)
            if process.listener >= 0 { _ = pit_epoll_add(epfd, process.listener, Self.listenerBase + id, 0) }
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
        guard let port = slot.config.readyTCPPort else { becameRunning(slot, now: now); return }
        if Readiness.listening(pid: slot.process?.pid, host: slot.config.readyTCPHost, port: port) {
            becameRunning(slot, now: now)
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

    /// Reaps every exited child: jail inits (by pid) and orphans this subreaper inherited.
    private func reapChildren(now: Int64) {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if pid == agentPid {
                agentPid = 0
                if !stopping {
                    emit(SupervisorEvent(kind: "service_exit", jail: "uplink-agent", message: "uplink agent \(Launcher.describe(status)): restarting in \(agentDelayMs) ms"))
                    agentRestartAt = now + agentDelayMs
                    agentDelayMs = min(agentDelayMs * 2, 60_000)
                }
                continue
            }
            guard let slot = slots.first(where: { $0.process?.pid == pid }), let process = slot.process else {
                orphansReaped += 1
                continue
            }
            let ending = process.reaped(status: status)
            jailExited(slot, process: process, ending: ending, now: now)
        }
    }

    private func jailExited(_ slot: JailSlot, process: RunningJail, ending: JailOutcome.Ending, now: Int64) {
        _ = pit_epoll_remove(epfd, process.pidfd)
        if process.listener >= 0 {
            serviceViolations(slot, now: now)
            _ = pit_epoll_remove(epfd, process.listener)
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
        if slot.removeWhenStopped { slots.removeAll { $0 === slot }; return }
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
        recentViolation = now
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
        serial.service(epfd: epfd, token: Self.consoleToken, now: now, context: consoleContext(now: now))
    }

    func requestShutdown() { beginShutdown(now: monotonicMilliseconds()) }

    private func beginShutdown(now: Int64) {
        guard !stopping else { return }
        stopping = true
        notify?.stopping()
        if agentPid > 0 { kill(agentPid, SIGTERM) }
        for slot in slots where slot.process == nil { slot.phase = .stopped; slot.deadline = nil }
        stopNextForShutdown(now: now)
    }

    /// Reverse start order, one at a time: a jail stops only after the ones started after it are gone.
    private func stopNextForShutdown(now: Int64) {
        guard let last = slots.last(where: { $0.process != nil }) else { return }
        if last.phase != .stopping { stop(last, now: now) }
    }

    private func shutdownWatchdog() {
        guard let dog = watchdog else { return }
        watchdog = nil
        if config.watchdog.magicClose {
            _ = try? dog.disarm(nowayout: config.board?.watchdog?.nowayout ?? false)
        } else {
            try? dog.close()   // still armed: whatever runs next must feed it, or the board resets
        }
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

    // MARK: - Watchdog, health and LEDs

    /// The hardware feed and systemd's WATCHDOG=1 (when systemd watches Pit) pass the same health gate.
    private func feedWatchdog(now: Int64) {
        let hardwareDue = watchdog != nil && nextFeedCheckAt.map { now >= $0 } == true
        let systemdDue = notify?.pingDue(now: now, startedAt: startedAt) == true
        guard hardwareDue || systemdDue else { return }
        let sample = HealthSample(requiredJailsDown: requiredJailsDown(), eventLoopLatencyMilliseconds: loopLatencyMs,
                                  dataDirectoryWritable: dataDirectoryWritable())
        let decision = health.evaluate(sample, now: now)
        healthProblems = decision.problems.map(\.description)
        if decision.changed {
            emit(SupervisorEvent(kind: "health", message: decision.feed ? "health: \(healthProblems.isEmpty ? "ok" : healthProblems.joined(separator: "; "))"
                                                                         : "health failed past the grace: watchdog no longer fed (\(healthProblems.joined(separator: "; ")))"))
        }
        guard decision.feed else {
            // Starving on purpose: look again in a second (health may come back within the grace), not on
            // every loop iteration — the feed deadline is in the past and would make the loop spin.
            if hardwareDue { nextFeedCheckAt = now + Self.healthRecheckMs }
            return
        }
        if systemdDue { notify?.ping(now: now) }
        guard hardwareDue else { return }
        nextFeedCheckAt = now + feedIntervalMs
        do { try watchdog?.keepalive(); keepaliveError = nil } catch {
            // Reported once per kind of failure, not per feed; the device resets if it really is not fed.
            if keepaliveError != "\(error)" {
                keepaliveError = "\(error)"
                emit(SupervisorEvent(kind: "config_error", message: "watchdog keepalive: \(error)"))
            }
        }
        self.lastFeed = now
    }

    static let healthRecheckMs: Int64 = 1000

    private func requiredJailsDown() -> [String] {
        guard !safeMode, !stopping else { return [] }
        return slots.filter { $0.config.required && $0.phase != .running && !$0.held }.map(\.config.name)
    }

    private func dataDirectoryWritable() -> Bool {
        let path = config.dataDirectory + "/.health"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "ok", 2) == 2
    }

    static let violationLedMs: Int64 = 60_000

    func updateLeds(now: Int64) {
        if let seen = recentViolation, now - seen >= Self.violationLedMs { recentViolation = nil }
        var patterns: [LedPattern] = []
        if safeMode { patterns.append(.safeMode) }
        if slots.contains(where: { $0.phase == .crashLoop }) { patterns.append(.crashLoop) }
        if recentViolation != nil { patterns.append(.violation) }
        if !requiredJailsDown().isEmpty { patterns.append(slots.contains { $0.phase == .waiting || $0.phase == .starting } ? .booting : .degraded) }
        if uplinkState == "down" { patterns.append(.uplinkDown) }
        let pattern = LedPattern.mostUrgent(of: patterns) ?? .ok
        if let walk = ledWalk {
            if let lit = walk.lit(at: now) {
                ledPattern = pattern
                try? leds?.showAlone(lit, now: now)
                return
            }
            ledWalk = nil   // over: `leds.pattern` is nil now, so the pattern below is shown again
        }
        if pattern != ledPattern || leds?.pattern != pattern {
            ledPattern = pattern
            try? leds?.show(pattern, now: now)
        }
        try? leds?.tick(now: now)
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
        refreshUplinkState()
        return SupervisorStatus(
            jails: slots.map { slot in
                SupervisorStatus.Jail(name: slot.config.name, state: slot.phase.rawValue, pid: slot.process?.pid,
                                      restarts: slot.restarts, last_exit: slot.lastExit, violations: slot.violations,
                                      required: slot.config.required)
            },
            watchdog: SupervisorStatus.WatchdogStatus(
                device: watchdog?.path ?? (config.watchdog.enabled ? config.watchdog.device : nil),
                timeout_s: watchdog == nil ? nil : config.watchdog.timeoutSeconds,
                feed_interval_ms: watchdog == nil ? nil : feedIntervalMs,
                last_feed_ms_ago: lastFeed.map { now - $0 }, boot_status: bootStatus,
                health: Self.describe(health.state), problems: healthProblems,
                owner: config.watchdog.owner.rawValue, systemd_ping_interval_ms: notify?.watchdogIntervalMs,
                last_systemd_ping_ms_ago: notify?.lastPing.map { now - $0 }),
            leds: SupervisorStatus.LedStatus(pattern: ledWalk == nil ? ledPattern.rawValue : "test",
                                             status: leds?.state(of: .status)?.description,
                                             alert: leds?.state(of: .alert)?.description,
                                             uplink: leds?.state(of: .uplink)?.description),
            uplink: SupervisorStatus.UplinkStatus(state: uplinkState, queued: uplinkQueued),
            uptime_s: (now - startedAt) / 1000, safe_mode: safeMode, orphans_reaped: orphansReaped, config: configPath)
    }

    private static func describe(_ state: HealthGate.State) -> String {
        switch state {
        case .healthy: return "healthy"
        case .failing: return "failing"
        case .starving: return "starving"
        }
    }

    func statusJSON(now: Int64) -> String {
        JSON.encode(status(now: now))
    }
}

public struct SupervisorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
