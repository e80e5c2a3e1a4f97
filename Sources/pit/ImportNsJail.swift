import ArgumentParser
import Glibc
import PitJail

/// `pit jail import-nsjail FILE.cfg [-o spec.toml]`: an NsJail config (protobuf text) as a Pit jail spec, with
/// NsJail's defaults written out (a spec is never less confined than the config under NsJail); every field Pit
/// cannot carry is refused by name and line, and nothing is written then.
struct JailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jail", abstract: "Jail spec tools.", subcommands: [ImportNsJail.self])

    struct ImportNsJail: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-nsjail",
            abstract: "Convert an NsJail config (protobuf text, config.proto) into a jail spec (TOML).")

        @Argument(help: "The NsJail config file.")
        var file: String

        @Option(name: .shortAndLong, help: "Write the spec here instead of standard output.")
        var output: String?

        func run() throws {
            guard let text = readText(file) else {
                writeError("pit jail import-nsjail: \(file): cannot read it\n")
                throw ExitCode(ExitStatus.failure)
            }
            let result = NsJailImport.convert(text, file: file)
            guard result.problems.isEmpty, let spec = result.spec else {
                for problem in result.problems { writeError("pit jail import-nsjail: \(problem)\n") }
                throw ExitCode(ExitStatus.failure)
            }
            if let output {
                guard writeWhole(output, spec) else {
                    writeError("pit jail import-nsjail: \(output): cannot write it\n")
                    throw ExitCode(ExitStatus.failure)
                }
            } else {
                print(spec, terminator: "")
            }
        }

        private func readText(_ path: String) -> String? {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size < 1 << 20 else { return nil }
            var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                offset += n
            }
            return String(decoding: bytes[..<offset], as: UTF8.self)
        }

        private func writeWhole(_ path: String, _ text: String) -> Bool {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var text = text
            return text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return false }
                    offset += n
                }
                return true
            }
        }
    }
}

/// The mapping from NsJailConfig's fields to a jail spec (README, "NsJail configs").
enum NsJailImport {
    struct Result {
        var spec: String?
        var problems: [String]
    }

    static func convert(_ text: String, file: String) -> Result {
        let fields: [NsJailConfigText.Field]
        do { fields = try NsJailConfigText.parse(text) } catch {
            return Result(spec: nil, problems: ["\(file):\(error.description)"])
        }
        var converter = Converter(file: file)
        converter.run(fields)
        return Result(spec: converter.problems.isEmpty ? converter.toml() : nil, problems: converter.problems)
    }

    private struct Converter {
        let file: String
        var problems: [String] = []
        var comments: [String] = []
        var notes: [String] = []
        var keys: [(String, String)] = []
        var rlimits: [String: String] = [:]
        var rlimitTypes: [String: String] = [:]
        var env: [String] = [], caps: [String] = [], binds: [String] = [], bindsRW: [String] = [], tmpfs: [String] = []
        var seccomp: [String] = []
        var mode = "ONCE"
        var sawProc = false, mountProcField: Bool?
        var disableRlimits = false
        var namespaces: [String: Bool] = [:]
        var command: [String] = []
        var single: [String: String] = [:]

        init(file: String) { self.file = file }

        mutating func refuse(_ field: NsJailConfigText.Field, _ why: String) {
            problems.append("\(file):\(field.line):\(field.column): \(field.name): \(why)")
        }

        func scalar(_ field: NsJailConfigText.Field) -> String? {
            if case .scalar(let text, _) = field.value { return text }
            return nil
        }

        mutating func run(_ fields: [NsJailConfigText.Field]) {
            let quietDefaults: Set<String> = ["daemon", "silent", "stderr_to_null", "disable_no_new_privs", "forward_signals",
                                              "disable_tsc", "use_core_scheduling", "no_pivotroot", "persona_addr_compat_layout",
                                              "persona_mmap_page_zero", "persona_read_implies_exec", "persona_addr_limit_3gb",
                                              "persona_addr_no_randomize", "clone_newtime", "iface_no_lo", "keep_env", "keep_caps",
                                              "seccomp_unotify"]
            let listenOnly: Set<String> = ["port", "bindhost", "max_conns", "max_conns_per_ip"]
            let ownLog: Set<String> = ["log_fd", "log_file", "log_level"]
            let cgroupPlace: Set<String> = ["cgroup_mem_mount", "cgroup_mem_parent", "cgroup_pids_mount", "cgroup_pids_parent",
                                            "cgroup_net_cls_mount", "cgroup_net_cls_parent", "cgroup_cpu_mount", "cgroup_cpu_parent",
                                            "cgroupv2_mount", "use_cgroupv2", "detect_cgroupv2"]
            let macvlanDetails: Set<String> = ["macvlan_vs_ip", "macvlan_vs_nm", "macvlan_vs_gw", "macvlan_vs_ma", "macvlan_vs_mo"]
            for field in fields {
                let value = scalar(field) ?? ""
                switch field.name {
                case "name": single["name"] = value
                case "description": comments.append(value)
                case "mode":
                    mode = value
                    if value != "ONCE" { refuse(field, "\(value) mode is not in Pit: a jail spec runs once per start (pit run --jail, or under pit supervise, which restarts it)") }
                case "hostname": single["hostname"] = value
                case "cwd": single["cwd"] = value
                case _ where listenOnly.contains(field.name):
                    notes.append("\(field.name) ignored: NsJail reads it in LISTEN mode only")
                case _ where ownLog.contains(field.name):
                    notes.append("\(field.name) ignored: it sets NsJail's own log")
                case _ where cgroupPlace.contains(field.name):
                    notes.append("\(field.name) ignored: Pit finds the cgroup hierarchy itself")
                case _ where macvlanDetails.contains(field.name):
                    notes.append("\(field.name) ignored: there is no macvlan_iface")
                case "time_limit": single["time_limit"] = value
                case "max_cpus":
                    if value != "0" { refuse(field, "Pit limits CPU time, not the CPUs used: write cpu_max (percent of one CPU) into the spec instead") }
                case "skip_setsid":
                    if value == "true" { notes.append("skip_setsid ignored: Pit always calls setsid (the jail cannot reach the caller's terminal)") }
                case _ where quietDefaults.contains(field.name):
                    if value == "true" {
                        let why: [String: String] = [
                            "keep_env": "a jail spec does not copy the caller's environment: list the variables in env",
                            "keep_caps": "list the capabilities the jail keeps in keep_caps",
                            "daemon": "run the spec under pit supervise instead",
                            "seccomp_unotify": "to see what a program uses, run pit policy learn",
                        ]
                        refuse(field, why[field.name] ?? "not supported by Pit (see pit run's refusal of --\(field.name))")
                    }
                case "envar": env.append(value)
                case "cap": caps.append(value)
                case "pass_fd":
                    refuse(field, "a jail spec passes no descriptors (under pit supervise it would be one of the supervisor's): use pit run --pass_fd")
                case "oom_score_adj", "nice_level":
                    refuse(field, "a jail spec has no \(field.name): use pit run --\(field.name)")
                case "disable_rl": disableRlimits = value == "true"
                case _ where field.name.hasPrefix("rlimit_") && field.name.hasSuffix("_type"):
                    rlimitTypes[String(field.name.dropFirst(7).dropLast(5))] = value
                case _ where field.name.hasPrefix("rlimit_"):
                    rlimits[String(field.name.dropFirst(7))] = value
                case "clone_newnet", "clone_newuser", "clone_newuts":
                    namespaces[field.name] = value == "true"
                case "clone_newns", "clone_newpid", "clone_newipc", "clone_newcgroup":
                    if value != "true" { refuse(field, "Pit always makes a new mount, PID, IPC and cgroup namespace") }
                case "uidmap", "gidmap": idMap(field)
                case "mount_proc": mountProcField = value == "true"
                case "mount": mount(field)
                case "seccomp_policy_file": single["policy"] = value
                case "seccomp_string": seccomp.append(value)
                case "seccomp_log": notes.append("seccomp_log ignored: Pit reports the syscalls a policy denies itself")
                case "cgroup_mem_max", "cgroup_mem_memsw_max": if value != "0" { single["memory_max"] = value }
                case "cgroup_mem_swap_max":
                    if value != "-1" && value != "0" { refuse(field, "Pit's memory limit counts swap with memory: write memory_max instead") }
                case "cgroup_pids_max": if value != "0" { single["pids_max"] = value }
                case "cgroup_cpu_ms_per_sec":
                    if let ms = Int(value), ms % 10 == 0 { if ms > 0 { single["cpu_max"] = String(ms / 10) } } else {
                        refuse(field, "Pit's CPU limit moves in steps of 10 ms per second (1%)")
                    }
                case "cgroup_net_cls_classid":
                    if value != "0" { refuse(field, "net_cls is a cgroup v1 controller Pit does not use") }
                case "iface_own", "macvlan_iface", "traffic_rule", "user_net":
                    refuse(field, "Pit gives a jail the host's network or an empty one of its own (netns): no interfaces are moved or made")
                case "exec_bin": execBin(field)
                default:
                    refuse(field, "not a field of NsJail's config.proto that Pit knows")
                }
            }
            if mountProcField == false && !sawProc {
                problems.append("\(file): mount_proc is false and no proc mount is listed: a jail spec always has its own /proc (pit run --disable_proc has none)")
            }
        }

        mutating func idMap(_ field: NsJailConfigText.Field) {
            guard case .message(let entries) = field.value else { return refuse(field, "expected { inside_id: ... }") }
            var inside = "", outside = "", count = "1", newidmap = "false"
            for entry in entries {
                let value = scalar(entry) ?? ""
                switch entry.name {
                case "inside_id": inside = value
                case "outside_id": outside = value
                case "count": count = value
                case "use_newidmap": newidmap = value
                default: refuse(entry, "not a field of IdMap")
                }
            }
            guard outside.isEmpty, count == "1", newidmap == "false" else {
                return refuse(field, "Pit maps the user namespace's ids to unprivileged host ids itself: only inside_id (with outside_id \"\", count 1) is read")
            }
            let key = field.name == "uidmap" ? "user" : "group"
            guard single[key] == nil else { return refuse(field, "a second \(field.name): a jail runs as one user and group") }
            single[key] = inside.isEmpty ? "0" : inside
        }

        mutating func mount(_ field: NsJailConfigText.Field) {
            guard case .message(let entries) = field.value else { return refuse(field, "expected { dst: ... }") }
            var m: [String: String] = [:]
            for entry in entries {
                switch entry.name {
                case "src", "dst", "fstype", "options", "is_bind", "rw", "is_dir", "mandatory", "nosuid", "nodev", "noexec":
                    m[entry.name] = scalar(entry) ?? ""
                case "src_content", "is_symlink", "prefix_src_env", "prefix_dst_env":
                    return refuse(entry, "a jail spec has no \(entry.name == "is_symlink" ? "symlinks (pit run -s makes them)" : entry.name == "src_content" ? "files with given content: bind a file (binds)" : "environment prefixes")")
                default:
                    return refuse(entry, "not a field of MountPt")
                }
            }
            let dst = m["dst"] ?? ""
            let rw = m["rw"] == "true"
            if m["noexec"] == "true" { return refuse(field, "Pit's mounts are not noexec: leave noexec out, or forbid execve in the policy") }
            if m["is_bind"] == "true" {
                let src = m["src"] ?? ""
                if m["mandatory"] == "false" && access(src, F_OK) != 0 {
                    notes.append("mount \(src) skipped: absent here, and not mandatory")
                    return
                }
                if dst == "/" {
                    if rw { return refuse(field, "the chroot stays read-only in Pit: bind what the jail writes (binds_rw)") }
                    single["chroot"] = src
                } else if ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"].contains(dst) && src == dst {
                    notes.append("mount \(dst) skipped: every jail has it")
                } else if rw { bindsRW.append(src + ":" + dst) } else { binds.append(src + ":" + dst) }
            } else if m["fstype"] == "proc" {
                guard dst == "/proc" else { return refuse(field, "the jail's procfs is always at /proc") }
                sawProc = true
            } else if m["fstype"] == "tmpfs" {
                var size: String?
                for option in (m["options"] ?? "").split(separator: ",") {
                    if option.hasPrefix("size=") { size = String(option.dropFirst(5)) } else if !["rw", "nosuid", "nodev"].contains(String(option)) {
                        return refuse(field, "tmpfs option '\(option)' is not supported (Pit's tmpfs is nosuid,nodev, mode 1777; size= is read)")
                    }
                }
                tmpfs.append(dst + ":" + (size ?? "16M"))
            } else {
                refuse(field, "Pit mounts binds, tmpfs and proc; not '\(m["fstype"] ?? "")'")
            }
        }

        mutating func execBin(_ field: NsJailConfigText.Field) {
            guard case .message(let entries) = field.value else { return refuse(field, "expected { path: ... }") }
            var path = "", args: [String] = [], arg0: String?
            for entry in entries {
                let value = scalar(entry) ?? ""
                switch entry.name {
                case "path": path = value
                case "arg": args.append(value)
                case "arg0": arg0 = value
                case "exec_fd": if value == "true" { refuse(entry, "Pit executes the command's path inside the jail: bind the file in and name it") }
                default: refuse(entry, "not a field of Exe")
                }
            }
            if let arg0, arg0 != path { refuse(field, "arg0 differs from path: a jail spec's command is its argv (pit run -x FILE runs another file)") }
            command = [path] + args
        }

        /// NsJail's units and defaults, as a spec writes them (bytes and counts, soft = hard).
        func rlimitTable() -> [(String, String)] {
            guard !disableRlimits else { return [] }
            var rows: [(String, String)] = []
            for entry in NsJailFlags.rlimits {
                let type = rlimitTypes[entry.name] ?? (entry.defaultValue == "soft" ? "SOFT" : "VALUE")
                let value: String
                switch type {
                case "SOFT": value = "soft"
                case "HARD": value = "hard"
                case "INF": value = "inf"
                default: value = rlimits[entry.name] ?? entry.defaultValue
                }
                if case .success(let text) = NsJailFlags.rlimitEntry(entry.name, value) {
                    rows.append((entry.name, String(text.drop { $0 != "=" }.dropFirst())))
                }
            }
            return rows
        }

        func toml() -> String {
            var out = "# Imported from \(file) by pit jail import-nsjail, with NsJail's defaults written out.\n"
            for comment in comments { out += "# " + comment + "\n" }
            for note in notes { out += "# " + note + "\n" }
            func put(_ key: String, _ value: String) { out += "\(key) = \(value)\n" }
            if let name = single["name"], !name.isEmpty { put("name", quote(name)) }
            if !command.isEmpty { put("command", array(command)) }
            if let chroot = single["chroot"] { put("chroot", quote(chroot)) } else { put("default_binds", "false") }
            if let user = single["user"] { put("user", quote(user)) }
            if let group = single["group"] { put("group", quote(group)) }
            put("cwd", quote(single["cwd"] ?? "/"))
            if !binds.isEmpty { put("binds", array(binds)) }
            if !bindsRW.isEmpty { put("binds_rw", array(bindsRW)) }
            if !tmpfs.isEmpty { put("tmpfs", array(tmpfs)) }
            if !env.isEmpty { put("env", array(env)) }
            if !caps.isEmpty { put("keep_caps", array(caps)) }
            let seconds = single["time_limit"] ?? "600"
            if seconds != "0" { put("time_limit", seconds) }
            put("userns", String(namespaces["clone_newuser"] ?? true))
            put("netns", String(namespaces["clone_newnet"] ?? true))
            let uts = namespaces["clone_newuts"] ?? true
            put("utsns", String(uts))
            if uts { put("hostname", quote(single["hostname"] ?? "NSJAIL")) }
            for key in ["memory_max", "pids_max", "cpu_max"] { if let value = single[key] { put(key, quote(value)) } }
            if let policy = single["policy"] { put("policy", quote(policy)) }
            if !seccomp.isEmpty { put("seccomp_string", quote(seccomp.joined(separator: "\n"))) }
            let rows = rlimitTable()
            if !rows.isEmpty {
                out += "\n[rlimits]\n"
                for (name, value) in rows { out += "\(name) = \(quote(value))\n" }
            }
            return out
        }

        func array(_ items: [String]) -> String { "[" + items.map(quote).joined(separator: ", ") + "]" }

        func quote(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
    }
}
