import PitBoard

/// The board's status, alert and uplink LEDs as the supervisor drives them: the most urgent of the patterns
/// the parts ask for, a violation shown for `violationLedMs`, blinking done from the loop's timer where the
/// kernel cannot blink, and the console's `leds test`.
final class StatusLeds {
    private(set) var leds: Leds?
    private(set) var pattern: LedPattern = .booting
    /// The console's `leds test` while it runs: it takes the LEDs over, then the pattern comes back.
    private var walk: LedWalk?
    private var recentViolation: Int64?

    static let violationLedMs: Int64 = 60_000

    func open(_ wiring: [Indicator: LedWiring]?, emit: (SupervisorEvent) -> Void) {
        guard let wiring, !wiring.isEmpty else { return }
        do { leds = try Leds.open(wiring) } catch {
            emit(.fault(.leds, "LEDs: \(error)"))
        }
    }

    func violationSeen(at now: Int64) { recentViolation = now }

    /// Starts the console's `leds test`: each wired LED lit alone in turn. Nil when the board wires none.
    func startWalk(now: Int64) -> LedWalk? {
        guard let indicators = leds?.indicators, !indicators.isEmpty else { return nil }
        let started = LedWalk(indicators: indicators, startedAt: now)
        walk = started
        return started
    }

    /// Shows the most urgent of `asked` (the violation pattern added while one is recent), or the walk's LED.
    func update(now: Int64, asked: [LedPattern]) {
        if let seen = recentViolation, now - seen >= Self.violationLedMs { recentViolation = nil }
        var patterns = asked
        if recentViolation != nil { patterns.append(.violation) }
        let pattern = LedPattern.mostUrgent(of: patterns) ?? .ok
        if let walk {
            if let lit = walk.lit(at: now) {
                self.pattern = pattern
                try? leds?.showAlone(lit, now: now)
                return
            }
            self.walk = nil   // over: `leds.pattern` is nil now, so the pattern below is shown again
        }
        if pattern != self.pattern || leds?.pattern != pattern {
            self.pattern = pattern
            try? leds?.show(pattern, now: now)
        }
        try? leds?.tick(now: now)
    }

    /// The next blink edge, walk step or end of the violation pattern.
    func nextDeadline(now: Int64) -> Int64? {
        [leds?.nextDeadline(after: now), walk?.nextDeadline(after: now), recentViolation.map { $0 + Self.violationLedMs }]
            .compactMap { $0 }.min()
    }

    var status: SupervisorStatus.LedStatus {
        SupervisorStatus.LedStatus(pattern: walk == nil ? pattern.rawValue : "test",
                                   status: leds?.state(of: .status)?.description,
                                   alert: leds?.state(of: .alert)?.description,
                                   uplink: leds?.state(of: .uplink)?.description)
    }

    func release() { leds?.release() }
}
