/// The smallest HTTP/1.1 client the uplink needs: one POST per connection (`Connection: close`), body sized by
/// Content-Length, and only the status line of the answer read. No redirects, no chunked upload, no keep-alive:
/// a batch every few seconds at most does not repay a connection pool, and fewer features are fewer parser bugs.
enum HTTPClient {
    /// Response headers above this are refused: a collector has no reason to send more, a broken one could send
    /// without end.
    static let maxResponseHead = 16 * 1024

    struct Response: Equatable {
        var status: Int
        var statusLine: String
    }

    static func request(method: String, host: String, port: Int, path: String, headers: [(String, String)],
                        body: [UInt8]) -> [UInt8] {
        let hostHeader = host.contains(":") ? "[\(host)]" : host
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\(port == 443 ? "" : ":\(port)")\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Parses `HTTP/1.x NNN reason` from the bytes read so far; nil while the head is incomplete.
    static func parseStatus(_ bytes: [UInt8], target: String) throws(UplinkError) -> Response? {
        guard let end = firstLineEnd(bytes) else {
            if bytes.count > maxResponseHead {
                throw UplinkError(operation: "http", target: target, reason: "response head over \(maxResponseHead) bytes")
            }
            return nil
        }
        let line = String(decoding: bytes[0..<end], as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw UplinkError(operation: "http", target: target, reason: "bad status line: \(line.prefix(100))")
        }
        return Response(status: status, statusLine: line)
    }

    private static func firstLineEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for i in 0..<(bytes.count - 1) where bytes[i] == 0x0D && bytes[i + 1] == 0x0A { return i }
        return nil
    }
}
