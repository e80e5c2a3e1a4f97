/// When and whether a jail that exited is started again: exponential back-off, and a crash loop
/// (too many exits within a window) that stops the restarts until someone intervenes.
public struct RestartPolicy: Sendable, Equatable {
    public var initialDelayMs: Int64
    public var maxDelayMs: Int64
    public var crashLoopExits: Int
    public var crashLoopWindowMs: Int64

    public init(initialDelayMs: Int64 = 500, maxDelayMs: Int64 = 30_000, crashLoopExits: Int = 5, crashLoopWindowMs: Int64 = 60_000) {
        self.initialDelayMs = initialDelayMs
        self.maxDelayMs = maxDelayMs
        self.crashLoopExits = crashLoopExits
        self.crashLoopWindowMs = crashLoopWindowMs
    }
}

/// The restart bookkeeping of one jail, driven with explicit monotonic timestamps (milliseconds) so it
/// can be tested without clocks or processes.
public struct RestartTracker: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case restart(afterMs: Int64)
        case crashLoop
    }

    public let policy: RestartPolicy
    public private(set) var exitTimes: [Int64] = []
    public private(set) var nextDelayMs: Int64

    public init(policy: RestartPolicy) {
        self.policy = policy
        self.nextDelayMs = policy.initialDelayMs
    }

    /// Records an exit at `now` and decides what follows.
    public mutating func recordExit(at now: Int64) -> Decision {
        exitTimes.append(now)
        exitTimes.removeAll { now - $0 > policy.crashLoopWindowMs }
        if exitTimes.count >= policy.crashLoopExits { return .crashLoop }
        let delay = nextDelayMs
        nextDelayMs = min(nextDelayMs * 2, policy.maxDelayMs)
        return .restart(afterMs: delay)
    }

    /// A jail that stayed up for a whole window earns its first back-off back.
    public mutating func recordRunning(since start: Int64, now: Int64) {
        if now - start >= policy.crashLoopWindowMs { nextDelayMs = policy.initialDelayMs }
    }

    /// After an operator's explicit start or restart: the slate is clean.
    public mutating func reset() {
        exitTimes = []
        nextDelayMs = policy.initialDelayMs
    }
}
