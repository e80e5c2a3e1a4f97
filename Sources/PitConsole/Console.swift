import Glibc

/// One serial console: the tty fd, its line discipline and its bounded output. Every operation is
/// nonblocking and bounded per call, because the supervisor's single event loop also feeds the hardware
/// watchdog: nothing a person (or noise, or a flood) does on the serial line may stall it.
///
/// Supervisor contract (single-threaded epoll loop):
/// - `Console.open(path:baud:)`, then add `fd` to epoll for input (level-triggered).
/// - Readable (or EPOLLHUP/EPOLLERR): `readAvailable(now:)`, then `ConsoleCommands.execute` each request
///   and `queue` the answers. If `hasPendingInput` is still true afterwards, more complete lines are
///   waiting in memory (the per-call cap stopped early): call `readAvailable` again on the next loop
///   iteration even without a new epoll event (e.g. use a zero epoll timeout while it is true).
/// - Watch for EPOLLOUT only while `wantsWrite`; on writable call `flush()`.
/// - When `isDisconnected` turns true: remove `fd` from epoll, `close()`, call `ConsoleCommands.disconnected()`
///   (ends a PIN unlock; lockouts persist), and retry `Console.open` every `Console.reopenDelayMs` until it
///   succeeds (a USB gadget tty comes back when the host re-enumerates).
///
/// A value type that owns an fd: keep exactly one copy (the supervisor's) and `close()` it once.
public struct Console: Sendable {
    /// How long the supervisor waits before retrying `open` after a disconnect: long enough not to spin on
    /// a vanished device node, short enough that the technician re-plugging the cable barely notices.
    public static let reopenDelayMs: Int64 = 2_000
    /// Bytes read per `readAvailable` call (one read(2)). The kernel keeps the rest (a real UART drops
    /// what overflows its buffer; a pty or USB gadget applies back-pressure to the writer).
    public static let readChunk = 4_096
    /// Complete requests returned per `readAvailable` call: a flood of short lines costs the loop at most
    /// this many command executions per iteration; the remaining bytes wait in `pendingInput`.
    public static let maxRequestsPerCall = 16

    public struct Options: Sendable {
        public var echo: Bool
        public var prompt: String
        public var maxLineBytes: Int
        public var outputCapacity: Int

        /// `prompt` nil means "pit> " with echo and none without (scripts want bare answer lines).
        public init(echo: Bool = true, prompt: String? = nil, maxLineBytes: Int = LineEditor.defaultMaxLineBytes,
                    outputCapacity: Int = 64 * 1024) {
            self.echo = echo
            self.prompt = prompt ?? (echo ? "pit> " : "")
            self.maxLineBytes = maxLineBytes
            self.outputCapacity = outputCapacity
        }
    }

    public let path: String
    public let baud: Int
    public private(set) var fd: Int32
    /// The tty went away (EIO/EBADF/ENXIO/HUP, read of 0): stop using it, close, reopen on a timer.
    public private(set) var isDisconnected = false
    /// The errno (or 0 for end-of-file) that disconnected the console, for the supervisor's log.
    public private(set) var disconnectErrno: Int32?
    public private(set) var editor: LineEditor
    public private(set) var output: OutputBuffer
    /// Requests handed out by `readAvailable` whose answers have not been queued yet: the prompt is
    /// printed only after the last of them, so a pasted burst reads answer, answer, answer, prompt.
    private var answersOwed = 0
    private var pendingInput: [UInt8] = []
    private var pendingStart = 0
    /// Monotonic ms of the last byte received (0 before any).
    public private(set) var lastInputMs: Int64 = 0

    public var hasPendingInput: Bool { pendingStart < pendingInput.count && !isDisconnected }
    public var wantsWrite: Bool { !output.isEmpty && !isDisconnected }

    /// Opens and configures the tty: raw 8N1 at `baud`, CLOCAL (ignore modem lines: a 3-wire cable has
    /// none), no hardware or software flow control (a stuck CTS or a stray XOFF must not freeze output),
    /// O_NONBLOCK|O_NOCTTY|O_CLOEXEC (never becomes our controlling tty, never leaks into jails).
    public static func open(path: String, baud: Int, options: Options = Options()) throws(ConsoleError) -> Console {
        let speed = try Baud.speed(for: baud, path: path)   // before open: a config error needs no device
        let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open", path: path, errno: errno) }
        do throws(ConsoleError) {
            try configure(fd: fd, path: path, baud: baud, speed: speed)
        } catch {
            Glibc.close(fd)
            throw error
        }
        var console = Console(path: path, baud: baud, fd: fd, options: options)
        // Tells whoever just plugged in that the box is alive and how to start; flushed by the loop.
        if options.echo {
            console.output.append(Array("\r\nPit console on \(path). Type 'help' for commands.\r\n".utf8) + console.editor.prompt)
        }
        return console
    }

    private init(path: String, baud: Int, fd: Int32, options: Options) {
        self.path = path
        self.baud = baud
        self.fd = fd
        editor = LineEditor(maxLineBytes: options.maxLineBytes, echo: options.echo, prompt: options.prompt)
        output = OutputBuffer(capacity: options.outputCapacity)
        pendingInput.reserveCapacity(Self.readChunk)
    }

    private static func configure(fd: Int32, path: String, baud: Int, speed: speed_t) throws(ConsoleError) {
        guard isatty(fd) == 1 else { throw .notATerminal(path: path) }
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { throw .system(operation: "tcgetattr", path: path, errno: errno) }
        cfmakeraw(&settings)   // no canonical mode, no echo, no signals, no CR/LF translation, 8 bits
        settings.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        settings.c_cflag |= tcflag_t(CS8) | tcflag_t(CLOCAL) | tcflag_t(CREAD)
        settings.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        // read() returns as soon as one byte is there; with O_NONBLOCK an empty queue gives EAGAIN, and 0
        // therefore only ever means hang-up.
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard cfsetispeed(&settings, speed) == 0, cfsetospeed(&settings, speed) == 0 else {
            throw .unsupportedBaud(baud, path: path)
        }
        guard tcsetattr(fd, TCSANOW, &settings) == 0 else { throw .system(operation: "tcsetattr", path: path, errno: errno) }
        // tcsetattr succeeds if *any* change applied; read back so a driver that refused the rate is caught.
        var applied = termios()
        guard tcgetattr(fd, &applied) == 0 else { throw .system(operation: "tcgetattr", path: path, errno: errno) }
        guard cfgetospeed(&applied) == speed else { throw .unsupportedBaud(baud, path: path) }
        // Bytes queued before we configured the port are line noise from plugging in, not commands.
        _ = tcflush(fd, TCIFLUSH)
    }

    /// Reads what is there (at most one read of `readChunk` bytes, and only once earlier input is
    /// processed), runs the line discipline and returns at most `maxRequestsPerCall` complete requests.
    /// Echo goes straight into the output buffer. Never blocks.
    public mutating func readAvailable(now: Int64) -> [ConsoleRequest] {
        guard !isDisconnected else { return [] }
        if pendingStart >= pendingInput.count {
            pendingInput.removeAll(keepingCapacity: true)
            pendingStart = 0
            var chunk = [UInt8](repeating: 0, count: Self.readChunk)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                pendingInput.append(contentsOf: chunk[0..<n])
                lastInputMs = now
            } else if n == 0 {
                disconnect(errno: 0)   // VMIN=1 + O_NONBLOCK: 0 is end-of-file, i.e. hang-up
                return []
            } else {
                let code = errno
                if code != EAGAIN && code != EWOULDBLOCK && code != EINTR { disconnect(errno: code) }
                return []
            }
        }
        let result = editor.feed(pendingInput[pendingStart...], maxRequests: Self.maxRequestsPerCall)
        pendingStart += result.consumed
        output.append(result.echo)
        answersOwed += result.requests.count
        return result.requests
    }

    /// Queues one answer: "\n" becomes "\r\n" (raw mode has no output processing), control characters
    /// from supervisor data become '?' (event details carry attacker-controlled text, which must not
    /// reach the technician's terminal as escape sequences), then the prompt follows once no other
    /// request from the same burst still awaits its answer.
    public mutating func queue(_ answer: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(answer.utf8.count + 16)
        for scalar in answer.unicodeScalars {
            switch scalar.value {
            case 0x0A: bytes += [0x0D, 0x0A]
            case 0x09: bytes.append(0x20)
            case 0..<0x20, 0x7F...0x9F: bytes.append(0x3F)
            default: bytes += Array(String(scalar).utf8)
            }
        }
        bytes += [0x0D, 0x0A]
        answersOwed = max(0, answersOwed - 1)
        if answersOwed == 0 && !hasPendingInput { bytes += editor.prompt }
        output.append(bytes)
    }

    /// Writes as much queued output as the tty takes now (stops at EAGAIN), at most one buffer's worth.
    /// Returns the number of bytes written.
    @discardableResult
    public mutating func flush() -> Int {
        guard !isDisconnected else { return 0 }
        var total = 0
        while !output.isEmpty && total < output.capacity {
            var failure: Int32 = 0
            let sent = output.send { pending in
                let n = Glibc.write(fd, pending.baseAddress, pending.count)
                if n < 0 { failure = errno }
                return n
            }
            if sent > 0 { total += sent; continue }
            if sent < 0 && failure == EINTR { continue }
            if sent < 0 && failure != EAGAIN && failure != EWOULDBLOCK { disconnect(errno: failure) }
            break
        }
        return total
    }

    /// For the supervisor when epoll reports EPOLLHUP/EPOLLERR without readable data.
    public mutating func markDisconnected(errno code: Int32 = EIO) {
        disconnect(errno: code)
    }

    /// Closes the fd (idempotent). Queued output and half-typed input are discarded: after a reopen the
    /// person on the other end may be someone else.
    public mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        isDisconnected = true
        output.removeAll()
        pendingInput.removeAll()
        pendingStart = 0
        answersOwed = 0
        editor.reset()
    }

    private mutating func disconnect(errno code: Int32) {
        if !isDisconnected { disconnectErrno = code }
        isDisconnected = true
    }
}
