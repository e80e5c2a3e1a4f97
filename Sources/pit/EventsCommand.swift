import ArgumentParser
import Glibc
import PitProcess
import PitSupervisor
import PitUplink

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the events in the spool (what the uplink delivers).")

    @Option(name: .long, help: "Pit's data directory (the spool is DATA/spool; default: the config's data_dir).")
    var dataDir: String?

    @Option(name: .long, help: "The device config whose data_dir to use (default /etc/pit/device.toml).")
    var config: String?

    @Flag(name: .long, help: "One JSON object per line, as the uplink sends them.")
    var json = false

    @Flag(name: .long, help: "Keep printing new events as they are stored.")
    var follow = false

    @Option(name: .long, help: "Only the last N events.")
    var last: Int?

    func validate() throws {
        if let last, last < 0 { throw ValidationError("--last must be 0 or more, not \(last)") }
        if dataDir != nil && config != nil { throw ValidationError("give --data-dir or --config, not both") }
    }

    /// --data-dir, else the data_dir of --config, else the default config's if it can be read, else /var/lib/pit.
    func dataDirectory() throws -> String {
        if let dataDir { return dataDir }
        do { return try DeviceConfig.locations(config ?? DeviceConfig.defaultPath).dataDirectory } catch {
            if config == nil { return "/var/lib/pit" }
            writeError("pit events: \(error)\n")
            throw ExitCode(ExitStatus.failure)
        }
    }

    func run() throws {
        let directory = try dataDirectory() + "/spool"
        var printed = 0
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
                throw ExitCode(ExitStatus.failure)
            }
            if first, let last, events.count > last { events = Array(events.suffix(last)) }
            first = false
            for event in events {
                printed += 1
                print(json ? event.jsonLine() : Self.describe(event))
                seen = max(seen, event.seq ?? seen)
            }
            guard follow, watch >= 0 else {
                // As journalctl: an empty answer is said, not left for the reader to wonder about.
                if printed == 0 && !json { print("-- no events in \(directory) --") }
                if damaged { throw ExitCode(ExitStatus.failure) }
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
