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
        var names: [String]
        var value: String?          // placeholder shown in help; nil for a flag
        var help: String
        var apply: @Sendable (inout JailOptions, String, String) -> Void   // (options, value, origin)
    }

    /// Long names are written with dashes; NsJail's underscore spellings are accepted by normalising `_` to `-`,
    /// and NsJail's own names for the same settings are listed as aliases so the article's commands paste.
    static let options: [Option] = [
        Option(names: ["--jail"], value: "FILE", help: "read settings from a jail spec file (TOML); options given here override it") { _, _, _ in },
        Option(names: ["--name"], value: "NAME", help: "jail name, used in messages and the cgroup name") { $0.name = Sourced($1, origin: $2) },
        Option(names: ["--chroot", "-c"], value: "DIR", help: "bind DIR read-only as the jail's / (default: an empty read-only tmpfs)") { $0.chroot = Sourced($1, origin: $2) },
        Option(names: ["--user", "-u"], value: "UID|NAME", help: "run as this user (default: 65534, nobody)") { $0.user = Sourced($1, origin: $2) },
        Option(names: ["--group", "-g"], value: "GID|NAME", help: "run as this group (default: the user's)") { $0.group = Sourced($1, origin: $2) },
        Option(names: ["--groups"], value: "GID,...", help: "supplementary groups (default: none)") { o, v, s in
            o.groups += v.split(separator: ",").map { Sourced(String($0), origin: s) } },
        Option(names: ["--bind", "-R", "--bindmount-ro"], value: "SRC[:DST]", help: "bind a host path read-only (nodev, nosuid, not recursive)") { $0.binds.append(Sourced($1, origin: $2)) },
        Option(names: ["--bind-rw", "-B", "--bindmount"], value: "SRC[:DST]", help: "bind a host path writable (nodev, nosuid)") { $0.bindsWritable.append(Sourced($1, origin: $2)) },
        Option(names: ["--tmpfs", "-T", "--tmpfsmount"], value: "DST[:SIZE]", help: "a fresh tmpfs (default size 16M)") { $0.tmpfs.append(Sourced($1, origin: $2)) },
        Option(names: ["--no-default-binds"], value: nil, help: "without --chroot, do not bind /usr (and /bin, /lib... where real) read-only") { $0.defaultBinds = Sourced(false, origin: $2) },
        Option(names: ["--cwd", "-D"], value: "DIR", help: "working directory inside the jail (default /)") { $0.cwd = Sourced($1, origin: $2) },
        Option(names: ["--env", "-E"], value: "K=V|K", help: "set a variable (K alone copies it from Pit's environment); only PATH is set otherwise") { $0.env.append(Sourced($1, origin: $2)) },
        Option(names: ["--keep-caps", "--cap"], value: "CAP,...", help: "capabilities to keep (default: none)") { $0.keepCaps.append(Sourced($1, origin: $2)) },
        Option(names: ["--rlimit"], value: "NAME=SOFT[:HARD]", help: "a resource limit, e.g. nofile=64 or as=512M (core is 0 unless set)") { $0.rlimits.append(Sourced($1, origin: $2)) },
        Option(names: ["--memory-max", "--cgroup-mem-max"], value: "BYTES", help: "cgroup memory limit (e.g. 64M), swap included") { $0.memoryMax = Sourced($1, origin: $2) },
        Option(names: ["--pids-max", "--cgroup-pids-max"], value: "N", help: "cgroup limit on processes and threads") { $0.pidsMax = Sourced($1, origin: $2) },
        Option(names: ["--cpu-max"], value: "PERCENT", help: "cgroup CPU limit in percent of one CPU") { $0.cpuMax = Sourced($1, origin: $2) },
        Option(names: ["--time-limit", "-t"], value: "SECONDS", help: "kill the jail after this wall-clock time") { $0.timeLimit = Sourced($1, origin: $2) },
        Option(names: ["--userns"], value: nil, help: "new user namespace: root inside maps to unprivileged host ids 100000+") { $0.userns = Sourced(true, origin: $2) },
        Option(names: ["--userns-range-start"], value: "ID", help: "first host id of the --userns mapping (default 100000)") { $0.usernsRangeStart = Sourced($1, origin: $2) },
        Option(names: ["--landlock-read"], value: "PATH", help: "Landlock: the jail may read beneath PATH (jail path); any --landlock-* option turns Landlock on") { $0.landlockRead.append(Sourced($1, origin: $2)) },
        Option(names: ["--landlock-write"], value: "PATH", help: "Landlock: the jail may read and write beneath PATH") { $0.landlockWrite.append(Sourced($1, origin: $2)) },
        Option(names: ["--landlock-exec"], value: "PATH", help: "Landlock: the jail may read and execute beneath PATH") { $0.landlockExec.append(Sourced($1, origin: $2)) },
        Option(names: ["--landlock-bind-tcp"], value: "PORT[,PORT...]", help: "Landlock: TCP ports the jail may bind (none otherwise)") { $0.landlockBindTCP.append(Sourced($1, origin: $2)) },
        Option(names: ["--landlock-connect-tcp"], value: "PORT[,PORT...]", help: "Landlock: TCP ports the jail may connect to (none otherwise)") { $0.landlockConnectTCP.append(Sourced($1, origin: $2)) },
        Option(names: ["--low-ports"], value: "PORT[,PORT...]", help: "ports below 1024 a --userns jail binds in the host's network (lowers net.ipv4.ip_unprivileged_port_start)") { $0.lowPorts.append(Sourced($1, origin: $2)) },
        Option(names: ["--netns"], value: nil, help: "new network namespace (default: the host's network)") { $0.netns = Sourced(true, origin: $2) },
        Option(names: ["--utsns"], value: nil, help: "new UTS namespace (default: the host's hostname)") { $0.utsns = Sourced(true, origin: $2) },
        Option(names: ["--hostname", "-H"], value: "NAME", help: "hostname inside (needs --utsns)") { $0.hostname = Sourced($1, origin: $2) },
        Option(names: ["--seccomp-string"], value: "TEXT", help: "seccomp policy in kafel syntax") { $0.seccompString = Sourced($1, origin: $2) },
        Option(names: ["--policy", "-P", "--seccomp-policy"], value: "FILE", help: "seccomp policy file in kafel syntax") { $0.policyFile = Sourced($1, origin: $2) },
        Option(names: ["--events-json"], value: "PATH", help: "append each event (violations, the exit) to PATH, one JSON object per line") { _, _, _ in },
        // NsJail compatibility: its only mode here is "once"; logging flags have no equivalent.
        Option(names: ["-Mo", "--mode"], value: nil, help: "accepted for NsJail compatibility (Pit always runs once)") { _, _, _ in },
        Option(names: ["--quiet", "-Q", "--really-quiet"], value: nil, help: "accepted for NsJail compatibility") { _, _, _ in },
    ]

    static func main(_ arguments: [String]) -> Never {
        let cli: JailOptions
        let specFile: String?
        let eventsPath: String?
        switch parse(arguments) {
        case .help:
            print(usage())
            exit(0)
        case .failure(let message):
            fail(message)
        case .success(let options, let file, let events):
            cli = options
            specFile = file
            eventsPath = events
        }
        var options = cli
        if let specFile {
            do { options = try JailSpecFile.load(specFile).overridden(by: cli) } catch { fail(error.description) }
        }
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
        case success(JailOptions, specFile: String?, eventsPath: String?)
        case failure(String)
        case help
    }

    static func parse(_ arguments: [String]) -> Parsed {
        var options = JailOptions()
        var specFile: String?
        var eventsPath: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                options.command = Array(arguments[index...])
                break
            }
            if argument == "--help" || argument == "-h" { return .help }
            guard argument.hasPrefix("-") else {
                // NsJail also takes the command without "--" once options end.
                options.command = Array(arguments[(index - 1)...])
                break
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name.hasPrefix("--") {
                name = String(name.map { $0 == "_" ? "-" : $0 })   // NsJail's --rlimit_as is our --rlimit-as
            }
            if name == "--mode", inlineValue == nil, index < arguments.count, arguments[index] == "o" { index += 1; continue }
            if name.hasPrefix("--rlimit-"), let resource = Optional(String(name.dropFirst(9))), !resource.isEmpty {
                // NsJail's --rlimit_as VALUE and friends.
                guard let value = inlineValue ?? (index < arguments.count ? arguments[index] : nil) else {
                    return .failure("\(argument): needs a value")
                }
                if inlineValue == nil { index += 1 }
                options.rlimits.append(Sourced("\(resource)=\(value)", origin: argument))
                continue
            }
            guard let option = options_(named: name) else {
                let known = Self.options.flatMap(\.names).filter { $0.hasPrefix("--") }
                let hint = (Suggestion.completion(of: name, in: known) ?? Suggestion.closest(to: name, in: known)).map { " (did you mean \($0)?)" } ?? ""
                return .failure("unknown option \(argument)\(hint); see pit run --help")
            }
            if option.value == nil {
                guard inlineValue == nil else { return .failure("\(name) takes no value") }
                option.apply(&options, "", name)
                continue
            }
            guard let value = inlineValue ?? (index < arguments.count ? arguments[index] : nil) else {
                return .failure("\(name): needs a value (\(option.value!))")
            }
            if inlineValue == nil { index += 1 }
            if option.names.first == "--jail" { specFile = value; continue }
            if option.names.first == "--events-json" { eventsPath = value; continue }
            option.apply(&options, value, name)
        }
        return .success(options, specFile: specFile, eventsPath: eventsPath)
    }

    private static func options_(named name: String) -> Option? {
        options.first { $0.names.contains(name) }
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
            lines.append("  " + option.names.joined(separator: ", ") + (option.value.map { " " + $0 } ?? ""))
            lines += wrap(option.help, indent: 8)
        }
        lines.append("  --rlimit_NAME VALUE")
        lines += wrap("NsJail spelling of --rlimit NAME=VALUE", indent: 8)
        lines.append("")
        lines += wrap("Underscores in long options are accepted (--seccomp_string = --seccomp-string).", indent: 0)
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
        let names = options.flatMap(\.names).filter { $0.hasPrefix(prefix) && ($0.hasPrefix("--") || !prefix.hasPrefix("--")) }
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
        if let killer = violations.last(where: { $0.action == .kill && $0.pid > 0 }), case .signaled(SIGKILL, _) = outcome.ending {
            // A syscall through an architecture the filter does not accept says which one it was.
            let arch = killer.arch == policy?.arch.name ? "" : ", \(killer.arch)"
            warn("Bad system call: \(killer.syscall) (nr \(killer.nr)\(arch)) is not allowed by \(killer.policyFile): pid \(killer.pid) (\(Printable.escaped(killer.comm))) killed")
        }
        if case .signaled(SIGSYS, _) = outcome.ending, outcome.seccompKills.isEmpty {
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
