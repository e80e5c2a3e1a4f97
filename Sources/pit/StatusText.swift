import FoundationEssentials
import PitSupervisor

/// The human form of `pit status`.
enum StatusText {
    static func render(_ json: String) -> String {
        guard let status = try? JSONDecoder().decode(SupervisorStatus.self, from: Data(json.utf8)) else { return json }
        var lines = ["pit \(status.version)   uptime \(status.uptime_s) s\(status.safe_mode ? "  SAFE MODE" : "")   leds: \(status.leds.pattern)   uplink: \(status.uplink.state) (\(status.uplink.queued) queued)"]
        let w = status.watchdog
        let systemd = w.systemd_ping_interval_ms.map { interval in
            ", systemd pinged every \(interval) ms" + (w.last_systemd_ping_ms_ago.map { " (\($0) ms ago)" } ?? "")
        } ?? ""
        if let dropped = status.log_lines_dropped, dropped > 0 {
            lines.append("log: \(dropped) line\(dropped == 1 ? "" : "s") of Pit's own log dropped (stderr was not read in time)")
        }
        lines.append("watchdog: \(w.owner == "systemd" ? "owned by systemd" : w.device ?? "none")\(systemd)\(w.timeout_s.map { ", timeout \($0) s" } ?? "")\(w.last_feed_ms_ago.map { ", fed \($0) ms ago" } ?? ""), health \(w.health)\(w.problems.isEmpty ? "" : " (" + w.problems.joined(separator: "; ") + ")")")
        for jail in status.jails {
            lines.append("  \(jail.name.padding(to: 12)) \(jail.state.padding(to: 10)) pid \(jail.pid.map(String.init) ?? "-")  restarts \(jail.restarts)  violations \(jail.violations)\(jail.last_exit.map { "  last: \($0)" } ?? "")\(jail.log_dropped_bytes.map { $0 > 0 ? "  output: \($0) bytes dropped (pit logs)" : "" } ?? "")")
            if let walls = jail.walls, !walls.isEmpty { lines.append("  \("".padding(to: 12)) walls: \(walls.joined(separator: "; "))") }
        }
        if let d = status.dhcp {
            lines.append("dhcp: \(d.interface) \(d.profile) \(d.state)\(d.address.map { " \($0) from \(d.server ?? "?")" } ?? "")"
                         + "\(d.last_event.map { "  last: \($0)" } ?? "")\(d.refused > 0 ? "  refused \(d.refused)" : "")")
        }
        let r = status.reloads
        if r != ReloadCounts() { lines.append("reloads: \(r.applied) applied, \(r.unchanged) unchanged, \(r.rejected) rejected") }
        return lines.joined(separator: "\n")
    }

    /// Why the device is not healthy, or nil when it is (or the answer is not a status: then printing it says all).
    static func problem(_ json: String) -> String? {
        guard let status = try? JSONDecoder().decode(SupervisorStatus.self, from: Data(json.utf8)) else { return nil }
        var problems: [String] = []
        if status.watchdog.health != "healthy" {
            problems.append("health \(status.watchdog.health)" + (status.watchdog.problems.isEmpty ? "" : " (" + status.watchdog.problems.joined(separator: "; ") + ")"))
        }
        if status.safe_mode { problems.append("safe mode") }
        // The receiver answered something that means alerts could be lost (see uplink_alarm): not the watchdog's
        // business, but no box in that state is well.
        if status.uplink.state == "alarm" { problems.append("uplink alarm (pit uplink status says why)") }
        for jail in status.jails where ["crash_loop", "failed", "misconfigured"].contains(jail.state) {
            problems.append("jail \(jail.name) \(jail.state)")
        }
        return problems.isEmpty ? nil : problems.joined(separator: ", ")
    }
}

/// A control reply: `{"ok":true}` or `{"ok":false,"error":"..."}`.
enum ControlReply {
    private struct Reply: Decodable {
        var ok: Bool
        var error: String?
    }
    static func error(in line: String) -> String? {
        (try? JSONDecoder().decode(Reply.self, from: Data(line.utf8)))?.error
    }
}
