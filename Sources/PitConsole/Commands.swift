import PitProcess
/// The console's command language: parses a request, enforces the PIN on anything that changes the
/// device, asks the supervisor (through `ConsoleContext`) and renders the answer as text or as one
/// JSON line.
///
/// Owned by the supervisor per console *path*, not per open fd: a lockout must survive pulling and
/// re-plugging the cable, which is exactly what a guesser would try.
public struct ConsoleCommands: Sendable {
    public static let defaultCount = 10
    public static let maxCount = 100

    public private(set) var pinGuard: PinGuard

    public init(pin: String?, policy: PinGuard.Policy = PinGuard.Policy()) {
        pinGuard = PinGuard(pin: pin, policy: policy)
    }

    /// Called when the tty disconnects: whoever plugs in next starts locked (failure counts and any
    /// lockout are kept).
    public mutating func disconnected() {
        pinGuard.lock()
    }

    /// The answer to one request: text lines separated by "\n" (no trailing newline), or exactly one
    /// JSON line when the command was prefixed with `json`. Hand it to `Console.queue`.
    public mutating func execute(_ request: ConsoleRequest, context: ConsoleContext) -> String {
        switch request {
        case .rejected(.binaryInput):
            return "error: binary input ignored"
        case let .rejected(.tooLong(limit)):
            return "error: line longer than \(limit) bytes"
        case let .line(line):
            var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            var json = false
            if words.first?.lowercased() == "json" {
                json = true
                words.removeFirst()
            }
            let answer = run(words, context: context)
            return json ? answer.json : answer.text
        }
    }

    // MARK: - Dispatch

    private mutating func run(_ input: [String], context: ConsoleContext) -> Answer {
        guard let first = input.first else {
            return .failure("json", "json needs a command", hint: "e.g. json status")
        }
        let command = first.lowercased()
        var args = Array(input.dropFirst())
        // "... pin NNNN" at the end of a command authorises that command. Split it off before parsing
        // arguments, so the PIN can never be mistaken for (and echoed back as) a jail name or count.
        var inlinePin: String?
        if command != "pin", args.count >= 2, args[args.count - 2].lowercased() == "pin" {
            inlinePin = args.removeLast()
            args.removeLast()
        }
        let sub = args.first?.lowercased()

        switch (command, args.count) {
        case ("help", 0), ("?", 0):
            return noPin(inlinePin, command) ?? help()
        case ("status", 0):
            return noPin(inlinePin, command) ?? status(context)
        case ("jails", 0):
            return noPin(inlinePin, command) ?? jails(context)
        case ("jail", 1):
            return noPin(inlinePin, command) ?? jail(args[0], context)
        case ("violations", 0...1), ("events", 0...1):
            if let refusal = noPin(inlinePin, command) { return refusal }
            guard let count = Self.count(args.first) else {
                return .failure(command, "bad count '\(args[0])'",
                                hint: "use a number from 1 to \(Self.maxCount), e.g. \(command) 20")
            }
            return command == "events" ? events(context.events(count), command: command, none: "no events recorded")
                : events(context.violations(count), command: command, none: "no violations recorded")
        case ("watchdog", 0):
            return noPin(inlinePin, command) ?? fields(context.watchdog(), command: command)
        case ("leds", 0):
            return noPin(inlinePin, command) ?? fields(context.leds(), command: command)
        case ("leds", 1) where sub == "test":
            return privileged("leds test", inlinePin, context) { $0.ledsTest() }
        case ("persona", 0):
            if let refusal = noPin(inlinePin, command) { return refusal }
            let text = context.persona()
            return .success(command, text: text, data: .object([("persona", .string(text))]))
        case ("uplink", 0):
            return noPin(inlinePin, command) ?? fields(context.uplink(), command: command)
        case ("uplink", 1) where sub == "test":
            return privileged("uplink test", inlinePin, context) { $0.uplinkTest() }
        case ("policy", 1):
            if let refusal = noPin(inlinePin, command) { return refusal }
            guard let summary = context.policy(args[0]) else {
                return .failure(command, "no policy for '\(args[0])'", hint: "type 'jails' for the names")
            }
            return fields(summary, command: command)
        case ("logs", 1...2):
            if let refusal = noPin(inlinePin, command) { return refusal }
            guard let count = Self.count(args.count > 1 ? args[1] : nil) else {
                return .failure(command, "bad count '\(Self.clip(args[1]))'",
                                hint: "use a number from 1 to \(Self.maxCount), e.g. logs \(Self.clip(args[0])) 20")
            }
            guard let lines = context.logs(args[0], count) else {
                return .failure(command, "no jail named '\(Self.clip(args[0]))'", hint: "type 'jails' for the names")
            }
            return logs(lines)
        case ("restart", 1):
            let name = args[0]
            // Check the name before the PIN: a typo must not cost one of the technician's attempts.
            guard context.jail(name) != nil else {
                return .failure(command, "no jail named '\(name)'", hint: "type 'jails' for the names")
            }
            return privileged("restart", inlinePin, context) { $0.restart(name) }
        case ("safe-mode", 1) where sub == "clear":
            return privileged("safe-mode clear", inlinePin, context) { $0.clearSafeMode() }
        case ("reboot", 0):
            return privileged("reboot", inlinePin, context) { $0.reboot() }
        case ("pin", 1):
            return unlock(args[0], now: context.nowMs)
        case ("pin", _):
            return .failure(command, "usage: pin NNNN", hint: "unlocks privileged commands for \(minutes(pinGuard.policy.unlockMs))")
        case ("lock", 0):
            pinGuard.lock()
            return .success(command, text: "locked: privileged commands need the PIN again", data: .object([("locked", .bool(true))]))
        default:
            if let usage = Self.usage[command] {
                return .failure(command, "usage: \(usage)", hint: "type 'help' for all commands")
            }
            // Only the first word is repeated back: a mistyped "pn 1234" must not print the PIN.
            return .failure(command, "unknown command '\(Self.clip(first))'", hint: "type 'help' for the list")
        }
    }

    private static let usage: [String: String] = [
        "help": "help", "status": "status", "jails": "jails", "jail": "jail NAME",
        "violations": "violations [N]", "events": "events [N]", "watchdog": "watchdog",
        "leds": "leds | leds test", "persona": "persona", "uplink": "uplink | uplink test",
        "policy": "policy NAME", "logs": "logs NAME [N]", "restart": "restart NAME [pin NNNN]", "safe-mode": "safe-mode clear [pin NNNN]",
        "reboot": "reboot [pin NNNN]", "lock": "lock",
    ]

    private static func count(_ text: String?) -> Int? {
        guard let text else { return defaultCount }
        guard text.count <= 4, let value = Int(text), (1...maxCount).contains(value) else { return nil }
        return value
    }

    private static func clip(_ word: String) -> String {
        word.count <= 32 ? word : String(word.prefix(32)) + "..."
    }

    // MARK: - PIN

    private func noPin(_ inlinePin: String?, _ command: String) -> Answer? {
        guard inlinePin != nil else { return nil }
        return .failure(command, "'\(command)' does not take a PIN", hint: "only commands that change the device do; see 'help'")
    }

    private mutating func privileged(_ command: String, _ inlinePin: String?, _ context: ConsoleContext,
                                     action: (ConsoleContext) -> ConsoleActionResult) -> Answer {
        let now = context.nowMs
        if let inlinePin {
            if let refusal = refusal(for: pinGuard.attempt(inlinePin, now: now), command: command, now: now) { return refusal }
        } else if !pinGuard.isUnlocked(now: now) {
            if !pinGuard.isEnabled { return refusal(for: .disabled, command: command, now: now)! }
            if let until = pinGuard.lockedUntilMs, now < until { return refusal(for: .lockedOut(untilMs: until), command: command, now: now)! }
            return .failure(command, "'\(command)' needs the PIN",
                            hint: "add 'pin NNNN' to the command, or type 'pin NNNN' to unlock for \(minutes(pinGuard.policy.unlockMs))")
        }
        let result = action(context)
        if result.ok {
            return .success(command, text: result.message, data: .object([("message", .string(result.message))]))
        }
        return .failure(command, result.message, hint: nil)
    }

    private mutating func unlock(_ candidate: String, now: Int64) -> Answer {
        let verdict = pinGuard.attempt(candidate, now: now)
        if let refusal = refusal(for: verdict, command: "pin", now: now) { return refusal }
        let text = "unlocked for \(minutes(pinGuard.policy.unlockMs)); 'lock' ends it early"
        return .success("pin", text: text, data: .object([("unlocked_for_s", .int(Int(pinGuard.policy.unlockMs / 1000)))]))
    }

    /// nil when the verdict lets the command through. None of these messages contains the candidate.
    private func refusal(for verdict: PinGuard.Verdict, command: String, now: Int64) -> Answer? {
        let policy = pinGuard.policy
        switch verdict {
        case .accepted:
            return nil
        case .disabled:
            return .failure(command, "privileged commands are disabled: no console PIN is configured",
                            hint: "set the console PIN in the device config")
        case let .wrong(left):
            return .failure(command, "wrong PIN (\(left) attempt\(left == 1 ? "" : "s") left before a \(minutes(policy.lockoutMs)) lockout)", hint: nil)
        case .lockedOutNow:
            return .failure(command, "wrong PIN; console locked for \(minutes(policy.lockoutMs))", hint: "wait, then try again")
        case let .tooSoon(retryAt):
            let wait = max(1, (retryAt - now + 999) / 1000)
            return .failure(command, "PIN attempts are limited to one per \(policy.minIntervalMs / 1000) s",
                            hint: "try again in \(wait) s")
        case let .lockedOut(until):
            return .failure(command, "console locked after \(policy.maxFailures) wrong PINs",
                            hint: "try again in \(Self.duration(until - now))")
        }
    }

    private func minutes(_ ms: Int64) -> String { Self.duration(ms) }

    static func duration(_ ms: Int64) -> String {
        let seconds = max(0, (ms + 999) / 1000)
        if seconds < 60 { return "\(seconds) s" }
        let (m, s) = (seconds / 60, seconds % 60)
        return s == 0 ? "\(m) min" : "\(m) min \(s) s"
    }

    // MARK: - Answers

    private func help() -> Answer {
        let p = pinGuard.policy
        let text = """
        Pit console. Commands (then Enter):
          status            overall health: jails, watchdog, uplink, safe mode
          jails             list the jails
          jail NAME         one jail in detail
          violations [N]    last N policy violations (default \(Self.defaultCount), max \(Self.maxCount))
          events [N]        last N supervisor events (default \(Self.defaultCount), max \(Self.maxCount))
          watchdog          hardware watchdog state
          leds              LED state
          persona           what this honeypot pretends to be
          uplink            uplink state
          policy NAME       summary of a jail's syscall policy
          logs NAME [N]     last N lines a jail wrote (default \(Self.defaultCount), max \(Self.maxCount), \(Self.maxLogBytes / 1024) KiB)
          help              this text
        These change the device and need the PIN from the device config:
          leds test         light every LED in turn
          uplink test       try the uplink now
          restart NAME      restart a jail
          safe-mode clear   leave safe mode
          reboot            reboot the device
        Give the PIN at the end of the command (restart smbd pin 1234), or type
        'pin NNNN' alone: a right PIN unlocks for \(Self.duration(p.unlockMs)); 'lock' ends that early.
        One PIN attempt per \(p.minIntervalMs / 1000) s; \(p.maxFailures) wrong PINs lock the console for \(Self.duration(p.lockoutMs)).
        Prefix any command with 'json' for one JSON line: json status
        Ctrl-C or Ctrl-U clears the line; Backspace erases.
        """
        let names = ["help", "status", "jails", "jail", "violations", "events", "watchdog", "leds", "leds test",
                     "persona", "uplink", "uplink test", "policy", "logs", "restart", "safe-mode clear", "reboot", "pin", "lock"]
        return .success("help", text: text, data: .object([("commands", .array(names.map(JSONValue.string)))]))
    }

    private func status(_ context: ConsoleContext) -> Answer {
        let report = context.status()
        return .success("status", text: report.text, data: .raw(report.json))
    }

    private func jails(_ context: ConsoleContext) -> Answer {
        let list = context.jails()
        guard !list.isEmpty else { return .success("jails", text: "no jails configured", data: .array([])) }
        var rows = [["NAME", "STATE", "PID", "RESTARTS", "VIOLATIONS", "REQUIRED"]]
        for jail in list {
            rows.append([jail.name, jail.state, jail.pid.map { String($0) } ?? "-", String(jail.restarts),
                         String(jail.violations), jail.required ? "yes" : "no"])
        }
        return .success("jails", text: Self.table(rows), data: .array(list.map(Self.json)))
    }

    private func jail(_ name: String, _ context: ConsoleContext) -> Answer {
        guard let jail = context.jail(name) else {
            return .failure("jail", "no jail named '\(name)'", hint: "type 'jails' for the names")
        }
        var lines = ["name: \(jail.name)", "state: \(jail.state)", "pid: \(jail.pid.map { String($0) } ?? "-")",
                     "restarts: \(jail.restarts)", "violations: \(jail.violations)",
                     "required: \(jail.required ? "yes" : "no")", "last exit: \(jail.lastExit ?? "-")"]
        lines += jail.details.map { "\($0.key): \($0.value.text)" }
        return .success("jail", text: lines.joined(separator: "\n"), data: Self.json(jail))
    }

    private func events(_ list: [ConsoleEvent], command: String, none: String) -> Answer {
        let text = list.isEmpty ? none : list.map { event in
            [event.time.isEmpty ? "-" : event.time, event.kind, event.jail ?? "-", event.detail].joined(separator: "  ")
        }.joined(separator: "\n")
        let data = JSONValue.array(list.map { event in
            .object([("time", .string(event.time)), ("kind", .string(event.kind)),
                     ("jail", event.jail.map(JSONValue.string) ?? .null), ("detail", .string(event.detail))])
        })
        return .success(command, text: text, data: data)
    }

    /// At most this much of a jail's output per answer: the console may run at 9600 baud (4 s for 4 KiB).
    public static let maxLogBytes = 4096

    /// A jail's lines, escaped for the terminal (they are what the jail wrote: escape sequences, forged lines),
    /// the newest kept when they exceed `maxLogBytes`; exact in JSON.
    private func logs(_ lines: [String]) -> Answer {
        var kept: [String] = [], escaped: [String] = [], bytes = 0
        for line in lines.reversed() {
            let shown = Printable.escaped(line)
            bytes += shown.utf8.count + 1
            if bytes > Self.maxLogBytes && !kept.isEmpty { break }
            kept.insert(line, at: 0)
            escaped.insert(Self.prefix(shown, bytes: Self.maxLogBytes), at: 0)
        }
        let text = kept.isEmpty ? "no output recorded" : escaped.joined(separator: "\n")
        return .success("logs", text: text, data: .array(kept.map(JSONValue.string)))
    }

    /// The longest prefix of `text` within `bytes` UTF-8 bytes, cut between scalars.
    private static func prefix(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var cut = String.UnicodeScalarView(), used = 0
        for scalar in text.unicodeScalars {
            used += String(scalar).utf8.count
            if used > bytes { break }
            cut.append(scalar)
        }
        return String(cut)
    }

    private func fields(_ list: [ConsoleField], command: String) -> Answer {
        let text = list.map { "\($0.key): \($0.value.text)" }.joined(separator: "\n")
        return .success(command, text: text, data: .object(list.map { ($0.key, $0.value.json) }))
    }

    private static func json(_ jail: ConsoleJail) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(jail.name)), ("state", .string(jail.state)),
            ("pid", jail.pid.map { .int(Int($0)) } ?? .null), ("restarts", .int(jail.restarts)),
            ("violations", .int(jail.violations)), ("required", .bool(jail.required)),
            ("last_exit", jail.lastExit.map(JSONValue.string) ?? .null),
        ]
        if !jail.details.isEmpty { members.append(("details", .object(jail.details.map { ($0.key, $0.value.json) }))) }
        return .object(members)
    }

    private static func table(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// One rendered answer, kept abstract until we know whether the line asked for JSON.
struct Answer {
    var ok: Bool
    var command: String
    var message: String
    var hint: String?
    var data: JSONValue

    static func success(_ command: String, text: String, data: JSONValue) -> Answer {
        Answer(ok: true, command: command, message: text, hint: nil, data: data)
    }

    static func failure(_ command: String, _ message: String, hint: String?) -> Answer {
        Answer(ok: false, command: command, message: message, hint: hint, data: .null)
    }

    var text: String {
        guard !ok else { return message }
        return "error: \(message)" + (hint.map { " (\($0))" } ?? "")
    }

    var json: String {
        var members: [(String, JSONValue)] = [("ok", .bool(ok)), ("command", .string(command))]
        if ok {
            members.append(("data", data))
        } else {
            members.append(("error", .string(message)))
            if let hint { members.append(("hint", .string(hint))) }
        }
        return JSONValue.object(members).rendered
    }
}
