import PitTOML

/// Jail spec files: the same settings as `pit run`'s options, in TOML, as the supervisor uses them.
///
/// ```toml
/// name = "smbd"
/// command = ["/usr/sbin/smbd", "-F"]
/// user = "nobody"
/// binds = ["/usr", "/etc/samba"]          # SRC[:DST], read-only
/// binds_rw = ["/var/lib/pit/smbd:/var/lib/samba"]
/// tmpfs = ["/tmp:16M"]
/// keep_caps = ["CAP_SETUID", "CAP_SETGID"]
/// memory_max = "128M"
/// pids_max = 64
/// policy = "smbd.policy"                  # relative to this file
/// [rlimits]
/// nofile = "1024:4096"
/// ```
/// Relative paths (policy, bind sources, chroot) are taken relative to the spec file's directory.
public enum JailSpecFile {
    static let keys: Set<String> = [
        "name", "command", "chroot", "user", "group", "groups", "binds", "binds_rw", "tmpfs", "cwd", "env",
        "keep_caps", "rlimits", "memory_max", "pids_max", "cpu_max", "time_limit", "userns", "userns_range_start", "userns_peer_ids", "low_ports",
        "netns", "utsns", "hostname", "policy", "seccomp_string", "default_binds", "landlock",
    ]
    static let landlockKeys: Set<String> = ["read", "write", "exec", "bind_tcp", "connect_tcp"]

    public static func load(_ path: String) throws(ConfigError) -> JailOptions {
        do {
            let table = try TOML.parse(contentsOf: path)
            return try decode(TOMLFields(table, file: path), directory: directory(of: path))
        } catch {
            throw ConfigError("", error.description)
        }
    }

    /// The same as `load` for text already read; `file` names it in messages and anchors relative paths.
    /// Touches nothing on the host (resolution, which checks users and bind sources, is `JailOptions.resolve`).
    public static func parse(_ text: String, file: String) throws(ConfigError) -> JailOptions {
        do {
            let table = try TOML.parse(text, file: file)
            return try decode(TOMLFields(table, file: file), directory: directory(of: file))
        } catch {
            throw ConfigError("", error.description)
        }
    }

    static func decode(_ fields: TOMLFields, directory: String) throws(TOMLError) -> JailOptions {
        try fields.rejectUnknownKeys(keys)
        var options = JailOptions()
        func origin(_ key: String) -> String {
            let position = fields.position(of: key)
            return "\(fields.file):\(position?.line ?? 0):\(position?.column ?? 0): \(key)"
        }
        func single(_ key: String) throws(TOMLError) -> Sourced<String>? {
            try fields.string(key).map { Sourced($0, origin: origin(key)) }
        }
        func number(_ key: String) throws(TOMLError) -> Sourced<String>? {
            if let value = (try? fields.int(key)) ?? nil { return Sourced(String(value), origin: origin(key)) }
            return try single(key)
        }
        func flag(_ key: String) throws(TOMLError) -> Sourced<Bool>? {
            try fields.bool(key).map { Sourced($0, origin: origin(key)) }
        }
        func at(_ position: TOMLPosition, _ path: String) -> String { "\(fields.file):\(position.line):\(position.column): \(path)" }
        func list(_ key: String, in table: TOMLFields? = nil, relativePaths: Bool = false) throws(TOMLError) -> [Sourced<String>] {
            (try (table ?? fields).stringsWithPositions(key) ?? []).map { item in
                let value = relativePaths && !item.value.hasPrefix("/") ? directory + "/" + item.value : item.value
                return Sourced(value, origin: at(item.position, item.path))
            }
        }
        func numbers(_ key: String, in table: TOMLFields? = nil) throws(TOMLError) -> [Sourced<String>] {
            (try (table ?? fields).integersWithPositions(key) ?? []).map { item in Sourced(String(item.value), origin: at(item.position, item.path)) }
        }
        options.name = try single("name")
        options.command = try fields.strings("command") ?? []
        options.chroot = try single("chroot").map { Sourced(resolve($0.value, directory), origin: $0.origin) }
        options.user = try number("user")
        options.group = try number("group")
        options.groups = try list("groups")
        options.binds = try list("binds", relativePaths: true)
        options.bindsWritable = try list("binds_rw", relativePaths: true)
        options.tmpfs = try list("tmpfs")
        options.cwd = try single("cwd")
        options.env = try list("env")
        options.keepCaps = try list("keep_caps")
        options.memoryMax = try number("memory_max")
        options.pidsMax = try number("pids_max")
        options.cpuMax = try number("cpu_max")
        options.timeLimit = try number("time_limit")
        options.userns = try flag("userns")
        options.usernsRangeStart = try number("userns_range_start")
        options.lowPorts = try numbers("low_ports")
        options.usernsPeerIDs = try numbers("userns_peer_ids")
        options.netns = try flag("netns")
        options.utsns = try flag("utsns")
        options.hostname = try single("hostname")
        options.policyFile = try single("policy").map { Sourced(resolve($0.value, directory), origin: $0.origin) }
        options.seccompString = try single("seccomp_string")
        options.defaultBinds = try flag("default_binds")
        if let landlock = try fields.table("landlock") {
            try landlock.rejectUnknownKeys(landlockKeys)
            options.landlockRead = try list("read", in: landlock)
            options.landlockWrite = try list("write", in: landlock)
            options.landlockExec = try list("exec", in: landlock)
            options.landlockBindTCP = try numbers("bind_tcp", in: landlock)
            options.landlockConnectTCP = try numbers("connect_tcp", in: landlock)
            options.landlock = Sourced(true, origin: origin("landlock"))
        }
        if let rlimits = try fields.table("rlimits") {
            for key in rlimits.table.keys {
                let position = rlimits.position(of: key)
                let value: String
                if let integer = (try? rlimits.int(key)) ?? nil { value = String(integer) } else {
                    guard let text = (try? rlimits.string(key)) ?? nil else {
                        throw rlimits.error(key, "expected a number or \"SOFT:HARD\"")
                    }
                    value = text
                }
                options.rlimits.append(Sourced("\(key)=\(value)", origin: "\(fields.file):\(position?.line ?? 0):\(position?.column ?? 0): rlimits.\(key)"))
            }
        }
        return options
    }

    private static func resolve(_ path: String, _ directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }

    private static func directory(of path: String) -> String {
        let absolute = JailOptions.absolute(path)
        let parts = absolute.split(separator: "/").dropLast()
        return "/" + parts.joined(separator: "/")
    }
}
