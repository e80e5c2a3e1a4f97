/// The hardware behind one indicator.
public enum LedDriver {
    case gpio(GpioLed)
    case ledClass(LedClassLed)
}

/// The board's indicators, showing one `LedPattern` at a time.
///
/// Event-loop contract: after `show` or `tick`, arm a timer for `nextDeadline` if it is not nil
/// and call `tick(now:)` when it fires. `nextDeadline` is nil whenever no LED needs software
/// blinking (LED-class LEDs blink in the kernel), so a board without GPIO LEDs never wakes Pit.
public struct Leds {
    struct Channel {
        var driver: LedDriver
        var state: LedState?
        var software: SoftwareBlink?
        var lit: Bool?
    }

    var channels: [Indicator: Channel]
    public internal(set) var pattern: LedPattern?

    public init(drivers: [Indicator: LedDriver]) {
        channels = drivers.mapValues { Channel(driver: $0) }
    }

    /// Opens every LED the board wires; an indicator the board lacks is simply not shown.
    public static func open(_ wiring: [Indicator: LedWiring], ledClassRoot: String = LedClassLed.defaultRoot) throws(BoardError) -> Leds {
        var drivers: [Indicator: LedDriver] = [:]
        // Sorted so a failure is reported for the same indicator every time.
        for indicator in Indicator.allCases {
            guard let wire = wiring[indicator] else { continue }
            switch wire {
            case .gpio(let chip, let line, let activeLow):
                drivers[indicator] = .gpio(try GpioLed.open(chip: chip, line: line, activeLow: activeLow))
            case .ledClass(let names):
                drivers[indicator] = .ledClass(try LedClassLed.open(names: names, root: ledClassRoot))
            }
        }
        return Leds(drivers: drivers)
    }

    public var indicators: [Indicator] { Indicator.allCases.filter { channels[$0] != nil } }

    public func state(of indicator: Indicator) -> LedState? { channels[indicator]?.state }

    /// Shows a pattern. LEDs whose state does not change are left alone, so re-showing the
    /// current pattern does not restart a blink's phase.
    public mutating func show(_ pattern: LedPattern, now: Int64) throws(BoardError) {
        for indicator in indicators {
            try set(indicator, pattern.state(of: indicator), now: now)
        }
        self.pattern = pattern
    }

    /// Sets one indicator directly, e.g. to compose an uplink state over another pattern.
    public mutating func set(_ indicator: Indicator, _ state: LedState, now: Int64) throws(BoardError) {
        guard var channel = channels[indicator], channel.state != state else { return }
        channel.software = nil
        switch (channel.driver, state) {
        case (.ledClass(let led), .blink(let on, let off)) where led.canBlink:
            try led.blink(onMilliseconds: on, offMilliseconds: off)
            channel.lit = nil
        case (.ledClass(let led), .heartbeat) where led.canHeartbeat:
            try led.heartbeat()
            channel.lit = nil
        case (_, .off), (_, .on):
            try Self.write(channel.driver, lit: state == .on, clearingTrigger: true)
            channel.lit = state == .on
        case (_, .blink), (_, .heartbeat):
            let blink = SoftwareBlink(state, startedAt: now)!
            let lit = blink.level(at: now).lit
            try Self.write(channel.driver, lit: lit, clearingTrigger: true)
            channel.software = blink
            channel.lit = lit
        }
        channel.state = state
        channels[indicator] = channel
    }

    /// When the loop must call `tick` next, or nil if nothing is blinking in software.
    public func nextDeadline(after now: Int64) -> Int64? {
        channels.values.compactMap { $0.software?.level(at: now).nextChange }.min()
    }

    /// Advances software blinking to `now`; writes only LEDs whose level changed.
    public mutating func tick(now: Int64) throws(BoardError) {
        for indicator in indicators {
            guard var channel = channels[indicator], let blink = channel.software else { continue }
            let lit = blink.level(at: now).lit
            guard lit != channel.lit else { continue }
            try Self.write(channel.driver, lit: lit, clearingTrigger: false)
            channel.lit = lit
            channels[indicator] = channel
        }
    }

    /// The level the software blink wants at `now`, for tests and diagnostics.
    public func isLit(_ indicator: Indicator) -> Bool? { channels[indicator]?.lit }

    private static func write(_ driver: LedDriver, lit: Bool, clearingTrigger: Bool) throws(BoardError) {
        switch driver {
        case .gpio(let led):
            try led.set(lit: lit)
        case .ledClass(let led):
            // A kernel trigger left from the previous state would fight the writes; clear it
            // once, then each software toggle only touches the brightness.
            if clearingTrigger { try led.set(lit: lit) } else { try led.setBrightness(lit: lit) }
        }
    }

    /// Releases GPIO lines (LED-class LEDs need nothing); for tests and orderly shutdown.
    public func release() {
        for channel in channels.values {
            if case .gpio(let led) = channel.driver { led.release() }
        }
    }
}
