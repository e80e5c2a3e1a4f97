import Glibc
import PitPolicy
import PitHash

/// Compiled jail policies kept between launches, keyed by the SHA-256 of the policy text, the architecture,
/// this cache's format and the compiler's identity (`compilerIdentity`: this very executable and libseccomp's
/// version, so an upgraded Pit never loads a filter an older compiler built): compiling a ~90-syscall policy with libseccomp costs more than the rest of a launch.
/// A policy file's entry is also kept under the file's identity (`fileKey`), so a launch that finds it does
/// not read or hash the file at all (~120 us of a `pit run` with the 90-syscall policy).
///
/// Only root uses it, in a directory only root may write (checked on every use: a forged program there would
/// be a forged sandbox), and only for policies without `#include` (an included file could change under the
/// same key) whose denials are reported (the summaries a KILL-rule policy needs at start are not kept).
enum PolicyCache {
    /// Where the cache lives: /run/pit/policy-cache, or `PIT_POLICY_CACHE` (tests give each run a private one, so
    /// no test reads an entry another run or the machine's own jails left). `parent` is the directory Pit
    /// creates above it; both must be root's and writable by nobody else, checked on every use.
    static let directory: String = getenv("PIT_POLICY_CACHE").map { String(cString: $0) }.flatMap { $0.hasPrefix("/") ? $0 : nil }
        ?? "/run/pit/policy-cache"
    static var parent: String { String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)]) }
    static let format = "PITBPF4"

    /// Who compiled an entry: the executable (device, inode, size, modification time: a rebuilt or upgraded `pit`
    /// is another file) and the libseccomp it links. A filter is a function of its text *and* of the compiler:
    /// after an upgrade without a reboot (/run survives it), or in a test run of a changed compiler, an entry
    /// keyed by the text alone would hand the jail a filter the old compiler built.
    static let compilerIdentity: String = {
        var st = stat()
        let executable = stat("/proc/self/exe", &st) == 0
            ? "\(st.st_dev)-\(st.st_ino)-\(st.st_size)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "unknown"
        return "exe-\(executable)-\(PolicyCompiler.libseccompVersion)"
    }()

    static func key(_ source: PolicySource, arch: SeccompArch) -> String? {
        guard geteuid() == 0, !source.text.contains("#include") else { return nil }
        // NUL-separated: no part can contain a NUL, so no two different sets of parts give the same bytes.
        let parts = [format, compilerIdentity, arch.name, source.file, source.text]
        return SHA256.hex(Array(parts.joined(separator: "\0").utf8))
    }

    /// The name of a policy file's entry by the file's identity rather than its text: device, inode, size and
    /// the modification and change times (any write to the file moves its ctime, which no one can set back),
    /// and the architecture. A launch that finds this entry neither reads nor hashes the policy. Nil where `key`
    /// would be nil: not root, or not a regular file.
    static func fileKey(path: String, arch: SeccompArch) -> String? {
        var st = stat()
        guard geteuid() == 0, stat(path, &st) == 0, st.st_mode & 0o170000 == 0o100000 else { return nil }   // S_IFREG
        // The compiler's identity, hashed to keep the name short: its text would double the file name.
        let compiler = SHA256.hex(Array(compilerIdentity.utf8)).prefix(16)
        return "f\(st.st_dev)-\(st.st_ino)-\(st.st_size)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
            + "-\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)-\(arch.name)-\(compiler)"
    }

    static func load(_ key: String, source: PolicySource, arch: SeccompArch) -> JailPolicy? {
        load(key, file: source.file, arch: arch)
    }

    static func load(_ key: String, file source: String, arch: SeccompArch) -> JailPolicy? {
        guard trustedDirectory(create: false) else { return nil }
        let fd = open("\(directory)/\(key)", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == 0, st.st_mode & 0o022 == 0, st.st_size < 65536 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        guard read(fd, &bytes, bytes.count) == bytes.count else { return nil }
        guard let split = (0..<max(0, bytes.count - 1)).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 }) else { return nil }
        var header: [String: String] = [:]
        for line in String(decoding: bytes[..<split], as: UTF8.self).split(separator: "\n").dropFirst() {
            guard let equals = line.firstIndex(of: "=") else { continue }
            header[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        let arches = header["arches"]?.split(separator: ",").map { SeccompArch(name: String($0)) } ?? []
        let program = Array(bytes[(split + 2)...])
        guard bytes.starts(with: format.utf8), header["arch"] == arch.name, header["file"] == source,
              program.count % 8 == 0, program.count / 8 <= PolicyCompiler.maxInstructions, !program.isEmpty,
              let hash = header["hash"], let defaultAction = header["default"].flatMap(action),
              let outcome = header["outcome"].flatMap(action) else { return nil }
        // Every architecture the filter accepts: a notification from any other is killed (see JailPolicy).
        let accepted = arches.compactMap { $0 }
        guard accepted.count == arches.count, accepted.first == arch else { return nil }
        let refused = header["refused"].map { Set($0.split(separator: ",").compactMap { Int($0) }) } ?? []
        let compiled = CompiledPolicy(file: source, hash: hash, arch: arch, arches: accepted, program: program,
                                      needsListener: true, defaultAction: defaultAction, refusedInEveryJail: refused)
        return JailPolicy(compiled: compiled, outcome: outcome)
    }

    /// Stores the entry under the text's key (nil: already there) and, for a policy read from a file, under the
    /// file's identity too (see `fileKey`).
    static func store(_ key: String?, fileKey: String?, _ policy: JailPolicy) {
        if let key { store(key, policy) }
        if let fileKey { store(fileKey, policy) }
    }

    static func store(_ key: String, _ policy: JailPolicy) {
        // A filter that stops every execve is refused at start (JailOptions); a cached one carries no summaries to
        // tell, so it is never stored.
        guard policy.compiled.needsListener, !policy.compiled.stopsEveryExecve, trustedDirectory(create: true) else { return }
        let header = [format, "file=\(policy.compiled.file)", "hash=\(policy.compiled.hash)", "arch=\(policy.compiled.arch.name)",
                      "arches=\(policy.compiled.arches.map(\.name).joined(separator: ","))",
                      "default=\(name(policy.compiled.defaultAction))", "outcome=\(name(policy.outcome))",
                      "refused=\(policy.compiled.refusedInEveryJail.sorted().map(String.init).joined(separator: ","))"].joined(separator: "\n") + "\n\n"
        let bytes = Array(header.utf8) + policy.compiled.program
        let temporary = "\(directory)/.\(key).\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let written = write(fd, bytes, bytes.count)
        close(fd)
        if written == bytes.count { rename(temporary, "\(directory)/\(key)") } else { unlink(temporary) }
    }

    /// Root-owned and writable by nobody else, along the whole path that Pit creates.
    private static func trustedDirectory(create: Bool) -> Bool {
        for path in [parent, directory] where !path.isEmpty {
            var st = stat()
            if lstat(path, &st) != 0 {
                guard create, mkdir(path, 0o700) == 0 || errno == EEXIST, lstat(path, &st) == 0 else { return false }
            }
            guard st.st_mode & 0o170000 == 0o040000, st.st_uid == 0, st.st_mode & 0o022 == 0 else { return false }   // S_IFDIR
        }
        return true
    }

    private static func name(_ action: PolicyAction) -> String {
        switch action {
        case .allow: return "allow"
        case .killProcess: return "kill_process"
        case .killThread: return "kill_thread"
        case .errno(let code): return "errno:\(code)"
        case .log: return "log"
        case .trap(let n): return "trap:\(n)"
        case .trace(let n): return "trace:\(n)"
        case .report: return "report"
        }
    }

    private static func action(_ text: String) -> PolicyAction? {
        switch text {
        case "allow": return .allow
        case "kill_process": return .killProcess
        case "kill_thread": return .killThread
        case "log": return .log
        case "report": return .report
        default:
            if text.hasPrefix("trap:"), let n = UInt16(text.dropFirst(5)) { return .trap(n) }
            if text.hasPrefix("trace:"), let n = UInt16(text.dropFirst(6)) { return .trace(n) }
            guard text.hasPrefix("errno:"), let code = Int32(text.dropFirst(6)) else { return nil }
            return .errno(code)
        }
    }
}
