/// What the supervisor knows and can do, handed to `ConsoleCommands.execute` per request.
///
/// Plain values and closures, no protocol: the supervisor (a final class) fills it with closures over
/// itself (`[unowned self]`), tests fill it with fakes of the supervisor's data, and the console logic
/// that parses, guards and renders stays the same real code in both. Every provider has a default that
/// answers "not available", so a board without LEDs or uplink simply leaves those out.
/// Closures are called synchronously on the event loop and must not block.
public struct ConsoleContext {
    /// Monotonic milliseconds (the supervisor's clock): PIN rate limits and unlock windows use it.
    public var nowMs: Int64

    /// Overall status, as the supervisor already renders it: text for humans, one JSON object for `json status`.
    public var status: () -> ConsoleReport = { ConsoleReport(text: "status not available", json: "null") }
    public var jails: () -> [ConsoleJail] = { [] }
    /// One jail by name; nil when there is no such jail (the console answers "no jail named ...").
    public var jail: (String) -> ConsoleJail? = { _ in nil }
    /// The newest `limit` policy violations / supervisor events, oldest first.
    public var violations: (_ limit: Int) -> [ConsoleEvent] = { _ in [] }
    public var events: (_ limit: Int) -> [ConsoleEvent] = { _ in [] }
    public var watchdog: () -> [ConsoleField] = { [ConsoleField("watchdog", "not available")] }
    public var leds: () -> [ConsoleField] = { [ConsoleField("leds", "not available")] }
    public var ledsTest: () -> ConsoleActionResult = { .unavailable("leds test") }
    public var persona: () -> String = { "no persona configured" }
    public var uplink: () -> [ConsoleField] = { [ConsoleField("uplink", "not available")] }
    public var uplinkTest: () -> ConsoleActionResult = { .unavailable("uplink test") }
    /// Summary of the policy a jail runs under; nil when there is no such jail/policy.
    public var policy: (String) -> [ConsoleField]? = { _ in nil }
    /// The newest `limit` lines a jail wrote (stdout and stderr), raw as the jail wrote them, oldest first; nil when
    /// there is no such jail. The console escapes them for the terminal.
    public var logs: (_ jail: String, _ limit: Int) -> [String]? = { _, _ in nil }
    /// Privileged actions: only called after the PIN check passed.
    public var restart: (String) -> ConsoleActionResult = { _ in .unavailable("restart") }
    public var clearSafeMode: () -> ConsoleActionResult = { .unavailable("safe-mode clear") }
    public var reboot: () -> ConsoleActionResult = { .unavailable("reboot") }

    public init(nowMs: Int64) {
        self.nowMs = nowMs
    }
}

/// Pre-rendered status: `json` must be one JSON value (newlines are folded to spaces before sending).
public struct ConsoleReport: Sendable, Equatable {
    public var text: String
    public var json: String
    public init(text: String, json: String) {
        self.text = text
        self.json = json
    }
}

public struct ConsoleJail: Sendable, Equatable {
    public var name: String
    public var state: String
    public var pid: Int32?
    public var restarts: Int
    public var violations: Int
    public var required: Bool
    public var lastExit: String?
    /// Anything else worth showing in `jail NAME` (uptime, spec file, policy hash...), in order.
    public var details: [ConsoleField]

    public init(name: String, state: String, pid: Int32? = nil, restarts: Int = 0, violations: Int = 0,
                required: Bool = false, lastExit: String? = nil, details: [ConsoleField] = []) {
        self.name = name
        self.state = state
        self.pid = pid
        self.restarts = restarts
        self.violations = violations
        self.required = required
        self.lastExit = lastExit
        self.details = details
    }
}

public struct ConsoleEvent: Sendable, Equatable {
    /// Wall-clock time as the supervisor formats it (ISO 8601 UTC), or empty when unknown.
    public var time: String
    public var kind: String
    public var jail: String?
    public var detail: String

    public init(time: String, kind: String, jail: String? = nil, detail: String) {
        self.time = time
        self.kind = kind
        self.jail = jail
        self.detail = detail
    }
}

/// One labelled value: rendered "key: value" in text and as a JSON member.
public struct ConsoleField: Sendable, Equatable {
    public var key: String
    public var value: ConsoleValue

    public init(_ key: String, _ value: ConsoleValue) {
        self.key = key
        self.value = value
    }
    public init(_ key: String, _ value: String) { self.init(key, .string(value)) }
    public init(_ key: String, _ value: Int) { self.init(key, .int(value)) }
    public init(_ key: String, _ value: Bool) { self.init(key, .bool(value)) }
}

public enum ConsoleValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case list([String])

    var text: String {
        switch self {
        case let .string(value): return value
        case let .int(value): return String(value)
        case let .bool(value): return value ? "yes" : "no"
        case .null: return "-"
        case let .list(values): return values.isEmpty ? "-" : values.joined(separator: ", ")
        }
    }

    var json: JSONValue {
        switch self {
        case let .string(value): return .string(value)
        case let .int(value): return .int(value)
        case let .bool(value): return .bool(value)
        case .null: return .null
        case let .list(values): return .array(values.map(JSONValue.string))
        }
    }
}

/// The outcome of an action (restart, tests, reboot), in words the technician can act on.
public struct ConsoleActionResult: Sendable, Equatable {
    public var ok: Bool
    public var message: String

    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }

    public static func unavailable(_ what: String) -> ConsoleActionResult {
        ConsoleActionResult(ok: false, message: "\(what) is not available on this device")
    }
}
