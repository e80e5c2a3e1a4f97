/// Bytes waiting to go out to the terminal, bounded. The console must never block the supervisor on a
/// slow (9600 baud is ~1 KB/s) or absent reader, and must never grow without bound either, so when an
/// append would exceed `capacity` the *oldest* output is dropped (whole lines where possible: the
/// technician sees the newest answers intact) and one marker line says how much was lost.
public struct OutputBuffer: Sendable {
    public let capacity: Int
    private var storage: [UInt8] = []
    /// Start of unsent data in `storage`; consumed bytes are compacted away lazily.
    private var head = 0
    /// Total bytes dropped since the buffer was created (reported in the marker line).
    public private(set) var droppedBytes = 0
    public private(set) var overflows = 0

    /// Room kept for the marker line so inserting it never itself overflows.
    static let markerReserve = 80

    public init(capacity: Int = 64 * 1024) {
        precondition(capacity >= 4 * OutputBuffer.markerReserve)   // the marker must fit beside half the capacity
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    public var count: Int { storage.count - head }
    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if count + bytes.count <= capacity {
            compactIfNeeded(adding: bytes.count)
            storage += bytes
            return
        }
        overflows += 1
        // Drop down to half the capacity, not just to "fits": under a sustained flood the next overflow
        // is then ~capacity/2 bytes away, so the cost of compacting is amortised instead of paid per append.
        let budget = capacity / 2
        if bytes.count >= budget {
            // The new output alone is too big: everything queued goes, and the new output keeps its tail.
            droppedBytes += count + (bytes.count - budget)
            storage = Array(bytes.suffix(budget))
        } else {
            // Drop the oldest bytes, then on to the end of that line so the survivor starts clean.
            var cut = head + max(0, count + bytes.count - budget)
            if let newline = storage[cut...].firstIndex(of: 0x0A) {
                cut = newline + 1
            }
            droppedBytes += cut - head
            storage = Array(storage[cut...]) + bytes
        }
        head = 0
        let marker = Array("\r\n[console: output overflow, \(droppedBytes) bytes dropped]\r\n".utf8)
        storage = marker + storage
    }

    /// Calls `body` with the unsent bytes; `body` returns how many it sent.
    public mutating func send(_ body: (UnsafeRawBufferPointer) -> Int) -> Int {
        guard count > 0 else { return 0 }
        let sent = storage.withUnsafeBytes { raw in
            body(UnsafeRawBufferPointer(rebasing: raw[head...]))
        }
        if sent > 0 { consume(min(sent, count)) }
        return sent
    }

    public mutating func consume(_ n: Int) {
        head += n
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        head = 0
    }

    /// The unsent bytes (tests).
    public var pending: [UInt8] { Array(storage[head...]) }

    private mutating func compactIfNeeded(adding extra: Int) {
        // Compact once the sent prefix dominates, so storage stays near `capacity` and the copy is amortised.
        if head > 0 && (head >= storage.count / 2 || storage.count + extra > capacity) {
            storage.removeFirst(head)
            head = 0
        }
    }
}
