import PitTOML

/// How an indicator is wired on a board.
public enum LedWiring: Equatable, Sendable {
    /// A GPIO line Pit drives itself (libgpiod). `chip` is a name, path, label or number.
    case gpio(chip: String, line: UInt32, activeLow: Bool)
    /// A kernel LED-class device; the first name present under /sys/class/leds is used.
    case ledClass(names: [String])
}

public struct WatchdogConfig: Equatable, Sendable {
    public var device: String
    public var timeoutSeconds: Int
    /// 0: no pretimeout.
    public var pretimeoutSeconds: Int
    /// The board never magic-closes the watchdog (Pit's `disarm` leaves it armed).
    public var nowayout: Bool
}

public struct ConsoleConfig: Equatable, Sendable {
    public var tty: String
    public var baud: Int
}

/// A board file (board/*.toml): the hardware facts Pit needs that differ between boards.
///
/// ```toml
/// name = "raspberrypi4"
/// nics = ["eth0"]
/// [watchdog]
/// device = "/dev/watchdog0"
/// timeout_s = 15
/// pretimeout_s = 0        # optional, default 0 (none)
/// nowayout = true         # optional, default false
/// [leds.status]
/// led = ["ACT", "led0"]   # LED class, first present name wins; or a single string
/// [leds.alert]
/// gpio = { chip = "gpiochip0", line = 17, active_low = false }
/// [console]
/// tty = "/dev/ttyS0"
/// baud = 115200
/// ```
/// Every section but `name` is optional: a board without a watchdog or LEDs still boots Pit.
public struct Board: Equatable, Sendable {
    public var name: String
    public var watchdog: WatchdogConfig?
    public var leds: [Indicator: LedWiring]
    public var console: ConsoleConfig?
    public var nics: [String]

    public init(name: String, watchdog: WatchdogConfig? = nil, leds: [Indicator: LedWiring] = [:],
                console: ConsoleConfig? = nil, nics: [String] = []) {
        self.name = name
        self.watchdog = watchdog
        self.leds = leds
        self.console = console
        self.nics = nics
    }

    public static func load(contentsOf path: String) throws(TOMLError) -> Board {
        try Board(TOMLFields(TOML.parse(contentsOf: path), file: path))
    }

    public static func parse(_ text: String, file: String) throws(TOMLError) -> Board {
        try Board(TOMLFields(TOML.parse(text, file: file), file: file))
    }

    /// Largest watchdog timeout accepted. Hardware limits are lower on most boards (bcm2835:
    /// 15 s); beyond an hour a hung honeypot would stay dark too long to be worth a watchdog.
    public static let maxTimeoutSeconds = 3600

    /// Rates the Linux termios API can set (B9600 … B4000000); 1500000 is Rockchip's default.
    public static let baudRates: Set<Int> = [
        9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
        1_000_000, 1_152_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000,
    ]

    /// The keys each table takes (anything else is an error with a suggestion); man/pit-board.toml.5 documents
    /// each, and ManPageKeysTests holds the two together.
    static let topLevelKeys: Set<String> = ["name", "nics", "watchdog", "leds", "console"]
    static let watchdogKeys: Set<String> = ["device", "timeout_s", "pretimeout_s", "nowayout"]
    /// `[leds]`: one table per indicator.
    static let ledsKeys = Set(Indicator.allCases.map(\.rawValue))
    /// `[leds.INDICATOR]`.
    static let ledWiringKeys: Set<String> = ["gpio", "led"]
    /// `gpio = { ... }` of an indicator.
    static let gpioKeys: Set<String> = ["chip", "line", "active_low"]
    static let consoleKeys: Set<String> = ["tty", "baud"]

    public init(_ root: TOMLFields) throws(TOMLError) {
        try root.rejectUnknownKeys(Self.topLevelKeys)
        name = try root.require(root.string("name"), "name")
        guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else {
            throw root.error("name", "must be non-empty and use only a-z, 0-9, '.', '_', '-'")
        }
        watchdog = try root.table("watchdog").map { fields throws(TOMLError) in try Self.watchdog(fields) }
        leds = try root.table("leds").map { fields throws(TOMLError) in try Self.leds(fields) } ?? [:]
        console = try root.table("console").map { fields throws(TOMLError) in try Self.console(fields) }
        nics = try Self.nics(root)
    }

    // MARK: Sections

    static func watchdog(_ fields: TOMLFields) throws(TOMLError) -> WatchdogConfig {
        try fields.rejectUnknownKeys(watchdogKeys)
        let device = try fields.require(fields.string("device"), "device")
        try requireDevicePath(device, fields, "device")
        let timeout = try fields.require(fields.int("timeout_s"), "timeout_s")
        guard (1...Int64(maxTimeoutSeconds)).contains(timeout) else {
            throw fields.error("timeout_s", "must be between 1 and \(maxTimeoutSeconds) seconds, got \(timeout)")
        }
        let pretimeout = try fields.int("pretimeout_s") ?? 0
        guard pretimeout >= 0, pretimeout < timeout else {
            throw fields.error("pretimeout_s", "must be at least 0 and less than timeout_s (\(timeout)), got \(pretimeout)")
        }
        return WatchdogConfig(device: device, timeoutSeconds: Int(timeout), pretimeoutSeconds: Int(pretimeout),
                              nowayout: try fields.bool("nowayout") ?? false)
    }

    static func leds(_ fields: TOMLFields) throws(TOMLError) -> [Indicator: LedWiring] {
        try fields.rejectUnknownKeys(ledsKeys)
        var wiring: [Indicator: LedWiring] = [:]
        var owners: [LedWiring: Indicator] = [:]
        for indicator in Indicator.allCases {
            guard let led = try fields.table(indicator.rawValue) else { continue }
            let wire = try ledWiring(led)
            // Two indicators on one LED would make each overwrite the other's pattern.
            let identity = wire.identity
            if let owner = owners[identity] {
                throw fields.error(indicator.rawValue, "uses the same LED as leds.\(owner.rawValue)")
            }
            owners[identity] = indicator
            wiring[indicator] = wire
        }
        return wiring
    }

    static func ledWiring(_ fields: TOMLFields) throws(TOMLError) -> LedWiring {
        try fields.rejectUnknownKeys(ledWiringKeys)
        let hasGpio = fields.table["gpio"] != nil, hasLed = fields.table["led"] != nil
        guard hasGpio != hasLed else {
            if hasGpio { throw fields.error("led", "give either 'gpio' or 'led', not both") }
            throw TOMLError(file: fields.file, at: fields.table.position,
                            "\(fields.path): needs 'gpio = { chip, line }' or 'led = \"NAME\"'")
        }
        if let gpio = try fields.table("gpio") {
            try gpio.rejectUnknownKeys(gpioKeys)
            let chip = try gpio.require(gpio.string("chip"), "chip")
            guard !chip.isEmpty else { throw gpio.error("chip", "must not be empty") }
            let line = try gpio.require(gpio.int("line"), "line")
            // Line offsets are u32 in the GPIO uAPI; no real chip has more than a few hundred.
            guard (0...65535).contains(line) else {
                throw gpio.error("line", "must be a line offset between 0 and 65535, got \(line)")
            }
            return .gpio(chip: chip, line: UInt32(line), activeLow: try gpio.bool("active_low") ?? false)
        }
        let names: [String]
        if case .string(let name)? = fields.table["led"]?.value {
            names = [name]
        } else {
            names = try fields.strings("led") ?? []
        }
        guard !names.isEmpty else { throw fields.error("led", "must name at least one LED") }
        for name in names where name.isEmpty || name == "." || name == ".." || name.contains("/") {
            throw fields.error("led", "'\(name)' is not an LED-class name (a directory under /sys/class/leds)")
        }
        return .ledClass(names: names)
    }

    static func console(_ fields: TOMLFields) throws(TOMLError) -> ConsoleConfig {
        try fields.rejectUnknownKeys(consoleKeys)
        let tty = try fields.require(fields.string("tty"), "tty")
        try requireDevicePath(tty, fields, "tty")
        let baud = try fields.require(fields.int("baud"), "baud")
        // Int(exactly:): Int is 32 bits on armv7, where Int(_:) of a larger TOML integer traps.
        guard let rate = Int(exactly: baud), baudRates.contains(rate) else {
            throw fields.error("baud", "\(baud) is not a rate termios can set (e.g. 115200, 1500000)")
        }
        return ConsoleConfig(tty: tty, baud: rate)
    }

    static func nics(_ root: TOMLFields) throws(TOMLError) -> [String] {
        guard let items = try root.stringsWithPositions("nics") else { return [] }
        var seen: Set<String> = []
        for item in items {
            // IFNAMSIZ is 16 including the NUL; the kernel refuses '/', ':' and whitespace.
            let valid = (1...15).contains(item.value.utf8.count) && item.value != "." && item.value != ".."
                && !item.value.unicodeScalars.contains { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }
            guard valid else {
                throw TOMLError(file: root.file, at: item.position, "\(item.path): '\(item.value)' is not a network interface name (1-15 characters, no '/', ':' or spaces)")
            }
            guard seen.insert(item.value).inserted else {
                throw TOMLError(file: root.file, at: item.position, "\(item.path): '\(item.value)' is listed twice")
            }
        }
        return items.map(\.value)
    }

    // MARK: Helpers

    static func requireDevicePath(_ path: String, _ fields: TOMLFields, _ key: String) throws(TOMLError) {
        guard path.hasPrefix("/dev/"), path.count > 5, !path.contains("/../") else {
            throw fields.error(key, "must be a device path under /dev/, got '\(path)'")
        }
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
    }
}

extension LedWiring: Hashable {
    /// What makes two wirings the same physical LED (polarity does not).
    var identity: LedWiring {
        switch self {
        case .gpio(let chip, let line, _): return .gpio(chip: chip, line: line, activeLow: false)
        case .ledClass(let names): return .ledClass(names: [names[0]])
        }
    }
}
