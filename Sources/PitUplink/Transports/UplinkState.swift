import FoundationEssentials
import Glibc

/// The agent's visible state, DATA/uplink/state.json, replaced atomically after every change so `pit status` and
/// `pit uplink status` (other processes) always read a whole file.
///
/// ```json
/// {"pid":1234,"transports":[{"last_delivered_seq":42,"last_error":null,"name":"siem","next_attempt_in_ms":0,
///   "queued":0,"state":"up","type":"syslog"}],"updated":"2026-11-29T01:02:03.456Z"}
/// ```
/// `state`: `alarm` (the receiver answered something that means events could be lost: `alarm` says what; the
/// supervisor raises `uplink_alarm`), `up` (last attempt succeeded, or nothing to send yet), `backoff` (failed, retrying after
/// `next_attempt_in_ms`, counted from `updated`), `down` (`down_after` consecutive failures; still retried at the
/// back-off ceiling). `queued`: events stored above the transport's cursor. `last_error` stays set after recovery
/// only until the next success clears it.
public struct UplinkState: Codable, Sendable, Equatable {
    public struct Transport: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        public var state: String
        public var lastError: String?
        public var lastDeliveredSeq: UInt64
        public var queued: Int
        public var nextAttemptInMs: Int64
        public var consecutiveFailures: Int
        /// Set when the receiver answered something that means events could be lost (DNS: another device with this
        /// id, a console state that is not this device's); the events concerned stay in the spool.
        public var alarm: String? = nil

        enum CodingKeys: String, CodingKey {
            case name, type, state, queued, alarm
            case lastError = "last_error"
            case lastDeliveredSeq = "last_delivered_seq"
            case nextAttemptInMs = "next_attempt_in_ms"
            case consecutiveFailures = "consecutive_failures"
        }

        // Written explicitly so a nil last_error appears as null: readers need not guess whether the key is missing.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(type, forKey: .type)
            try c.encode(state, forKey: .state)
            try c.encode(lastError, forKey: .lastError)
            try c.encode(lastDeliveredSeq, forKey: .lastDeliveredSeq)
            try c.encode(queued, forKey: .queued)
            try c.encode(nextAttemptInMs, forKey: .nextAttemptInMs)
            try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
            try c.encode(alarm, forKey: .alarm)
        }
    }

    public var pid: Int32
    public var updated: String
    public var transports: [Transport]

    public static func path(dataDirectory: String) -> String { dataDirectory + "/uplink/state.json" }

    /// The state the agent last wrote; throws if there is none (the agent never ran) or it does not parse.
    public static func load(dataDirectory: String) throws(UplinkError) -> UplinkState {
        let path = path(dataDirectory: dataDirectory)
        let bytes: [UInt8]
        do { bytes = try FileIO.readFile(path) } catch {
            throw UplinkError(operation: "read state", target: path, errno: error.errno,
                              reason: error.errno == nil ? error.description : nil)
        }
        do { return try JSONDecoder().decode(UplinkState.self, from: Data(bytes)) } catch {
            throw UplinkError(operation: "parse state", target: path, reason: "\(error)")
        }
    }

    public func jsonData() -> [UInt8] { jsonBytes() }

    func jsonBytes() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and nulls only: encoding cannot fail.
        do { return Array(try encoder.encode(self)) + [0x0A] } catch { fatalError("UplinkState encoding: \(error)") }
    }

    /// Replaced by rename so readers see the old or the new file, never a partial one. Not fsynced: the file is
    /// for people and is rewritten as soon as the agent starts again, so losing the last version in a power cut
    /// costs nothing, while two fsyncs per delivery (about 10 ms on an SD card, far more on a busy one) would sit
    /// between every event and its delivery.
    func write(dataDirectory: String) throws(UplinkError) {
        let directory = dataDirectory + "/uplink"
        let path = Self.path(dataDirectory: dataDirectory)
        do { try FileIO.makeDirectories(directory) } catch {
            throw UplinkError(operation: "write state", target: directory, errno: error.errno,
                              reason: error.errno == nil ? error.description : nil)
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .sys("write state", temporary) }
        let bytes = jsonBytes()
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else {
            unlink(temporary)
            throw UplinkError(operation: "write state", target: temporary, errno: written < 0 ? errno : ENOSPC)
        }
        guard rename(temporary, path) == 0 else { throw .sys("write state", path) }
    }

    /// Human-readable lines for `pit uplink status`.
    public var text: String {
        if transports.isEmpty { return "uplink: no transports configured (agent pid \(pid), \(updated))\n" }
        var out = "uplink agent pid \(pid), state of \(updated)\n"
        for t in transports {
            out += "  \(t.name) (\(t.type)): \(t.state), delivered up to seq \(t.lastDeliveredSeq), \(t.queued) queued"
            if t.state != "up" { out += ", next attempt in \(t.nextAttemptInMs) ms" }
            if let a = t.alarm { out += "\n    ALARM: \(a)" }
            if let e = t.lastError { out += "\n    last error: \(e)" }
            out += "\n"
        }
        return out
    }
}
