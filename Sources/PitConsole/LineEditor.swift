/// What the line discipline hands to the command layer: one per line the technician ended.
public enum ConsoleRequest: Equatable, Sendable {
    /// A complete line of printable ASCII, trimmed of surrounding spaces, never empty.
    case line(String)
    /// A line that was refused as a whole; the command layer answers it with one error line.
    case rejected(LineRejection)
}

public enum LineRejection: Equatable, Sendable {
    /// The line held a control or non-ASCII byte (line noise, a wrong baud rate, a binary blast).
    case binaryInput
    /// The line exceeded the buffer; the excess was discarded as it arrived, so memory never grew.
    case tooLong(limit: Int)
}

/// The console's line discipline, run over raw bytes because the tty is in raw mode (the kernel's
/// canonical mode would let a flood grow its 4 KiB line buffer and echo escape sequences back).
///
/// - CR, LF and CRLF each end a line; the LF of a CRLF is swallowed so it does not end a second,
///   empty line (a CR followed later by a lone LF still counts twice: they were two keystrokes).
/// - Backspace (0x08) and DEL (0x7F) erase one character (echo "\b \b").
/// - Ctrl-C and Ctrl-U discard the line, including a bad or overlong one.
/// - TAB counts as a space (some terminals send it when pasting).
/// - Any other control byte, and every byte >= 0x80, marks the line bad: nothing is echoed for it
///   (an escape sequence echoed back could reprogram the technician's terminal), nothing is stored,
///   and the line is answered with one `.rejected(.binaryInput)` when it ends. Printable characters
///   around it still echo, so a noise byte from plugging the cable in does not make typing invisible.
/// - A line longer than `maxLineBytes` is answered with `.rejected(.tooLong)`; bytes past the limit are
///   dropped on arrival, so the buffer never exceeds `maxLineBytes`.
/// - The word after "pin" is echoed as '*' so the PIN never appears on the technician's screen (or on
///   a shoulder-surfer's photo of it).
///
/// Pure and allocation-bounded: no I/O, no clock; `Console` feeds it and fuzz tests drive it directly.
public struct LineEditor: Sendable {
    public static let defaultMaxLineBytes = 256

    public let maxLineBytes: Int
    /// Echo typed characters (a human on a terminal); off for scripted use.
    public var echo: Bool
    /// Printed after an empty line or a Ctrl-C/Ctrl-U so the technician sees the console is alive.
    public var prompt: [UInt8]

    private var buffer: [UInt8]
    private var bad = false
    private var overlong = false
    private var lastWasCR = false
    /// True while echoing the word that follows "pin".
    private var masking = false

    public init(maxLineBytes: Int = LineEditor.defaultMaxLineBytes, echo: Bool = true, prompt: String = "") {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
        self.echo = echo
        self.prompt = Array(prompt.utf8)
        buffer = []
        buffer.reserveCapacity(maxLineBytes)
    }

    /// Bytes of the current, unfinished line (for tests and the memory-bound assertion).
    public var pendingLineBytes: Int { buffer.count }
    /// The buffer's allocated capacity: stays at `maxLineBytes` whatever the input.
    public var bufferCapacity: Int { buffer.capacity }

    public struct Output: Sendable, Equatable {
        /// How many input bytes were used; the caller keeps the rest for the next call.
        public var consumed: Int = 0
        public var requests: [ConsoleRequest] = []
        /// Bytes to send back to the terminal (echo, erase sequences, prompts).
        public var echo: [UInt8] = []
    }

    /// Runs the discipline over `bytes` until they are used up or `maxRequests` requests are complete.
    /// Stopping at `maxRequests` is what keeps a pasted or hostile burst of lines from monopolising one
    /// event-loop iteration: the caller keeps the unconsumed tail and feeds it on the next iteration.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, maxRequests: Int = .max) -> Output {
        var out = Output()
        var index = 0
        while index < bytes.count, out.requests.count < maxRequests {
            step(bytes[index], into: &out)
            index += 1
        }
        out.consumed = index
        return out
    }

    public mutating func feed(_ bytes: ArraySlice<UInt8>, maxRequests: Int = .max) -> Output {
        bytes.withUnsafeBufferPointer { feed($0, maxRequests: maxRequests) }
    }

    public mutating func feed(_ bytes: [UInt8], maxRequests: Int = .max) -> Output {
        bytes.withUnsafeBufferPointer { feed($0, maxRequests: maxRequests) }
    }

    /// Forgets the current line (used when the tty reconnects: half a line from before is noise).
    public mutating func reset() {
        clearLine()
        lastWasCR = false
    }

    private mutating func clearLine() {
        buffer.removeAll(keepingCapacity: true)
        bad = false
        overlong = false
        masking = false
    }

    // Plain comparisons rather than range patterns: this runs once per received byte, and range
    // matching stays a generic call in unoptimised (debug/test) builds.
    private mutating func step(_ byte: UInt8, into out: inout Output) {
        let wasCR = lastWasCR
        lastWasCR = byte == 0x0D
        if byte >= 0x20 && byte < 0x7F {
            insert(byte, into: &out)
        } else if byte == 0x0D {
            endLine(into: &out)
        } else if byte == 0x0A {
            if !wasCR { endLine(into: &out) }
        } else if byte == 0x08 || byte == 0x7F {
            erase(into: &out)
        } else if byte == 0x03 || byte == 0x15 {
            clearLine()
            if echo { out.echo += (byte == 0x03 ? Self.ctrlC : Self.ctrlU) + prompt }
        } else if byte == 0x09 {
            insert(0x20, into: &out)
        } else {
            bad = true
        }
    }

    private static let ctrlC: [UInt8] = Array("^C\r\n".utf8)
    private static let ctrlU: [UInt8] = Array("^U\r\n".utf8)

    private mutating func insert(_ byte: UInt8, into out: inout Output) {
        let count = buffer.count
        if count >= maxLineBytes {
            overlong = true
            return
        }
        if byte == 0x20 {
            masking = false
        } else if count == 0 || buffer[count - 1] == 0x20 {
            masking = previousWordIsPin(before: count)
        }
        buffer.append(byte)
        if echo { out.echo.append(masking ? 0x2A : byte) }
    }

    private mutating func erase(into out: inout Output) {
        guard !buffer.isEmpty else { return }
        buffer.removeLast()
        // After an overlong line lost its tail, erasing cannot make it whole again: it stays rejected.
        if echo && !overlong { out.echo += [0x08, 0x20, 0x08] }
        // Recompute whether the word now being typed is the PIN (the erase may have left it or entered it).
        var start = buffer.count
        while start > 0 && buffer[start - 1] != 0x20 { start -= 1 }
        masking = start < buffer.count ? previousWordIsPin(before: start) : false
    }

    /// True when the word ending before `end` (skipping spaces) is exactly "pin", case-insensitively.
    /// Called once per word start and per erase, so the scan stays bounded by the line length.
    private func previousWordIsPin(before end: Int) -> Bool {
        var i = end
        while i > 0 && buffer[i - 1] == 0x20 { i -= 1 }
        guard i >= 3 else { return false }
        // ASCII lower-case compare with "pin", then a word boundary before it.
        guard buffer[i - 3] | 0x20 == 0x70, buffer[i - 2] | 0x20 == 0x69, buffer[i - 1] | 0x20 == 0x6E else { return false }
        return i == 3 || buffer[i - 4] == 0x20
    }

    private mutating func endLine(into out: inout Output) {
        defer { clearLine() }
        if echo { out.echo += [0x0D, 0x0A] }
        if bad {
            out.requests.append(.rejected(.binaryInput))
        } else if overlong {
            out.requests.append(.rejected(.tooLong(limit: maxLineBytes)))
        } else {
            let text = String(decoding: buffer, as: UTF8.self).trimmingSpaces
            if text.isEmpty {
                if echo { out.echo += prompt }
            } else {
                out.requests.append(.line(text))
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " })!
        return String(scalars[first...last])
    }
}
