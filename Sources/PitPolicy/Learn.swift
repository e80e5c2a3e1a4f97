/// Builds an allow-list policy from recordings of what a service actually calls:
/// `perf script` output of raw_syscalls:sys_enter, `strace -f` output, or plain numbers.
public enum RecordingFormat: String, Sendable, CaseIterable {
    case perf, strace, numbers
}

public struct SyscallLearner: Sendable {
    public let arch: SeccompArch
    /// Canonical (libseccomp) name on `arch` -> number of calls seen.
    public private(set) var counts: [String: Int] = [:]
    /// Names or numbers that do not resolve on `arch` (kept out of the policy, reported).
    public private(set) var unresolved: [String: Int] = [:]
    public private(set) var recordings = 0

    public init(arch: SeccompArch = .native) { self.arch = arch }

    public mutating func add(_ text: String, format: RecordingFormat) {
        recordings += 1
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            switch format {
            case .perf: addPerf(line)
            case .strace: addStrace(line)
            case .numbers:
                for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
                    if let n = Int(word) { record(number: n) }
                }
            }
        }
    }

    mutating func record(number: Int, count: Int = 1) {
        if let name = SyscallNames.policyName(number: number, arch: arch) {
            counts[name, default: 0] += count
        } else {
            unresolved["#\(number)", default: 0] += count
        }
    }

    mutating func record(name: String, count: Int = 1) {
        if let canonical = policyName(recorded: name) { counts[canonical, default: 0] += count }
        else { unresolved[name, default: 0] += count }
    }

    /// The policy's name for a call a recording names. strace prints the kernel's __NR_ names, libseccomp's: on arm
    /// its `getuid` is the 16-bit call 24, kafel's (and so a policy's) `getuid16`.
    func policyName(recorded name: String) -> String? {
        if let nr = SyscallNames.libseccompNumber(name, arch), let n = SyscallNames.policyName(number: nr, arch: arch) { return n }
        if case .success(.syscall(let canonical, _)) = SyscallNames.resolve(name, arch: arch) { return canonical }
        return nil
    }

    /// `perf script` prints e.g. `smbd 812 [001] 93.1: raw_syscalls:sys_enter: NR 0 (3, ...)`.
    /// sys_exit lines also carry `NR n` and are skipped so each call counts once.
    mutating func addPerf(_ line: Substring) {
        let bytes = Array(line.utf8)
        guard !containsBytes(bytes, Array("sys_exit".utf8)) else { return }
        let marker = Array(" NR ".utf8)
        guard bytes.count >= marker.count else { return }
        for i in 0...(bytes.count - marker.count) where Array(bytes[i..<i + marker.count]) == marker {
            var j = i + marker.count, n = 0, digits = 0
            while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39, digits < 9 {
                n = n * 10 + Int(bytes[j] - 0x30); j += 1; digits += 1
            }
            if digits > 0, j == bytes.count || bytes[j] == 0x20 { record(number: n) }
            return
        }
    }

    /// strace lines: `name(...`, `[pid N] name(...`, `N  name(...` (-f -o), optional -t/-tt/-ttt/-r
    /// timestamps, `<... name resumed>` (counted only if the call's start was not seen),
    /// and `---`/`+++` signal and exit lines, which are skipped.
    mutating func addStrace(_ line: Substring) {
        var rest = line.drop { $0 == " " }
        if rest.hasPrefix("[pid") {
            guard let close = rest.firstIndex(of: "]") else { return }
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        // Leading pid and timestamps: words of digits, '.', ':'.
        while let space = rest.firstIndex(of: " "),
              rest[..<space].allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }), !rest[..<space].isEmpty {
            rest = rest[space...].drop { $0 == " " }
        }
        if rest.hasPrefix("---") || rest.hasPrefix("+++") { return }
        if rest.hasPrefix("<... ") {
            let name = rest.dropFirst(5).prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty, resumedOnly(String(name)) { record(name: String(name)) }
            return
        }
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty, rest.dropFirst(name.count).first == "(" else { return }
        record(name: String(name))
    }

    private func containsBytes(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard hay.count >= needle.count else { return false }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<i + needle.count]) == needle { return true }
        return false
    }

    private func resumedOnly(_ name: String) -> Bool {
        if let c = policyName(recorded: name) { return counts[c] == nil }
        return unresolved[name] == nil
    }

    /// The learned names, plus execve: the jail loads the filter and then execs the service,
    /// so execve must be allowed even if the recording started after the exec.
    public var names: [String] {
        var set = Set(counts.keys)
        set.insert("execve")
        return set.sorted()
    }

    public func policy(name: String = "learned") -> String {
        var out = "// Learned by `pit policy learn` from \(recordings) recording(s) for \(arch.name).\n"
        out += "// execve is needed for the exec into the jail (the filter is loaded before execve).\n"
        out += "// Review before use: a recording only shows what one run did.\n"
        if !unresolved.isEmpty {
            out += "// Not resolvable on \(arch.name), left out: "
            out += unresolved.keys.sorted().map { "\($0) (\(unresolved[$0]!))" }.joined(separator: ", ") + "\n"
        }
        out += "POLICY \(name) {\n  ALLOW {\n"
        let list = names
        let width = (list.map(\.count).max() ?? 0) + 1
        for (i, n) in list.enumerated() {
            let item = n + (i == list.count - 1 ? "" : ",")
            let pad = String(repeating: " ", count: max(1, width - item.count + 1))
            let note = counts[n].map { "\($0)" } ?? "0, needed for the exec into the jail"
            out += "    \(item)\(pad)// \(note)\n"
        }
        out += "  }\n}\nUSE \(name) DEFAULT KILL\n"
        return out
    }

    /// "+name" for syscalls the new policy adds, "-name" for ones it drops, sorted by name.
    public static func diff(old: Set<String>, new: Set<String>) -> [String] {
        let all = old.union(new).sorted()
        return all.compactMap { n in
            if old.contains(n) && !new.contains(n) { return "-\(n)" }
            if new.contains(n) && !old.contains(n) { return "+\(n)" }
            return nil
        }
    }

    /// The syscalls an existing policy allows on `arch` (the names `policy` writes), for `--diff`.
    public static func allowedNames(in source: PolicySource, arch: SeccompArch) throws(PolicyError) -> Set<String> {
        let compiled = try PolicyCompiler.compile(source, arch: arch)
        return Set(compiled.allowedSyscalls.map { SyscallNames.policyName(number: $0.value, arch: arch) ?? $0.key })
    }
}
