import Glibc

/// An LED driven by a kernel LED-class device, /sys/class/leds/NAME.
///
/// Blinking is delegated to the kernel's `timer` and `heartbeat` triggers so it costs Pit no
/// wakeups; only when the kernel lacks those triggers (ledtrig-timer/heartbeat not built) does
/// the caller fall back to software blinking through `set(lit:)`.
public struct LedClassLed: Sendable {
    public static let defaultRoot = "/sys/class/leds"

    /// The name that was found (the first of the candidates present).
    public let name: String
    public let directory: String
    public let maxBrightness: Int
    /// Triggers the kernel offers for this LED, from its `trigger` attribute.
    public let triggers: Set<String>

    /// Opens the first LED among `names` present under `root`. Several names cover kernels
    /// that renamed an LED (the Raspberry Pi's "led0" became "ACT").
    public static func open(names: [String], root: String = defaultRoot) throws(BoardError) -> LedClassLed {
        precondition(!names.isEmpty)
        guard let name = names.first(where: { FileIO.exists(root + "/" + $0) }) else {
            let tried = names.map { root + "/" + $0 }.joined(separator: ", ")
            throw BoardError("open LED", path: tried, errno: ENOENT)
        }
        let directory = root + "/" + name
        let maxText = try FileIO.read(directory + "/max_brightness")
        guard let maxBrightness = Int(maxText.trimmingWhitespace()), maxBrightness > 0 else {
            throw BoardError("read", path: directory + "/max_brightness", detail: "not a positive integer: '\(maxText.trimmingWhitespace())'")
        }
        // The attribute lists every trigger, the active one in brackets: "none [timer] heartbeat".
        let triggerText = try FileIO.read(directory + "/trigger")
        let triggers = Set(triggerText.split(whereSeparator: { $0 == " " || $0 == "\n" })
            .map { $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : String($0) })
        return LedClassLed(name: name, directory: directory, maxBrightness: maxBrightness, triggers: triggers)
    }

    public var canBlink: Bool { triggers.contains("timer") }
    public var canHeartbeat: Bool { triggers.contains("heartbeat") }

    /// Steady on or off, with no trigger.
    public func set(lit: Bool) throws(BoardError) {
        try setTrigger("none")
        try setBrightness(lit: lit)
    }

    /// Only the brightness, for software blinking after `set(lit:)` has cleared the trigger.
    public func setBrightness(lit: Bool) throws(BoardError) {
        try FileIO.writeAttribute(directory + "/brightness", lit ? "\(maxBrightness)" : "0")
    }

    /// Kernel-timed blinking. The trigger must be set first: the kernel creates delay_on and
    /// delay_off only while the timer trigger is active.
    public func blink(onMilliseconds: Int, offMilliseconds: Int) throws(BoardError) {
        try setTrigger("timer")
        try FileIO.writeAttribute(directory + "/delay_on", "\(onMilliseconds)")
        try FileIO.writeAttribute(directory + "/delay_off", "\(offMilliseconds)")
    }

    public func heartbeat() throws(BoardError) {
        try setTrigger("heartbeat")
    }

    public func setTrigger(_ trigger: String) throws(BoardError) {
        try FileIO.writeAttribute(directory + "/trigger", trigger)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
