/// Who may change things from the console. A pure state machine over explicit monotonic timestamps
/// (milliseconds, the supervisor's clock), so every rule is unit-tested without sleeping.
///
/// Rules (defaults in `Policy`):
/// - At most one PIN attempt per `minIntervalMs` (2 s). An attempt that comes too soon is refused
///   *without being checked and without counting*: a key held down cannot burn the failure budget.
/// - `maxFailures` (5) consecutive wrong PINs lock the console out for `lockoutMs` (10 min); during
///   the lockout even the right PIN is refused. With these defaults a 4-digit PIN needs about two weeks
///   of continuous guessing on the wire.
/// - A right PIN resets the failure count and unlocks privileged commands for `unlockMs` (5 min).
/// - No configured PIN (nil or empty) disables privileged commands entirely: a box shipped without a
///   PIN must not be rebootable by whoever finds its serial header.
public struct PinGuard: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        public var minIntervalMs: Int64
        public var maxFailures: Int
        public var lockoutMs: Int64
        public var unlockMs: Int64

        public init(minIntervalMs: Int64 = 2_000, maxFailures: Int = 5, lockoutMs: Int64 = 10 * 60_000,
                    unlockMs: Int64 = 5 * 60_000) {
            self.minIntervalMs = minIntervalMs
            self.maxFailures = max(1, maxFailures)
            self.lockoutMs = lockoutMs
            self.unlockMs = unlockMs
        }
    }

    public enum Verdict: Sendable, Equatable {
        case accepted(unlockedUntilMs: Int64)
        case wrong(attemptsLeft: Int)
        /// This wrong attempt used up the budget.
        case lockedOutNow(untilMs: Int64)
        case tooSoon(retryAtMs: Int64)
        case lockedOut(untilMs: Int64)
        case disabled
    }

    public let policy: Policy
    private let pin: [UInt8]
    public private(set) var failures = 0
    public private(set) var lastAttemptMs: Int64?
    public private(set) var lockedUntilMs: Int64?
    public private(set) var unlockedUntilMs: Int64?

    public init(pin: String?, policy: Policy = Policy()) {
        self.pin = Array((pin ?? "").utf8)
        self.policy = policy
    }

    public var isEnabled: Bool { !pin.isEmpty }

    public func isUnlocked(now: Int64) -> Bool {
        guard isEnabled, let until = unlockedUntilMs else { return false }
        return now < until
    }

    public func isLockedOut(now: Int64) -> Bool {
        guard let until = lockedUntilMs else { return false }
        return now < until
    }

    /// Checks a candidate PIN at `now`. The only mutating entry point besides `lock()`.
    public mutating func attempt(_ candidate: String, now: Int64) -> Verdict {
        guard isEnabled else { return .disabled }
        if let until = lockedUntilMs {
            if now < until { return .lockedOut(untilMs: until) }
            lockedUntilMs = nil
            failures = 0
        }
        if let last = lastAttemptMs, now - last < policy.minIntervalMs, now >= last {
            return .tooSoon(retryAtMs: last + policy.minIntervalMs)
        }
        lastAttemptMs = now
        if Self.constantTimeEqual(Array(candidate.utf8), pin) {
            failures = 0
            let until = now + policy.unlockMs
            unlockedUntilMs = until
            return .accepted(unlockedUntilMs: until)
        }
        failures += 1
        if failures >= policy.maxFailures {
            let until = now + policy.lockoutMs
            lockedUntilMs = until
            unlockedUntilMs = nil   // a guessing session must not ride on an earlier unlock
            return .lockedOutNow(untilMs: until)
        }
        return .wrong(attemptsLeft: policy.maxFailures - failures)
    }

    /// Ends an unlock early (the `lock` command, or the tty disconnecting: the next person on the
    /// cable must not inherit the previous technician's session).
    public mutating func lock() {
        unlockedUntilMs = nil
    }

    /// Compares without an early exit, so timing does not reveal how many leading digits were right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { difference |= 1 }
        let length = max(a.count, b.count)
        for i in 0..<length {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
