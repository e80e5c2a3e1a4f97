/// A minimal JSON writer. The console's JSON must be exactly one line with stable key order (a script
/// on the technician's laptop reads line by line), must embed the supervisor's pre-rendered status
/// verbatim, and must escape every control character so attacker-controlled strings (jail events
/// carry what honeypot visitors sent) cannot smuggle terminal escape sequences onto the console.
indirect enum JSONValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    /// Members in the order given (not a dictionary: order is part of the output contract).
    case object([(String, JSONValue)])
    /// Already-encoded JSON from the supervisor; newlines are folded so the line stays one line.
    case raw(String)

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered == rhs.rendered }

    var rendered: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case let .string(value): JSONValue.writeString(value, to: &out)
        case let .int(value): out += String(value)
        case let .bool(value): out += value ? "true" : "false"
        case .null: out += "null"
        case let .array(values):
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        case let .raw(text):
            let folded = String(text.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
            out += folded.trimmingSpaces.isEmpty ? "null" : folded
        }
    }

    static func writeString(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
