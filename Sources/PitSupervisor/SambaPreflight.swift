import CPitShim
import Glibc
import PitJail
import PitProcess

/// Checks, before an smbd jail starts, that the installed Samba can serve the smb.conf the jail is given.
/// Without it, a missing VFS module (no samba-vfs-modules: `vfs objects = full_audit`) shows only as smbd
/// refusing every tree connect, with nothing in any log saying why. So the `vfs objects` the config names
/// must each be built into smbd or be a module in its MODULESDIR/vfs, and `testparm` must accept the file;
/// otherwise the jail is not started and the reason is one line.
///
/// Both run programs synchronously from the event loop: `smbd -b` once per smbd binary for the life of the
/// supervisor, `testparm` once per distinct smb.conf text (about 25-100 ms each, at start and after a
/// reload changes the file), with a hard deadline so a hung helper cannot hold the loop.
final class SambaPreflight {
    struct Build {
        var modulesDirectory: String
        /// Modules linked into smbd ("vfs_default" ...): they have no file.
        var builtin: Set<String>
    }
    private var builds: [String: Build?] = [:]
    private var acceptedConfigs: Set<String> = []
    var testparm = "/usr/bin/testparm"
    static let helperDeadlineMs: Int32 = 5000

    /// nil when the jail may start (or is not an smbd jail, or its smb.conf is not a bind to look at).
    func problem(for spec: JailSpec) -> String? {
        guard let program = spec.command.first, program.split(separator: "/").last == "smbd" else { return nil }
        // nmbd reads the same smb.conf but loads no VFS modules: only smbd is checked.
        guard let file = Self.hostPath(of: Self.configFile(in: spec.command), in: spec.root), let text = readText(file) else { return nil }
        let modules = Self.vfsObjects(in: text)
        if !modules.isEmpty, let build = build(of: program) {
            for module in modules where !build.builtin.contains("vfs_" + module) {
                let path = module.contains("/") ? module : build.modulesDirectory + "/vfs/" + module + ".so"
                if access(path, F_OK) != 0 {
                    return "smbd: vfs module '\(module)' not found in \(build.modulesDirectory)/vfs (install samba-vfs-modules)"
                }
            }
        }
        guard !acceptedConfigs.contains(text), access(testparm, X_OK) == 0 else { return nil }
        let result = Self.run([testparm, "-s", "--suppress-prompt", file])
        if let complaint = Self.testparmComplaint(status: result.status, output: result.output, root: spec.root) {
            return "smbd: testparm rejects \(file): \(complaint)"
        }
        acceptedConfigs.insert(text)
        return nil
    }

    /// What testparm found wrong, or nil. testparm runs on the host but the paths in smb.conf are the jail's
    /// (/data/state...), so its "ERROR: state directory /data/state does not exist" is looked at again through
    /// the jail's binds: only a directory missing in the jail's view too is a complaint.
    static func testparmComplaint(status: Int32, output: String, root: RootSpec) -> String? {
        guard status != 0 else { return nil }
        var complaints: [String] = []
        for line in output.split(separator: "\n").map({ String($0).trimmingCharacters() }) {
            if line.hasPrefix("ERROR:"), let missing = missingDirectory(in: line) {
                var st = stat()
                if let host = hostPath(of: missing, in: root), stat(host, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { continue }
                complaints.append(line + " (in the jail)")
            } else if line.hasPrefix("ERROR") || line.hasPrefix("Error") || line.hasPrefix("Unknown") {
                complaints.append(line)
            }
        }
        if complaints.isEmpty && output.contains("Loaded services file OK.") { return nil }
        return complaints.isEmpty ? "exit status \(status)" : complaints.prefix(2).joined(separator: "; ")
    }

    /// The path of testparm's "ERROR: state directory /data/state does not exist".
    static func missingDirectory(in line: String) -> String? {
        guard line.hasSuffix(" does not exist"), let range = line.firstRange(of: " directory /") else { return nil }
        return String(line[line.index(before: range.upperBound)...].dropLast(" does not exist".count))
    }

    /// MODULESDIR and the built-in modules, from `smbd -b` (nil when it cannot be asked: then modules are
    /// not checked, and testparm and smbd itself still are).
    func build(of program: String) -> Build? {
        if let known = builds[program] { return known }
        let output = Self.run([program, "-b"]).output
        var build: Build?
        let lines = output.split(separator: "\n").map { String($0).trimmingCharacters() }
        if let line = lines.first(where: { $0.hasPrefix("MODULESDIR:") }) {
            var builtin: Set<String> = []
            if let start = lines.firstIndex(of: "Builtin modules:"), start + 1 < lines.count {
                builtin = Set(lines[start + 1].split(separator: " ").map(String.init))
            }
            build = Build(modulesDirectory: String(line.dropFirst("MODULESDIR:".count)).trimmingCharacters(), builtin: builtin)
        }
        builds[program] = build
        return build
    }

    /// smbd's config file inside the jail: `--configfile=F`, `--configfile F`, `-s F`, else Samba's default.
    static func configFile(in command: [String]) -> String {
        for (index, argument) in command.enumerated() {
            if argument.hasPrefix("--configfile=") { return String(argument.dropFirst("--configfile=".count)) }
            if argument == "--configfile" || argument == "-s", index + 1 < command.count { return command[index + 1] }
        }
        return "/etc/samba/smb.conf"
    }

    /// Where the host keeps the file the jail sees at `path`: the bind that covers it (the last one mounted
    /// wins), else the chroot's copy, else nil (a file of the jail's own tmpfs).
    static func hostPath(of path: String, in root: RootSpec) -> String? {
        for case .bind(let source, let destination, _) in root.mounts.reversed() {
            if path == destination { return source }
            if path.hasPrefix(destination + "/") { return source + path.dropFirst(destination.count) }
        }
        return root.chroot.map { $0 + path }
    }

    /// The modules of every `vfs objects` line (Samba ignores case and spaces in parameter names and takes
    /// `vfs object` as a synonym; values are separated by spaces or commas).
    static func vfsObjects(in conf: String) -> [String] {
        var modules: [String] = []
        for line in conf.split(separator: "\n") {
            let trimmed = String(line).trimmingCharacters()
            guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals]).lowercased().filter { $0 != " " && $0 != "\t" }
            guard key == "vfsobjects" || key == "vfsobject" else { continue }
            let value = trimmed[trimmed.index(after: equals)...]
            let names = value.split(whereSeparator: { (c: Character) -> Bool in c == " " || c == "," || c == "\t" }).map(String.init)
            for name in names where !modules.contains(name) { modules.append(name) }
        }
        return modules
    }

    /// Runs `argv` with stdin /dev/null and stdout and stderr captured together; killed after the deadline.
    static func run(_ argv: [String]) -> (status: Int32, output: String) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { return (-1, String(cString: strerror(errno))) }
        // Close-on-exec on both ends (pipe2 is GNU-only in Swift's Glibc; nothing else spawns meanwhile: one
        // thread): the helper gets the write end as its stdout and stderr only, and no jail ever inherits them.
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        // The supervisor blocks the signals it reads from its signalfd; the helper must not inherit that.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard spawned == 0 else { return (-1, "\(argv[0]): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = monotonicMilliseconds() + Int64(helperDeadlineMs)
        while true {
            let left = deadline - monotonicMilliseconds()
            var poller = pollfd(fd: pipeFDs[0], events: Int16(POLLIN), revents: 0)
            let ready = left > 0 ? poll(&poller, 1, Int32(left)) : 0
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { kill(pid, SIGKILL); break }
            let n = read(pipeFDs[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count < 65536 { output.append(contentsOf: buffer[0..<n]) }
        }
        // The end of its output is not its exit: one that closed stdout and stderr and hangs is killed at the
        // same deadline, or the blocking waitpid below would hold the loop until the watchdog resets the board.
        let pidfd = pit_pidfd_open(pid, 0)
        if pidfd >= 0 {
            var exited = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while true {
                let left = deadline - monotonicMilliseconds()
                let ready = left > 0 ? poll(&exited, 1, Int32(left)) : 0
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { kill(pid, SIGKILL) }
                break
            }
            close(pidfd)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: output, as: UTF8.self))
    }
}
