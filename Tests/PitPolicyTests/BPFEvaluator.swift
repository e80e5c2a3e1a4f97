@testable import PitPolicy

/// A classic-BPF interpreter for seccomp programs, so filters for foreign architectures
/// (aarch64, arm) can be checked on this machine exactly as the kernel would run them.
struct SeccompData {
    var nr: Int32
    var arch: UInt32
    var instructionPointer: UInt64 = 0
    var args: [UInt64] = [0, 0, 0, 0, 0, 0]

    /// The 32-bit word at byte offset `off` of struct seccomp_data (little-endian host).
    func word(at off: UInt32) -> UInt32? {
        switch off {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8: return UInt32(truncatingIfNeeded: instructionPointer)
        case 12: return UInt32(truncatingIfNeeded: instructionPointer >> 32)
        case 16..<64 where off % 4 == 0:
            let i = Int(off - 16) / 8
            return off % 8 == 0 ? UInt32(truncatingIfNeeded: args[i]) : UInt32(truncatingIfNeeded: args[i] >> 32)
        default: return nil
        }
    }
}

enum BPFError: Error, Equatable { case badInstruction(Int), badLoad(Int), fellOff, jumpOutOfRange(Int) }

struct Insn { var code: UInt16; var jt: UInt8; var jf: UInt8; var k: UInt32 }

func decode(_ program: [UInt8]) -> [Insn] {
    stride(from: 0, to: program.count, by: 8).map { (o: Int) -> Insn in
        let code: UInt16 = UInt16(program[o]) | UInt16(program[o + 1]) << 8
        var k: UInt32 = 0
        for b in 0..<4 { k |= UInt32(program[o + 4 + b]) << UInt32(8 * b) }
        return Insn(code: code, jt: program[o + 2], jf: program[o + 3], k: k)
    }
}

/// Runs the program; returns the 32-bit seccomp return value.
func evaluateBPF(_ program: [UInt8], _ data: SeccompData) throws -> UInt32 {
    try evaluateBPF(decode(program), data)
}

/// Runs an already decoded program (a caller evaluating many inputs decodes once).
func evaluateBPF(_ insns: [Insn], _ data: SeccompData) throws -> UInt32 {
    var a: UInt32 = 0, x: UInt32 = 0
    var mem = [UInt32](repeating: 0, count: 16)
    var pc = 0
    var steps = 0
    while pc < insns.count {
        steps += 1
        if steps > 100_000 { throw BPFError.fellOff }
        let i = insns[pc]
        let cls = i.code & 0x07
        switch cls {
        case 0x00: // LD
            let mode = i.code & 0xe0, size = i.code & 0x18
            if mode == 0x20 && size == 0x00 { // ABS, W
                guard let w = data.word(at: i.k) else { throw BPFError.badLoad(pc) }
                a = w
            } else if mode == 0x00 { a = i.k }           // IMM
            else if mode == 0x60 { a = mem[Int(i.k & 15)] } // MEM
            else if mode == 0x80 { a = 64 }              // LEN
            else { throw BPFError.badInstruction(pc) }
            pc += 1
        case 0x01: // LDX
            let mode = i.code & 0xe0
            if mode == 0x00 { x = i.k } else if mode == 0x60 { x = mem[Int(i.k & 15)] } else if mode == 0x80 { x = 64 }
            else { throw BPFError.badInstruction(pc) }
            pc += 1
        case 0x02: mem[Int(i.k & 15)] = a; pc += 1   // ST
        case 0x03: mem[Int(i.k & 15)] = x; pc += 1   // STX
        case 0x04: // ALU
            let src = (i.code & 0x08) != 0 ? x : i.k
            switch i.code & 0xf0 {
            case 0x00: a = a &+ src
            case 0x10: a = a &- src
            case 0x20: a = a &* src
            case 0x30: guard src != 0 else { return 0 }; a = a / src
            case 0x40: a = a | src
            case 0x50: a = a & src
            case 0x60: a = src >= 32 ? 0 : a << src
            case 0x70: a = src >= 32 ? 0 : a >> src
            case 0x80: a = 0 &- a
            case 0xa0: a = a ^ src
            default: throw BPFError.badInstruction(pc)
            }
            pc += 1
        case 0x05: // JMP
            let src = (i.code & 0x08) != 0 ? x : i.k
            let op = i.code & 0xf0
            if op == 0x00 { pc += 1 + Int(i.k); continue } // JA
            let taken: Bool
            switch op {
            case 0x10: taken = a == src
            case 0x20: taken = a > src
            case 0x30: taken = a >= src
            case 0x40: taken = (a & src) != 0
            default: throw BPFError.badInstruction(pc)
            }
            pc += 1 + Int(taken ? i.jt : i.jf)
        case 0x06: // RET
            return (i.code & 0x18) == 0x10 ? a : i.k
        case 0x07: // MISC
            if i.code & 0xf8 == 0x00 { x = a } else { a = x }
            pc += 1
        default: throw BPFError.badInstruction(pc)
        }
    }
    throw BPFError.fellOff
}

/// The seccomp action of a return value, as a PolicyAction (nil for unknown encodings).
func action(of ret: UInt32) -> PolicyAction? {
    switch ret & 0xffff_0000 {
    case 0x7fff_0000: return .allow
    case 0x8000_0000: return .killProcess
    case 0x0000_0000: return .killThread
    case 0x0005_0000: return .errno(Int32(ret & 0xffff))
    case 0x7ffc_0000: return .log
    case 0x0003_0000: return .trap(UInt16(ret & 0xffff))
    case 0x7ff0_0000: return .trace(UInt16(ret & 0xffff))
    case 0x7fc0_0000: return .report
    default: return nil
    }
}

extension CompiledPolicy {
    /// What the filter does for a syscall number of `arch` with the given arguments.
    func evaluate(nr: Int, arch: SeccompArch? = nil, args: [UInt64] = []) throws -> PolicyAction? {
        var a = args
        while a.count < 6 { a.append(0) }
        let ret = try evaluateBPF(program, SeccompData(nr: Int32(truncatingIfNeeded: nr), arch: (arch ?? self.arch).auditValue, args: a))
        return action(of: ret)
    }

    /// `name` as a policy means it (SyscallNames.resolve: kafel's `setuid` is setuid32 on arm).
    func evaluate(_ name: String, args: [UInt64] = []) throws -> PolicyAction? {
        guard case .success(.syscall(_, let nr)) = SyscallNames.resolve(name, arch: arch) else { return nil }
        return try evaluate(nr: nr, args: args)
    }
}
