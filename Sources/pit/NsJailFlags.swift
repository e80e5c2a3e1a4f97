import Glibc
import PitJail
import PitProcess

/// NsJail's command line as `pit run` reads it. Every one of NsJail's long options (cmdline.cc's table, 103 of them
/// plus --help) is either in `RunCommand.options` with NsJail's meaning and units, or refused here by name with what
/// to do instead: a pasted command is never misread. Using one of NsJail's own spellings (`-Mo`, `--rlimit_as`,
/// `-N`...) turns NsJail's `-Mo` defaults on (`defaults`), so a pasted command is never less confined than under
/// NsJail.
enum NsJailFlags {
    /// Every long option of NsJail (cmdline.cc, custom_opts), as NsJail spells it.
    static let longOptions: [String] = [
        "help", "mode", "config", "exec_file", "execute_fd", "chroot", "no_pivotroot", "rw", "user", "group",
        "hostname", "cwd", "port", "bindhost", "max_conns", "max_conns_per_ip", "log", "log_fd", "time_limit",
        "max_cpus", "daemon", "verbose", "quiet", "really_quiet", "keep_env", "env", "keep_caps", "cap", "silent",
        "stderr_to_null", "skip_setsid", "pass_fd", "disable_no_new_privs", "rlimit_as", "rlimit_core", "rlimit_cpu",
        "rlimit_fsize", "rlimit_nofile", "rlimit_nproc", "rlimit_stack", "rlimit_memlock", "rlimit_rtprio",
        "rlimit_msgqueue", "disable_rlimits", "persona_addr_compat_layout", "persona_mmap_page_zero",
        "persona_read_implies_exec", "persona_addr_limit_3gb", "persona_addr_no_randomize", "disable_clone_newnet",
        "disable_clone_newuser", "disable_clone_newns", "disable_clone_newpid", "disable_clone_newipc",
        "disable_clone_newuts", "disable_clone_newcgroup", "enable_clone_newtime", "uid_mapping", "gid_mapping",
        "bindmount_ro", "bindmount", "tmpfsmount", "mount", "symlink", "disable_proc", "proc_path", "proc_rw",
        "experimental_mnt", "seccomp_policy", "seccomp_string", "seccomp_log", "seccomp_unotify",
        "seccomp_unotify_report", "nice_level", "cgroup_mem_max", "cgroup_mem_memsw_max", "cgroup_mem_swap_max",
        "cgroup_mem_mount", "cgroup_mem_parent", "cgroup_pids_max", "cgroup_pids_mount", "cgroup_pids_parent",
        "cgroup_net_cls_classid", "cgroup_net_cls_mount", "cgroup_net_cls_parent", "cgroup_cpu_ms_per_sec",
        "cgroup_cpu_mount", "cgroup_cpu_parent", "cgroupv2_mount", "use_cgroupv2", "detect_cgroupv2", "iface_no_lo",
        "iface_own", "macvlan_iface", "macvlan_vs_ip", "macvlan_vs_nm", "macvlan_vs_gw", "macvlan_vs_ma",
        "macvlan_vs_mo", "disable_tsc", "forward_signals", "use_core_scheduling", "user_net", "oom_score_adj",
    ]

    /// NsJail's short options (its getopt string "x:H:D:C:c:p:i:u:g:l:L:t:M:NdvqQeh?E:R:B:T:m:s:P:I:U:G:"): whether
    /// each takes a value. `pit run -Mo`, `-c/` and `-t10` are read as getopt reads them.
    static let shortTakesValue: [Character: Bool] = [
        "x": true, "H": true, "D": true, "C": true, "c": true, "p": true, "i": true, "u": true, "g": true, "l": true,
        "L": true, "t": true, "M": true, "N": false, "d": false, "v": false, "q": false, "Q": false, "e": false,
        "h": false, "E": true, "R": true, "B": true, "T": true, "m": true, "s": true, "P": true, "I": true, "U": true,
        "G": true,
    ]

    private static let listenMode = "listen mode is not in pit run: start it per connection from a socket-activated service (systemd Accept=yes, inetd), which hands the connection over as stdin/stdout"
    private static let cgroupPlace = "Pit finds the cgroup hierarchy itself and gives each jail a cgroup of its own: drop the option"
    private static let macvlan = "macvlan interfaces are not made by pit run (the appliance's persona owns its interfaces): keep the jail's own empty network (the default) or the host's (-N)"
    private static let persona = "personality flags are not set by Pit, and its filters refuse the ones that switch off ASLR or NX: drop the option"
    private static let alwaysNamespace = "Pit always makes a new mount, PID, IPC and cgroup namespace: drop the option"

    /// NsJail options with no meaning in Pit: the one line `pit run` prints, after the option's name.
    static let refused: [String: String] = [
        "config": "NsJail's protobuf configs are not read by pit run: write the settings as a jail spec (README, \"Jail spec files\") and pass --jail FILE",
        "execute_fd": "Pit finds and executes the command inside the jail: bind the host file in (-R SRC:DST) and name DST",
        "no_pivotroot": "Pit always uses pivot_root (MS_MOVE and chroot can be escaped): drop the option",
        "rw": "the --chroot directory stays read-only in Pit: bind what the jail writes with -B SRC:DST, or give it a tmpfs with -T DST",
        "port": listenMode, "bindhost": listenMode, "max_conns": listenMode, "max_conns_per_ip": listenMode,
        "log": "Pit writes its messages to stderr: redirect that (2>>FILE)",
        "log_fd": "Pit writes its messages to stderr: redirect that (2>&N)",
        "max_cpus": "use --cpu-max PERCENT (a cgroup CPU limit) or --cgroup_cpu_ms_per_sec, or run pit run under taskset(1)",
        "daemon": "pit run stays in the foreground: start it from a service manager, or run the jail under pit supervise",
        "silent": "redirect the streams in the shell (</dev/null >/dev/null 2>&1); Pit's own messages go to stderr too",
        "stderr_to_null": "redirect stderr in the shell (2>/dev/null); Pit's own messages go there too",
        "skip_setsid": "Pit always calls setsid: a jail holding the caller's terminal could type into it (TIOCSTI)",
        "disable_no_new_privs": "Pit always sets no_new_privs (set-uid files would gain privileges in the jail): keep the capabilities the jail needs with --cap instead",
        "persona_addr_compat_layout": persona, "persona_mmap_page_zero": persona, "persona_read_implies_exec": persona,
        "persona_addr_limit_3gb": persona, "persona_addr_no_randomize": persona,
        "disable_clone_newns": alwaysNamespace, "disable_clone_newpid": alwaysNamespace,
        "disable_clone_newipc": alwaysNamespace, "disable_clone_newcgroup": alwaysNamespace,
        "enable_clone_newtime": "Pit makes no time namespace: drop the option",
        "uid_mapping": "Pit maps ids 0-65535 of the jail's user namespace to unprivileged host ids itself (--userns-range-start moves them); newuidmap maps are not supported",
        "gid_mapping": "Pit maps ids 0-65535 of the jail's user namespace to unprivileged host ids itself (--userns-range-start moves them); newgidmap maps are not supported",
        "proc_path": "the jail's procfs is always at /proc (or absent with --disable_proc)",
        "proc_rw": "the jail's /proc stays read-only where it holds kernel knobs (README, \"What holds a jail\"): drop the option",
        "experimental_mnt": "Pit chooses its mount calls itself: drop the option",
        "seccomp_unotify": "to see what a program uses, run it under `pit policy learn` (README, \"Seccomp policies\"); REPORT rules report denied syscalls",
        "seccomp_unotify_report": "to see what a program uses, run it under `pit policy learn` (README, \"Seccomp policies\")",
        "cgroup_mem_mount": cgroupPlace, "cgroup_mem_parent": cgroupPlace, "cgroup_pids_mount": cgroupPlace,
        "cgroup_pids_parent": cgroupPlace, "cgroup_net_cls_mount": cgroupPlace, "cgroup_net_cls_parent": cgroupPlace,
        "cgroup_cpu_mount": cgroupPlace, "cgroup_cpu_parent": cgroupPlace, "cgroupv2_mount": cgroupPlace,
        "cgroup_net_cls_classid": "net_cls is a cgroup v1 controller Pit does not use: keep the jail in its own network namespace (the default), or filter with nftables",
        "iface_no_lo": "Pit brings lo up in the jail's network namespace; for no network at all, deny socket() in the policy",
        "iface_own": "moving a host interface into a jail is not supported: drop the option",
        "macvlan_iface": macvlan, "macvlan_vs_ip": macvlan, "macvlan_vs_nm": macvlan, "macvlan_vs_gw": macvlan,
        "macvlan_vs_ma": macvlan, "macvlan_vs_mo": macvlan,
        "disable_tsc": "Pit does not switch off rdtsc: drop the option",
        "forward_signals": "pit run kills the jail with SIGKILL when it gets SIGINT, SIGTERM or SIGHUP (NsJail's default): drop the option",
        "use_core_scheduling": "Pit does not set up core scheduling: drop the option",
        "user_net": "user-mode networking is not in Pit: use the host's network (-N), or none (the default)",
    ]

    /// The long name of each refused short option.
    static let refusedShort: [String: String] = [
        "-C": "config", "-p": "port", "-i": "max_conns_per_ip", "-l": "log", "-L": "log_fd", "-d": "daemon",
        "-U": "uid_mapping", "-G": "gid_mapping", "-I": "macvlan_iface",
    ]

    /// The one line for a refused option, or nil when `name` (as written, `--x_y` or `-X`) is not refused.
    static func refusal(_ name: String) -> String? {
        let long: String
        if let short = refusedShort[name] { long = short } else if name.hasPrefix("--") { long = String(name.dropFirst(2)) } else { return nil }
        guard let why = refused[long] else { return nil }
        let spelled = name.hasPrefix("--") ? name : "\(name) (--\(long))"
        return "\(spelled) is NsJail's and not supported: \(why)"
    }

    /// NsJail's execution modes as `-M`/`--mode` gets them: only `o` is what pit run does.
    static func mode(_ value: String) -> String? {
        switch value.first {
        case "o": return nil
        case "l": return "-M l (listen on a TCP port) is not supported: " + listenMode
        case "r": return "-M r (rerun forever) is not supported: pit run runs once; loop in the shell (while pit run ...; do :; done)"
        case "e": return "-M e (execve without a supervisor) is not supported: pit run always stays to watch the jail (time limit, violations): use -M o"
        default: return "-M '\(value)': NsJail's modes are o (once, the one pit run has), l, r and e"
        }
    }

    // MARK: NsJail's rlimits

    /// NsJail's --rlimit_NAME options: the resource, the unit a number counts in, and the -Mo default (a number in
    /// that unit, or "soft" for the current soft limit).
    static let rlimits: [(name: String, unit: UInt64, unitName: String, defaultValue: String)] = [
        ("as", 1 << 20, "MiB", "4096"), ("core", 1 << 20, "MiB", "0"), ("cpu", 1, "s", "600"),
        ("fsize", 1 << 20, "MiB", "1"), ("nofile", 1, "", "32"), ("nproc", 1, "", "soft"),
        ("stack", 1 << 20, "MiB", "soft"), ("memlock", 1 << 10, "KiB", "soft"), ("rtprio", 1, "", "soft"),
        ("msgqueue", 1, "bytes", "soft"),
    ]

    /// `--rlimit_NAME VALUE` as NsJail reads it, as Pit's `NAME=SOFT:HARD` (NsJail sets both to one value): a number
    /// in NsJail's unit for NAME; `soft`/`def` and `hard`/`max` for Pit's own current limit; `inf` for none. A size
    /// with a suffix (512M, 64K) is taken as written, in bytes: NsJail refuses those, so nothing pasted changes.
    static func rlimitEntry(_ name: String, _ value: String) -> Result<String, RunCommand.Refusal> {
        guard let entry = rlimits.first(where: { $0.name == name }) else {
            return .failure(.init("--rlimit_\(name) is not one of NsJail's rlimits (\(rlimits.map(\.name).joined(separator: ", ")))"))
        }
        let keyword = value.lowercased()
        if keyword == "inf" { return .success("\(name)=inf") }
        if ["soft", "def", "hard", "max"].contains(keyword) {
            var current = Glibc.rlimit()
            guard let resource = RlimitNames.resource(named: name), getrlimit(__rlimit_resource_t(UInt32(resource)), &current) == 0 else {
                return .failure(.init("--rlimit_\(name): cannot read Pit's own limit"))
            }
            let limit = UInt64(keyword == "soft" || keyword == "def" ? current.rlim_cur : current.rlim_max)
            let text = limit == UInt64.max ? "inf" : "\(limit)"
            return .success("\(name)=\(text):\(text)")
        }
        if let number = UInt64(value) {
            let (bytes, overflow) = number.multipliedReportingOverflow(by: entry.unit)
            guard !overflow else { return .failure(.init("--rlimit_\(name) \(value): too large (\(entry.unitName))")) }
            return .success("\(name)=\(bytes):\(bytes)")
        }
        if let last = value.last, "kKmMgG".contains(last), UInt64(value.dropLast()) != nil {
            return .success("\(name)=\(value):\(value)")
        }
        let unit = entry.unitName.isEmpty ? "" : " in \(entry.unitName)"
        return .failure(.init("--rlimit_\(name) '\(value)': expected a number\(unit), or soft/def, hard/max or inf (as NsJail)"))
    }

    // MARK: NsJail's -Mo defaults

    /// What NsJail does when its command line does not say: applied once any NsJail spelling is used, to whatever
    /// neither the command line nor the jail spec set. `because` names the spelling that turned them on.
    /// Returns what cannot be set (a refusal each) and the notes to print.
    static func applyDefaults(to options: inout JailOptions, _ given: RunCommand.Invocation.Given, because spelling: String) -> (problems: [RunCommand.Refusal], notes: [String]) {
        let origin = "NsJail's default (\(spelling) was used)"
        var problems: [RunCommand.Refusal] = []
        var notes: [String] = []
        if options.timeLimit == nil && !given.noTimeLimit { options.timeLimit = Sourced("600", origin: origin + ", --time_limit") }
        if !given.disableRlimits {
            let set = Set(options.rlimits.map { $0.value.prefix { $0 != "=" }.lowercased() })
            for entry in rlimits where !set.contains(entry.name) {
                switch rlimitEntry(entry.name, entry.defaultValue) {
                case .success(let text): options.rlimits.append(Sourced(text, origin: origin + ", --rlimit_\(entry.name)"))
                case .failure(let problem): problems.append(problem)
                }
            }
        }
        if options.userns == nil && !given.disableUserNamespace {
            // A user namespace can bind a tree only with the mounts below it (the kernel locks them together), and
            // Pit binds the chroot alone, never the host's /proc, /sys or /dev that sit below a --chroot /. Such a
            // jail gets no user namespace: its ids are then the host's own --user/--group, never host root, where
            // NsJail run as root maps the jail's --user to the caller's uid, 0 (user.cc: an empty outside id is
            // getuid()). Said in one line, never silently.
            if let chroot = options.chroot, let below = mountBelow(JailOptions.absolute(chroot.value)) {
                // NsJail's kept capabilities are its user namespace's; here they would be the host's (mount, modules,
                // raw devices): refused, never granted implicitly.
                if options.keepAllCaps?.value == true || !options.keepCaps.isEmpty {
                    let named = options.keepAllCaps?.value == true ? "--keep_caps" : "--cap \(options.keepCaps.map(\.value).joined(separator: ","))"
                    problems.append(.init("\(named) with --chroot \(chroot.value): \(below) is mounted below it, so the jail gets no user "
                        + "namespace and the capabilities would be the host's (NsJail keeps them inside its user namespace); bind a "
                        + "subtree with -R/-B instead of --chroot \(chroot.value), or add --disable_clone_newuser to grant host "
                        + "capabilities knowingly"))
                }
                notes.append("note: no user namespace (NsJail's default): \(below) is mounted below --chroot \(chroot.value), and a user "
                    + "namespace binds a tree only with every mount below it; the jail runs as the host's ids of --user/--group "
                    + "(NsJail run as root maps them to uid 0); --disable_clone_newuser says so and silences this")
            } else {
                options.userns = Sourced(true, origin: origin + ", a new user namespace")
                options.usernsFitsUser = true
            }
        }
        if options.netns == nil && !given.disableNetworkNamespace { options.netns = Sourced(true, origin: origin + ", a new network namespace") }
        if options.utsns == nil && !given.disableUTSNamespace {
            options.utsns = Sourced(true, origin: origin + ", a new UTS namespace")
            if options.hostname == nil { options.hostname = Sourced("NSJAIL", origin: origin + ", --hostname") }
        }
        if options.niceLevel == nil { options.niceLevel = Sourced("19", origin: origin + ", --nice_level") }
        // NsJail's root without --chroot is empty: only what the command line mounts is there.
        if options.chroot == nil && options.defaultBinds == nil { options.defaultBinds = Sourced(false, origin: origin) }
        // NsJail's -T tmpfs is 4 MiB (size=4194304).
        options.tmpfs = options.tmpfs.map { entry in
            guard ["-T", "--tmpfsmount"].contains(entry.origin), !entry.value.contains(":") else { return entry }
            return Sourced(entry.value + ":4M", origin: entry.origin)
        }
        return (problems, notes)
    }

    /// The first mount point strictly below `directory` (from /proc/self/mountinfo), if any.
    static func mountBelow(_ directory: String) -> String? {
        guard let table = readText("/proc/self/mountinfo") else { return nil }
        let prefix = directory == "/" ? "/" : directory + "/"
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = String(fields[4])
            if point != directory && point.hasPrefix(prefix) { return point }
        }
        return nil
    }

    // MARK: -m / --mount

    /// NsJail's `-m SRC:DST:FSTYPE:OPTIONS` as Pit's mounts: tmpfs (its size= option, else Pit's 16M), a bind
    /// (FSTYPE empty with OPTIONS holding "bind"; "ro" makes it read-only), and proc at /proc (Pit mounts its own).
    static func mount(_ value: String, origin: String, into options: inout JailOptions) -> RunCommand.Refusal? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let source = parts[0]
        let destination = parts.count > 1 && !parts[1].isEmpty ? parts[1] : source
        let fstype = parts.count > 2 ? parts[2] : ""
        let flags = parts.count > 3 ? parts[3...].joined(separator: ":").split(separator: ",").map(String.init) : []
        switch fstype {
        case "tmpfs":
            var size: String?
            for flag in flags {
                if flag.hasPrefix("size=") { size = String(flag.dropFirst(5)) } else if !["rw", "nosuid", "nodev"].contains(flag) {
                    return .init("\(origin) \(value): tmpfs option '\(flag)' is not supported (Pit's tmpfs is nosuid,nodev, mode 1777; size= is read)")
                }
            }
            options.tmpfs.append(Sourced(destination + (size.map { ":" + $0 } ?? ""), origin: origin))
        case "proc":
            guard JailOptionsPath.normalize(destination) == "/proc" else {
                return .init("\(origin) \(value): the jail's procfs is always at /proc")
            }
            if options.mountProc?.value == false {
                options.mountProc = Sourced(true, origin: origin)
            }
        case "" where flags.contains("bind") || flags.contains("rbind"):
            let readOnly = flags.contains("ro")
            if let other = flags.first(where: { !["bind", "rbind", "ro", "rw", "nosuid", "nodev"].contains($0) }) {
                return .init("\(origin) \(value): bind option '\(other)' is not supported (Pit's binds are nosuid,nodev)")
            }
            let entry = Sourced(source + ":" + destination, origin: origin)
            if readOnly { options.binds.append(entry) } else { options.bindsWritable.append(entry) }
        default:
            return .init("\(origin) \(value): Pit mounts tmpfs, proc (at /proc) and binds (-m SRC:DST::bind, or -R/-B); not '\(fstype.isEmpty ? "(no type)" : fstype)'")
        }
        return nil
    }
}

/// JailOptions' path normalisation, for the few checks made while parsing.
enum JailOptionsPath {
    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
