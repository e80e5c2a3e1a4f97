import CPitShim
import Glibc
import PitPolicy

/// Runs in the cloned child — PID 1 of the jail's PID namespace — and ends in execve.
/// The whole isolation sequence, top to bottom. The process is single-threaded (the launcher checks),
/// so plain Swift is safe here. Any failure is written to `channel` as `step: path: error`, exit status 2.
func enterJail(_ spec: JailSpec, policy: CompiledPolicy?, channel: Int32) -> Never {
    do throws(JailError) {
        try Signals.restoreDefaults()
        try Lifeline.awaitParent(channel)                // parent has attached our cgroup and written id maps
        try spec.namespaces.enterUserNamespace()
        try Namespaces.unshareCgroup()                   // our cgroup becomes the root of the jail's view
        try Mounts.makePrivate()
        try Mounts.build(spec.root)                      // tmpfs or read-only chroot, binds, /proc, /dev
        try Mounts.pivot()                               // old root detached
        try spec.namespaces.configureHost()              // loopback up / hostname, when those are private
        try Session.detach()                             // setsid: no controlling terminal (TIOCSTI)
        try spec.limits.applyRlimits()                   // before dropping CAP_SYS_RESOURCE
        try spec.credentials.apply()                     // bounding set, groups, gid, uid, capabilities
        try Lifeline.dieWithParent(channel)              // after setresuid, which clears the death signal
        try Privileges.forbidNewPrivileges()
        let program = try Exec.prepare(spec)             // resolve the command inside the jail, chdir
        try Descriptors.closeAllOnExec()                 // every fd but 0-2 is gone at execve
        try loadPolicy(policy, channel: channel)         // last: nothing after it may need a forbidden syscall
        Exec.replace(with: program, channel: channel)    // never returns
    } catch {
        Lifeline.report(error, channel)
        _exit(2)
    }
}

/// Loads the filter. With a listener (violations reported to Pit), the parent must take the listener
/// before execve closes it: the child announces the fd number it will get (the lowest free one) while it can
/// still talk freely, loads, then waits for the parent's word. Whatever it does in between is answered by
/// the parent, which lets its init's pre-exec syscalls through.
private func loadPolicy(_ policy: CompiledPolicy?, channel: Int32) throws(JailError) {
    guard let policy else { return }
    if policy.needsListener {
        let probe = open("/", PIT_O_PATH | O_CLOEXEC)
        guard probe >= 0 else { throw .sys("open", "/") }
        close(probe)
        Lifeline.send("L\(probe)", channel)
    }
    let listener: Int32
    do { listener = try policy.load() } catch {
        throw JailError("seccomp load", path: policy.file, errno: error.errno)
    }
    if listener >= 0 {
        // "Loaded": lets the parent take the listener without spinning. If the policy reports sends, this
        // one waits in the listener queue instead, which also tells the parent the load is done.
        Lifeline.send("K", channel)
        var byte: UInt8 = 0
        guard read(channel, &byte, 1) == 1 else { throw JailError("seccomp listener", detail: "Pit did not take it") }
    }
}

enum Namespaces {
    static func unshareCgroup() throws(JailError) {
        guard pit_unshare(Int32(CLONE_NEWCGROUP)) == 0 else { throw .sys("unshare cgroup namespace") }
    }
}

enum Signals {
    /// The launcher blocks signals before clone; the jail must start with none blocked or ignored.
    static func restoreDefaults() throws(JailError) {
        for sig in Int32(1)..<32 where sig != SIGKILL && sig != SIGSTOP {
            signal(sig, SIG_DFL)
        }
        var none = sigset_t()
        sigemptyset(&none)
        guard pthread_sigmask(SIG_SETMASK, &none, nil) == 0 else { throw .sys("sigprocmask") }
    }
}

enum Session {
    /// A new session has no controlling terminal, so TIOCSTI cannot push keystrokes into the caller's shell.
    static func detach() throws(JailError) {
        guard setsid() >= 0 else { throw .sys("setsid") }
    }
}

enum Descriptors {
    /// Marks every descriptor above 2 close-on-exec: the setup channel keeps working until the very execve,
    /// and nothing Pit holds (watchdog, spool, control socket) can reach the jail.
    static func closeAllOnExec() throws(JailError) {
        if pit_close_range(3, UInt32.max, UInt32(CLOSE_RANGE_CLOEXEC)) == 0 { return }
        guard errno == ENOSYS || errno == EINVAL else { throw .sys("close_range") }
        // Kernels before 5.11: walk /proc/self/fd (the jail's own /proc is mounted by now).
        guard let dir = opendir("/proc/self/fd") else { throw .sys("opendir", "/proc/self/fd") }
        defer { closedir(dir) }
        let own = dirfd(dir)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name), fd > 2, fd != own else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }
}

/// The parent–child channel: a SOCK_SEQPACKET pair. The parent sends one byte when the child may proceed;
/// the child sends an error line if a step fails; end-of-file at the parent means the exec happened.
enum Lifeline {
    static func awaitParent(_ channel: Int32) throws(JailError) {
        var byte: UInt8 = 0
        while true {
            let n = read(channel, &byte, 1)
            if n == 1 { return }
            if n < 0 && errno == EINTR { continue }
            _exit(1)  // the parent is gone before it let us start: nothing to report to
        }
    }

    static func dieWithParent(_ channel: Int32) throws(JailError) {
        guard pit_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0) == 0 else { throw .sys("prctl PR_SET_PDEATHSIG") }
        // If the parent died before the line above, the signal will never come: check the channel instead.
        var byte: UInt8 = 0
        if recv(channel, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0 { _exit(1) }
    }

    static func report(_ error: JailError, _ channel: Int32) {
        send("E" + error.description, channel)
    }

    static func send(_ text: String, _ channel: Int32) {
        _ = text.withCString { Glibc.send(channel, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}

/// The command, resolved inside the jail before the filter is loaded (so a missing binary is a setup error,
/// not an execve the policy might kill).
struct Program {
    var path: String
    var argv: [UnsafeMutablePointer<CChar>?]
    var envp: [UnsafeMutablePointer<CChar>?]
}

enum Exec {
    static func prepare(_ spec: JailSpec) throws(JailError) -> Program {
        guard chdir(spec.cwd) == 0 else { throw .sys("chdir", spec.cwd) }
        let name = spec.command[0]
        var path = name
        if !name.contains("/") {
            let search = spec.environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
            guard let found = search.split(separator: ":").map({ (dir: Substring) -> String in "\(dir)/\(name)" }).first(where: { (candidate: String) -> Bool in access(candidate, X_OK) == 0 }) else {
                throw JailError("exec", path: name, errno: ENOENT, detail: "not found in PATH inside the jail")
            }
            path = found
        }
        guard access(path, X_OK) == 0 else { throw .sys("exec", path) }
        return Program(path: path, argv: spec.command.map { strdup($0) } + [nil], envp: spec.environment.map { strdup($0) } + [nil])
    }

    static func replace(with program: Program, channel: Int32) -> Never {
        var argv = program.argv, envp = program.envp
        execve(program.path, &argv, &envp)
        Lifeline.report(.sys("execve", program.path), channel)
        _exit(2)
    }
}
