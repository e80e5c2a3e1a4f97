/// One reading of the conditions that decide whether Pit deserves to feed the watchdog.
public struct HealthSample: Equatable, Sendable {
    /// Required jails that are neither running nor inside their restart grace. Empty means healthy.
    public var requiredJailsDown: [String]
    /// How late the event loop woke compared with its deadline, the best sign that Pit itself
    /// is stuck or starved of CPU.
    public var eventLoopLatencyMilliseconds: Int64
    /// Whether a probe write to the data directory succeeded (a read-only remount after I/O
    /// errors, or a full disk, leaves the honeypot blind).
    public var dataDirectoryWritable: Bool

    public init(requiredJailsDown: [String] = [], eventLoopLatencyMilliseconds: Int64 = 0, dataDirectoryWritable: Bool = true) {
        self.requiredJailsDown = requiredJailsDown
        self.eventLoopLatencyMilliseconds = eventLoopLatencyMilliseconds
        self.dataDirectoryWritable = dataDirectoryWritable
    }
}

/// A reason a sample is unhealthy, for the log line that explains a watchdog reset.
public enum HealthProblem: Equatable, Sendable, CustomStringConvertible {
    case jailsDown([String])
    case eventLoopLate(milliseconds: Int64, limit: Int64)
    case dataDirectoryReadOnly

    public var description: String {
        switch self {
        case .jailsDown(let names): return "required jails down: \(names.joined(separator: ", "))"
        case .eventLoopLate(let ms, let limit): return "event loop \(ms) ms late (limit \(limit) ms)"
        case .dataDirectoryReadOnly: return "data directory not writable"
        }
    }
}

/// Decides, on each event-loop pass, whether Pit should feed the watchdog.
///
/// A short failure must not reboot the honeypot (a jail restarting, a slow fsync), so failures
/// are tolerated for `graceMilliseconds`. Past the grace Pit stops feeding and lets the hardware
/// reset the board: an honest reset beats a supervisor that keeps a broken box "alive". Feeding
/// stays stopped until a healthy sample arrives; if none does before the watchdog timeout, the
/// board resets. Pure value type: time comes in as CLOCK_MONOTONIC milliseconds so tests can
/// drive it with explicit timestamps.
public struct HealthGate: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        case healthy
        /// Unhealthy since the given time, still within the grace: still feeding.
        case failing(since: Int64)
        /// Unhealthy past the grace: feeding stopped.
        case starving(since: Int64)
    }

    /// What the loop should do after a sample, and why.
    public struct Decision: Equatable, Sendable {
        public var feed: Bool
        public var state: State
        public var problems: [HealthProblem]
        /// Set when this sample changed the state, so the loop logs transitions, not every pass.
        public var changed: Bool
    }

    public var graceMilliseconds: Int64
    public var maxEventLoopLatencyMilliseconds: Int64
    public private(set) var state: State = .healthy

    public init(graceMilliseconds: Int64, maxEventLoopLatencyMilliseconds: Int64) {
        precondition(graceMilliseconds >= 0 && maxEventLoopLatencyMilliseconds > 0)
        self.graceMilliseconds = graceMilliseconds
        self.maxEventLoopLatencyMilliseconds = maxEventLoopLatencyMilliseconds
    }

    public func problems(in sample: HealthSample) -> [HealthProblem] {
        var problems: [HealthProblem] = []
        if !sample.requiredJailsDown.isEmpty { problems.append(.jailsDown(sample.requiredJailsDown)) }
        if sample.eventLoopLatencyMilliseconds > maxEventLoopLatencyMilliseconds {
            problems.append(.eventLoopLate(milliseconds: sample.eventLoopLatencyMilliseconds, limit: maxEventLoopLatencyMilliseconds))
        }
        if !sample.dataDirectoryWritable { problems.append(.dataDirectoryReadOnly) }
        return problems
    }

    /// Feeds the sample taken at monotonic time `now` (milliseconds) into the state machine.
    public mutating func evaluate(_ sample: HealthSample, now: Int64) -> Decision {
        let problems = problems(in: sample)
        let previous = state
        if problems.isEmpty {
            state = .healthy
        } else {
            switch state {
            case .healthy:
                state = graceMilliseconds == 0 ? .starving(since: now) : .failing(since: now)
            case .failing(let since):
                // max(0, …): a caller passing an older timestamp must not extend the grace forever.
                if max(0, now - since) >= graceMilliseconds { state = .starving(since: since) }
            case .starving:
                break
            }
        }
        let feed: Bool
        switch state {
        case .healthy, .failing: feed = true
        case .starving: feed = false
        }
        return Decision(feed: feed, state: state, problems: problems, changed: state != previous)
    }
}
