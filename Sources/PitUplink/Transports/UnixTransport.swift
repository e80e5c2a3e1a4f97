import PitProcess

/// Delivery to an on-device agent over a SOCK_STREAM Unix socket.
///
/// Protocol (version 1), one connection per batch:
/// - Pit sends each event as its JSON line followed by `\n`, in seq order, without waiting.
/// - The agent answers each line, in order, with `ok <seq>\n` once it has taken the event (stored or forwarded as
///   its own guarantees allow); `<seq>` is the event's seq, `0` for an event not from the spool (`pit uplink test`).
/// - Any other answer (`err <seq> <reason>\n` is the suggested form), a wrong seq, or the connection closing
///   first stops the batch: the events acknowledged so far count as delivered, the rest are retried later.
/// - Pit closes the connection after the last ack; the agent may also close after answering.
public struct UnixClient {
    let config: TransportConfig.Unix
    let timeoutMs: Int
    /// An ack line longer than this is not one.
    static let maxLine = 256

    mutating func deliver(_ events: [PitEvent]) -> Delivery {
        let deadline = monotonicMilliseconds() + Int64(timeoutMs)
        var acknowledged = 0
        do throws(UplinkError) {
            let socket = try Socket.connect(unixPath: config.path, deadline: deadline)
            var stream: [UInt8] = []
            for event in events { stream += event.jsonBytes(); stream.append(0x0A) }
            try socket.sendAll(stream, deadline: deadline)
            var pending: [UInt8] = []
            while acknowledged < events.count {
                guard let newline = pending.firstIndex(of: 0x0A) else {
                    if pending.count > Self.maxLine {
                        throw UplinkError(operation: "ack", target: config.path, reason: "line too long")
                    }
                    let chunk = try socket.receive(max: 4096, deadline: deadline, operation: "await ack")
                    if chunk.isEmpty {
                        throw UplinkError(operation: "ack", target: config.path,
                                          reason: "closed after \(acknowledged) of \(events.count) acks")
                    }
                    pending += chunk
                    continue
                }
                let line = String(decoding: pending[0..<newline], as: UTF8.self)
                pending.removeSubrange(0...newline)
                let expected = "ok \(events[acknowledged].seq ?? 0)"
                guard line == expected else {
                    throw UplinkError(operation: "ack", target: config.path,
                                      reason: "expected '\(expected)', got '\(line.prefix(100))'")
                }
                acknowledged += 1
            }
            return .all(acknowledged)
        } catch {
            return Delivery(acknowledged: acknowledged, error: error)
        }
    }
}
