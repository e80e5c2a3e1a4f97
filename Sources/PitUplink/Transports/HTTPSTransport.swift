import PitProcess

/// Delivery over HTTPS: a POST of a JSON array of events (seq order) to the configured URL.
///
/// Headers: `Content-Type: application/json`, `X-Pit-Device: <device>`, and
/// `X-Pit-Signature: sha256=<hex HMAC-SHA256(key, body)>`, the key being the bytes of `hmac_key_file` with trailing
/// whitespace (a newline from an editor) removed. Any 2xx status acknowledges the whole batch; anything else
/// (including 401 for a bad signature) is a failure and the batch is retried after back-off.
public struct HTTPSClient {
    let config: TransportConfig.HTTPS
    let timeoutMs: Int
    let device: String
    let key: [UInt8]
    let tls: TLSContext

    init(config: TransportConfig.HTTPS, timeoutMs: Int, defaultDevice: String) throws(UplinkError) {
        self.config = config
        self.timeoutMs = timeoutMs
        let device = config.device ?? defaultDevice
        // A header value: no control characters, or a device name could inject headers.
        self.device = device.utf8.allSatisfy { (32...126).contains($0) } ? device : "invalid"
        var key: [UInt8]
        do { key = try FileIO.readFile(config.hmacKeyFile) } catch {
            throw UplinkError(operation: "read hmac_key_file", target: config.hmacKeyFile, errno: error.errno,
                              reason: error.errno == nil ? error.description : nil)
        }
        while let last = key.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { key.removeLast() }
        guard !key.isEmpty else {
            throw UplinkError(operation: "read hmac_key_file", target: config.hmacKeyFile, reason: "empty key")
        }
        self.key = key
        self.tls = try TLSContext(caFile: config.caFile, pin: config.pinSHA256)
    }

    static func body(_ events: [PitEvent]) -> [UInt8] {
        var body: [UInt8] = [0x5B]  // [
        for (i, event) in events.enumerated() {
            if i > 0 { body.append(0x2C) }  // ,
            body += event.jsonBytes()
        }
        body.append(0x5D)  // ]
        return body
    }

    func signature(_ body: [UInt8]) -> String { "sha256=" + Hex.encode(TLSContext.hmacSHA256(key: key, body)) }

    mutating func deliver(_ events: [PitEvent]) -> Delivery {
        let deadline = monotonicMilliseconds() + Int64(timeoutMs)
        do throws(UplinkError) {
            let response = try post(Self.body(events), deadline: deadline)
            guard (200...299).contains(response.status) else {
                return .none(UplinkError(operation: "POST", target: config.url, reason: response.statusLine))
            }
            return .all(events.count)
        } catch {
            return .none(error)
        }
    }

    func post(_ body: [UInt8], deadline: Int64) throws(UplinkError) -> HTTPClient.Response {
        let socket = try Socket.connect(host: config.host, port: config.port, deadline: deadline)
        let stream = try TLSStream(socket: socket, context: tls, host: config.host, deadline: deadline)
        let request = HTTPClient.request(method: "POST", host: config.host, port: config.port, path: config.path,
                                         headers: [("Content-Type", "application/json"),
                                                   ("User-Agent", "pit-uplink/1"),
                                                   ("X-Pit-Device", device),
                                                   ("X-Pit-Signature", signature(body))],
                                         body: body)
        try stream.writeAll(request, deadline: deadline)
        var received: [UInt8] = []
        while true {
            if let response = try HTTPClient.parseStatus(received, target: config.url) { return response }
            let chunk = try stream.read(max: 4096, deadline: deadline)
            if chunk.isEmpty {
                throw UplinkError(operation: "POST", target: config.url, reason: "connection closed before a status line")
            }
            received += chunk
        }
    }
}
