import PitBoard
import PitProcess

/// What the control socket asks of the supervisor (ControlServer hands each request line here) and the status
/// it answers with.
extension Supervisor {
    func handle(_ request: String) -> String {
        let words = request.split(separator: " ").map(String.init)
        let now = monotonicMilliseconds()
        if let jailRequest = words.first.flatMap(JailRequest.init(rawValue:)) {
            let found = jails.handle(jailRequest, jail: words.count > 1 ? words[1] : nil, now: now)
            return found ? #"{"ok":true}"# : #"{"ok":false,"error":"no such jail"}"#
        }
        switch words.first {
        case "status":
            return statusJSON(now: now)
        case "logs" where words.count == 3:
            guard let slot = jails.slot(named: words[1]) else { return #"{"ok":false,"error":"no such jail"}"# }
            guard let cursor = Int(words[2]), cursor >= 0 else { return #"{"ok":false,"error":"bad cursor"}"# }
            // A bounded batch per request: the answer goes out in one nonblocking send (escaped for JSON it is
            // at most 6 times as long), and a reader that wants more asks again with the cursor.
            let batch = slot.output.ring.read(from: cursor, maxBytes: Self.logBatchBytes)
            return JSON.encode(JailLogsAnswer(ok: true, lines: batch.lines, next: batch.next, end: slot.output.ring.tail,
                                              skipped_bytes: batch.skipped))
        case "clear-safe-mode":
            do {
                try BootCounter(directory: config.dataDirectory, threshold: config.watchdog.safeModeAfter).clearSafeMode()
            } catch {
                return #"{"ok":false,"error":"boot counter"}"#
            }
            jails.safeMode = false
            jails.startNextInOrder(now: now)
            return #"{"ok":true}"#
        default:
            return #"{"ok":false,"error":"unknown request"}"#
        }
    }

    static let logBatchBytes = 8 * 1024

    public func status(now: Int64 = monotonicMilliseconds()) -> SupervisorStatus {
        agent.refreshState(config)
        return SupervisorStatus(
            jails: jails.status,
            watchdog: feeder.status(now: now, settings: config.watchdog, notify: notify),
            leds: leds.status,
            uplink: SupervisorStatus.UplinkStatus(state: agent.state, queued: agent.queued),
            uptime_s: (now - startedAt) / 1000, safe_mode: safeMode, orphans_reaped: orphansReaped, config: configPath,
            log_lines_dropped: logLinesDropped(), version: pitVersion, reloads: reloads, dhcp: dhcp?.status)
    }

    func statusJSON(now: Int64) -> String {
        JSON.encode(status(now: now))
    }
}
