import Glibc
import PitProcess

/// The last lines a jail wrote, in a fixed amount of memory: `capacity` bytes of whole lines, the oldest
/// dropped (and counted) when a new one does not fit. Positions are absolute byte offsets since the ring was made
/// (with the jail's slot; never reused), so a reader keeps a cursor and learns how much it missed if the ring passed it.
/// A line longer than `maxLine` is cut into pieces of that size: a jail that never writes a newline still
/// shows up, and the bytes held for an unfinished line stay bounded.
struct LogRing {
    static let defaultCapacity = 64 * 1024
    static let maxLine = 4096

    let capacity: Int
    private var storage: [UInt8]
    /// The absolute offsets of the oldest byte kept and of the end: `tail - head` bytes are in the ring.
    private(set) var head = 0
    private(set) var tail = 0
    /// Bytes of whole lines dropped to make room (what a reader that was too slow, or came late, missed).
    private(set) var droppedBytes = 0
    /// The unfinished last line, until its newline comes (or it reaches `maxLine`, or the jail exits).
    private var partial: [UInt8] = []

    init(capacity: Int = LogRing.defaultCapacity) {
        self.capacity = capacity
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Bytes held: the ring's lines and the unfinished one.
    var bytesHeld: Int { tail - head + partial.count }

    /// Takes what the jail wrote; whole lines enter the ring. memchr and memcpy: a flood passes through here
    /// byte for byte, and they cost the same in a debug build.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard var at = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            // Up to the next newline, or as much as the unfinished line may still take.
            let span = min(left, Self.maxLine - partial.count)
            let take = memchr(at, 0x0A, span).map { at.distance(to: UnsafeRawPointer($0)) + 1 } ?? span
            partial.append(contentsOf: UnsafeRawBufferPointer(start: at, count: take))
            at += take
            left -= take
            if partial.last == 0x0A || partial.count >= Self.maxLine { commitPartial() }
        }
    }

    /// The unfinished line as a line of its own (the jail exited without its newline).
    mutating func finishLine() {
        if !partial.isEmpty { commitPartial() }
    }

    private mutating func commitPartial() {
        if partial.last != 0x0A { partial.append(0x0A) }
        precondition(partial.count <= capacity)
        let count = partial.count, at = tail % capacity, first = min(count, capacity - at)
        storage.withUnsafeMutableBytes { ring in
            partial.withUnsafeBytes { line in
                // At most two copies: up to the end of the storage, then from its start.
                memcpy(ring.baseAddress! + at, line.baseAddress!, first)
                if first < count { memcpy(ring.baseAddress!, line.baseAddress! + first, count - first) }
            }
        }
        partial.removeAll(keepingCapacity: true)
        tail += count
        guard tail - head > capacity else { return }
        // Overwritten: everything before tail - capacity. Drop whole lines up to the first newline at or after it.
        var start = tail - capacity
        while start < tail && storage[start % capacity] != 0x0A { start += 1 }
        start += 1
        droppedBytes += start - head
        head = start
    }

    /// Whole lines from `cursor` on, at most `maxBytes` of them (at least one line when there is one), and the
    /// cursor to ask with next. `skipped` is how many bytes the ring dropped before this reader got to them.
    func read(from cursor: Int, maxBytes: Int) -> (lines: [String], next: Int, skipped: Int) {
        let from = min(max(cursor, head), tail)   // a cursor from before a restart of Pit may lie beyond
        var lines: [String] = []
        var line: [UInt8] = []
        var position = from, taken = 0, next = from
        while position < tail {
            let byte = storage[position % capacity]
            position += 1
            if byte == UInt8(ascii: "\n") {
                taken += line.count + 1
                if taken > maxBytes && !lines.isEmpty { break }
                lines.append(String(decoding: line, as: UTF8.self))
                line.removeAll(keepingCapacity: true)
                next = position
            } else {
                line.append(byte)
            }
        }
        return (lines, next, max(0, head - max(0, cursor)))
    }

    /// The newest `count` lines (at most `maxBytes` of them, but at least one), oldest first.
    func last(_ count: Int, maxBytes: Int) -> [String] {
        var start = tail, lines = 0
        while start > head && lines < count {
            // `start` begins a line: step back over the one before it (its newline is at start - 1).
            var previous = start - 1
            while previous > head && storage[(previous - 1) % capacity] != UInt8(ascii: "\n") { previous -= 1 }
            if tail - previous > maxBytes && lines > 0 { break }
            start = previous
            lines += 1
        }
        return read(from: start, maxBytes: Int.max).lines
    }
}

/// The pipe a supervised jail writes its stdout and stderr to, and the ring its lines land in. One pipe for
/// both streams: the lines stay in the order the jail wrote them, and each jail costs one fd and one epoll
/// watch instead of two (which stream a line came from is not kept). The supervisor's end is nonblocking and
/// read from the event loop, at most `readBudget` bytes per wakeup, so a jail that floods its stdout gets the
/// loop's attention in turns with everything else and its flood goes round the ring, not into the
/// supervisor's own log. The jail's end is blocking, as programs expect: a jail can only slow itself down.
/// And it does: past `maxBytesPerSecond` the pipe is left alone until the second is over (the jail waits in its
/// write), so a flood costs the supervisor a bounded share of the CPU (unthrottled, a `yes` in a jail kept it
/// 40% busy in a debug build) however fast the jail writes.
final class JailOutput {
    var ring = LogRing()
    /// The read end while a jail writes to it (-1 otherwise).
    private(set) var fd: Int32 = -1
    static let readBudget = 64 * 1024
    static let maxBytesPerSecond = 1 << 20
    /// Reading is paused until then (the fd is out of epoll meanwhile).
    private(set) var pausedUntil: Int64?
    private var windowStart: Int64 = 0
    private var windowBytes = 0
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    /// The jail's log file (JailLogFiles, through its writer), when there is one: its lines go there too, escaped,
    /// at most `fileBytesPerMinute` of them (flash wears out, and a jail decides how much it writes); what does not
    /// fit is counted and said in the file when the next minute begins.
    var file: (writer: LogWriter, name: String)?
    static let fileBytesPerMinute = 64 * 1024
    private var fileCursor = 0
    private var fileWindowStart: Int64?
    private var fileWindowBytes = 0
    private var fileSkipped = 0

    /// A fresh pipe for the next start of the jail: returns the write end for the jail (close-on-exec here,
    /// the jail's child puts it on 1 and 2), and watches the read end. The previous pipe, if any, is closed (the
    /// previous run's last words were read at its exit).
    func openPipe(eventLoop: EventLoop, slot: JailSlot) -> Int32? {
        closePipe(eventLoop: eventLoop)
        pausedUntil = nil
        var ends: [Int32] = [0, 0]
        // pipe2 is GNU-only in Swift's Glibc; the flags are set right after (one thread spawns: nothing
        // can inherit the ends in between).
        guard pipe(&ends) == 0 else { return nil }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        fd = ends[0]
        eventLoop.add(fd, .jailOutput(slot))
        return ends[1]
    }

    /// Reads what is there, up to the budget. At end-of-file (every process of the jail closed its end) the
    /// pipe is closed and its last unfinished line kept.
    func drain(eventLoop: EventLoop, now: Int64) {
        guard fd >= 0, pausedUntil == nil else { return }
        if now - windowStart >= 1000 { windowStart = now; windowBytes = 0 }
        var budget = min(Self.readBudget, Self.maxBytesPerSecond - windowBytes)
        while budget > 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, budget)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { break }   // EAGAIN: all read
            if n == 0 { closePipe(eventLoop: eventLoop); break }
            buffer.withUnsafeBytes { ring.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            budget -= n
            windowBytes += n
        }
        if windowBytes >= Self.maxBytesPerSecond, fd >= 0 {
            eventLoop.remove(fd)
            pausedUntil = windowStart + 1000
        }
        forwardToFile(now: now)
    }

    /// The lines the ring took since the last call, to the file, within this minute's budget.
    private func forwardToFile(now: Int64) {
        guard let file else { return }
        if fileWindowStart.map({ now - $0 >= 60_000 }) ?? true {
            fileWindowStart = now
            fileWindowBytes = 0
            if fileSkipped > 0 {
                let said = "pit: \(fileSkipped) bytes of output not written here (at most \(Self.fileBytesPerMinute / 1024) KiB a minute are)\n"
                file.writer.write(said, to: file.name)
                fileWindowBytes += said.utf8.count
                fileSkipped = 0
            }
        }
        let budget = Self.fileBytesPerMinute - fileWindowBytes
        guard budget > 0 else {
            // Over the budget: only counted, no line is even looked at (a flood must stay cheap).
            fileSkipped += ring.tail - fileCursor
            fileCursor = ring.tail
            return
        }
        let batch = ring.read(from: fileCursor, maxBytes: budget)
        fileSkipped += batch.skipped
        // In pieces of about 8 KiB: the writer's queue is bounded, and one entry larger than it would be dropped whole.
        var text = ""
        for line in batch.lines {
            // The budget is of what reaches the file: escaping makes a control byte four (`\x1b`).
            let escaped = Printable.line(line)
            guard fileWindowBytes + text.utf8.count + escaped.utf8.count <= Self.fileBytesPerMinute else {
                fileSkipped += line.utf8.count + 1
                continue
            }
            text += escaped
            if text.utf8.count >= 8192 { fileWindowBytes += text.utf8.count; file.writer.write(text, to: file.name); text = "" }
        }
        fileCursor = batch.next
        fileWindowBytes += text.utf8.count
        if !text.isEmpty { file.writer.write(text, to: file.name) }
    }

    /// After a pause for the rate limit: the pipe is watched again.
    func resumeIfDue(eventLoop: EventLoop, slot: JailSlot, now: Int64) {
        guard let until = pausedUntil, until <= now else { return }
        pausedUntil = nil
        if fd >= 0 { eventLoop.add(fd, .jailOutput(slot)) }
    }

    func closePipe(eventLoop: EventLoop) {
        guard fd >= 0 else { return }
        if pausedUntil == nil { eventLoop.remove(fd) }
        pausedUntil = nil
        close(fd)
        fd = -1
        ring.finishLine()
    }
}
