import CPitShim
import Glibc
import PitProcess
import PitPolicy

/// A jail ready to start: its spec and compiled policy.
public struct ResolvedJail: Sendable {
    public var spec: JailSpec
    public var policy: JailPolicy?
}

/// Jail settings as written (command line or spec file), each remembering where it came from.
/// `resolve()` validates them into a `JailSpec` before anything starts.
public struct JailOptions: Sendable, Equatable {
    public var name: Sourced<String>?
    public var command: [String] = []
    public var chroot: Sourced<String>?
    public var user: Sourced<String>?
    public var group: Sourced<String>?
    public var groups: [Sourced<String>] = []
    public var binds: [Sourced<String>] = []
    public var bindsWritable: [Sourced<String>] = []
    public var tmpfs: [Sourced<String>] = []
    public var cwd: Sourced<String>?
    public var env: [Sourced<String>] = []
    public var keepCaps: [Sourced<String>] = []
    public var rlimits: [Sourced<String>] = []
    public var memoryMax: Sourced<String>?
    public var pidsMax: Sourced<String>?
    public var cpuMax: Sourced<String>?
    public var timeLimit: Sourced<String>?
    public var userns: Sourced<Bool>?
    public var usernsRangeStart: Sourced<String>?
    public var lowPorts: [Sourced<String>] = []
    /// Host ids (another jail's root) mapped into the user namespace after its range: see `NamespaceSpec.peerIDs`.
    public var usernsPeerIDs: [Sourced<String>] = []
    /// Landlock: set when the spec has a [landlock] table or a --landlock-* option is given.
    public var landlock: Sourced<Bool>?
    public var landlockRead: [Sourced<String>] = []
    public var landlockWrite: [Sourced<String>] = []
    public var landlockExec: [Sourced<String>] = []
    public var landlockBindTCP: [Sourced<String>] = []
    public var landlockConnectTCP: [Sourced<String>] = []
    public var netns: Sourced<Bool>?
    public var utsns: Sourced<Bool>?
    public var hostname: Sourced<String>?
    public var seccompString: Sourced<String>?
    public var policyFile: Sourced<String>?
    public var defaultBinds: Sourced<Bool>?
    /// Host directories the caller fills before the jail starts (the supervisor's Samba tree, written only
    /// at start so that loading a config writes nothing): a bind source inside one need not exist yet.
    public var preparedTrees: [String] = []
    /// NsJail's --keep_env: the jail starts with Pit's whole environment (then `env` applies).
    public var keepEnv: Sourced<Bool>?
    /// NsJail's --keep_caps: every capability kept.
    public var keepAllCaps: Sourced<Bool>?
    /// NsJail's --exec_file: the file executed, `command` staying argv.
    public var executable: Sourced<String>?
    /// NsJail's --pass_fd: descriptors of the caller the jail keeps.
    public var passFDs: [Sourced<String>] = []
    /// NsJail's --disable_proc sets it false.
    public var mountProc: Sourced<Bool>?
    /// NsJail's --symlink TARGET:PATH.
    public var symlinks: [Sourced<String>] = []
    /// NsJail's --nice_level and --oom_score_adj.
    public var niceLevel: Sourced<String>?
    public var oomScoreAdj: Sourced<String>?
    /// NsJail's user namespace holds the jail's uid whatever it is (`--user 99999`): the mapped range grows to
    /// hold it (past 65536 ids) instead of the uid being refused.
    public var usernsFitsUser = false

    public init() {}

    /// Command-line options over a spec file: single values replace the file's, lists add to it
    /// (a mount with the same destination replaces the file's), and a command after `--` replaces the file's.
    public func overridden(by cli: JailOptions) -> JailOptions {
        var merged = self
        func pick<T>(_ a: T?, _ b: T?) -> T? { b ?? a }
        merged.name = pick(name, cli.name); merged.chroot = pick(chroot, cli.chroot)
        merged.user = pick(user, cli.user); merged.group = pick(group, cli.group)
        merged.cwd = pick(cwd, cli.cwd); merged.memoryMax = pick(memoryMax, cli.memoryMax)
        merged.pidsMax = pick(pidsMax, cli.pidsMax); merged.cpuMax = pick(cpuMax, cli.cpuMax)
        merged.timeLimit = pick(timeLimit, cli.timeLimit); merged.userns = pick(userns, cli.userns)
        merged.usernsRangeStart = pick(usernsRangeStart, cli.usernsRangeStart)
        merged.netns = pick(netns, cli.netns); merged.utsns = pick(utsns, cli.utsns)
        merged.hostname = pick(hostname, cli.hostname); merged.defaultBinds = pick(defaultBinds, cli.defaultBinds)
        if cli.seccompString != nil || cli.policyFile != nil {
            merged.seccompString = cli.seccompString
            merged.policyFile = cli.policyFile
        }
        if !cli.command.isEmpty { merged.command = cli.command }
        let cliDestinations = Set((cli.binds + cli.bindsWritable).map { Self.bindDestination($0.value) } + cli.tmpfs.map { Self.tmpfsDestination($0.value) })
        merged.binds = binds.filter { !cliDestinations.contains(Self.bindDestination($0.value)) } + cli.binds
        merged.bindsWritable = bindsWritable.filter { !cliDestinations.contains(Self.bindDestination($0.value)) } + cli.bindsWritable
        merged.tmpfs = tmpfs.filter { !cliDestinations.contains(Self.tmpfsDestination($0.value)) } + cli.tmpfs
        merged.groups = cli.groups.isEmpty ? groups : cli.groups
        merged.env = env + cli.env
        merged.keepCaps = cli.keepCaps.isEmpty ? keepCaps : cli.keepCaps
        merged.rlimits = rlimits + cli.rlimits
        merged.lowPorts = cli.lowPorts.isEmpty ? lowPorts : cli.lowPorts
        merged.usernsPeerIDs = cli.usernsPeerIDs.isEmpty ? usernsPeerIDs : cli.usernsPeerIDs
        merged.keepEnv = pick(keepEnv, cli.keepEnv); merged.keepAllCaps = pick(keepAllCaps, cli.keepAllCaps)
        merged.executable = pick(executable, cli.executable); merged.mountProc = pick(mountProc, cli.mountProc)
        merged.niceLevel = pick(niceLevel, cli.niceLevel); merged.oomScoreAdj = pick(oomScoreAdj, cli.oomScoreAdj)
        merged.passFDs = passFDs + cli.passFDs
        merged.usernsFitsUser = usernsFitsUser || cli.usernsFitsUser
        merged.symlinks = symlinks + cli.symlinks
        merged.landlock = pick(landlock, cli.landlock)
        merged.landlockRead = landlockRead + cli.landlockRead
        merged.landlockWrite = landlockWrite + cli.landlockWrite
        merged.landlockExec = landlockExec + cli.landlockExec
        merged.landlockBindTCP = landlockBindTCP + cli.landlockBindTCP
        merged.landlockConnectTCP = landlockConnectTCP + cli.landlockConnectTCP
        return merged
    }

    static func bindDestination(_ text: String) -> String {
        let parts = text.split(separator: ":", maxSplits: 1)
        return normalize(String(parts.count == 2 ? parts[1] : parts[0]))
    }

    static func tmpfsDestination(_ text: String) -> String {
        normalize(String(text.split(separator: ":", maxSplits: 1).first ?? ""))
    }

    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}

// MARK: - Resolution

public let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extension JailOptions {
    /// Validates everything and produces the spec plus its compiled policy. Nothing is started here.
    public func resolve(arch: SeccompArch = .native) throws(ConfigError) -> ResolvedJail {
        guard !command.isEmpty else {
            throw ConfigError("", "no command given (pit run [OPTIONS] -- COMMAND [ARGS...])")
        }
        let (uid, userGID) = try resolveUser()
        let gid = try group.map { source throws(ConfigError) in try Accounts.gid(source) } ?? userGID
        var supplementary: [UInt32] = []
        for group in groups { supplementary.append(try Accounts.gid(group)) }

        var mounts: [MountSpec] = []
        var declared: [MountSpec] = []
        for bind in binds { declared.append(try Self.parseBind(bind, writable: false, prepared: preparedTrees)) }
        for bind in bindsWritable { declared.append(try Self.parseBind(bind, writable: true, prepared: preparedTrees)) }
        for entry in tmpfs { declared.append(try Self.parseTmpfs(entry)) }
        var origins = binds.map(\.origin) + bindsWritable.map(\.origin) + tmpfs.map(\.origin)
        if chroot == nil && (defaultBinds?.value ?? true) {
            // The system's programs and libraries, read-only, unless a declared mount takes the same place.
            let defaults = Self.systemDirectories.filter { dir in !declared.contains { $0.destination == dir } }
            mounts = defaults.map { .bind(source: $0, destination: $0, writable: false) }
            origins = defaults.map { _ in "default binds" } + origins
        }
        mounts += declared
        for i in mounts.indices {
            if let previous = mounts[..<i].firstIndex(where: { $0.destination == mounts[i].destination }) {
                throw ConfigError(origins[i], "\(mounts[i].destination) is already mounted by \(origins[previous])")
            }
        }
        var chrootPath: String?
        if let chroot {
            let path = Self.absolute(chroot.value)
            guard Accounts.isDirectory(path) else { throw ConfigError(chroot.origin, "\(path): \(Accounts.whyNotDirectory(path))") }
            chrootPath = path
        }
        let hasUsr = mounts.contains { $0.destination == "/usr" }
        let symlinks: [(name: String, target: String)] = chrootPath == nil && hasUsr
            ? ["bin", "sbin", "lib", "lib64", "lib32", "libx32"].compactMap { name in
                Accounts.symlinkTarget("/" + name).map { (name: name, target: $0) } }
            : []

        var environment = [defaultPath]
        if keepEnv?.value == true {
            environment = []
            var entry = environ
            while let pointer = entry.pointee { environment.append(String(cString: pointer)); entry += 1 }
        }
        for entry in env {
            if entry.value.contains("=") {
                environment.removeAll { $0.hasPrefix(String(entry.value.prefix { $0 != "=" }) + "=") }
                environment.append(entry.value)
            } else if let value = getenv(entry.value) {
                environment.append(entry.value + "=" + String(cString: value))
            }
        }

        var caps: [Int] = []
        for entry in keepCaps {
            for name in entry.value.split(separator: ",").map({ $0.trimmingSpaces() }) where !name.isEmpty {
                guard let number = CapabilityNames.number(of: name) else {
                    let suggestion = Suggestion.closest(to: name.lowercased().replacingPrefix("cap_", with: ""), in: CapabilityNames.all)
                    throw ConfigError(entry.origin, "unknown capability '\(name)'" + (suggestion.map { " (did you mean 'CAP_\($0.uppercased())'?)" } ?? ""))
                }
                caps.append(number)
            }
        }
        let lastCap = Self.lastCapability()
        // Every capability Pit's own bounding set still holds: the ones it lacks could not be given anyway.
        if keepAllCaps?.value == true { caps = (0...lastCap).filter { pit_prctl(PR_CAPBSET_READ, UInt($0), 0, 0, 0) == 1 } }
        if let tooHigh = caps.first(where: { $0 > lastCap }) {
            throw ConfigError(keepCaps.first?.origin ?? "--keep-caps", "capability \(tooHigh) is not known to this kernel (last is \(lastCap))")
        }

        var limits = Limits()
        limits.rlimits = [ResourceLimit(name: "core", resource: RlimitNames.resource(named: "core")!, soft: 0, hard: 0)]
        for entry in rlimits {
            let limit = try Self.parseRlimit(entry)
            limits.rlimits.removeAll { $0.resource == limit.resource }
            limits.rlimits.append(limit)
        }
        limits.memoryMax = try memoryMax.map { v throws(ConfigError) in try Units.bytes(v) }
        if let bytes = limits.memoryMax, bytes < Self.leastMemoryMax {
            throw ConfigError(memoryMax!.origin, "\(bytes) bytes is below 1M, less than any program needs to start; use a size such as \"64M\"")
        }
        limits.niceLevel = try niceLevel.map { v throws(ConfigError) in try Self.signed(v, in: -20...19, "a nice level") }
        limits.oomScoreAdj = try oomScoreAdj.map { v throws(ConfigError) in try Self.signed(v, in: -1000...1000, "an OOM score adjustment") }
        limits.pidsMax = try pidsMax.map { v throws(ConfigError) in try Units.count(v, range: 1...4_194_304) }
        limits.cpuMaxPercent = try cpuMax.map { v throws(ConfigError) in try Units.count(v, range: 1...100_000, unit: "%") }

        var namespaces = NamespaceSpec(network: netns?.value ?? false, uts: utsns?.value ?? false, hostname: hostname?.value)
        if userns?.value == true {
            if usernsFitsUser { namespaces.userRangeSize = max(namespaces.userRangeSize, max(uid, gid) &+ 1) }
            namespaces.userRangeStart = try usernsRangeStart.map { v throws(ConfigError) in UInt32(try Units.count(v, range: 1...4_000_000_000)) } ?? 100_000
            let start = namespaces.userRangeStart!
            let (end, overflow) = start.addingReportingOverflow(namespaces.userRangeSize - 1)
            if overflow { throw ConfigError(usernsRangeStart?.origin ?? "--userns-range-start", "the range \(start)+\(namespaces.userRangeSize) passes the largest id") }
            if let owner = Accounts.owner(within: start...end) {
                throw ConfigError(usernsRangeStart?.origin ?? userns?.origin ?? "--userns",
                                  "host ids \(start)-\(end) are not free: \(owner) is among them, and the jail's root would be that account's equal on the host")
            }
            if uid >= namespaces.userRangeSize || gid >= namespaces.userRangeSize {
                throw ConfigError(user?.origin ?? "--user", "uid/gid \(uid)/\(gid) is outside the user namespace's mapped range 0-\(namespaces.userRangeSize - 1)")
            }
        }
        for entry in usernsPeerIDs {
            guard let start = namespaces.userRangeStart else {
                throw ConfigError(entry.origin, "peer ids are mapped into the jail's user namespace: it needs one (userns = true)")
            }
            guard let id = UInt32(entry.value), id > 0, id < 4_000_000_000 else { throw ConfigError(entry.origin, "'\(entry.value)' is not a host id") }
            if (start..<(start + namespaces.userRangeSize)).contains(id) || namespaces.peerIDs.contains(id) {
                throw ConfigError(entry.origin, "host id \(id) is already mapped (the range \(start)+\(namespaces.userRangeSize) or an earlier peer id)")
            }
            if let owner = Accounts.owner(within: id...id) {
                throw ConfigError(entry.origin, "host id \(id) is not free: \(owner) has it")
            }
            namespaces.peerIDs.append(id)
        }
        if let first = lowPorts.first, namespaces.userRangeStart == nil || namespaces.network {
            throw ConfigError(first.origin, "low ports are for a jail in a user namespace sharing the host's network (userns = true, no netns); without a user namespace keep CAP_NET_BIND_SERVICE")
        }
        namespaces.lowPorts = try Self.ports(lowPorts, in: 1...1023, "a port below 1024 (ports from 1024 need nothing)")
        if let hostname, !namespaces.uts {
            throw ConfigError(hostname.origin, "a hostname needs its own UTS namespace (--utsns): the jail shares the host's by default")
        }
        let seconds = try timeLimit.map { v throws(ConfigError) in Int(try Units.count(v, range: 1...31_536_000, unit: "s")) }

        let landlockSpec = try resolveLandlock()
        let policy = try compilePolicy(arch: arch)
        let name = name?.value ?? Self.lastComponent(command[0]) ?? "jail"
        let cwdPath = cwd.map { $0.value } ?? "/"
        guard cwdPath.hasPrefix("/") else { throw ConfigError(cwd!.origin, "'\(cwdPath)' must be an absolute path inside the jail") }

        let spec = JailSpec(
            name: Self.safeName(name),
            command: command,
            root: RootSpec(chroot: chrootPath, mounts: mounts, usrSymlinks: symlinks, strictSources: strictSources(mounts)),
            credentials: Credentials(uid: uid, gid: gid, groups: supplementary, keepCaps: caps, lastCap: lastCap),
            limits: limits, namespaces: namespaces, cwd: cwdPath, environment: environment, timeLimit: seconds)
        var jailSpec = spec
        jailSpec.landlock = landlockSpec
        jailSpec.root.mountProc = mountProc?.value ?? true
        for entry in self.symlinks {
            let parts = entry.value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("/"), Self.normalize(parts[1]) != "/" else {
                throw ConfigError(entry.origin, "expected TARGET:PATH with an absolute PATH in the jail (a symlink at PATH pointing to TARGET)")
            }
            guard chrootPath == nil else {
                throw ConfigError(entry.origin, "symlinks are made in the jail's tmpfs root; with --chroot the root is the read-only host directory: make the link there")
            }
            jailSpec.root.symlinks.append((path: Self.normalize(parts[1]), target: parts[0]))
        }
        if let executable {
            guard !executable.value.isEmpty else { throw ConfigError(executable.origin, "expected the path of the file to execute") }
            jailSpec.executable = executable.value
        }
        for entry in passFDs {
            guard let fd = Int32(entry.value), fd > 2 else {
                throw ConfigError(entry.origin, "'\(entry.value)' is not a descriptor above 2 (0-2 are always passed)")
            }
            jailSpec.passedFDs.append(fd)
        }
        return ResolvedJail(spec: jailSpec, policy: policy)
    }

    /// The Landlock rules, checked against this kernel: no Landlock at all is an error naming the field (the spec
    /// asked for a wall the kernel cannot build); a lower ABI than some rule needs is said once by the caller
    /// (`LandlockSpec.missing`) and the rest applies.
    private func resolveLandlock() throws(ConfigError) -> LandlockSpec? {
        let anyOption = [landlockRead, landlockWrite, landlockExec, landlockBindTCP, landlockConnectTCP].first { !$0.isEmpty }?.first
        guard let origin = landlock?.origin ?? anyOption?.origin else { return nil }
        let abi = LandlockSpec.kernelABI()
        guard abi >= 1 else {
            throw ConfigError(origin, "this kernel has no Landlock (not built, or not in the lsm= boot list): the jail would run without the wall it asks for")
        }
        // The jail's own harmless devices (Mounts.devices) stay usable: a program that cannot open /dev/null fails.
        var rules = Mounts.devices.map { LandlockSpec.PathRule(path: "/dev/" + $0, access: .write) }
        for (entries, access) in [(landlockRead, LandlockSpec.Access.read), (landlockWrite, .write), (landlockExec, .exec)] {
            for entry in entries {
                guard entry.value.hasPrefix("/") else { throw ConfigError(entry.origin, "'\(entry.value)' must be an absolute path inside the jail") }
                rules.append(LandlockSpec.PathRule(path: Self.normalize(entry.value), access: access))
            }
        }
        let tcp = "a TCP port (1-65535)"
        return LandlockSpec(paths: rules, bindTCP: try Self.ports(landlockBindTCP, in: 1...65535, tcp),
                            connectTCP: try Self.ports(landlockConnectTCP, in: 1...65535, tcp), abi: abi)
    }

    /// A signed whole number within `range` (NsJail's --nice_level, --oom_score_adj).
    static func signed(_ entry: Sourced<String>, in range: ClosedRange<Int32>, _ what: String) throws(ConfigError) -> Int32 {
        guard let number = Int32(entry.value.trimmingSpaces()), range.contains(number) else {
            throw ConfigError(entry.origin, "'\(entry.value)' is not \(what) (\(range.lowerBound) to \(range.upperBound))")
        }
        return number
    }

    /// Ports written as numbers or comma-separated lists ("139,445"), each within `range`.
    static func ports(_ entries: [Sourced<String>], in range: ClosedRange<UInt16>, _ what: String) throws(ConfigError) -> [UInt16] {
        var result: [UInt16] = []
        for entry in entries {
            for item in entry.value.split(separator: ",") {
                guard let port = UInt16(item.trimmingSpaces()), range.contains(port) else { throw ConfigError(entry.origin, "'\(item)' is not \(what)") }
                result.append(port)
            }
        }
        return result
    }

    /// The smallest memory limit a jail may have. Pit itself is never at risk (the jail's child has its own copy of
    /// Pit's memory: ChildImage.spawn), but a limit below this is a typo ("4K" for "4M"), not a jail.
    static let leastMemoryMax: UInt64 = 1 << 20

    /// Bound read-only when there is no --chroot: real directories only (merged-/usr symlinks are recreated).
    static var systemDirectories: [String] {
        ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"].filter(Accounts.isRealDirectory)
    }

    private func resolveUser() throws(ConfigError) -> (UInt32, UInt32) {
        guard let user else { return (65534, 65534) }  // nobody/nogroup: a jail never runs as root by default
        return try Accounts.uid(user)
    }

    private func compilePolicy(arch: SeccompArch) throws(ConfigError) -> JailPolicy? {
        if let seccompString, let policyFile {
            throw ConfigError(policyFile.origin, "both a policy file and --seccomp-string (\(seccompString.origin)) given: choose one")
        }
        let policy: JailPolicy
        let origin: String
        if let seccompString {
            origin = seccompString.origin
            let source = PolicySource(text: seccompString.value, file: "<seccomp-string>")
            do { policy = try JailPolicy.compile(source, arch: arch) } catch { throw ConfigError(origin, error.description) }
        } else if let policyFile {
            origin = policyFile.origin
            do { policy = try JailPolicy.compile(path: policyFile.value, arch: arch) } catch { throw ConfigError(origin, error.description) }
        } else {
            do { return try JailPolicy.baseline(arch: arch) } catch { throw ConfigError("baseline filter", error.description) }
        }
        // A policy whose denials are reported may leave execve out: Pit lets its own exec into the jail through
        // and every later one is a violation (a daemon that never execs cannot be made to exec a shell).
        // Without a listener, the filter itself would kill that first exec.
        if policy.compiled.stopsEveryExecve || (!policy.compiled.needsListener && !policy.compiled.allows("execve")) {
            throw ConfigError(origin, "the policy does not allow execve: the jail could not start its command")
        }
        return policy
    }

    /// The last non-empty component of `path` ("true" for /bin/true).
    static func lastComponent(_ path: String) -> String? {
        path.split(separator: "/").last.map(String.init)
    }

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "/"
        return normalize(cwd + "/" + path)
    }

    static func parseBind(_ entry: Sourced<String>, writable: Bool, prepared: [String] = []) throws(ConfigError) -> MountSpec {
        let parts = entry.value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { throw ConfigError(entry.origin, "expected SRC[:DST]") }
        let source = absolute(first)
        let destination = parts.count == 2 ? parts[1] : source
        guard destination.hasPrefix("/") else { throw ConfigError(entry.origin, "destination '\(destination)' must be absolute") }
        guard normalize(destination) != "/" else { throw ConfigError(entry.origin, "use --chroot to bind a directory as /") }
        let later = prepared.contains { source == $0 || source.hasPrefix($0 + "/") }
        guard later || Accounts.exists(source) else { throw ConfigError(entry.origin, "\(source): \(Accounts.whyMissing(source))") }
        try refuseKernelTrees(source: source, destination: normalize(destination), writable: writable, origin: entry.origin)
        return .bind(source: source, destination: normalize(destination), writable: writable)
    }

    /// The bind sources to open without following any symlink: those inside a tree the caller prepares for jails
    /// (the Samba tree, where jails write) and those below a directory that someone other than root may write.
    /// Decided from the directories as they are now; the open itself happens at the jail's start (see
    /// RootSpec.strictSources).
    private func strictSources(_ mounts: [MountSpec]) -> Set<String> {
        var strict: Set<String> = []
        for case .bind(let source, _, _) in mounts {
            if preparedTrees.contains(where: { source == $0 || source.hasPrefix($0 + "/") }) || Accounts.othersMayWrite(above: source) {
                strict.insert(source)
            }
        }
        return strict
    }

    /// The host's procfs shows every host process (and each one's root at /proc/N/root) and its knobs: a jail gets
    /// a procfs of its own, guarded (Mounts.guardProc), and never the host's. /sys holds kernel knobs too: it is
    /// bound only read-only. Checked on the real path, so a symlink to /proc is refused as well.
    static func refuseKernelTrees(source: String, destination: String, writable: Bool, origin: String) throws(ConfigError) {
        let real = realpath(source, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? source
        func under(_ path: String, _ tree: String) -> Bool { path == tree || path.hasPrefix(tree + "/") }
        if under(real, "/proc") {
            throw ConfigError(origin, "\(source): binding the host's /proc would show the jail every host process; the jail has a /proc of its own")
        }
        if under(destination, "/proc") {
            throw ConfigError(origin, "\(destination): the jail's /proc is its own procfs (guarded by Pit); bind elsewhere")
        }
        if writable && under(real, "/sys") {
            throw ConfigError(origin, "\(source): /sys holds kernel knobs; bind it read-only (binds, not binds_rw)")
        }
    }

    static func parseTmpfs(_ entry: Sourced<String>) throws(ConfigError) -> MountSpec {
        let parts = entry.value.split(separator: ":", maxSplits: 1).map(String.init)
        guard let destination = parts.first, destination.hasPrefix("/"), normalize(destination) != "/" else {
            throw ConfigError(entry.origin, "expected DST[:SIZE] with an absolute DST other than /")
        }
        let size = parts.count == 2 ? try Units.bytes(Sourced(parts[1], origin: entry.origin)) : 16 << 20
        return .tmpfs(destination: normalize(destination), sizeBytes: size)
    }

    static func parseRlimit(_ entry: Sourced<String>) throws(ConfigError) -> ResourceLimit {
        let parts = entry.value.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ConfigError(entry.origin, "expected NAME=SOFT[:HARD], e.g. nofile=64:128") }
        guard let resource = RlimitNames.resource(named: parts[0]) else {
            let suggestion = Suggestion.closest(to: parts[0].lowercased(), in: RlimitNames.table.map(\.0))
            throw ConfigError(entry.origin, "unknown resource limit '\(parts[0])'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""))
        }
        let values = parts[1].split(separator: ":", maxSplits: 1).map(String.init)
        let soft = try Units.limitValue(Sourced(values[0], origin: entry.origin))
        let hard = values.count == 2 ? try Units.limitValue(Sourced(values[1], origin: entry.origin)) : soft
        guard soft <= hard else { throw ConfigError(entry.origin, "soft limit \(soft) is above the hard limit \(hard)") }
        return ResourceLimit(name: parts[0].lowercased(), resource: resource, soft: soft, hard: hard)
    }
}

enum Units {
    /// `64M`, `1g`, `4096`, `512k` (powers of 1024).
    static func bytes(_ entry: Sourced<String>) throws(ConfigError) -> UInt64 {
        var text = entry.value.trimmingSpaces().lowercased()
        if text.hasSuffix("b") { text.removeLast() }
        if text.hasSuffix("i") { text.removeLast() }
        var multiplier: UInt64 = 1
        if let last = text.last, let shift = ["k": 10, "m": 20, "g": 30, "t": 40][String(last)] {
            multiplier = 1 << UInt64(shift)
            text.removeLast()
        }
        guard let number = UInt64(text), number > 0 else {
            throw ConfigError(entry.origin, "'\(entry.value)' is not a size (examples: 4096, 512K, 64M, 1G)")
        }
        let (result, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigError(entry.origin, "'\(entry.value)' is too large") }
        return result
    }

    static func count(_ entry: Sourced<String>, range: ClosedRange<UInt64>, unit: String = "") throws(ConfigError) -> UInt64 {
        var text = entry.value.trimmingSpaces()
        if !unit.isEmpty && text.hasSuffix(unit) { text.removeLast(unit.count) }
        guard let number = UInt64(text), range.contains(number) else {
            throw ConfigError(entry.origin, "'\(entry.value)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    static func limitValue(_ entry: Sourced<String>) throws(ConfigError) -> UInt64 {
        if ["inf", "infinity", "unlimited", "max"].contains(entry.value.lowercased()) { return UInt64.max }
        if let number = UInt64(entry.value) { return number }
        return try bytes(entry)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : String(self)
    }
}

extension JailOptions {
    /// A jail name fit for messages and a cgroup directory: ASCII letters, digits, '-', '_' and '.'.
    /// (ASCII tests: Character.isLetter would also accept the letters of every other script.)
    static func safeName(_ name: String) -> String {
        var bytes: [UInt8] = []
        for byte in name.utf8 {
            let isAlnum = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a)
            if isAlnum || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") { bytes.append(byte) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The highest capability this kernel knows (what /proc/sys/kernel/cap_last_cap says), found by asking
    /// PR_CAPBSET_READ, which refuses numbers past it: six syscalls instead of opening and parsing a file.
    static func lastCapability() -> Int {
        var known = 0, unknown = 64   // capability 0 always exists; 64 never does
        while unknown - known > 1 {
            let middle = (known + unknown) / 2
            if pit_prctl(PR_CAPBSET_READ, UInt(middle), 0, 0, 0) >= 0 { known = middle } else { unknown = middle }
        }
        return known
    }
}
