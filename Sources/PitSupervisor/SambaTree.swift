import CPitShim
import Glibc
import PitJail
import PitPersona

/// The files the Samba jails see, prepared from the persona under `root` (default /run/pit-samba, the paths
/// policies/samba/*.toml bind): etc/ (smb.conf rendered from the persona, and the passwd, group, hosts and
/// nsswitch.conf Samba reads), data/ and data-nmbd/ (Samba's state, with the decoy shares copied from their
/// templates into data/). smb.conf is written with the jail's view of the paths (/data/...).
///
/// The jails write inside data/ (smbd as root inside), and the supervisor writes there as root on the host.
/// So nothing inside the tree is ever reached by path: the root is opened once and every step below it is
/// relative to an open directory, with openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS; modes and owners are set on opened fds; files are written to a fresh temporary name
/// (O_CREAT | O_EXCL | O_NOFOLLOW) and renamed into place within the same directory fd. A symlink or other
/// non-directory where a directory belongs is an error naming the path, never followed.
///
/// `validate` only reads (config load, `pit supervise --check`); `prepare` writes (start and reload).
public enum SambaTree {
    /// What a config load checks: every decoy template is a directory. Nothing is written.
    public static func validate(_ persona: Persona) throws(SambaTreeError) {
        for share in persona.shares {
            var st = stat()
            guard stat(share.template, &st) == 0 else { throw SambaTreeError(share.template, "decoy template: \(String(cString: strerror(errno)))") }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SambaTreeError(share.template, "decoy template: not a directory") }
        }
    }

    /// Writes the tree, then hands each jail's writable binds inside it to that jail's host identity (see
    /// `chownWritableBinds`). Returns warnings (template entries skipped, files not handed over).
    @discardableResult
    public static func prepare(_ persona: Persona, root: String, port: UInt16, jails: [JailSpec]) throws(SambaTreeError) -> [String] {
        var warnings: [String] = []
        let tree = try openRoot(JailOptions.absolute(root))
        defer { tree.close() }
        let paths = SambaPaths(dataDirectory: "/data")
        try tree.directory("etc").close()
        try tree.directory("data").close()
        for directory in paths.directories(for: persona) + ["/data/nmbd"] {
            let inData = String(directory.dropFirst("/data".count))
            try tree.directory("data" + inData).close()
            // nmbd and samba-dcerpcd get data trees of their own: Samba's messaging names its lock files and
            // sockets by pid, and the daemons are all PID 1 of their jails, so a shared lock directory makes them
            // collide.
            try tree.directory("data-nmbd" + inData).close()
            try tree.directory("data-dcerpcd" + inData).close()
        }
        try prepareNamedPipes(tree, served: jails.contains { spec in
            spec.root.mounts.contains { if case .bind(let source, _, true) = $0 { return source == tree.path + "/ncalrpc" } else { return false } }
        })
        var conf = SmbConf.render(persona, paths: paths, port: port)
        // Jail-specific settings: nmbd's socket under the writable data directory; smbd starts no helper
        // (its policy forbids exec after start: samba-dcerpcd runs in a jail of its own, started before it);
        // samba-dcerpcd's TCP endpoints in a small fixed range, the ports its jail's Landlock lets it bind.
        conf = conf.replacingFirst("[global]\n", with: "[global]\n\tnmbd:socket dir = /data/nmbd\n\trpc start on demand helpers = no\n"
            + "\trpc server dynamic port range = \(rpcDynamicPorts.lowerBound)-\(rpcDynamicPorts.upperBound)\n")
        let etc = try tree.directory("etc")
        defer { etc.close() }
        try etc.write("smb.conf", conf)
        try etc.write("passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        try etc.write("group", "root:x:0:\nnogroup:x:65534:\n")
        // smbd resolves its own name on every negotiate: answer from this file, never from DNS.
        try etc.write("hosts", "127.0.0.1 localhost\n127.0.1.1 \(persona.hostname) \(persona.netbiosName.lowercased())\n")
        try etc.write("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n")
        for share in persona.shares {
            let destination = try tree.directory(String(paths.path(of: share).dropFirst()))
            defer { destination.close() }
            // The template itself is the administrator's path (it may be a symlink); what is inside is not followed.
            let template = open(share.template, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard template >= 0 else { throw SambaTreeError(share.template, "decoy template: \(String(cString: strerror(errno)))") }
            let source = TreeDirectory(fd: template, path: share.template)
            defer { source.close() }
            try copyTemplate(source, into: destination, depth: 0, warnings: &warnings)
            var st = stat()
            if fstat(template, &st) == 0 { try keepTimes(of: st, on: destination.fd, path: destination.path) }
        }
        try chownWritableBinds(tree, jails: jails, warnings: &warnings)
        return warnings
    }

    /// The named pipes smbd forwards to samba-dcerpcd: share listing (srvsvc), workstation info (wkssvc), and
    /// lsarpc, which Windows asks for (name lookups). Other pipes stay unreachable from SMB.
    public static let forwardedPipes = ["srvsvc", "wkssvc", "lsarpc"]
    /// samba-dcerpcd's ncacn_ip_tcp endpoints (besides 135): smb.conf's `rpc server dynamic port range`, and
    /// the ports policies/samba/dcerpcd.toml lets it bind.
    public static let rpcDynamicPorts: ClosedRange<Int> = 49152...49159

    /// smbd reaches samba-dcerpcd through unix sockets in `ncalrpc dir`/np, and both daemons insist that np is
    /// theirs: each checks at start that it is owned by its own euid, mode 0700 (directory_create_or_exist_strict,
    /// measured on 4.17: smbd refuses to start otherwise). Root of smbd's user namespace (host 200000) and of
    /// samba-dcerpcd's (400000) are different host ids, and no group or mode can satisfy both owner checks. So
    /// each has its own np: samba-dcerpcd's is `ncalrpc/np` at the top of the tree (its jail binds `ncalrpc`
    /// writable at /data/run/ncalrpc, and the supervisor hands it to that jail's root), smbd's is
    /// `data/run/ncalrpc/np` (smbd's, in its data tree). smbd's jail binds each forwarded pipe's socket file
    /// read-only from the first onto an empty file of the same name in the second: connect(2) on a socket
    /// checks only write permission on the socket (samba-dcerpcd makes them 0777) and search permission along
    /// the path walked, which is smbd's own. smbd gets no other access to samba-dcerpcd's directory.
    /// Placeholders are created in both, so smbd's binds have sources before samba-dcerpcd ever ran (its pipes
    /// then fail as they did without it); samba-dcerpcd replaces its placeholders with sockets (it unlinks
    /// before binding). A socket made after smbd's jail started is a new inode: when samba-dcerpcd restarts,
    /// smbd must be restarted too for listings to work again. Without a jail serving `ncalrpc` (no
    /// samba-dcerpcd configured) its np stays host root's and is left 0755, so smbd's jail can still bind the
    /// placeholders (and its pipes fail, as before samba-dcerpcd had a jail).
    static func prepareNamedPipes(_ tree: TreeDirectory, served: Bool) throws(SambaTreeError) {
        for np in ["ncalrpc/np", "data/run/ncalrpc/np"] {
            let directory = try tree.directory(np)
            defer { directory.close() }
            guard fchmod(directory.fd, np == "ncalrpc/np" && !served ? 0o755 : 0o700) == 0 else { throw SambaTreeError(directory.path, "fchmod: \(String(cString: strerror(errno)))") }
            for pipe in forwardedPipes {
                var st = stat()
                // A socket already there is samba-dcerpcd's (from a run before this start): left alone.
                if fstatat(directory.fd, pipe, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK { continue }
                try directory.write(pipe, mode: 0o600) { _ throws(SambaTreeError) in }
            }
        }
    }

    /// Named-pipe sockets samba-dcerpcd left in ROOT/ncalrpc/np at its last run: removed before it starts again,
    /// so that a socket found there later is this run's. samba-dcerpcd accepts on port 135 before it has made
    /// its pipes anew; smbd started (or restarted with it) in between bound the old sockets, or none.
    static func removeStalePipes(root: String) {
        pipeSockets(root: root) { np, pipes in for pipe in pipes { _ = unlinkat(np.fd, pipe, 0) } }
    }

    /// Whether every pipe smbd forwards is a socket in ROOT/ncalrpc/np: samba-dcerpcd has made them (after
    /// `removeStalePipes`, this run).
    static func pipesServed(root: String) -> Bool {
        pipeSockets(root: root) { _, pipes in pipes.count == forwardedPipes.count } ?? false
    }

    /// Hands `body` the np directory and the forwarded pipes that are sockets in it (nil without the directory).
    /// create: false: creating would also set each directory 0755, and samba-dcerpcd refuses an np that is not 0700.
    private static func pipeSockets<T>(root: String, _ body: (TreeDirectory, [String]) -> T) -> T? {
        guard let tree = try? openRoot(root), let np = try? tree.directory("ncalrpc/np", create: false) else { return nil }
        defer { np.close(); tree.close() }
        let sockets = forwardedPipes.filter { pipe in
            var st = stat()
            return fstatat(np.fd, pipe, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
        }
        return body(np, sockets)
    }

    /// The root is the one path opened by name (its parents are the administrator's, outside every jail):
    /// created 0755 if missing, and refused if it is a symlink.
    static func openRoot(_ root: String) throws(SambaTreeError) -> TreeDirectory {
        var current = ""
        for part in root.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SambaTreeError(current, String(cString: strerror(errno))) }
        }
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SambaTreeError(root, TreeDirectory.whyNotOpened(errno, AT_FDCWD, root)) }
        let tree = TreeDirectory(fd: fd, path: root)
        guard fchmod(fd, 0o755) == 0 else { tree.close(); throw SambaTreeError(root, "fchmod: \(String(cString: strerror(errno)))") }
        return tree
    }

    /// Regular files and directories of the template, copied world-readable (the decoys are meant to be read)
    /// over what the destination holds. Template entries are opened without following symlinks; anything
    /// else (symlinks, devices, FIFOs, sockets) is skipped with a warning.
    static func copyTemplate(_ source: TreeDirectory, into destination: TreeDirectory, depth: Int, warnings: inout [String]) throws(SambaTreeError) {
        let fd = source.fd
        for name in try source.entries() {
            let path = source.path + "/" + name
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SambaTreeError(path, String(cString: strerror(errno))) }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard depth < TreeDirectory.maxDepth else { warnings.append("decoy template \(path): deeper than \(TreeDirectory.maxDepth) levels, skipped"); continue }
                let subfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard subfd >= 0 else { throw SambaTreeError(path, TreeDirectory.whyNotOpened(errno, fd, name)) }
                let subsource = TreeDirectory(fd: subfd, path: path)
                defer { subsource.close() }
                let sub = try destination.directory(name)
                defer { sub.close() }
                try copyTemplate(subsource, into: sub, depth: depth + 1, warnings: &warnings)
                // After its entries: each one renamed into it set the directory's mtime to now.
                try keepTimes(of: st, on: sub.fd, path: sub.path)
            case S_IFREG:
                // O_NOFOLLOW and O_NONBLOCK: if the entry changed since fstatat, this neither follows a link nor
                // waits on a FIFO; the type is checked again on the opened fd.
                let input = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                guard input >= 0 else { throw SambaTreeError(path, String(cString: strerror(errno))) }
                defer { close(input) }
                var opened = stat()
                guard fstat(input, &opened) == 0, (opened.st_mode & S_IFMT) == S_IFREG else {
                    warnings.append("decoy template \(path): changed while copied, skipped")
                    continue
                }
                try destination.write(name, mode: 0o644) { output throws(SambaTreeError) in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let n = read(input, &buffer, buffer.count)
                        if n < 0 && errno == EINTR { continue }
                        guard n >= 0 else { throw SambaTreeError(path, String(cString: strerror(errno))) }
                        if n == 0 { break }
                        try TreeDirectory.writeAll(output, buffer, count: n, path: destination.path + "/" + name)
                    }
                    try keepTimes(of: opened, on: output, path: destination.path + "/" + name)
                }
            default:
                warnings.append("decoy template \(path): not a regular file or directory, skipped")
            }
        }
    }

    /// The template's access and modification times on the copy: a decoy listed with `ls` in smbclient or Explorer
    /// shows the dates its template carries (a report from last quarter), not the moment the canary booted, which
    /// would give away that every file was made at once. Set last on each copy (fchmod and rename leave them be).
    static func keepTimes(of template: stat, on fd: Int32, path: String) throws(SambaTreeError) {
        var times = [template.st_atim, template.st_mtim]
        guard futimens(fd, &times) == 0 else { throw SambaTreeError(path, "futimens: \(String(cString: strerror(errno)))") }
    }

    /// Jails in a user namespace (root inside mapped to an unprivileged host range) cannot write what host root
    /// owns. So each jail's writable binds inside the tree go to the jail's host identity: the range start
    /// plus its uid/gid when it has a user namespace, else its uid/gid. The walk never follows a symlink
    /// (links themselves are re-owned through an O_PATH fd) and leaves alone a regular file with more than
    /// one link, which could be a hard link to a file that is not the jail's to have.
    static func chownWritableBinds(_ tree: TreeDirectory, jails: [JailSpec], warnings: inout [String]) throws(SambaTreeError) {
        // The jails write these trees: a jail that made a million files must not make every start and reload (on
        // the supervisor's loop) walk them all. Entries already the jail's are not touched, and the walk stops
        // after this many: what the jail made is its own already, so what goes unvisited is at worst an entry Pit
        // made anew below the jail's clutter, which the jail then cannot write (its own doing).
        for spec in jails {
            // Each jail its own budget: one jail's clutter does not stop the walk for the jails after it.
            var budget = TreeDirectory.maxEntriesWalked
            let uid = (spec.namespaces.userRangeStart ?? 0) + spec.credentials.uid
            let gid = (spec.namespaces.userRangeStart ?? 0) + spec.credentials.gid
            for case .bind(let source, _, true) in spec.root.mounts {
                guard source == tree.path || source.hasPrefix(tree.path + "/") else { continue }
                let relative = String(source.dropFirst(tree.path.count).drop { $0 == "/" })
                let top: TreeDirectory
                if relative.isEmpty { top = try tree.directory("", create: false) } else {
                    // A writable bind of a single file is re-owned as it is; a directory is walked.
                    let fd = pit_open_handle(tree.fd, relative, TreeDirectory.resolve)
                    guard fd >= 0 else { throw SambaTreeError(source, TreeDirectory.whyNotOpened(errno)) }
                    var st = stat()
                    fstat(fd, &st)
                    close(fd)
                    guard (st.st_mode & S_IFMT) == S_IFDIR else {
                        try tree.chownEntry(relative, uid: uid, gid: gid, warnings: &warnings)
                        continue
                    }
                    top = try tree.directory(relative, create: false)
                }
                defer { top.close() }
                try top.chownTree(uid: uid, gid: gid, depth: 0, budget: &budget, warnings: &warnings)
            }
        }
    }
}

/// A directory of the tree held open, with its host path for messages.
struct TreeDirectory {
    let fd: Int32
    let path: String
    static let resolve = UInt64(PIT_RESOLVE_BENEATH | PIT_RESOLVE_NO_SYMLINKS | PIT_RESOLVE_NO_MAGICLINKS)
    static let maxDepth = 32

    func close() { _ = Glibc.close(fd) }

    /// Opens `relative` (components separated by '/') below this directory, creating missing components
    /// 0755 when `create`; each component is opened with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS and set to
    /// 0755 through its fd (the guest user Samba checks as must traverse to the shares).
    func directory(_ relative: String, create: Bool = true) throws(SambaTreeError) -> TreeDirectory {
        var current = TreeDirectory(fd: dup(fd), path: path)
        guard current.fd >= 0 else { throw SambaTreeError(path, "dup: \(String(cString: strerror(errno)))") }
        for component in relative.split(separator: "/") {
            let name = String(component)
            let next = current.path + "/" + name
            if create && mkdirat(current.fd, name, 0o755) != 0 && errno != EEXIST {
                let message = String(cString: strerror(errno))
                current.close()
                throw SambaTreeError(next, message)
            }
            let opened = pit_openat2(current.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, Self.resolve)
            if opened < 0 {
                let why = Self.whyNotOpened(errno, current.fd, name)
                current.close()
                throw SambaTreeError(next, why)
            }
            current.close()
            current = TreeDirectory(fd: opened, path: next)
            if create && fchmod(opened, 0o755) != 0 {
                let message = String(cString: strerror(errno))
                current.close()
                throw SambaTreeError(next, "fchmod: \(message)")
            }
        }
        return current
    }

    /// Why `name` in `directory` could not be opened as a directory without following links: what is there
    /// when that says more than errno (O_NOFOLLOW | O_DIRECTORY on a symlink fails with ENOTDIR).
    static func whyNotOpened(_ error: Int32, _ directory: Int32, _ name: String) -> String {
        var st = stat()
        if (error == ENOTDIR || error == ELOOP) && fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFLNK: return "is a symlink where a directory belongs: not followed"
            case S_IFDIR: break
            default: return "is not a directory"
            }
        }
        return whyNotOpened(error)
    }

    static func whyNotOpened(_ error: Int32) -> String {
        switch error {
        case ELOOP: return "is a symlink where a directory belongs: not followed"
        case ENOTDIR: return "is not a directory"
        case EXDEV: return "leads outside the tree: not followed"
        default: return String(cString: strerror(error))
        }
    }

    /// Replaces `name` with `text` (mode 0644).
    func write(_ name: String, _ text: String) throws(SambaTreeError) {
        try write(name, mode: 0o644) { fd throws(SambaTreeError) in
            let bytes = Array(text.utf8)
            try Self.writeAll(fd, bytes, count: bytes.count, path: path + "/" + name)
        }
    }

    /// Fills a fresh temporary file through `fill`, then renames it over `name`: the temporary is created
    /// with O_EXCL | O_NOFOLLOW (a name planted beforehand is removed, never opened), and rename(2) replaces
    /// whatever `name` is, a symlink included, without following it.
    func write(_ name: String, mode: mode_t, _ fill: (Int32) throws(SambaTreeError) -> Void) throws(SambaTreeError) {
        let temporary = ".\(name).pit-new"
        let target = path + "/" + name
        if unlinkat(fd, temporary, 0) != 0 && errno != ENOENT { throw SambaTreeError(path + "/" + temporary, String(cString: strerror(errno))) }
        let output = openat(fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard output >= 0 else { throw SambaTreeError(path + "/" + temporary, String(cString: strerror(errno))) }
        do throws(SambaTreeError) {
            try fill(output)
            guard fchmod(output, mode) == 0 else { throw SambaTreeError(target, "fchmod: \(String(cString: strerror(errno)))") }
        } catch {
            Glibc.close(output)
            unlinkat(fd, temporary, 0)
            throw error
        }
        Glibc.close(output)
        guard renameat(fd, temporary, fd, name) == 0 else {
            let message = String(cString: strerror(errno))
            unlinkat(fd, temporary, 0)
            throw SambaTreeError(target, message)
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], count: Int, path: String) throws(SambaTreeError) {
        var done = 0
        while done < count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SambaTreeError(path, String(cString: strerror(errno))) }
            done += n
        }
    }

    /// The names in this directory, "." and ".." left out.
    /// The names in this directory, at most `limit` of them: a directory of a million names is not read whole.
    func entries(limit: Int = .max) throws(SambaTreeError) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            let message = String(cString: strerror(errno))
            throw SambaTreeError(path, message)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while names.count < limit, let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// How many entries one preparation re-owns at most (see SambaTree.chownWritableBinds).
    static let maxEntriesWalked = 20_000

    /// Re-owns this directory and everything below it, never following a symlink, within `budget` entries.
    func chownTree(uid: UInt32, gid: UInt32, depth: Int, budget: inout Int, warnings: inout [String]) throws(SambaTreeError) {
        var own = stat()
        guard fstat(fd, &own) == 0 else { throw SambaTreeError(path, String(cString: strerror(errno))) }
        if own.st_uid != uid || own.st_gid != gid {
            guard fchown(fd, uid, gid) == 0 else { throw SambaTreeError(path, "fchown: \(String(cString: strerror(errno)))") }
        }
        // One name more than the budget: enough to tell that there are more.
        for name in try entries(limit: budget + 1) {
            guard budget > 0 else {
                warnings.append("\(path): more than \(Self.maxEntriesWalked) entries in the jails' trees: the rest not looked at")
                return
            }
            budget -= 1
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }   // gone meanwhile
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard depth < Self.maxDepth else { warnings.append("\(path)/\(name): deeper than \(Self.maxDepth) levels, not re-owned"); continue }
                let sub = try directory(name, create: false)
                defer { sub.close() }
                try sub.chownTree(uid: uid, gid: gid, depth: depth + 1, budget: &budget, warnings: &warnings)
            } else if st.st_uid != uid || st.st_gid != gid {
                try chownEntry(name, uid: uid, gid: gid, warnings: &warnings)
            }
        }
    }

    /// Re-owns one non-directory entry through an O_PATH fd: the checks and the change apply to the same
    /// inode, and a symlink is changed itself, not its target.
    func chownEntry(_ relative: String, uid: UInt32, gid: UInt32, warnings: inout [String]) throws(SambaTreeError) {
        let entryPath = path + "/" + relative
        let fd = pit_open_handle(self.fd, relative, Self.resolve)
        guard fd >= 0 else { throw SambaTreeError(entryPath, Self.whyNotOpened(errno)) }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SambaTreeError(entryPath, String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_nlink > 1 {
            warnings.append("\(entryPath): has \(st.st_nlink) links (a hard link may name a file outside the jail's): not re-owned")
            return
        }
        guard pit_fchown_handle(fd, uid, gid) == 0 else {
            throw SambaTreeError(entryPath, "fchownat: \(String(cString: strerror(errno)))")
        }
    }
}

/// A step of preparing the Samba tree failed: the path it was at and why.
public struct SambaTreeError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "samba tree \(path): \(problem)" }
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
