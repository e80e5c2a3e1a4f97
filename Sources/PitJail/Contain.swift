import CPitShim
import Glibc
import PitPolicy

/// The whole isolation sequence of a jail, top to bottom: what its init — PID 1 of the new PID namespace —
/// does between clone and execve. Built here as a program of steps and carried out by CPitShim's child
/// (child.c) with raw syscalls, so the child copies nothing of Pit's memory and runs no Swift. Before the
/// first step the child resets every signal to its default and unblocks them all. A failing step stops
/// the child with exit status 2 and is reported to the parent, which words it as `step: path: error`.
func isolationProgram(_ spec: JailSpec, policy: CompiledPolicy?, channel: Int32, parentEnd: Int32,
                       streams: StandardStreams? = nil) -> ChildProgram {
    var program = ChildProgram(channel: channel)
    let inUserNamespace = spec.namespaces.userRangeStart != nil
    Lifeline.dropParentEnd(parentEnd, &program)          // so the child sees the parent's death as end-of-file
    if inUserNamespace {
        Lifeline.awaitParent(&program)                   // id maps written: needed before any file is made
    }
    spec.namespaces.enterUserNamespace(&program)
    Mounts.makePrivate(&program)
    Mounts.build(spec.root, deviceNodes: !inUserNamespace, &program)   // tmpfs or read-only chroot, binds, /proc, /dev
    Mounts.pivot(&program)                               // old root detached
    if !inUserNamespace {
        Lifeline.awaitParent(&program)                   // parent has attached our cgroup (it worked meanwhile)
    }
    Namespaces.unshareCgroup(&program)                   // our cgroup becomes the root of the jail's view
    spec.namespaces.configureHost(&program)              // loopback up / hostname, when those are private
    Session.detach(&program)                             // setsid: no controlling terminal (TIOCSTI)
    spec.limits.applyRlimits(&program)                   // before dropping CAP_SYS_RESOURCE
    spec.credentials.apply(&program)                     // bounding set, groups, gid, uid, capabilities
    Lifeline.dieWithParent(&program)                     // after setresuid, which clears the death signal
    Privileges.forbidNewPrivileges(&program)
    announceListener(policy, &program)                   // a little ahead: the parent is awake by the load
    let command = Exec.prepare(spec, &program)           // resolve the command inside the jail, chdir
    Descriptors.redirect(streams, &program)              // the jail's 0-2, when the launcher gives its own
    Descriptors.closeAllOnExec(&program)                 // every fd but 0-2 is gone at execve
    Descriptors.keep(spec.passedFDs, &program)           // ...but those the caller passes (NsJail's --pass_fd)
    spec.landlock?.apply(&program)                       // after no_new_privs; paths as the jail sees them
    loadPolicy(policy, &program)                         // last: nothing after it may need a forbidden syscall
    Exec.replace(&program, command)
    return program
}

/// With a listener (violations reported to Pit), the parent must take the listener before execve closes it.
/// The child announces the fd number it will get: the lowest free one, which stays free from here (every fd
/// the mounts used is closed, and nothing opened later stays open). Announced a few steps before the load,
/// the parent is awake and polling for the listener by the time it exists, so the load does not wait for a
/// wake-up (on this kind of VM each costs 35-150 microseconds); not much earlier, since the parent polls
/// with syscalls until then (announced right after pivot_root, its polling took 18% of its kernel time).
private func announceListener(_ policy: CompiledPolicy?, _ program: inout ChildProgram) {
    guard let policy, policy.needsListener else { return }
    program.announceListener()
}

/// Loads the filter; with a listener, then waits for the parent's byte (it holds the listener). Whatever the
/// child does in between is answered by the parent, which lets its init's pre-exec syscalls through.
private func loadPolicy(_ policy: CompiledPolicy?, _ program: inout ChildProgram) {
    guard let policy else { return }
    let flags: UInt64 = policy.needsListener ? UInt64(CompiledPolicy.flagNewListener) : 0
    program.loadSeccomp(policy.program, count: policy.instructionCount, flags: flags, file: policy.file)
}

enum Namespaces {
    static func unshareCgroup(_ program: inout ChildProgram) {
        program.unshare(CLONE_NEWCGROUP, step: "unshare cgroup namespace")
    }
}

enum Session {
    /// A new session has no controlling terminal, so TIOCSTI cannot push keystrokes into the caller's shell.
    static func detach(_ program: inout ChildProgram) {
        program.setsid()
    }
}

/// The fds a jail gets as its stdin, stdout and stderr, held open by the launcher (the child inherits them at
/// clone and puts them in place before execve). Without one, the jail shares the launcher's own 0-2, as under
/// `pit run` (like NsJail); `pit supervise` gives /dev/null and a pipe it drains, so no jail can reach the
/// supervisor's terminal or block its log. Each fd must be above 2 or already the one it stands for: the
/// child puts them in place in order, and a lower one could be overwritten before it is used.
public struct StandardStreams: Sendable, Equatable {
    public var input: Int32
    public var output: Int32
    public var error: Int32

    public init(input: Int32, output: Int32, error: Int32) {
        self.input = input
        self.output = output
        self.error = error
    }

    var valid: Bool {
        [(input, 0), (output, 1), (error, 2)].allSatisfy { fd, target in fd > 2 || fd == target }
    }
}

enum Descriptors {
    /// dup3 of each stream onto 0, 1, 2: those copies are not close-on-exec, the originals are made so next.
    static func redirect(_ streams: StandardStreams?, _ program: inout ChildProgram) {
        guard let streams else { return }
        for (fd, target, name) in [(streams.input, Int32(0), "stdin"), (streams.output, 1, "stdout"), (streams.error, 2, "stderr")] {
            program.dup2(fd, onto: target, step: "dup2 \(name)")
        }
    }

    /// Descriptors the caller handed to `pit run` and asked the jail to keep: they survive execve. Checked open
    /// before Pit opened anything of its own (RunCommand), so the number is the caller's file, not Pit's.
    static func keep(_ fds: [Int32], _ program: inout ChildProgram) {
        for fd in fds {
            program.keepOpen(fd)
        }
    }

    /// Marks every descriptor above 2 close-on-exec: the setup channel keeps working until the very execve,
    /// and nothing Pit holds (watchdog, spool, control socket) can reach the jail. Kernels before 5.11 have
    /// no close_range: the child walks the jail's /proc/self/fd instead.
    static func closeAllOnExec(_ program: inout ChildProgram) {
        program.closeAllOnExec()
    }
}

/// The parent–child channel: a SOCK_SEQPACKET pair. The parent sends one byte when the child may go on;
/// the child reports a failed step; end-of-file at the parent means the exec happened.
enum Lifeline {
    static func dropParentEnd(_ fd: Int32, _ program: inout ChildProgram) {
        program.closeInherited(fd)
    }

    /// Waits for the parent's byte; if the parent is gone first, the child exits quietly with status 1.
    static func awaitParent(_ program: inout ChildProgram) {
        program.awaitParent()
    }

    static func dieWithParent(_ program: inout ChildProgram) {
        program.prctl(PR_SET_PDEATHSIG, UInt64(SIGKILL), step: "prctl PR_SET_PDEATHSIG")
        // If the parent died before the line above, the signal will never come: the channel tells instead.
        program.requireParentAlive()
    }
}

enum Exec {
    /// The command is resolved inside the jail before the filter is loaded, so a missing binary is a setup
    /// error, not an execve the policy might kill.
    static func prepare(_ spec: JailSpec, _ program: inout ChildProgram) -> ChildProgram.Candidates {
        program.chdir(spec.cwd)
        let (paths, searched) = candidates(spec)
        let chosen = program.findProgram(paths, searched: searched)
        program.argv = spec.command
        program.environment = spec.environment
        return chosen
    }

    /// The candidates FIND_PROGRAM searched are where EXEC's failure finds the path it tried.
    static func replace(_ program: inout ChildProgram, _ candidates: ChildProgram.Candidates) {
        program.exec(candidates)
    }

    /// The paths to try: the command itself when it names a path, else each PATH directory inside the jail.
    static func candidates(_ spec: JailSpec) -> (paths: [String], searched: String?) {
        let name = spec.executable ?? spec.command[0]
        if name.utf8.contains(UInt8(ascii: "/")) { return ([name], nil) }
        let search = spec.environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        var paths: [String] = []
        for directory in search.split(separator: ":") { paths.append("\(directory)/\(name)") }
        return (paths, name)
    }
}
