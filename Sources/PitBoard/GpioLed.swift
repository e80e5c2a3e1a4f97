import CGpiod
import Glibc

/// An LED on a GPIO line Pit drives itself through libgpiod v1 (the character device
/// /dev/gpiochipN, not the removed sysfs GPIO interface).
///
/// The line stays requested for the life of the process: libgpiod v1 releases it (and the
/// kernel may return it to its default level) when the chip is closed or the process exits, and
/// a released line could be grabbed by someone else. So there is no deinit; `release()` exists
/// for tests and an orderly shutdown.
///
/// libgpiod v2 replaces this with gpiod_chip_open(path) + gpiod_line_settings /
/// gpiod_line_config / gpiod_request_config + gpiod_chip_request_lines(), which returns a
/// gpiod_line_request that owns the lines, and gpiod_line_request_set_value(request, offset,
/// GPIOD_LINE_VALUE_ACTIVE); active-low becomes gpiod_line_settings_set_active_low(). v2 also has
/// no lookup by label, so the chip would have to be found by scanning /dev/gpiochip* and
/// comparing gpiod_chip_info_get_label().
public struct GpioLed {
    /// As written in the board file: a name ("gpiochip0"), a path, a label or a number.
    public let chip: String
    public let line: UInt32
    public let activeLow: Bool
    private let chipHandle: OpaquePointer
    private let lineHandle: OpaquePointer

    /// The consumer name shown by `gpioinfo`, so an operator sees who holds the line.
    public static let consumer = "pit"

    /// Opens the chip and requests the line as an output, initially off.
    public static func open(chip: String, line: UInt32, activeLow: Bool) throws(BoardError) -> GpioLed {
        // gpiod_chip_open_lookup accepts any of the chip's names: gpiochipN, /dev/gpiochipN,
        // the label (gpio-sim's labels are only known once the VM has created the chip) or N.
        guard let chipHandle = gpiod_chip_open_lookup(chip) else {
            throw BoardError("gpiod_chip_open_lookup", path: chip, errno: errno,
                             detail: "no GPIO chip with this name, path, label or number")
        }
        guard let lineHandle = gpiod_chip_get_line(chipHandle, line) else {
            let error = BoardError("gpiod_chip_get_line", path: "\(chip) line \(line)", errno: errno)
            gpiod_chip_close(chipHandle)
            throw error
        }
        // The active-low flag makes the kernel invert the level, so "1" always means lit.
        let flags = activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        guard gpiod_line_request_output_flags(lineHandle, consumer, flags, 0) == 0 else {
            // EBUSY here usually means a gpio-leds node in the device tree already owns the
            // line: use `led = "NAME"` for it instead.
            let error = BoardError("gpiod_line_request_output_flags", path: "\(chip) line \(line)", errno: errno)
            gpiod_chip_close(chipHandle)
            throw error
        }
        return GpioLed(chip: chip, line: line, activeLow: activeLow, chipHandle: chipHandle, lineHandle: lineHandle)
    }

    public func set(lit: Bool) throws(BoardError) {
        guard gpiod_line_set_value(lineHandle, lit ? 1 : 0) == 0 else {
            throw BoardError("gpiod_line_set_value", path: "\(chip) line \(line)", errno: errno)
        }
    }

    /// Releases the line and closes the chip; the value must not be used afterwards.
    public func release() {
        gpiod_line_release(lineHandle)
        gpiod_chip_close(chipHandle)
    }
}
