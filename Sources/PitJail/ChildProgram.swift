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

    /// Appends a step. Strings are stored NUL-terminated; `bytes1` instead points s1 at raw bytes stored with `bytes`.
    mutating func add(_ op: pit_op, slot: Slot? = nil, fd1: Slot? = nil, fd2: Slot? = nil,
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
    mutating func bytes(_ raw: [UInt8], alignment: Int = 8) -> Int64 {
        while strings.count % alignment != 0 { strings.append(0) }
        let offset = Int64(strings.count)
        strings.append(contentsOf: raw)
        return offset
    }

    /// A NUL-terminated string; returns its offset.
    mutating func string(_ text: String) -> Int64 {
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
