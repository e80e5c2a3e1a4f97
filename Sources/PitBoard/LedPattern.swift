/// The three logical indicators every board maps to whatever LEDs it has.
public enum Indicator: String, CaseIterable, Sendable, Hashable {
    /// Overall state of Pit and the honeypot.
    case status
    /// Something needs attention: a violation, a crash loop, safe mode.
    case alert
    /// The uplink (event export) is connected.
    case uplink
}

/// What one LED shows.
public enum LedState: Equatable, Sendable, CustomStringConvertible {
    case off
    case on
    case blink(onMilliseconds: Int, offMilliseconds: Int)
    /// The kernel heartbeat rhythm: two short flashes, then a pause.
    case heartbeat

    public var description: String {
        switch self {
        case .off: return "off"
        case .on: return "on"
        case .blink(let on, let off): return "blink(\(on), \(off))"
        case .heartbeat: return "heartbeat"
        }
    }
}

/// The states Pit shows. Only one pattern is shown at a time; when several apply, the
/// supervisor shows the most urgent (`LedPattern.mostUrgent`).
///
/// The table below is the single definition; board/README.md repeats it for operators.
public enum LedPattern: String, CaseIterable, Sendable {
    case booting
    case ok
    case degraded
    case violation
    case crashLoop = "crash_loop"
    case safeMode = "safe_mode"
    case uplinkDown = "uplink_down"

    //                         status                 alert                  uplink
    static let table: [LedPattern: (LedState, LedState, LedState)] = [
        .booting:    (.blink(onMilliseconds: 250, offMilliseconds: 250), .off, .off),
        .ok:         (.heartbeat, .off, .on),
        .degraded:   (.blink(onMilliseconds: 1000, offMilliseconds: 1000), .off, .on),
        .violation:  (.heartbeat, .blink(onMilliseconds: 100, offMilliseconds: 100), .on),
        .crashLoop:  (.blink(onMilliseconds: 1000, offMilliseconds: 1000), .blink(onMilliseconds: 500, offMilliseconds: 500), .on),
        .safeMode:   (.blink(onMilliseconds: 100, offMilliseconds: 900), .on, .on),
        .uplinkDown: (.heartbeat, .off, .blink(onMilliseconds: 100, offMilliseconds: 1900)),
    ]

    public func state(of indicator: Indicator) -> LedState {
        let row = Self.table[self]!
        switch indicator {
        case .status: return row.0
        case .alert: return row.1
        case .uplink: return row.2
        }
    }

    /// Most urgent first: what needs a human beats what merely informs.
    public static let urgency: [LedPattern] = [.safeMode, .crashLoop, .violation, .degraded, .uplinkDown, .booting, .ok]

    public static func mostUrgent(of patterns: some Sequence<LedPattern>) -> LedPattern? {
        let present = Set(patterns)
        return urgency.first { present.contains($0) }
    }
}

/// Blinking done by Pit itself, for LEDs the kernel cannot blink (GPIO lines, LED-class
/// devices without the timer/heartbeat trigger). A pure function of the start time, so the
/// phase survives late ticks and tests need no sleeping.
public struct SoftwareBlink: Equatable, Sendable {
    /// (lit, duration) steps of one period.
    public let phases: [(lit: Bool, milliseconds: Int64)]
    public let startedAt: Int64

    /// Nil for states that do not blink.
    public init?(_ state: LedState, startedAt: Int64) {
        switch state {
        case .off, .on:
            return nil
        case .blink(let on, let off):
            phases = [(true, Int64(max(on, 1))), (false, Int64(max(off, 1)))]
        case .heartbeat:
            // ledtrig-heartbeat at zero load: a 1260 ms period, flashes of 70 ms at 0 and at a
            // quarter period (drivers/leds/trigger/ledtrig-heartbeat.c).
            phases = [(true, 70), (false, 245), (true, 70), (false, 875)]
        }
        self.startedAt = startedAt
    }

    public var period: Int64 { phases.reduce(0) { $0 + $1.milliseconds } }

    /// Whether the LED is lit at `now`, and the first time after `now` at which that changes.
    public func level(at now: Int64) -> (lit: Bool, nextChange: Int64) {
        let elapsed = max(0, now - startedAt)
        let cycleStart = now - elapsed % period
        var boundary = cycleStart
        for phase in phases {
            boundary += phase.milliseconds
            if boundary > now { return (phase.lit, boundary) }
        }
        // Unreachable: the phases add up to the period.
        return (phases[0].lit, cycleStart + period)
    }

    public static func == (lhs: SoftwareBlink, rhs: SoftwareBlink) -> Bool {
        lhs.startedAt == rhs.startedAt && lhs.phases.elementsEqual(rhs.phases) { $0 == $1 }
    }
}
