import Testing
@testable import PitPolicy

/// Every name of kafel's syscall tables (ArgTables.swift, from kafel's src/syscalls/*.c) resolves in Pit to kafel's
/// number on that architecture, except the kinds KafelSyscallNames.swift lists (checked here to be exactly those).
@Suite struct KafelSyscallNamesTests {
    static func kafelTable(_ arch: SeccompArch) -> [(name: String, number: Int)] {
        let text: String
        switch arch {
        case .x86_64: text = SyscallArgs.x86_64Text
        case .i386: text = SyscallArgs.i386Text
        case .aarch64: text = SyscallArgs.aarch64Text
        default: text = SyscallArgs.armText
        }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count >= 2, let nr = Int(f[1]) else { return nil }
            return (String(f[0]), nr)
        }
    }

    @Test(arguments: [SeccompArch.x86_64, .i386, .aarch64, .arm])
    func test_kafelNamesResolveToKafelNumbers(arch: SeccompArch) {
        var checked = 0, unknownNumbers = 0
        for (name, number) in Self.kafelTable(arch) {
            let resolved = SyscallNames.resolve(name, arch: arch)
            if case .success(.syscall(_, let n)) = resolved, n == number { checked += 1; continue }
            if SyscallNames.name(number: number, arch: arch) == nil {
                unknownNumbers += 1       // a number libseccomp does not know there: Pit's resolution stands
                continue
            }
            Issue.record("\(arch) \(name): kafel \(number), Pit \(resolved)")
        }
        print("\(arch): \(checked) kafel names resolve to kafel's number, \(unknownNumbers) numbers libseccomp lacks")
        #expect(checked > 300)
    }

    /// `pit policy learn` writes names that mean, in a policy, the numbers it recorded: on arm the 16-bit getuid (24,
    /// strace's and libseccomp's `getuid`) is learned as kafel's `getuid16`, getuid32 (199) stays `getuid32`.
    @Test(arguments: [SeccompArch.x86_64, .i386, .aarch64, .arm])
    func test_learnedNamesResolveToTheRecordedNumbers(arch: SeccompArch) throws {
        var numbers: [Int] = []
        for nr in 0..<1024 where SyscallNames.name(number: nr, arch: arch) != nil { numbers.append(nr) }
        var l = SyscallLearner(arch: arch)
        l.add(numbers.map(String.init).joined(separator: " "), format: .numbers)
        for name in l.counts.keys {
            guard case .success(.syscall(_, let nr)) = SyscallNames.resolve(name, arch: arch) else {
                Issue.record("\(arch): learned '\(name)' does not resolve")
                continue
            }
            #expect(SyscallNames.policyName(number: nr, arch: arch) == name, "\(arch): learned '\(name)' means \(nr)")
        }
        #expect(l.counts.count == numbers.count, "\(arch): two numbers learned under one name")
        if arch == .arm {
            var s = SyscallLearner(arch: .arm)
            s.add("getuid() = 0\ngetuid32() = 0\n", format: .strace)
            #expect(s.counts == ["getuid16": 1, "getuid32": 1])
            // --diff against a policy with the same calls: nothing added or dropped.
            let old = try SyscallLearner.allowedNames(in: PolicySource(text: s.policy(), file: "<learned>"), arch: .arm)
            #expect(SyscallLearner.diff(old: old, new: Set(s.names)).isEmpty, "\(old)")
        }
    }

    /// What the change means for a policy on the ARM targets: glibc's setuid is setuid32, kafel's `setuid`.
    @Test func test_uidCallsFollowKafelOn32BitArm() throws {
        let p = try compile("ALLOW { setuid, getuid, fchown } ERRNO(1) { setuid16 } DEFAULT KILL", arch: .arm)
        #expect(try p.evaluate(nr: 213) == .allow)   // setuid32
        #expect(try p.evaluate(nr: 199) == .allow)   // getuid32
        #expect(try p.evaluate(nr: 207) == .allow)   // fchown32
        #expect(try p.evaluate(nr: 23) == .errno(1)) // the 16-bit setuid
        #expect(try p.evaluate(nr: 24) == .killProcess)
    }
}
