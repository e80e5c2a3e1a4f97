/// Text that came from a jail (a process's `comm`, its executable's path, Samba's audit fields), made safe for a
/// terminal, a log line or the serial console: an attacker controls it, and raw it could carry escape sequences
/// that rewrite the operator's screen, newlines that forge log lines, or bidirectional overrides that show a
/// name other than the one stored. Control characters (C0, DEL, C1), those overrides and a backslash become
/// `\xNN` / `\u{NNNN}` / `\\`. JSON output never goes through this: its encoder escapes exactly and keeps the value.
public enum Printable {
    public static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x5C: out += "\\\\"
            case 0x00..<0x20, 0x7F, 0x80..<0xA0:
                out += "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16)
            case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + String(v, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A line for a log or terminal: `text` escaped, with one newline of Pit's own at the end.
    public static func line(_ text: String) -> String {
        var body = Substring(text)
        while body.last == "\n" { body = body.dropLast() }
        return escaped(String(body)) + "\n"
    }
}
