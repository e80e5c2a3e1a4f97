import Glibc
import PitProcess

/// Users, groups and paths of the host, read directly (no NSS: a static executable cannot load its modules).
enum Accounts {
    static func uid(_ entry: Sourced<String>) throws(ConfigError) -> (uid: UInt32, gid: UInt32) {
        if let number = UInt32(entry.value) { return (number, number) }
        guard let line = lookup("/etc/passwd", entry.value), line.count >= 4,
              let uid = UInt32(line[2]), let gid = UInt32(line[3]) else {
            throw ConfigError(entry.origin, "no user '\(entry.value)' in /etc/passwd (give a name from there or a number)")
        }
        return (uid, gid)
    }

    static func gid(_ entry: Sourced<String>) throws(ConfigError) -> UInt32 {
        if let number = UInt32(entry.value) { return number }
        guard let line = lookup("/etc/group", entry.value), line.count >= 3, let gid = UInt32(line[2]) else {
            throw ConfigError(entry.origin, "no group '\(entry.value)' in /etc/group (give a name from there or a number)")
        }
        return gid
    }

    private static func lookup(_ file: String, _ name: String) -> [Substring]? {
        for line in (readText(file) ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.first.map(String.init) == name { return fields }
        }
        return nil
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// A directory that is not a symlink (merged-/usr systems have /bin -> usr/bin).
    static func isRealDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func symlinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func whyMissing(_ path: String) -> String {
        var st = stat()
        _ = stat(path, &st)
        return String(cString: strerror(errno))
    }

    static func whyNotDirectory(_ path: String) -> String {
        exists(path) ? "not a directory" : whyMissing(path)
    }

    /// The first account of /etc/passwd or /etc/group whose id lies in `range` ("user 'x' (uid 200010)"): a user
    /// namespace mapped over it would make the jail's root that account on the host.
    static func owner(within range: ClosedRange<UInt32>) -> String? {
        for (file, what, kind) in [("/etc/passwd", "user", "uid"), ("/etc/group", "group", "gid")] {
            for line in (readText(file) ?? "").split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                guard fields.count >= 3, let id = UInt32(fields[2]), range.contains(id) else { continue }
                return "\(what) '\(fields[0])' (\(kind) \(id))"
            }
        }
        return nil
    }

    /// Whether a directory on the way to `path` (its ancestors, not following symlinks) is owned by someone other
    /// than root or writable by group or others: there, anyone but root could put a symlink in place.
    static func othersMayWrite(above path: String) -> Bool {
        var current = ""
        for component in path.split(separator: "/").dropLast() {
            current += "/" + component
            var st = stat()
            guard lstat(current, &st) == 0 else { return true }
            if st.st_mode & S_IFMT != S_IFDIR { continue }     // a symlink an administrator made: checked when followed
            if st.st_uid != 0 || st.st_mode & 0o022 != 0 { return true }
        }
        return false
    }
}
