import ArgumentParser
import FoundationEssentials
import Glibc
import PitProcess
import PitSupervisor

/// `pit logs JAIL [--follow]`: the jail's last lines from the supervisor's ring, escaped for the terminal (a jail
/// writes what it likes: escape sequences, forged log lines). Asked in bounded batches by cursor, so the
/// supervisor never holds a connection open for a slow reader; `--follow` asks again every `pollMs`.
struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a jail's recent stdout and stderr (the supervisor keeps the last 64 KiB per jail).")
    @OptionGroup var socket: SocketOption
    @Argument(help: "The jail's name.") var jail: String
    @Flag(name: [.short, .long], help: "Keep printing new lines until interrupted.") var follow = false
    @Flag(name: .long, help: "One JSON string per line, exactly as the jail wrote it (not escaped for a terminal).") var json = false

    static let pollMs: UInt32 = 250

    func run() throws {
        var cursor = 0
        var stopAt: Int?
        while true {
            let line = try socket.send("logs \(jail) \(cursor)")
            guard let answer = try? JSONDecoder().decode(JailLogsAnswer.self, from: Data(line.utf8)), answer.ok else {
                let said = line.contains("no such jail") ? "no such jail: \(Printable.escaped(jail))" : Printable.escaped(line)
                writeError("pit logs: \(said)\n")
                throw ExitCode(1)
            }
            if answer.skipped_bytes > 0 {
                writeError(cursor == 0 ? "pit logs: \(answer.skipped_bytes) earlier bytes were dropped (the supervisor keeps the last 64 KiB)\n"
                           : "pit logs: \(answer.skipped_bytes) bytes dropped before they were read (the jail wrote faster)\n")
            }
            var text = ""
            for jailLine in answer.lines { text += json ? Self.jsonString(jailLine) + "\n" : Printable.line(jailLine) }
            if !text.isEmpty { writeOut(text) }
            // Without --follow: what was there at the first answer, not a flood that never ends.
            if stopAt == nil { stopAt = answer.end }
            let caughtUp = answer.next == cursor || answer.lines.isEmpty
            cursor = answer.next
            if !follow && (caughtUp || cursor >= stopAt ?? 0) { return }
            if caughtUp { usleep(Self.pollMs * 1000) }
        }
    }

    static func jsonString(_ line: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(line)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    private func writeOut(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { Glibc.exit(0) }   // the reader went away (a pager quit)
            bytes = bytes.dropFirst(n)
        }
    }
}
