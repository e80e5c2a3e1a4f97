import FoundationEssentials
import PitSupervisor

/// The human form of `pit status`.
enum StatusText {
    static func render(_ json: String) -> String {
        guard let status = try? JSONDecoder().decode(SupervisorStatus.self, from: Data(json.utf8)) else { return json }
        var lines = ["uptime \(status.uptime_s) s\(status.safe_mode ? "  SAFE MODE" : "")   leds: \(status.leds.pattern)   uplink: \(status.uplink.state) (\(status.uplink.queued) queued)"]
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
        return lines.joined(separator: "\n")
    }
}
