import CPitShim
import Glibc

/// The isolation sequence as the child will carry it out: a list of steps for CPitShim's child (child.c)
/// and the strings they name, each step carrying how the parent words its failure. Built in the parent
/// before clone, so the child runs no Swift: it shares the parent's memory until execve and only makes
/// raw syscalls.
struct ChildProgram {
    /// A place the child keeps an fd between steps.
    struct Slot: Equatable { var index: Int32 }

    /// How a failed step is worded, once the child has said which step failed and the errno.
    enum Failure: UInt32 {
        /// `what: where: error[: detail]`
        case plain
        /// A mountpoint walk (`where`): creating, a missing component in a read-only base, or a symlink refused.
        case mountpoint
        /// `what N: error`, N the capability the child reports.
        case capability
        /// FIND_PROGRAM / EXEC: s1 holds the candidates (n1 of them), the child reports the index;
        /// `where` is the bare name looked up in PATH, if it was.
        case program
        /// A seccomp load of the policy file `where`, or the listener never taken.
        case seccomp
    }

    private(set) var steps: [pit_step] = []
    var count: Int { steps.count }
    private(set) var strings: [UInt8] = []
    /// Which slots are in use, indexed by slot.
    private var used = [Bool](repeating: false, count: Int(PIT_CHILD_SLOTS))
    private(set) var slotsNeeded: Int32 = 0
    var argv: [String] = []
    var environment: [String] = []
    let channel: Int32

    init(channel: Int32) { self.channel = channel }

    // MARK: building

    /// Appends a step in child.c's raw layout. Only the typed builders below call it: each knows which of the
    /// positional fields its op reads, so the rest of PitJail never spells `n1`/`s2`.
    /// Strings are stored NUL-terminated; `bytes1` instead points s1 at raw bytes stored with `bytes`.
    private mutating func add(_ op: pit_op, slot: Slot? = nil, fd1: Slot? = nil, fd2: Slot? = nil,
                      s1: String? = nil, s2: String? = nil, s3: String? = nil, s4: String? = nil, bytes1: Int64? = nil,
                      n1: UInt64 = 0, n2: UInt64 = 0, n3: UInt64 = 0,
                      failure: Failure = .plain, step: String, path: String? = nil, detail: String? = nil) {
        var s = pit_step()
        s.op = op.rawValue
        s.slot = slot?.index ?? -1
        s.fd1 = fd1?.index ?? -1
        s.fd2 = fd2?.index ?? -1
        s.s1 = bytes1 ?? s1.map { string($0) } ?? -1
        s.s2 = s2.map { string($0) } ?? -1
        s.s3 = s3.map { string($0) } ?? -1
        s.s4 = s4.map { string($0) } ?? -1
        s.n1 = n1
        s.n2 = n2
        s.n3 = n3
        s.failure = failure.rawValue
        s.what = string(step)
        s.where = path.map { string($0) } ?? -1
        s.detail = detail.map { string($0) } ?? -1
        steps.append(s)
    }

    /// Raw bytes (a BPF program, a gid array) aligned for the child to read in place; returns their offset.
    private mutating func bytes(_ raw: [UInt8], alignment: Int = 8) -> Int64 {
        while strings.count % alignment != 0 { strings.append(0) }
        let offset = Int64(strings.count)
        strings.append(contentsOf: raw)
        return offset
    }

    /// A NUL-terminated string; returns its offset.
    private mutating func string(_ text: String) -> Int64 {
        let offset = Int64(strings.count)
        strings.append(contentsOf: text.utf8)
        strings.append(0)
        return offset
    }

    /// The lowest free slot.
    mutating func allocateSlot() -> Slot {
        if let free = used.firstIndex(of: false) {
            used[free] = true
            let index = Int32(free)
            slotsNeeded = max(slotsNeeded, index + 1)
            return Slot(index: index)
        }
        slotsNeeded = PIT_CHILD_SLOTS + 1   // the launcher refuses the program
        return Slot(index: PIT_CHILD_SLOTS)
    }

    /// Closes the slot's fd in the child and lets a later step reuse the slot.
    mutating func close(_ slot: Slot) {
        add(PIT_OP_CLOSE, fd1: slot, step: "close")
        guard slot.index >= 0 && slot.index < PIT_CHILD_SLOTS else { return }
        used[Int(slot.index)] = false
    }

    // MARK: reading the child's report

    /// The parent's wording of a failure the child reported.
    func error(for report: pit_child_failure) -> JailError {
        guard Int(report.step) < count else {
            return JailError("jail setup", errno: report.error, detail: "the child ran past its program")
        }
        let s = steps[Int(report.step)]
        let errno = report.error, sub = Int(report.sub)
        let what = text(at: s.what) ?? "jail setup", path = text(at: s.where), detail = text(at: s.detail)
        switch Failure(rawValue: s.failure) ?? .plain {
        case .plain:
            return JailError(what, path: path, errno: errno, detail: detail)
        case .mountpoint:
            switch report.sub {
            case Int32(PIT_SUB_MKDIR): return JailError("mkdir", path: path, errno: errno)
            case Int32(PIT_SUB_MISSING): return JailError("mountpoint", path: path, errno: errno, detail: "missing in the read-only chroot")
            default: return JailError("mountpoint", path: path, errno: errno)
            }
        case .capability:
            return JailError("\(what) \(sub)", errno: errno)
        case .program:
            if let path, what == "exec", errno == ENOENT {
                return JailError("exec", path: path, errno: ENOENT, detail: "not found in PATH inside the jail")
            }
            // The sub-th of the NUL-separated candidates.
            var candidate = s.s1
            for _ in 0..<sub where candidate >= 0 {
                while candidate < Int64(strings.count) && strings[Int(candidate)] != 0 { candidate += 1 }
                candidate += 1
            }
            return JailError(what, path: text(at: candidate) ?? path, errno: errno)
        case .seccomp:
            if report.sub == Int32(PIT_SUB_NOT_TAKEN) {
                return JailError("seccomp listener", detail: "Pit did not take it")
            }
            return JailError("seccomp load", path: path, errno: errno)
        }
    }

    private func text(at offset: Int64) -> String? {
        guard offset >= 0, offset < Int64(strings.count) else { return nil }
        var end = Int(offset)
        while end < strings.count && strings[end] != 0 { end += 1 }
        return String(decoding: strings[Int(offset)..<end], as: UTF8.self)
    }
}

/// The steps, one builder per op of child.c, each naming what its op reads. `step` and `path` are how the parent
/// words a failure (`step: path: error`).
extension ChildProgram {
    // MARK: file descriptors and the channel

    /// close(fd) of an fd the child inherited and must not keep (the parent's end of the channel).
    mutating func closeInherited(_ fd: Int32) {
        add(PIT_OP_CLOSE_FD, n1: UInt64(fd), step: "close")
    }

    /// Puts the launcher's `fd` on `target` (0-2) without close-on-exec: the jail's stdio.
    mutating func dup2(_ fd: Int32, onto target: Int32, step: String) {
        add(PIT_OP_DUP2, n1: UInt64(fd), n2: UInt64(target), step: step)
    }

    /// Lets `fd`, inherited from the launcher, survive execve: child.c's DUP2 onto itself clears close-on-exec.
    mutating func keepOpen(_ fd: Int32) {
        add(PIT_OP_DUP2, n1: UInt64(fd), n2: UInt64(fd), step: "keep fd \(fd)")
    }

    /// Marks every fd above 2 close-on-exec (close_range, or a walk of /proc/self/fd before Linux 5.11).
    mutating func closeAllOnExec() {
        add(PIT_OP_CLOSE_ALL_ON_EXEC, step: "close_range")
    }

    /// Reads the parent's byte; end-of-file (the parent is gone) ends the child quietly with status 1.
    mutating func awaitParent() {
        add(PIT_OP_AWAIT_PARENT, step: "await parent")
    }

    /// The channel at end-of-file means the parent died before the death signal was armed: exit 1 quietly.
    mutating func requireParentAlive() {
        add(PIT_OP_PARENT_ALIVE, step: "parent alive")
    }

    /// Tells the parent the lowest free fd, where the seccomp listener will land.
    mutating func announceListener() {
        add(PIT_OP_ANNOUNCE_LISTENER, step: "open", path: "/")
    }

    /// `slot` = the path opened with O_PATH (a directory when `directory`), under `base` when given;
    /// `noSymlinks`: no symlink anywhere in it is followed.
    mutating func open(_ path: String, into slot: Slot, directory: Bool = false, noSymlinks: Bool = false,
                       step: String, detail: String? = nil) {
        add(PIT_OP_OPEN, slot: slot, s1: path, n1: directory ? 1 : 0, n2: noSymlinks ? 1 : 0, step: step, path: path,
            detail: detail)
    }

    /// What a mountpoint walk finds or makes at its end.
    enum MountpointKind {
        case directory
        case file
        /// A directory when the source (an open slot) is one, else a file.
        case like(Slot)
    }

    /// `slot` = `path` walked under `root` one component at a time, no symlink followed; `create` makes what is
    /// missing.
    mutating func mountpoint(_ path: String, under root: Slot, kind: MountpointKind, create: Bool, into slot: Slot) {
        var mode = create ? PIT_MP_CREATE : 0
        var source: Slot?
        switch kind {
        case .directory: mode |= PIT_MP_DIRECTORY
        case .file: break
        case .like(let slot): mode |= PIT_MP_LIKE_SOURCE; source = slot
        }
        add(PIT_OP_MOUNTPOINT, slot: slot, fd1: root, fd2: source, s1: path, n1: UInt64(mode), failure: .mountpoint,
            step: "mountpoint", path: path)
    }

    // MARK: the file system

    /// Where a mount takes its source from.
    enum MountSource {
        case none
        /// A file system type's source name ("tmpfs", "proc").
        case name(String)
        /// An open slot, mounted through /proc/self/fd/N.
        case slot(Slot)
    }

    /// Where a mount lands.
    enum MountTarget {
        case path(String)
        /// An open slot (a mountpoint walk's result), through /proc/self/fd/N.
        case slot(Slot)
    }

    /// mount(2). `keepLockedFlags`: add the flags the target's mount already has (a user namespace locks them,
    /// and a remount dropping one is refused).
    mutating func mount(_ source: MountSource = .none, on target: MountTarget, type: String? = nil, data: String? = nil,
                        flags: Int, keepLockedFlags: Bool = false, step: String, path: String) {
        var sourceSlot: Slot?, sourceName: String?, targetSlot: Slot?, targetPath: String?
        switch source {
        case .none: break
        case .name(let name): sourceName = name
        case .slot(let slot): sourceSlot = slot
        }
        switch target {
        case .path(let path): targetPath = path
        case .slot(let slot): targetSlot = slot
        }
        add(PIT_OP_MOUNT, fd1: sourceSlot, fd2: targetSlot, s1: sourceName, s2: targetPath, s3: type, s4: data,
            n1: UInt64(flags), n2: keepLockedFlags ? 1 : 0, step: step, path: path)
    }

    /// umount2(path, flags).
    mutating func unmount(_ target: String, flags: Int32, step: String, path: String) {
        add(PIT_OP_UMOUNT, s1: target, n1: UInt64(flags), step: step, path: path)
    }

    /// pivot_root(".", "."): the current directory becomes the root, the old root stacked on it.
    mutating func pivotRoot(path: String) {
        add(PIT_OP_PIVOT_ROOT, step: "pivot_root", path: path)
    }

    mutating func chdir(_ path: String) {
        add(PIT_OP_CHDIR, s1: path, step: "chdir", path: path)
    }

    /// Creates the file `name` under `directory` (O_EXCL, never through a symlink) with `mode`.
    mutating func createFile(_ name: String, in directory: Slot, mode: UInt32, path: String) {
        add(PIT_OP_CREATE_FILE, fd1: directory, s1: name, n1: UInt64(mode), step: "create", path: path)
    }

    /// symlinkat(target, directory, name); `existingIsFine`: an entry already there is no error.
    mutating func symlink(_ name: String, to target: String, in directory: Slot, existingIsFine: Bool = false, path: String) {
        add(PIT_OP_SYMLINK, fd1: directory, s1: target, s2: name, n1: existingIsFine ? 1 : 0, step: "symlink", path: path)
    }

    /// A character device `name` under `directory`, mode 0666 whatever the umask.
    mutating func makeCharacterDevice(_ name: String, in directory: Slot, major: UInt64, minor: UInt64, path: String) {
        add(PIT_OP_MKNOD, fd1: directory, s1: name, n1: major, n2: minor, step: "mknod", path: path)
    }

    /// What guarding does to one name under /proc.
    enum ProcGuard {
        /// A read-only bind of itself.
        case readOnly
        /// /dev/null (the open slot) bound over a file, an empty read-only tmpfs over a directory.
        case mask(null: Slot)
    }

    /// Guards `name` under the procfs open at `proc`; a name the kernel lacks is left alone.
    mutating func guardProc(_ name: String, under proc: Slot, _ guarding: ProcGuard, step: String, path: String) {
        switch guarding {
        case .readOnly:
            add(PIT_OP_PROC_GUARD, fd1: proc, s1: name, n1: UInt64(PIT_PROC_READ_ONLY), step: step, path: path)
        case .mask(let null):
            add(PIT_OP_PROC_GUARD, fd1: proc, fd2: null, s1: name, n1: UInt64(PIT_PROC_MASK), step: step, path: path)
        }
    }

    // MARK: namespaces, credentials, limits

    mutating func unshare(_ flags: Int32, step: String) {
        add(PIT_OP_UNSHARE, n1: UInt64(flags), step: step)
    }

    mutating func setsid() {
        add(PIT_OP_SETSID, step: "setsid")
    }

    /// Brings up "lo" in a new network namespace.
    mutating func bringUpLoopback() {
        add(PIT_OP_LOOPBACK_UP, step: "bring up loopback", path: "lo")
    }

    mutating func setHostname(_ name: String) {
        add(PIT_OP_SETHOSTNAME, s1: name, n1: UInt64(name.utf8.count), step: "sethostname", path: name)
    }

    /// prctl(option, argument, 0, 0, 0).
    mutating func prctl(_ option: Int32, _ argument: UInt64, step: String) {
        add(PIT_OP_PRCTL, n1: UInt64(option), n2: argument, step: step)
    }

    /// setresgid(gid, gid, gid).
    mutating func setGroupID(_ gid: UInt32, step: String, path: String? = nil) {
        add(PIT_OP_SETRESGID, n1: UInt64(gid), step: step, path: path)
    }

    /// setresuid(uid, uid, uid).
    mutating func setUserID(_ uid: UInt32, step: String, path: String? = nil) {
        add(PIT_OP_SETRESUID, n1: UInt64(uid), step: step, path: path)
    }

    mutating func setGroups(_ groups: [UInt32]) {
        var gids: [UInt8] = []
        for gid in groups { withUnsafeBytes(of: gid) { gids += $0 } }
        let list = bytes(gids, alignment: 4)
        var shown = ""
        for gid in groups { shown += (shown.isEmpty ? "" : ",") + String(gid) }
        add(PIT_OP_SETGROUPS, bytes1: list, n1: UInt64(groups.count), step: "setgroups", path: shown)
    }

    /// PR_CAPBSET_DROP for every capability up to `lastCap` except those in `keep` (bit N: capability N).
    mutating func dropBoundingCapabilities(keeping keep: UInt64, lastCap: Int) {
        add(PIT_OP_DROP_BOUNDING, n1: keep, n2: UInt64(lastCap), failure: .capability, step: "drop bounding capability")
    }

    /// Effective, permitted and inheritable sets all become `keep`.
    mutating func setCapabilities(_ keep: UInt64) {
        add(PIT_OP_CAPSET, n1: keep & 0xffff_ffff, n2: keep >> 32, step: "capset")
    }

    /// PR_CAP_AMBIENT_RAISE for each capability in `keep`.
    mutating func raiseAmbientCapabilities(_ keep: UInt64) {
        add(PIT_OP_AMBIENT_RAISE, n1: keep, failure: .capability, step: "raise ambient capability")
    }

    /// prlimit(0, resource, {soft, hard}).
    mutating func setRlimit(_ resource: Int32, soft: UInt64, hard: UInt64, path: String) {
        add(PIT_OP_RLIMIT, n1: UInt64(resource), n2: soft, n3: hard, step: "setrlimit", path: path)
    }

    // MARK: Landlock

    /// `slot` = a ruleset handling these rights and scopes.
    mutating func landlockRuleset(into slot: Slot, filesystem: UInt64, network: UInt64, scopes: UInt64) {
        add(PIT_OP_LANDLOCK_RULESET, slot: slot, n1: filesystem, n2: network, n3: scopes, step: "landlock_create_ruleset")
    }

    /// `rights` beneath the jail path `path` (no symlink followed).
    mutating func landlockPath(_ path: String, rights: UInt64, in ruleset: Slot, step: String, detail: String) {
        add(PIT_OP_LANDLOCK_PATH, fd1: ruleset, s1: path, n1: rights, step: step, path: path, detail: detail)
    }

    mutating func landlockPort(_ port: UInt16, rights: UInt64, in ruleset: Slot, step: String) {
        add(PIT_OP_LANDLOCK_PORT, fd1: ruleset, n1: rights, n2: UInt64(port), step: step, path: String(port))
    }

    /// landlock_restrict_self: from here the jail is in the ruleset's domain.
    mutating func landlockRestrict(_ ruleset: Slot) {
        add(PIT_OP_LANDLOCK_RESTRICT, fd1: ruleset, step: "landlock_restrict_self")
    }

    // MARK: the filter and the program

    /// Loads `instructions` (BPF, `count` of them) with seccomp flags `flags`; with a listener flag, then waits
    /// for the parent's byte (it has copied the listener). `file` names the policy in errors.
    mutating func loadSeccomp(_ instructions: [UInt8], count: Int, flags: UInt64, file: String?) {
        let offset = bytes(instructions)
        add(PIT_OP_SECCOMP, bytes1: offset, n1: flags, n2: UInt64(count), failure: .seccomp, step: "seccomp load", path: file)
    }

    /// The program's candidate paths, NUL-separated, as FIND_PROGRAM and EXEC read them.
    struct Candidates {
        fileprivate let offset: Int64
        fileprivate let count: Int
        /// The bare name looked up in PATH, if it was.
        let searched: String?
    }

    /// Chooses the first of `paths` that access(X_OK) accepts inside the jail.
    mutating func findProgram(_ paths: [String], searched: String?) -> Candidates {
        var list: [UInt8] = []
        for path in paths { list += Array(path.utf8); list.append(0) }
        let candidates = Candidates(offset: bytes(list, alignment: 1), count: paths.count, searched: searched)
        add(PIT_OP_FIND_PROGRAM, bytes1: candidates.offset, n1: UInt64(paths.count), failure: .program, step: "exec",
            path: searched)
        return candidates
    }

    /// execve of the candidate FIND_PROGRAM chose, with `argv` and `environment`.
    mutating func exec(_ candidates: Candidates) {
        add(PIT_OP_EXEC, bytes1: candidates.offset, n1: UInt64(candidates.count), failure: .program, step: "execve",
            path: candidates.searched)
    }
}

/// The program laid out in one private mapping the child reads in place, with the child's stack below it
/// (and a guard page below that). The parent keeps it until the child has exec'd or been reaped.
final class ChildImage {
    private let base: UnsafeMutableRawPointer
    private let size: Int
    private let stackSize = 64 * 1024
    private let page = 4096

    /// Nil when the mapping cannot be made (errno says why). The caller checks `slotsNeeded` first.
    init?(_ program: ChildProgram) {
        // Layout after guard and stack: pit_program | steps | argv and envp pointers | strings | argv/env text
        var textBytes = 0
        for arg in program.argv { textBytes += arg.utf8.count + 1 }
        for variable in program.environment { textBytes += variable.utf8.count + 1 }
        let pointerCount = program.argv.count + program.environment.count + 2
        let header = (MemoryLayout<pit_program>.stride + 15) & ~15
        let stepsAt = page + stackSize + header
        let stepsSize = program.steps.count * MemoryLayout<pit_step>.stride
        let pointersAt = (stepsAt + stepsSize + 15) & ~15
        let stringsAt = (pointersAt + pointerCount * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride + 15) & ~15
        let textAt = stringsAt + program.strings.count
        size = (textAt + textBytes + page - 1) & ~(page - 1)
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        base = mapped
        mprotect(base, page, PROT_NONE)   // a runaway child stack faults instead of writing into the program

        program.steps.withUnsafeBytes { (base + stepsAt).copyMemory(from: $0.baseAddress!, byteCount: stepsSize) }
        program.strings.withUnsafeBytes { (base + stringsAt).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let pointers = (base + pointersAt).bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: pointerCount)
        var slot = 0, at = textAt
        func put(_ text: String) {
            pointers[slot] = (base + at).assumingMemoryBound(to: CChar.self)
            for byte in text.utf8 { (base + at).storeBytes(of: byte, as: UInt8.self); at += 1 }
            (base + at).storeBytes(of: 0, as: UInt8.self)
            at += 1
            slot += 1
        }
        for arg in program.argv { put(arg) }
        pointers[slot] = nil; slot += 1
        let envp = pointers + slot
        for variable in program.environment { put(variable) }
        pointers[slot] = nil

        let programHeader = (base + page + stackSize).bindMemory(to: pit_program.self, capacity: 1)
        programHeader.pointee = pit_program(
            steps: UnsafeRawPointer(base + stepsAt).assumingMemoryBound(to: pit_step.self), count: UInt32(program.count),
            strings: UnsafeRawPointer(base + stringsAt).assumingMemoryBound(to: CChar.self),
            argv: UnsafePointer(pointers), envp: UnsafePointer(envp), channel: program.channel)
    }

    /// clone(flags | CLONE_VM) into the child, or without CLONE_VM with `ownMemory`: a jail with a memory limit
    /// sits in its memory cgroup before it execs; a child sharing Pit's address space would be charged there and,
    /// at the limit, the OOM killer kills every process sharing the victim's memory: Pit itself (a jail with
    /// `memory_max = "4K"` once took the supervisor down). A copy costs page-table copying at the clone, and only
    /// such jails pay it. Returns its pid, or -1 with errno.
    func spawn(flags: Int32, ownMemory: Bool = false) -> pid_t {
        let program = UnsafeRawPointer(base + page + stackSize).assumingMemoryBound(to: pit_program.self)
        let share: UInt = ownMemory ? 0 : UInt(CLONE_VM)
        return pit_child_spawn(program, UInt(UInt32(bitPattern: flags)) | share, base + page, stackSize)
    }

    deinit { munmap(base, size) }
}
