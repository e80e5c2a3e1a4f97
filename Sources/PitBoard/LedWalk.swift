/// The console's `leds test`: every wired LED lit alone, in turn, so a technician can see each one works
/// and which is which; then the board's current pattern comes back.
///
/// A value the event loop consults like a blink: it never sleeps, it only says which LED is lit at `now`
/// and when that changes next, so the walk costs the loop nothing between steps and the watchdog feed and
/// the console keep their timing.
public struct LedWalk: Sendable, Equatable {
    public static let defaultStepMs: Int64 = 700

    public let indicators: [Indicator]
    public let startedAt: Int64
    public let stepMs: Int64

    public init(indicators: [Indicator], startedAt: Int64, stepMs: Int64 = defaultStepMs) {
        precondition(stepMs > 0)
        self.indicators = indicators
        self.startedAt = startedAt
        self.stepMs = stepMs
    }

    /// The indicator lit alone at `now`, or nil when the walk is over.
    public func lit(at now: Int64) -> Indicator? {
        let step = max(0, now - startedAt) / stepMs
        return step < Int64(indicators.count) ? indicators[Int(step)] : nil
    }

    public var endsAt: Int64 { startedAt + stepMs * Int64(indicators.count) }

    /// When the lit LED changes next (the end of the walk included), or nil when it is over.
    public func nextDeadline(after now: Int64) -> Int64? {
        guard now < endsAt else { return nil }
        let step = max(0, now - startedAt) / stepMs
        return startedAt + (step + 1) * stepMs
    }
}

extension Leds {
    /// Shows one step of a walk: `lit` on, every other LED off (nil: all off).
    public mutating func showAlone(_ lit: Indicator?, now: Int64) throws(BoardError) {
        for indicator in indicators {
            try set(indicator, indicator == lit ? .on : .off, now: now)
        }
        pattern = nil
    }
}
