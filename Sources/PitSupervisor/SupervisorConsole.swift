import CPitShim
import Glibc
import PitBoard
import PitConsole
import PitProcess
import PitUplink

/// The serial console as the supervisor hosts it: one tty in the same epoll loop, read without blocking and
/// bounded per iteration (a flood waits for the next iteration, never delays the watchdog feed), answers
/// queued and flushed when the tty is writable, and the tty reopened when it disappears (USB gadget serial).
final class SupervisorConsole {
    let settings: ConsoleSettings
    var console: Console?
    var commands: ConsoleCommands
    var reopenAt: Int64?
    var watchingWrites = false

    init(settings: ConsoleSettings) {
        self.settings = settings
        self.commands = ConsoleCommands(pin: settings.pin)
    }

    var fd: Int32 { console?.fd ?? -1 }
    var hasPendingInput: Bool { console?.hasPendingInput ?? false }

    func open(eventLoop: EventLoop, now: Int64) -> String? {
        do {
            // Console.open queued its greeting (and the prompt): said once.
            let opened = try Console.open(path: settings.tty, baud: settings.baud, options: Console.Options(echo: settings.echo))
            console = opened
            reopenAt = nil
            watchingWrites = false
            eventLoop.add(opened.fd, .console)
            flush(eventLoop: eventLoop, now: now)   // the greeting
            return nil
        } catch {
            reopenAt = now + Console.reopenDelayMs
            return "\(error)"
        }
    }

    /// Reads and answers what is there; returns false when the tty went away (closed, to be reopened).
    func service(eventLoop: EventLoop, now: Int64, context: ConsoleContext) {
        guard var current = console else { return }
        for request in current.readAvailable(now: now) {
            current.queue(commands.execute(request, context: context))
        }
        console = current
        flush(eventLoop: eventLoop, now: now)
    }

    func flush(eventLoop: EventLoop, now: Int64) {
        guard var current = console else { return }
        if current.wantsWrite { _ = current.flush() }
        if current.isDisconnected {
            eventLoop.remove(current.fd)
            current.close()
            console = nil
            commands.disconnected()
            reopenAt = now + Console.reopenDelayMs
            return
        }
        // Watch for writability only while answers wait: a slow reader never blocks the loop.
        if current.wantsWrite != watchingWrites {
            watchingWrites = current.wantsWrite
            eventLoop.watchWrites(current.fd, watchingWrites)
        }
        console = current
    }

    /// While the tty is gone: when to try it again.
    func nextDeadline(now: Int64) -> Int64? { console == nil ? reopenAt : nil }

    func reopenIfDue(eventLoop: EventLoop, now: Int64) {
        if console == nil, let at = reopenAt, at <= now { _ = open(eventLoop: eventLoop, now: now) }
    }
}

extension Supervisor {
    /// What the console commands see and do, drawn from the supervisor's one state value.
    func consoleContext(now: Int64) -> ConsoleContext {
        var context = ConsoleContext(nowMs: now)
        let status = self.status(now: now)
        context.status = {
            let lines = ["pit \(status.version), uptime \(status.uptime_s) s\(status.safe_mode ? ", SAFE MODE" : "")", "leds: \(status.leds.pattern)",
                         "watchdog: \(status.watchdog.device ?? "none"), health \(status.watchdog.health)",
                         "uplink: \(status.uplink.state) (\(status.uplink.queued) queued)"]
                + status.jails.map { "jail \($0.name): \($0.state), restarts \($0.restarts), violations \($0.violations)" }
            return ConsoleReport(text: lines.joined(separator: "\n"), json: JSON.encode(status))
        }
        let jails = status.jails.map { jail in
            ConsoleJail(name: jail.name, state: jail.state, pid: jail.pid, restarts: jail.restarts, violations: jail.violations,
                        required: jail.required, lastExit: jail.last_exit)
        }
        context.jails = { jails }
        context.jail = { name in jails.first { $0.name == name } }
        let recent = recentEvents()
        func consoleEvents(_ events: [PitEvent], _ limit: Int) -> [ConsoleEvent] {
            events.suffix(limit).map { ConsoleEvent(time: $0.time, kind: $0.kind.rawValue, jail: $0.jail, detail: $0.message ?? "") }
        }
        context.events = { limit in consoleEvents(recent, limit) }
        context.violations = { limit in consoleEvents(recent.filter { $0.kind == .violation }, limit) }
        context.watchdog = {
            [ConsoleField("device", status.watchdog.device ?? "none"), ConsoleField("health", status.watchdog.health),
             ConsoleField("timeout_s", status.watchdog.timeout_s ?? 0),
             ConsoleField("last_feed_ms_ago", Int(status.watchdog.last_feed_ms_ago ?? -1)),
             ConsoleField("boot_status", status.watchdog.boot_status ?? 0),
             ConsoleField("problems", .list(status.watchdog.problems))]
        }
        context.leds = {
            [ConsoleField("pattern", status.leds.pattern), ConsoleField("status", status.leds.status ?? "not wired"),
             ConsoleField("alert", status.leds.alert ?? "not wired"), ConsoleField("uplink", status.leds.uplink ?? "not wired")]
        }
        context.ledsTest = { [unowned self] in
            guard let walk = self.leds.startWalk(now: now) else {
                return ConsoleActionResult(ok: false, message: "this board wires no LEDs")
            }
            self.updateLeds(now: now)
            let seconds = Double(walk.stepMs) / 1000
            return ConsoleActionResult(ok: true, message: "lighting each LED alone for \(seconds) s: "
                                       + walk.indicators.map(\.rawValue).joined(separator: ", ") + "; then the current pattern")
        }
        context.uplink = { [ConsoleField("state", status.uplink.state), ConsoleField("queued", status.uplink.queued)] }
        context.uplinkTest = { [unowned self] in
            guard !self.config.uplinks.isEmpty else { return ConsoleActionResult(ok: false, message: "no uplink configured") }
            self.emit(SupervisorEvent(kind: .uplinkTest, message: "uplink test from the serial console"))
            return ConsoleActionResult(ok: true, message: "uplink_test event queued for \(self.config.uplinks.count) transport(s)")
        }
        context.persona = { [config, dhcp] in
            guard let persona = config.persona else { return "no persona configured" }
            let leased = dhcp.map { link -> String in
                let s = link.status
                return "DHCP (\(s.profile)) \(s.state)" + (s.address.map { " \($0) from \(s.server ?? "?")" } ?? "")
                    + (s.refused > 0 ? ", \(s.refused) refused" : "")
            }
            return "\(persona.hostname) (\(persona.netbiosName), workgroup \(persona.workgroup)) on \(persona.interface): "
                + (persona.addresses.map { "\($0)" } + (leased.map { [$0] } ?? [])).joined(separator: ", ")
                + "; shares: " + persona.shares.map(\.name).joined(separator: ", ")
        }
        context.policy = { [unowned self] name in
            guard let slot = self.jails.slot(named: name) else { return nil }
            guard let policy = slot.config.policy else { return [ConsoleField("policy", "none")] }
            return [ConsoleField("file", policy.compiled.file), ConsoleField("sha256", policy.compiled.hash),
                    ConsoleField("instructions", policy.compiled.instructionCount), ConsoleField("denied", policy.actionName)]
        }
        context.logs = { [unowned self] name, limit in
            self.jails.slot(named: name).map { $0.output.ring.last(limit, maxBytes: ConsoleCommands.maxLogBytes) }
        }
        context.restart = { [unowned self] name in
            let answer = self.handle("restart \(name)")
            return ConsoleActionResult(ok: answer.contains("\"ok\":true"), message: answer.contains("\"ok\":true") ? "\(name) restarting" : "no jail \(name)")
        }
        context.clearSafeMode = { [unowned self] in
            let answer = self.handle("clear-safe-mode")
            return ConsoleActionResult(ok: answer.contains("\"ok\":true"), message: answer.contains("\"ok\":true") ? "safe mode cleared" : "could not clear safe mode")
        }
        context.reboot = { [unowned self] in
            guard self.config.console?.allowReboot == true else {
                return ConsoleActionResult(ok: false, message: "reboot from the console is disabled (console.allow_reboot)")
            }
            self.rebootAfterStop = true
            self.requestShutdown()
            return ConsoleActionResult(ok: true, message: "stopping the jails, then rebooting")
        }
        return context
    }
}
