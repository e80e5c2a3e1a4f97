import Glibc
import PitJail

/// What no jail may see of the supervisor's own files, checked when the config is loaded:
/// - the control socket: connect(2) needs no writable mount, so even a read-only bind of the socket's
///   directory (or of any directory above it, `/run` for `/run/pit/control.sock`) would let root inside the
///   jail ask for `stop JAIL`. ControlPeer refuses such peers as well; this keeps the path out of reach.
/// - the data directory (boot counter, event spool, uplink keys): not the directory, nothing inside it, and
///   no directory above it, read-only or writable. The supervisor's own audit sockets, which it binds into
///   jails itself (smb_audit), are added after this check.
/// A jail rooted in a host directory (`chroot`) is a bind of that directory as `/` and is held to the same.
/// Binds are not recursive, so a mount below the bound directory would in fact stay out; the check does not
/// rely on the mount layout of the day and refuses any bind whose path covers the protected one.
enum JailExposure {
    struct Protected {
        var path: String
        /// Also refused: binds of something inside `path` (the data directory; the socket has no inside).
        var coversInside: Bool
        var what: String
    }

    static func protected(controlSocket: String, dataDirectory: String) -> [Protected] {
        [Protected(path: canonical(controlSocket), coversInside: false, what: "the control socket \(controlSocket)"),
         Protected(path: canonical(dataDirectory), coversInside: true, what: "the data directory \(dataDirectory) (boot counter, event spool, keys)")]
    }

    /// The first bind of the jail that exposes a protected path, as an error naming the spec's bind.
    static func check(_ options: JailOptions, spec: JailSpec, protected: [Protected]) -> ConfigError? {
        // spec.root.mounts is the default binds, then binds, binds_rw and tmpfs in their order (JailOptions.resolve).
        let declared = options.binds.map(\.origin) + options.bindsWritable.map(\.origin) + options.tmpfs.map(\.origin)
        let defaults = spec.root.mounts.count - declared.count
        var sources: [(source: String, writable: Bool, origin: String)] = []
        if let chroot = spec.root.chroot { sources.append((chroot, false, options.chroot?.origin ?? "chroot")) }
        for (index, mount) in spec.root.mounts.enumerated() {
            guard case .bind(let source, _, let writable) = mount else { continue }
            sources.append((source, writable, index < defaults ? "default binds" : declared[index - defaults]))
        }
        for (source, writable, origin) in sources {
            let bound = canonical(source)
            for item in protected where covers(bound, item.path) || (item.coversInside && covers(item.path, bound)) {
                let how = writable ? "writable" : "read-only"
                let hint = item.coversInside ? "bind a path that neither holds it nor lies inside it" : "bind a directory that does not hold it"
                return ConfigError(origin, "\(source) (\(how)) would show \(item.what) inside the jail: \(hint)")
            }
        }
        return nil
    }

    /// True when `outer` is `inner` or a directory above it (both canonical).
    static func covers(_ outer: String, _ inner: String) -> Bool {
        outer == inner || outer == "/" || inner.hasPrefix(outer + "/")
    }

    /// `path` with symlinks resolved as far as it exists (a bind follows the source's symlinks; the socket's
    /// directory may not exist before the first start), the rest appended as written.
    static func canonical(_ path: String) -> String {
        var existing = JailOptions.absolute(path)
        var rest: [Substring] = []
        while true {
            if let resolved = realpath(existing, nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                return rest.isEmpty ? base : (base == "/" ? "" : base) + "/" + rest.reversed().joined(separator: "/")
            }
            guard existing != "/", let slash = existing.lastIndex(of: "/") else { return existing }
            rest.append(existing[existing.index(after: slash)...])
            existing = slash == existing.startIndex ? "/" : String(existing[..<slash])
        }
    }
}
