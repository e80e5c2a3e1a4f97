import CPitShim
import Glibc
import PitJail
import PitProcess
import PitPolicy
import PitSupervisor
import PitUplink

/// `pit run [OPTIONS] -- COMMAND [ARGS...]`: one command, fully jailed, exit status passed through.
enum RunCommand {
    struct Option: Sendable {
        /// Pit's spellings (NsJail's one-letter options are among them where they mean the same).
        var names: [String]
        /// NsJail's own spellings: using one turns NsJail's -Mo defaults on (NsJailFlags.applyDefaults).
        var nsjail: [String] = []
        var value: String?          // placeholder shown in help; nil for a flag
        var help: String
        /// (invocation, value, the spelling used): nil, or why the value is refused.
        var apply: @Sendable (inout Invocation, String, String) -> Refusal?
    }

    /// One line saying what is wrong and what to do instead.
    struct Refusal: Error, Equatable, Sendable {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// What the command line says, before a spec file and NsJail's defaults are merged in.
    struct Invocation: Sendable {
        var options = JailOptions()
        var specFile: String?
        var eventsPath: String?
        /// The first NsJail spelling used (NsJail's -Mo defaults apply), if any.
        var nsjailSpelling: String?
        var given = Given()

        /// NsJail switches whose absence NsJail's defaults must see.
        struct Given: Sendable {
            var noTimeLimit = false
            var disableRlimits = false
            var disableUserNamespace = false
            var disableNetworkNamespace = false
            var disableUTSNamespace = false
        }
    }

    private static func set(_ update: @escaping @Sendable (inout JailOptions, String, String) -> Void) -> @Sendable (inout Invocation, String, String) -> Refusal? {
        { invocation, value, origin in update(&invocation.options, value, origin); return nil }
    }

    /// "0" is NsJail's "no limit" for its cgroup limits.
    private static func unlessZero(_ update: @escaping @Sendable (inout JailOptions, Sourced<String>?) -> Void) -> @Sendable (inout Invocation, String, String) -> Refusal? {
        { invocation, value, origin in update(&invocation.options, value == "0" ? nil : Sourced(value, origin: origin)); return nil }
    }

    /// NsJail's -u/-g also take inside:outside:count maps, which Pit makes itself.
    private static func identity(_ update: @escaping @Sendable (inout JailOptions, Sourced<String>) -> Void) -> @Sendable (inout Invocation, String, String) -> Refusal? {
        { invocation, value, origin in
            if value.contains(":") {
                return Refusal("\(origin) \(value): NsJail's inside:outside:count form is not read (Pit maps the user namespace's ids itself, --userns-range-start); give one user or group")
            }
            update(&invocation.options, Sourced(value, origin: origin))
            return nil
        }
    }

    static let options: [Option] = [
        Option(names: ["--jail"], value: "FILE", help: "read settings from a jail spec file (TOML); options given here override it") { invocation, value, _ in invocation.specFile = value; return nil },
        Option(names: ["--name"], value: "NAME", help: "jail name, used in messages and the cgroup name", apply: set { $0.name = Sourced($1, origin: $2) }),
        Option(names: ["--chroot", "-c"], value: "DIR", help: "bind DIR read-only as the jail's / (default: an empty read-only tmpfs)", apply: set { $0.chroot = Sourced($1, origin: $2) }),
        Option(names: ["--user", "-u"], value: "UID|NAME", help: "run as this user (default: 65534, nobody)", apply: identity { $0.user = $1 }),
        Option(names: ["--group", "-g"], value: "GID|NAME", help: "run as this group (default: the user's)", apply: identity { $0.group = $1 }),
        Option(names: ["--groups"], value: "GID,...", help: "supplementary groups (default: none)", apply: set { o, v, s in
            o.groups += v.split(separator: ",").map { Sourced(String($0), origin: s) } }),
        Option(names: ["--bind", "-R"], nsjail: ["--bindmount_ro"], value: "SRC[:DST]", help: "bind a host path read-only (nodev, nosuid, not recursive)", apply: set { $0.binds.append(Sourced($1, origin: $2)) }),
        Option(names: ["--bind-rw", "-B"], nsjail: ["--bindmount"], value: "SRC[:DST]", help: "bind a host path writable (nodev, nosuid)") { invocation, value, origin in
            if value.split(separator: ":", omittingEmptySubsequences: false).count > 2 {
                return Refusal("\(origin) \(value): mount options after SRC:DST are not read (Pit's binds are nosuid,nodev); give SRC[:DST]")
            }
            invocation.options.bindsWritable.append(Sourced(value, origin: origin))
            return nil
        },
        Option(names: ["--tmpfs", "-T"], nsjail: ["--tmpfsmount"], value: "DST[:SIZE]", help: "a fresh tmpfs (default size 16M; 4M as NsJail's -T when NsJail's defaults apply)", apply: set { $0.tmpfs.append(Sourced($1, origin: $2)) }),
        Option(names: ["--no-default-binds"], value: nil, help: "without --chroot, do not bind /usr (and /bin, /lib... where real) read-only", apply: set { $0.defaultBinds = Sourced(false, origin: $2) }),
        Option(names: [], nsjail: ["--mount", "-m"], value: "SRC:DST:FSTYPE:OPTS", help: "NsJail's mount: tmpfs (size=N read), proc at /proc, or a bind (FSTYPE empty, OPTS bind[,ro])") { invocation, value, origin in
            NsJailFlags.mount(value, origin: origin, into: &invocation.options)
        },
        Option(names: [], nsjail: ["--symlink", "-s"], value: "TARGET:PATH", help: "a symlink at PATH pointing to TARGET, made in the tmpfs root", apply: set { $0.symlinks.append(Sourced($1, origin: $2)) }),
        Option(names: [], nsjail: ["--disable_proc"], value: nil, help: "no /proc in the jail", apply: set { $0.mountProc = Sourced(false, origin: $2) }),
        Option(names: ["--cwd", "-D"], value: "DIR", help: "working directory inside the jail (default /)", apply: set { $0.cwd = Sourced($1, origin: $2) }),
        Option(names: ["--env", "-E"], value: "K=V|K", help: "set a variable (K alone copies it from Pit's environment); only PATH is set otherwise", apply: set { $0.env.append(Sourced($1, origin: $2)) }),
        Option(names: [], nsjail: ["--keep_env", "-e"], value: nil, help: "the jail gets Pit's whole environment (then --env applies)", apply: set { $0.keepEnv = Sourced(true, origin: $2) }),
        Option(names: [], nsjail: ["--exec_file", "-x"], value: "FILE", help: "execute FILE (a path in the jail) with COMMAND as its argv", apply: set { $0.executable = Sourced($1, origin: $2) }),
        Option(names: [], nsjail: ["--pass_fd"], value: "FD", help: "the jail keeps this descriptor of the caller's (0-2 always)") { invocation, value, origin in
            // Checked before Pit opens anything: an open number here is the caller's file, never one of Pit's.
            if let fd = Int32(value), fd > 2, fcntl(fd, F_GETFD) < 0 {
                return Refusal("\(origin) \(value): descriptor \(value) is not open in pit run (open it in the shell: \(value)<FILE)")
            }
            invocation.options.passFDs.append(Sourced(value, origin: origin))
            return nil
        },
        Option(names: ["--keep-caps"], nsjail: ["--cap"], value: "CAP,...", help: "capabilities to keep (default: none); --cap takes one, as NsJail's", apply: set { $0.keepCaps.append(Sourced($1, origin: $2)) }),
        Option(names: [], nsjail: ["--keep_caps"], value: nil, help: "keep every capability (inside the user namespace when there is one)", apply: set { $0.keepAllCaps = Sourced(true, origin: $2) }),
        Option(names: ["--rlimit"], value: "NAME=SOFT[:HARD]", help: "a resource limit in bytes or counts, e.g. nofile=64 or as=512M (core is 0 unless set)", apply: set { $0.rlimits.append(Sourced($1, origin: $2)) }),
        Option(names: [], nsjail: NsJailFlags.rlimits.map { "--rlimit_\($0.name)" }, value: "VALUE",
               help: "NsJail's rlimits in NsJail's units (as, core, fsize, stack: MiB; memlock: KiB; cpu: s), "
                   + "soft limit = hard limit; soft/def, hard/max: Pit's own current limit; inf: none") { invocation, value, origin in
            switch NsJailFlags.rlimitEntry(String(origin.dropFirst(9)), value) {
            case .success(let text): invocation.options.rlimits.append(Sourced(text, origin: origin)); return nil
            case .failure(let refusal): return refusal
            }
        },
        Option(names: [], nsjail: ["--disable_rlimits"], value: nil, help: "no rlimits but core 0 (NsJail's defaults and --rlimit_* are not set)") { invocation, _, _ in
            invocation.given.disableRlimits = true; return nil
        },
        Option(names: ["--memory-max"], nsjail: ["--cgroup_mem_max", "--cgroup_mem_memsw_max"], value: "BYTES", help: "cgroup memory limit (e.g. 64M), swap included; 0: none", apply: unlessZero { $0.memoryMax = $1 }),
        Option(names: [], nsjail: ["--cgroup_mem_swap_max"], value: "BYTES", help: "accepted as -1 or 0: a jail's memory limit includes swap") { _, value, origin in
            ["-1", "0"].contains(value) ? nil : Refusal("\(origin) \(value): Pit's memory limit counts swap with memory (--cgroup_mem_max); a separate swap limit is not supported")
        },
        Option(names: ["--pids-max"], nsjail: ["--cgroup_pids_max"], value: "N", help: "cgroup limit on processes and threads; 0: none", apply: unlessZero { $0.pidsMax = $1 }),
        Option(names: ["--cpu-max"], value: "PERCENT", help: "cgroup CPU limit in percent of one CPU", apply: set { $0.cpuMax = Sourced($1, origin: $2) }),
        Option(names: [], nsjail: ["--cgroup_cpu_ms_per_sec"], value: "MS", help: "cgroup CPU limit in ms of CPU time per second, in steps of 10; 0: none") { invocation, value, origin in
            guard let ms = UInt64(value) else { return Refusal("\(origin) '\(value)': expected milliseconds per second (10, 20, ... 1000 per CPU)") }
            guard ms % 10 == 0 else { return Refusal("\(origin) \(value): Pit's CPU limit moves in steps of 10 ms per second (1%); use \(ms / 10 * 10 == 0 ? 10 : ms / 10 * 10)") }
            invocation.options.cpuMax = ms == 0 ? nil : Sourced("\(ms / 10)", origin: origin)
            return nil
        },
        Option(names: [], nsjail: ["--use_cgroupv2", "--detect_cgroupv2"], value: nil, help: "accepted: Pit uses cgroup v2 where the controller is enabled there, else v1") { _, _, _ in nil },
        Option(names: ["--time-limit", "-t"], nsjail: ["--time_limit"], value: "SECONDS", help: "kill the jail after this wall-clock time (0: none; 600 when NsJail's defaults apply)") { invocation, value, origin in
            invocation.options.timeLimit = value == "0" ? nil : Sourced(value, origin: origin)
            invocation.given.noTimeLimit = value == "0"
            return nil
        },
        Option(names: [], nsjail: ["--nice_level"], value: "N", help: "the jail's nice value, -20 to 19 (19 when NsJail's defaults apply)", apply: set { $0.niceLevel = Sourced($1, origin: $2) }),
        Option(names: [], nsjail: ["--oom_score_adj"], value: "N", help: "the jail's OOM score adjustment, -1000 to 1000", apply: set { $0.oomScoreAdj = Sourced($1, origin: $2) }),
        Option(names: ["--userns"], value: nil, help: "new user namespace: root inside maps to unprivileged host ids 100000+", apply: set { $0.userns = Sourced(true, origin: $2) }),
        Option(names: [], nsjail: ["--disable_clone_newuser"], value: nil, help: "no user namespace (the default without NsJail's spellings)") { invocation, _, _ in
            invocation.options.userns = nil; invocation.given.disableUserNamespace = true; return nil
        },
        Option(names: ["--userns-range-start"], value: "ID", help: "first host id of the --userns mapping (default 100000)", apply: set { $0.usernsRangeStart = Sourced($1, origin: $2) }),
        Option(names: ["--landlock-read"], value: "PATH", help: "Landlock: the jail may read beneath PATH (jail path); any --landlock-* option turns Landlock on", apply: set { $0.landlockRead.append(Sourced($1, origin: $2)) }),
        Option(names: ["--landlock-write"], value: "PATH", help: "Landlock: the jail may read and write beneath PATH", apply: set { $0.landlockWrite.append(Sourced($1, origin: $2)) }),
        Option(names: ["--landlock-exec"], value: "PATH", help: "Landlock: the jail may read and execute beneath PATH", apply: set { $0.landlockExec.append(Sourced($1, origin: $2)) }),
        Option(names: ["--landlock-bind-tcp"], value: "PORT[,PORT...]", help: "Landlock: TCP ports the jail may bind (none otherwise)", apply: set { $0.landlockBindTCP.append(Sourced($1, origin: $2)) }),
        Option(names: ["--landlock-connect-tcp"], value: "PORT[,PORT...]", help: "Landlock: TCP ports the jail may connect to (none otherwise)", apply: set { $0.landlockConnectTCP.append(Sourced($1, origin: $2)) }),
        Option(names: ["--low-ports"], value: "PORT[,PORT...]", help: "ports below 1024 a --userns jail binds in the host's network (lowers net.ipv4.ip_unprivileged_port_start)", apply: set { $0.lowPorts.append(Sourced($1, origin: $2)) }),
        Option(names: ["--netns"], value: nil, help: "new network namespace (default: the host's network)", apply: set { $0.netns = Sourced(true, origin: $2) }),
        Option(names: [], nsjail: ["--disable_clone_newnet", "-N"], value: nil, help: "the host's network (the default without NsJail's spellings)") { invocation, _, _ in
            invocation.options.netns = nil; invocation.given.disableNetworkNamespace = true; return nil
        },
        Option(names: ["--utsns"], value: nil, help: "new UTS namespace (default: the host's hostname)", apply: set { $0.utsns = Sourced(true, origin: $2) }),
        Option(names: [], nsjail: ["--disable_clone_newuts"], value: nil, help: "the host's hostname (the default without NsJail's spellings)") { invocation, _, _ in
            invocation.options.utsns = nil; invocation.given.disableUTSNamespace = true; return nil
        },
        Option(names: ["--hostname", "-H"], value: "NAME", help: "hostname inside (needs --utsns; NSJAIL when NsJail's defaults apply)", apply: set { $0.hostname = Sourced($1, origin: $2) }),
        Option(names: ["--seccomp-string"], nsjail: ["--seccomp_string"], value: "TEXT", help: "seccomp policy in kafel syntax; given again, the texts are joined (as NsJail)") { invocation, value, origin in
            let previous = invocation.options.seccompString.map { $0.value + "\n" } ?? ""
            invocation.options.seccompString = Sourced(previous + value, origin: origin)
            return nil
        },
        Option(names: ["--policy", "-P"], nsjail: ["--seccomp_policy"], value: "FILE", help: "seccomp policy file in kafel syntax", apply: set { $0.policyFile = Sourced($1, origin: $2) }),
        Option(names: [], nsjail: ["--seccomp_log"], value: nil, help: "accepted: Pit reports every syscall a policy denies with REPORT, and names a KILL's") { _, _, _ in nil },
        Option(names: ["--events-json"], value: "PATH", help: "append each event (violations, the exit) to PATH, one JSON object per line") { invocation, value, _ in invocation.eventsPath = value; return nil },
        Option(names: [], nsjail: ["--mode", "-M"], value: "o", help: "NsJail's mode: o (once) is what pit run does; l, r and e are refused") { _, value, origin in
            NsJailFlags.mode(value).map { Refusal($0) }
        },
        Option(names: ["--quiet", "-Q"], nsjail: ["-q", "--really_quiet", "-v", "--verbose"], value: nil, help: "accepted for NsJail compatibility (they set NsJail's log level)") { _, _, _ in nil },
    ]

    static func main(_ arguments: [String]) -> Never {
        let invocation: Invocation
        switch parse(arguments) {
        case .help:
            print(usage())
            exit(0)
        case .failure(let message):
            fail(message)
        case .success(let parsed):
            invocation = parsed
        }
        var options = invocation.options
        if let specFile = invocation.specFile {
            do { options = try JailSpecFile.load(specFile).overridden(by: invocation.options) } catch { fail(error.description) }
            // NsJail's --disable_clone_* on the command line turn off what the spec file turned on.
            if invocation.given.disableUserNamespace { options.userns = nil }
            if invocation.given.disableNetworkNamespace { options.netns = nil }
            if invocation.given.disableUTSNamespace { options.utsns = nil; options.hostname = nil }
        }
        if let spelling = invocation.nsjailSpelling {
            let (problems, notes) = NsJailFlags.applyDefaults(to: &options, invocation.given, because: spelling)
            if let problem = problems.first { fail(problem.message) }
            for note in notes { warn(note) }
        }
        let eventsPath = invocation.eventsPath
        let resolved: ResolvedJail
        do { resolved = try options.resolve() } catch { fail(error.description) }
        for gap in resolved.spec.landlock?.missing ?? [] { warn("warning: landlock: \(gap); the rest applies") }
        if resolved.spec.credentials.uid == 0 && resolved.spec.namespaces.userRangeStart == nil {
            // Allowed (NsJail and bubblewrap allow it too), but never silently: say what it exposes.
            warn("warning: --user 0 without --userns: root in the jail is host root to every file it can see "
                 + "(writable binds, files of uid 0) and to kernel checks that look at the uid alone; "
                 + "/proc's knobs are read-only, but --userns maps root to an unprivileged host range")
        }

        var events: EventLog?
        if let eventsPath {
            do { events = try EventLog(path: eventsPath) } catch { fail("--events-json: \(error)") }
        }
        let outcome: JailOutcome
        var violations: [Violation] = []
        do {
            // Once the command has run a while, Pit only waits: its start-up pages are dropped as the supervisor
            // drops them, so the wait holds a few pages (if that fails, they merely stay mapped). Not at once: a
            // command that ends within the settle time would have Pit fault its way back to the exit.
            outcome = try Launcher.run(resolved.spec, policy: resolved.policy,
                                       onSettled: { _ = StartupPages.release() }) { violation in
                violations.append(violation)
                warn(violation.summary)
                events?.append(violation.event(jail: resolved.spec.name))
            }
        } catch { fail(error.description, status: ExitStatus.of(error)) }
        switch outcome.ending {
        case .exited(let code): events?.append(.serviceExit(jail: resolved.spec.name, exitStatus: code, message: "\(outcome.ending)"))
        case .signaled(let signal, _): events?.append(.serviceExit(jail: resolved.spec.name, signal: signal, message: "\(outcome.ending)"))
        }
        report(outcome, spec: resolved.spec, policy: resolved.policy?.compiled, violations: violations)
        // A pit run killed with -9 left its jail's cgroup behind: one that makes cgroups removes such leftovers,
        // after its command has run (off the launch's path: it reads the hierarchy and may wait a moment).
        if resolved.spec.limits.needsCgroup { JailCgroup.removeStale() }
        exit(outcome.exitStatus)
    }

    enum Parsed {
        case success(Invocation)
        case failure(String)
        case help
    }

    static func parse(_ arguments: [String]) -> Parsed {
        var invocation = Invocation()
        var words = arguments
        var index = 0
        while index < words.count {
            let argument = words[index]
            index += 1
            if argument == "--" {
                invocation.options.command = Array(words[index...])
                break
            }
            if argument == "--help" || argument == "-h" { return .help }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                // NsJail also takes the command without "--" once options end.
                invocation.options.command = Array(words[(index - 1)...])
                break
            }
            var name = argument
            var inlineValue: String?
            if argument.hasPrefix("--") {
                if let equals = argument.firstIndex(of: "=") {
                    name = String(argument[..<equals])
                    inlineValue = String(argument[argument.index(after: equals)...])
                }
            } else if argument.count > 2 {
                // getopt's clusters, as NsJail reads them: -Mo is -M o, -c/ is -c /, -Ne is -N -e.
                name = String(argument.prefix(2))
                let rest = String(argument.dropFirst(2))
                if let (option, _) = lookup(name), option.value == nil {
                    words.insert("-" + rest, at: index)
                } else {
                    inlineValue = rest
                }
            }
            if let refusal = NsJailFlags.refusal(underscored(name)) { return .failure(refusal) }
            guard let (option, isNsJail) = lookup(name) else {
                let known = (options.flatMap(\.names) + options.flatMap(\.nsjail)).filter { $0.hasPrefix("--") }
                let hint = (Suggestion.completion(of: name, in: known) ?? Suggestion.closest(to: name, in: known)).map { " (did you mean \($0)?)" } ?? ""
                return .failure("unknown option \(argument)\(hint); see pit run --help")
            }
            if isNsJail && invocation.nsjailSpelling == nil { invocation.nsjailSpelling = name }
            let value: String
            if option.value == nil {
                guard inlineValue == nil else { return .failure("\(name) takes no value") }
                value = ""
            } else {
                guard let given = inlineValue ?? (index < words.count ? words[index] : nil) else {
                    return .failure("\(name): needs a value (\(option.value!))")
                }
                if inlineValue == nil { index += 1 }
                value = given
            }
            // The spelling as NsJail writes it, so that messages and option-specific readers see one form.
            let spelling = isNsJail && name.hasPrefix("--") ? underscored(name) : name
            if let refusal = option.apply(&invocation, value, spelling) { return .failure(refusal.message) }
        }
        return .success(invocation)
    }

    /// `--no-pivotroot` as NsJail spells it (`--no_pivotroot`); short options unchanged.
    private static func underscored(_ name: String) -> String {
        name.hasPrefix("--") ? "--" + name.dropFirst(2).map { $0 == "-" ? "_" : $0 } : name
    }

    /// The option a spelling names, and whether the spelling is NsJail's own. Pit's names are matched first
    /// (`--keep-caps CAP` is Pit's list; `--keep_caps` NsJail's flag); then NsJail's, written with `_` or `-`;
    /// then Pit's written with `_` (`--no_default_binds`).
    private static func lookup(_ name: String) -> (Option, Bool)? {
        if let option = options.first(where: { $0.names.contains(name) }) { return (option, false) }
        if let option = options.first(where: { $0.nsjail.contains(name) || $0.nsjail.contains(underscored(name)) }) { return (option, true) }
        let dashed = String(name.map { $0 == "_" ? "-" : $0 })
        if name.hasPrefix("--"), let option = options.first(where: { $0.names.contains(dashed) }) { return (option, false) }
        return nil
    }

    static func usage() -> String {
        "USAGE: pit run [OPTIONS] -- COMMAND [ARGS...]\n\n" + discussion()
    }

    /// What `pit run --help`, `pit help run` and the man page say: the option table, as the parser reads it, in
    /// lines of at most 80 columns (swift-argument-parser rewraps longer ones without their indentation).
    static func discussion() -> String {
        var lines = wrap("Runs COMMAND in a jail: new mount, PID, IPC and cgroup namespaces, a read-only tmpfs root, /proc, "
            + "a minimal /dev, pivot_root, setsid, a dropped uid/gid and capabilities, no_new_privs, rlimits, cgroup "
            + "limits and an optional seccomp policy. Exits with COMMAND's status (128+N when killed by signal N); 125 "
            + "when Pit failed before it ran, 126 when it cannot be executed, 127 when it is not found in the jail.", indent: 0)
        lines += ["", "OPTIONS:"]
        for option in options {
            lines += wrap((option.names + option.nsjail).joined(separator: ", ") + (option.value.map { " " + $0 } ?? ""), indent: 2)
            lines += wrap(option.help, indent: 8)
        }
        lines.append("")
        lines += wrap("NsJail's spellings (-Mo, --rlimit_as, -N...) turn NsJail's -Mo defaults on for what the command line "
            + "and spec do not set: --time_limit 600, --rlimit_as 4096 (MiB), --rlimit_cpu 600, --rlimit_fsize 1 (MiB), "
            + "--rlimit_nofile 32, --rlimit_core 0, the other rlimits at Pit's soft limit, new user, network and UTS "
            + "namespaces (hostname NSJAIL), --nice_level 19, an empty root without --chroot, -T of 4M. NsJail's other "
            + "options are refused by name with what to do instead.", indent: 0)
        return lines.joined(separator: "\n")
    }

    private static func wrap(_ text: String, indent: Int, width: Int = 80) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                lines.append(String(repeating: " ", count: indent) + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(String(repeating: " ", count: indent) + line) }
        return lines
    }

    /// Shell completion of the word being typed: the option names it begins (long names when it starts with --).
    static func completions(of prefix: String) -> [String] {
        guard prefix.hasPrefix("-") else { return [] }
        let names = (options.flatMap(\.names) + options.flatMap(\.nsjail)).filter { $0.hasPrefix(prefix) && ($0.hasPrefix("--") || !prefix.hasPrefix("--")) }
        return names.sorted()
    }

    static func report(_ outcome: JailOutcome, spec: JailSpec, policy: CompiledPolicy?, violations: [Violation]) {
        if outcome.timedOut {
            warn("jail '\(spec.name)' reached its time limit of \(spec.timeLimit ?? 0) s and was killed")
        }
        if let signal = outcome.interruptedBy {
            warn("received signal \(signal): jail '\(spec.name)' killed")
        }
        for kill in outcome.seccompKills {
            let name = policy?.syscallName(number: kill.syscall) ?? "syscall"
            warn("Bad system call: \(name) (nr \(kill.syscall)) by pid \(kill.pid) (\(Printable.escaped(kill.comm)), \(Printable.escaped(kill.exe))) is not allowed by \(policy?.file ?? "the policy")")
        }
        let killer = violations.last(where: { $0.action == .kill && $0.pid > 0 })
        if let killer, case .signaled(let signal, _) = outcome.ending, signal == SIGSYS || signal == SIGKILL {
            // A syscall through an architecture the filter does not accept says which one it was.
            let arch = killer.arch == policy?.arch.name ? "" : ", \(killer.arch)"
            warn("Bad system call: \(killer.syscall) (nr \(killer.nr)\(arch)) is not allowed by \(killer.policyFile): pid \(killer.pid) (\(Printable.escaped(killer.comm))) killed")
        }
        if case .signaled(SIGSYS, _) = outcome.ending, outcome.seccompKills.isEmpty, killer == nil {
            warn("Bad system call: the jail was killed by seccomp (the kernel log named no syscall: it is rate-limited, or an audit daemon took the record)")
        }
    }

    static func warn(_ message: String) {
        writeError("pit: \(message)\n")
    }

    static func fail(_ message: String, status: Int32 = ExitStatus.runFailed) -> Never {
        // Namespaces, mounts and cgroups need root: say so rather than leave a bare EPERM to decode.
        let hint = geteuid() != 0 && status == ExitStatus.runFailed ? " (pit run must run as root)" : ""
        writeError("pit run: \(message)\(hint)\n")
        exit(status)
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Unbuffered write to standard error (stdio's `stderr` is a shared global Swift 6 will not touch).
func writeError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            offset += n
        }
    }
}
