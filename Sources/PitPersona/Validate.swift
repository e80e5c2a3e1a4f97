// Checks on persona text fields. They matter beyond tidiness: every name ends up in smb.conf, a
// line-oriented file, so a newline or control character in a share comment would let a persona file
// inject arbitrary Samba parameters. Each function returns a problem description or nil.

enum Validate {
    static func hostname(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 64 { return "'\(name)' is \(bytes.count) bytes; the kernel's limit is 64" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "'\(name)' has an empty label" }
            if label.utf8.count > 63 { return "label '\(label)' is longer than 63 characters" }
            if !label.utf8.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }) {
                return "'\(name)' may contain only letters, digits, '-' and '.'"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "label '\(label)' starts or ends with '-'" }
        }
        return nil
    }

    /// NetBIOS names (and workgroups): at most 15 characters (the 16th byte is the service type),
    /// from the set Windows accepts for computer names. Dots are refused: Windows rejects them in
    /// computer names and Samba would treat the name as DNS-qualified.
    static func netbiosName(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 15 { return "'\(name)' is \(name.utf8.count) characters; NetBIOS names have at most 15" }
        let allowed = Set("!@#$%^&()-_'{}~".utf8)
        for c in name.utf8 where !(isAlnum(c) || allowed.contains(c)) {
            return "'\(name)' contains '\(Character(Unicode.Scalar(c)))'; use letters, digits and !@#$%^&()-_'{}~"
        }
        if name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return "'\(name)' is all digits, which Windows refuses" }
        return nil
    }

    static func interfaceName(_ name: String) -> String? {
        // The kernel's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > 15 { return "'\(name)' is longer than 15 bytes (IFNAMSIZ)" }
        if name == "." || name == ".." { return "'\(name)' is not an interface name" }
        if name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 0x20 || $0 == 0x7F }) {
            return "'\(name)' contains '/', ':', whitespace or a control character"
        }
        return nil
    }

    /// Samba share names: not a reserved section, none of the characters Windows forbids, at most
    /// 80 characters (the limit Windows clients show).
    static func shareName(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > 80 { return "'\(name)' is longer than 80 characters" }
        if let problem = configText(name, maxLength: 80) { return problem }
        let forbidden = Set("\\/[]:|<>+=;,*?\"%".utf8)
        if let c = name.utf8.first(where: { forbidden.contains($0) }) {
            return "'\(name)' contains '\(Character(Unicode.Scalar(c)))', which share names cannot"
        }
        if name == "." || name == ".." { return "'\(name)' cannot be a share directory name" }
        if ["global", "homes", "printers", "print$", "ipc$"].contains(name.lowercased()) {
            return "'\(name)' is a reserved Samba section name"
        }
        return nil
    }

    /// Free text that goes into smb.conf as a value: one line, no control characters, no
    /// surrounding whitespace (Samba would strip it silently).
    static func configText(_ text: String, maxLength: Int) -> String? {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must be one line without control characters"
        }
        if text.count > maxLength { return "is longer than \(maxLength) characters" }
        if text != trimmed(text) { return "must not start or end with whitespace" }
        return nil
    }

    static func upper(_ s: String) -> String {
        String(decoding: s.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }

    static func trimmed(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s == "\n" || s == "\r" }
    private static func isAlnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
}
