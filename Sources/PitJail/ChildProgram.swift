import CPitShim
import Glibc

/// The isolation sequence as the child will carry it out: a list of steps for CPitShim's child (child.c),
/// the strings they name, and for each step how to word its failure. Built in the parent before clone,
/// so the child runs no Swift: it shares the parent's memory until execve and only makes raw syscalls.
struct ChildProgram {
    /// A place the child keeps an fd between steps.
    struct Slot: Equatable { var index: Int32 }

    /// How a failed step is worded, once the child has said which step failed and the errno.
    enum Failure {
        case plain(step: String, path: String?, detail: String?)
        /// A mountpoint walk: creating, a missing component in a read-only base, or refusing a symlink.
        case mountpoint(path: String)
        /// The sub-code is the capability number.
        case capability(String)
        /// FIND_PROGRAM / EXEC: the sub-code is the candidate's index; `searched` is the bare name looked up in PATH.
        case program(step: String, candidates: [String], searched: String?)
        case seccomp(file: String)
    }

    private(set) var steps: [pit_step] = []
    private(set) var strings: [UInt8] = []
    private var failures: [Failure] = []
    private var freeSlots: [Int32] = []
    private var nextSlot: Int32 = 0
    var argv: [String] = []
    var environment: [String] = []
    let channel: Int32

    init(channel: Int32) { self.channel = channel }

    // MARK: building

    mutating func add(_ op: pit_op, slot: Slot? = nil, fd1: Slot? = nil, fd2: Slot? = nil,
                      s1: String? = nil, s2: String? = nil, s3: String? = nil, s4: String? = nil,
                      n1: UInt64 = 0, n2: UInt64 = 0, n3: UInt64 = 0, failure: Failure) {
        var step = pit_step()
        step.op = op.rawValue
        step.slot = slot?.index ?? -1
        step.fd1 = fd1?.index ?? -1
        step.fd2 = fd2?.index ?? -1
        step.s1 = s1.map { string($0) } ?? -1
        step.s2 = s2.map { string($0) } ?? -1
        step.s3 = s3.map { string($0) } ?? -1
        step.s4 = s4.map { string($0) } ?? -1
        step.n1 = n1
        step.n2 = n2
        step.n3 = n3
        steps.append(step)
        failures.append(failure)
    }

    /// A step whose failure reads `step: path: error`.
    mutating func add(_ op: pit_op, slot: Slot? = nil, fd1: Slot? = nil, fd2: Slot? = nil,
                      s1: String? = nil, s2: String? = nil, s3: String? = nil, s4: String? = nil,
                      n1: UInt64 = 0, n2: UInt64 = 0, n3: UInt64 = 0, step: String, path: String? = nil) {
        add(op, slot: slot, fd1: fd1, fd2: fd2, s1: s1, s2: s2, s3: s3, s4: s4, n1: n1, n2: n2, n3: n3,
            failure: .plain(step: step, path: path, detail: nil))
    }

    /// Points a step's first string argument at raw bytes stored with `bytes`.
    mutating func setOffset(of step: Int, s1 offset: Int64) {
        steps[step].s1 = offset
    }

    /// Raw bytes (a BPF program, a gid array) aligned for the child to read in place; returns their offset.
    mutating func bytes(_ raw: [UInt8], alignment: Int = 8) -> Int64 {
        while strings.count % alignment != 0 { strings.append(0) }
        let offset = Int64(strings.count)
        strings += raw
        return offset
    }

    /// A NUL-terminated string; returns its offset.
    mutating func string(_ text: String) -> Int64 {
        let offset = Int64(strings.count)
        strings += Array(text.utf8)
        strings.append(0)
        return offset
    }

    mutating func allocateSlot() -> Slot {
        if let index = freeSlots.popLast() { return Slot(index: index) }
        nextSlot += 1
        return Slot(index: nextSlot - 1)
    }

    /// Closes the slot's fd in the child and lets a later step reuse the slot.
    mutating func close(_ slot: Slot) {
        add(PIT_OP_CLOSE, fd1: slot, step: "close")
        freeSlots.append(slot.index)
    }

    var slotsNeeded: Int32 { nextSlot }

    // MARK: reading the child's report

    /// The parent's wording of a failure the child reported.
    func error(for failure: pit_child_failure) -> JailError {
        guard Int(failure.step) < failures.count else {
            return JailError("jail setup", errno: failure.error, detail: "the child ran past its program")
        }
        let errno = failure.error, sub = Int(failure.sub)
        switch failures[Int(failure.step)] {
        case .plain(let step, let path, let detail):
            return JailError(step, path: path, errno: errno, detail: detail)
        case .mountpoint(let path):
            switch failure.sub {
            case Int32(PIT_SUB_MKDIR): return JailError("mkdir", path: path, errno: errno)
            case Int32(PIT_SUB_MISSING): return JailError("mountpoint", path: path, errno: errno, detail: "missing in the read-only chroot")
            default: return JailError("mountpoint", path: path, errno: errno)
            }
        case .capability(let step):
            return JailError("\(step) \(sub)", errno: errno)
        case .program(let step, let candidates, let searched):
            if let searched, step == "exec", errno == ENOENT {
                return JailError("exec", path: searched, errno: ENOENT, detail: "not found in PATH inside the jail")
            }
            let path = sub < candidates.count ? candidates[sub] : searched
            return JailError(step, path: path, errno: errno)
        case .seccomp(let file):
            if failure.sub == Int32(PIT_SUB_NOT_TAKEN) {
                return JailError("seccomp listener", detail: "Pit did not take it")
            }
            return JailError("seccomp load", path: file, errno: errno)
        }
    }
}

/// The program laid out in one private mapping the child reads in place, with the child's stack below it
/// (and a guard page below that). The parent keeps it until the child has exec'd or been reaped.
final class ChildImage {
    private let base: UnsafeMutableRawPointer
    private let size: Int
    private let stackSize = 64 * 1024
    private let page = 4096

    init?(_ program: ChildProgram) {
        guard program.slotsNeeded <= PIT_CHILD_SLOTS else { return nil }
        let stepBytes = program.steps.count * MemoryLayout<pit_step>.stride
        let pointerCount = program.argv.count + program.environment.count + 2
        // Layout after guard and stack: pit_program | steps | pointer arrays | strings | argv/env text
        var text: [UInt8] = []
        var argvOffsets: [Int] = [], envOffsets: [Int] = []
        for arg in program.argv { argvOffsets.append(text.count); text += Array(arg.utf8); text.append(0) }
        for variable in program.environment { envOffsets.append(text.count); text += Array(variable.utf8); text.append(0) }
        let header = (MemoryLayout<pit_program>.stride + 15) & ~15
        let stepsAt = page + stackSize + header
        let pointersAt = (stepsAt + stepBytes + 15) & ~15
        let stringsAt = (pointersAt + pointerCount * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride + 15) & ~15
        let textAt = stringsAt + program.strings.count
        size = (textAt + text.count + page - 1) & ~(page - 1)
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        base = mapped
        mprotect(base, page, PROT_NONE)   // a runaway child stack faults instead of writing into the program

        let steps = (base + stepsAt).bindMemory(to: pit_step.self, capacity: max(1, program.steps.count))
        program.steps.withUnsafeBufferPointer { steps.update(from: $0.baseAddress!, count: $0.count) }
        program.strings.withUnsafeBytes { (base + stringsAt).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        text.withUnsafeBytes { (base + textAt).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let pointers = (base + pointersAt).bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: pointerCount)
        let textBase = (base + textAt).assumingMemoryBound(to: CChar.self)
        var at = 0
        for offset in argvOffsets { pointers[at] = textBase + offset; at += 1 }
        pointers[at] = nil; at += 1
        let envp = pointers + at
        for offset in envOffsets { pointers[at] = textBase + offset; at += 1 }
        pointers[at] = nil

        let programHeader = (base + page + stackSize).bindMemory(to: pit_program.self, capacity: 1)
        programHeader.pointee = pit_program(steps: steps, count: UInt32(program.steps.count),
                                      strings: (base + stringsAt).assumingMemoryBound(to: CChar.self),
                                      argv: UnsafePointer(pointers), envp: UnsafePointer(envp), channel: program.channel)
    }

    /// clone(flags | CLONE_VM) into the child. Returns its pid, or -1 with errno.
    func spawn(flags: Int32) -> pid_t {
        let program = UnsafeRawPointer(base + page + stackSize).assumingMemoryBound(to: pit_program.self)
        return pit_child_spawn(program, UInt(UInt32(bitPattern: flags)), base + page, stackSize)
    }

    deinit { munmap(base, size) }
}
