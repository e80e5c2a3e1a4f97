import Glibc
import PitPersona

/// The files the Samba jails see, prepared from the persona under `root` (default /run/pit-samba, the paths
/// policies/samba/*.toml bind): etc/ (smb.conf rendered from the persona, and the passwd, group, hosts and
/// nsswitch.conf Samba reads), data/ (Samba's state, with the decoy shares copied from their templates).
/// smb.conf is written with the jail's view of the paths (/data/...).
public enum SambaTree {
    public static func prepare(_ persona: Persona, root: String, port: UInt16) throws(SupervisorError) {
        let paths = SambaPaths(dataDirectory: "/data")
        try makeDirectories(root + "/etc", mode: 0o755)
        try makeDirectories(root + "/data", mode: 0o755)
        for directory in paths.directories(for: persona) + ["/data/nmbd"] {
            try makeDirectories(root + directory, mode: 0o755)
            // nmbd gets a data tree of its own: Samba's messaging names its lock files and sockets by pid, and
            // smbd and nmbd are both PID 1 of their jails, so a shared lock directory makes them collide.
            try makeDirectories(root + "/data-nmbd" + directory.dropFirst("/data".count), mode: 0o755)
        }
        var conf = SmbConf.render(persona, paths: paths, port: port)
        // Jail-specific settings: nmbd's socket under the writable data directory, and no helper processes
        // (the jails' policies forbid exec after start).
        conf = conf.replacingFirst("[global]\n", with: "[global]\n\tnmbd:socket dir = /data/nmbd\n\trpc start on demand helpers = no\n")
        try write(root + "/etc/smb.conf", conf)
        try write(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        try write(root + "/etc/group", "root:x:0:\nnogroup:x:65534:\n")
        // smbd resolves its own name on every negotiate: answer from this file, never from DNS.
        try write(root + "/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 \(persona.hostname) \(persona.netbiosName.lowercased())\n")
        try write(root + "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n")
        for share in persona.shares {
            try copyTemplate(share.template, to: root + paths.path(of: share))
        }
    }

    static func makeDirectories(_ path: String, mode: mode_t) throws(SupervisorError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST { throw SupervisorError("samba \(current): \(String(cString: strerror(errno)))") }
        }
        // The guest user must traverse to the shares (Samba checks as that user).
        chmod(path, mode)
    }

    static func write(_ path: String, _ text: String) throws(SupervisorError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SupervisorError("samba \(temporary): \(String(cString: strerror(errno)))") }
        let written = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        guard written == text.utf8.count, rename(temporary, path) == 0 else { throw SupervisorError("samba \(path): \(String(cString: strerror(errno)))") }
    }

    /// Regular files of the template, copied world-readable (the decoys are meant to be read).
    static func copyTemplate(_ template: String, to destination: String) throws(SupervisorError) {
        try makeDirectories(destination, mode: 0o755)
        guard let dir = opendir(template) else { throw SupervisorError("decoy template \(template): \(String(cString: strerror(errno)))") }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            var st = stat()
            guard stat(template + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            let input = open(template + "/" + name, O_RDONLY | O_CLOEXEC)
            let output = open(destination + "/" + name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            defer { if input >= 0 { close(input) }; if output >= 0 { close(output) } }
            guard input >= 0, output >= 0 else { throw SupervisorError("decoy \(name): \(String(cString: strerror(errno)))") }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(input, &buffer, buffer.count)
                if n <= 0 { break }
                _ = Glibc.write(output, buffer, n)
            }
        }
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = ranges(of: target).first else { return self }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }

    private func ranges(of target: String) -> [Range<String.Index>] {
        var found: [Range<String.Index>] = []
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                found.append(index..<self.index(index, offsetBy: target.count))
                return found
            }
            index = self.index(after: index)
        }
        return found
    }
}
