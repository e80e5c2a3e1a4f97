import ArgumentParser
import Glibc
import PitProcess
import PitUplink

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the events in the spool (what the uplink delivers).")

    @Option(name: .long, help: "Pit's data directory (the spool is DATA/spool).")
    var dataDir: String = "/var/lib/pit"

    @Flag(name: .long, help: "One JSON object per line, as the uplink sends them.")
    var json = false

    @Flag(name: .long, help: "Keep printing new events as they are stored.")
    var follow = false

    @Option(name: .long, help: "Only the last N events.")
    var last: Int?

    func validate() throws {
        if let last, last < 0 { throw ValidationError("--last must be 0 or more, not \(last)") }
    }

    func run() throws {
        let directory = dataDir + "/spool"
        var seen: UInt64 = 0
        var first = true
        // Follow mode wakes on inotify events of the spool directory, not on a timer.
        let watch = follow ? inotify_init1(Int32(IN_CLOEXEC)) : -1
        if watch >= 0 { _ = inotify_add_watch(watch, directory, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO)) }
        // Damage is said before the listing and makes the exit status 1: a listing with holes must not look whole.
        var damaged = false
        if let found = try? Spool.damage(directory: directory) {
            for line in found { writeError("pit events: warning: spool damage: \(Printable.escaped(line))\n") }
            damaged = !found.isEmpty
        }
        while true {
            var events: [PitEvent]
            do { events = try Spool.read(directory: directory, after: seen) } catch {
                writeError("pit events: \(error)\n")
                throw ExitCode(2)
            }
            if first, let last, events.count > last { events = Array(events.suffix(last)) }
            first = false
            for event in events {
                print(json ? event.jsonLine() : Self.describe(event))
                seen = max(seen, event.seq ?? seen)
            }
            guard follow, watch >= 0 else {
                if damaged { throw ExitCode(1) }
                return
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(watch, &buffer, buffer.count)
        }
    }

    static func describe(_ e: PitEvent) -> String {
        var parts = ["#\(e.seq ?? 0)", e.time, e.kind.rawValue]
        if let jail = e.jail { parts.append("[\(jail)]") }
        if let component = e.component { parts.append("(\(component.rawValue))") }
        if e.kind == .violation {
            let args = (e.args ?? []).map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
            parts.append("\(e.syscall ?? "?")(\(args)) nr \(e.nr ?? -1) \(e.arch ?? "") pid \(e.pid ?? 0) \(e.comm ?? "") \(e.exe ?? "") -> \(e.action?.rawValue ?? "")")
        } else if let message = e.message {
            parts.append(message)
        }
        // Every field but Pit's own may come from a jail: escaped for the terminal (--json stays exact).
        return Printable.escaped(parts.joined(separator: " "))
    }
}
