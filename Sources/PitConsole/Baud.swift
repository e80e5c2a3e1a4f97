import Glibc

/// Baud rates the console accepts and their termios speed constants. termios does not take a number:
/// each rate has its own Bnnn constant, and a rate without one must be refused rather than rounded,
/// because a technician's terminal set to 115200 shows only garbage if the port runs at anything else.
public enum Baud {
    /// Every standard Linux rate from 9600 up to 4000000 (the range USB-serial adapters and SoC UARTs use).
    public static let table: [(rate: Int, speed: speed_t)] = [
        (9600, speed_t(B9600)), (19200, speed_t(B19200)), (38400, speed_t(B38400)),
        (57600, speed_t(B57600)), (115200, speed_t(B115200)), (230400, speed_t(B230400)),
        (460800, speed_t(B460800)), (500000, speed_t(B500000)), (576000, speed_t(B576000)),
        (921600, speed_t(B921600)), (1000000, speed_t(B1000000)), (1152000, speed_t(B1152000)),
        (1500000, speed_t(B1500000)), (2000000, speed_t(B2000000)), (2500000, speed_t(B2500000)),
        (3000000, speed_t(B3000000)), (3500000, speed_t(B3500000)), (4000000, speed_t(B4000000)),
    ]

    public static var supportedRates: [Int] { table.map(\.rate) }

    /// The termios constant for `rate`; `path` only labels the error.
    public static func speed(for rate: Int, path: String = "") throws(ConsoleError) -> speed_t {
        guard let entry = table.first(where: { $0.rate == rate }) else { throw .unsupportedBaud(rate, path: path) }
        return entry.speed
    }

    /// The rate of a termios speed constant, nil for constants outside the table (e.g. B0, B300).
    public static func rate(of speed: speed_t) -> Int? {
        table.first(where: { $0.speed == speed })?.rate
    }
}
