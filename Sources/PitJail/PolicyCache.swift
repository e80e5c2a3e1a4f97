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
    static let format = "PITBPF3"

    /// Who compiled an entry: the executable (device, inode, size, modification time: a rebuilt or upgraded `pit`
    /// is another file) and the libseccomp it links. A filter is a function of its text *and* of the compiler:
    /// after an upgrade without a reboot (/run survives it), or in a test run of a changed compiler, an entry
    /// keyed by the text alone would hand the jail a filter the old compiler built.
    static let compilerIdentity: [UInt8] = {
        var identity: [UInt8] = Array("exe-".utf8)
        var st = stat()
        if stat("/proc/self/exe", &st) == 0 {
            Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_dev), to: &identity, then: UInt8(ascii: "-"))
            Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_ino), to: &identity, then: UInt8(ascii: "-"))
            Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_size), to: &identity, then: UInt8(ascii: "-"))
            Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_mtim.tv_sec), to: &identity, then: UInt8(ascii: "."))
            Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_mtim.tv_nsec), to: &identity, then: UInt8(ascii: "-"))
        } else {
            identity.append(contentsOf: "unknown-".utf8)
        }
        identity.append(contentsOf: PolicyCompiler.libseccompVersion.utf8)
        return identity
    }()

    static func key(_ source: PolicySource, arch: SeccompArch) -> String? {
        let text = Array(source.text.utf8)
        guard geteuid() == 0, !Bytes.contains(text, Array("#include".utf8)) else { return nil }
        var keyed = Array(format.utf8)
        keyed.append(0)
        keyed.append(contentsOf: compilerIdentity)
        for part in [arch.name, source.file] { keyed.append(0); keyed.append(contentsOf: part.utf8) }
        keyed.append(0)
        keyed.append(contentsOf: text)
        return SHA256.hex(keyed)
    }

    /// The name of a policy file's entry by the file's identity rather than its text: device, inode, size and
    /// the modification and change times (any write to the file moves its ctime, which no one can set back),
    /// and the architecture. A launch that finds this entry neither reads nor hashes the policy. Nil where `key`
    /// would be nil: not root, or not a regular file. Formatted byte-wise, like the path built from it in
    /// `load`: on this launch path the standard library's integer formatting, string growth and C-string
    /// conversion code would each be first touched here (page faults: ~40% of this step's time).
    static func fileKey(path: String, arch: SeccompArch) -> [UInt8]? {
        var st = stat()
        guard geteuid() == 0, stat(path, &st) == 0, st.st_mode & 0o170000 == 0o100000 else { return nil }   // S_IFREG
        var key: [UInt8] = [UInt8(ascii: "f")]
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_dev), to: &key, then: UInt8(ascii: "-"))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_ino), to: &key, then: UInt8(ascii: "-"))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_size), to: &key, then: UInt8(ascii: "-"))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_mtim.tv_sec), to: &key, then: UInt8(ascii: "."))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_mtim.tv_nsec), to: &key, then: UInt8(ascii: "-"))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_ctim.tv_sec), to: &key, then: UInt8(ascii: "."))
        Bytes.appendDecimal(UInt64(truncatingIfNeeded: st.st_ctim.tv_nsec), to: &key, then: UInt8(ascii: "-"))
        key.append(contentsOf: arch.name.utf8)
        // The compiler's identity, hashed to keep the name short: its text would double the file name.
        key.append(UInt8(ascii: "-"))
        key.append(contentsOf: SHA256.hex(compilerIdentity).prefix(16).utf8)
        return key
    }

    static func load(_ key: String, source: PolicySource, arch: SeccompArch) -> JailPolicy? {
        load(Array(key.utf8), file: source.file, arch: arch)
    }

    static func load(_ key: [UInt8], file source: String, arch: SeccompArch) -> JailPolicy? {
        guard trustedDirectory(create: false) else { return nil }
        var path = Array(directory.utf8)
        path.append(UInt8(ascii: "/"))
        path.append(contentsOf: key)
        path.append(0)
        let fd = path.withUnsafeBufferPointer {
            open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_uid == 0, st.st_mode & 0o022 == 0, st.st_size < 65536 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        guard read(fd, &bytes, bytes.count) == bytes.count else { return nil }
        guard let split = (0..<max(0, bytes.count - 1)).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 }) else { return nil }
        // The header's few "name=value" lines, read without a dictionary: on this launch path every generic type
        // first used costs a run-time metadata lookup (a scan of all conformance records for [String: String]).
        // Values are compared as bytes where they can be: the first heap string freed in a process looks its
        // breadcrumbs' type up by mangled name.
        var archMatches = false, fileMatches = false
        var hash: String?, defaultName: String?, outcomeName: String?
        var arches: [SeccompArch] = [], archesValid = true
        var lineStart = 0
        while lineStart < split {
            var lineEnd = lineStart
            while lineEnd < split && bytes[lineEnd] != 10 { lineEnd += 1 }
            if lineStart > 0, let equals = bytes[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: "=")) {
                let value = bytes[(equals + 1)..<lineEnd]
                switch String(decoding: bytes[lineStart..<equals], as: UTF8.self) {
                case "arch": archMatches = value.elementsEqual(arch.name.utf8)
                case "arches":
                    // Comma-separated, split byte-wise (see above).
                    var start = equals + 1
                    while start < lineEnd {
                        var end = start
                        while end < lineEnd && bytes[end] != UInt8(ascii: ",") { end += 1 }
                        if let accepted = SeccompArch(name: String(decoding: bytes[start..<end], as: UTF8.self)) {
                            arches.append(accepted)
                        } else {
                            archesValid = false
                        }
                        start = end + 1
                    }
                case "file": fileMatches = value.elementsEqual(source.utf8)
                case "hash": hash = String(decoding: value, as: UTF8.self)
                case "default": defaultName = String(decoding: value, as: UTF8.self)
                case "outcome": outcomeName = String(decoding: value, as: UTF8.self)
                default: break
                }
            }
            lineStart = lineEnd + 1
        }
        let program = Array(bytes[(split + 2)...])
        guard bytes.starts(with: format.utf8), archMatches, fileMatches,
              program.count % 8 == 0, program.count / 8 <= PolicyCompiler.maxInstructions, !program.isEmpty,
              let hash, let defaultAction = defaultName.flatMap(action),
              let outcome = outcomeName.flatMap(action) else { return nil }
        // Every architecture the filter accepts: a notification from any other is killed (see JailPolicy).
        guard archesValid, arches.first == arch else { return nil }
        let compiled = CompiledPolicy(file: source, hash: hash, arch: arch, arches: arches, program: program,
                                      needsListener: true, defaultAction: defaultAction)
        return JailPolicy(compiled: compiled, outcome: outcome)
    }

    /// Stores the entry under the text's key (nil: already there) and, for a policy read from a file, under the
    /// file's identity too (see `fileKey`).
    static func store(_ key: String?, fileKey: [UInt8]?, _ policy: JailPolicy) {
        if let key { store(key, policy) }
        if let fileKey { store(String(decoding: fileKey, as: UTF8.self), policy) }
    }

    static func store(_ key: String, _ policy: JailPolicy) {
        // A filter that stops every execve is refused at start (JailOptions); a cached one carries no summaries to
        // tell, so it is never stored.
        guard policy.compiled.needsListener, !policy.compiled.stopsEveryExecve, trustedDirectory(create: true) else { return }
        let header = [format, "file=\(policy.compiled.file)", "hash=\(policy.compiled.hash)", "arch=\(policy.compiled.arch.name)",
                      "arches=\(policy.compiled.arches.map(\.name).joined(separator: ","))",
                      "default=\(name(policy.compiled.defaultAction))", "outcome=\(name(policy.outcome))"].joined(separator: "\n") + "\n\n"
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
        case .trap: return "trap"
        case .report: return "report"
        }
    }

    private static func action(_ text: String) -> PolicyAction? {
        switch text {
        case "allow": return .allow
        case "kill_process": return .killProcess
        case "kill_thread": return .killThread
        case "log": return .log
        case "trap": return .trap
        case "report": return .report
        default:
            guard text.hasPrefix("errno:"), let code = Int32(text.dropFirst(6)) else { return nil }
            return .errno(code)
        }
    }
}

/// Byte-wise searches for the launch path (see `PolicyCache.load`): `String.contains(String)` goes through
/// _StringProcessing's generic searcher, whose first use alone costs a fraction of a millisecond.
enum Bytes {
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            var index = 1
            while index < needle.count && haystack[start + index] == needle[index] { index += 1 }
            if index == needle.count { return true }
        }
        return false
    }

    /// Appends `value` in decimal, then `separator`.
    static func appendDecimal(_ value: UInt64, to bytes: inout [UInt8], then separator: UInt8) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
        bytes.append(separator)
    }
}
