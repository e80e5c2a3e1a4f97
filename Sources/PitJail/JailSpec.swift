/// Everything a jail needs, resolved and validated before any process exists.
/// Built from `JailOptions` (command line and spec file) by `JailOptions.resolve()`.
public struct JailSpec: Sendable, Equatable {
    public var name: String
    public var command: [String]
    public var root: RootSpec
    public var credentials: Credentials
    public var limits: Limits
    public var namespaces: NamespaceSpec
    public var cwd: String
    public var environment: [String]
    /// Wall-clock limit in seconds; the jail is killed when it is reached.
    public var timeLimit: Int?
    /// Landlock rules, when the spec asks for them (Landlock.swift).
    public var landlock: LandlockSpec?
    /// The file executed, when it is not `command[0]` (NsJail's --exec_file): argv stays `command`.
    public var executable: String?
    /// Descriptors of the caller's besides 0-2 the jail keeps (NsJail's --pass_fd).
    public var passedFDs: [Int32] = []

    public init(name: String, command: [String], root: RootSpec, credentials: Credentials,
                limits: Limits, namespaces: NamespaceSpec, cwd: String, environment: [String], timeLimit: Int?) {
        self.name = name
        self.command = command
        self.root = root
        self.credentials = credentials
        self.limits = limits
        self.namespaces = namespaces
        self.cwd = cwd
        self.environment = environment
        self.timeLimit = timeLimit
    }
}

/// The jail's file system: a fresh tmpfs (or a read-only bind of `chroot`) with the listed mounts.
public struct RootSpec: Sendable, Equatable {
    /// When set, this host directory is bound read-only as `/` instead of an empty tmpfs.
    public var chroot: String?
    public var mounts: [MountSpec]
    /// Host directories that are symlinks into /usr (merged /usr): recreated as symlinks in a tmpfs root.
    public var usrSymlinks: [(name: String, target: String)]
    /// Bind sources on a path others than root can write (a jail's tree, a world-writable directory): opened with
    /// no symlink anywhere in the path, so what a jail planted there can never point Pit's root-run setup at
    /// another file (another jail's socket swapped for a link to a host file, say).
    public var strictSources: Set<String> = []
    /// The jail's own procfs at /proc (NsJail's --disable_proc turns it off).
    public var mountProc = true
    /// Symlinks made in the tmpfs root after the mounts: `path` (absolute, in the jail) pointing to `target`.
    public var symlinks: [(path: String, target: String)] = []

    public init(chroot: String?, mounts: [MountSpec], usrSymlinks: [(name: String, target: String)], strictSources: Set<String> = []) {
        self.chroot = chroot
        self.mounts = mounts
        self.usrSymlinks = usrSymlinks
        self.strictSources = strictSources
    }

    public static func == (a: RootSpec, b: RootSpec) -> Bool {
        a.chroot == b.chroot && a.mounts == b.mounts && a.strictSources == b.strictSources && a.mountProc == b.mountProc
            && a.symlinks.map { "\($0.path)->\($0.target)" } == b.symlinks.map { "\($0.path)->\($0.target)" }
            && a.usrSymlinks.map { "\($0.name)->\($0.target)" } == b.usrSymlinks.map { "\($0.name)->\($0.target)" }
    }
}

public enum MountSpec: Sendable, Equatable {
    /// A non-recursive bind: mounts below `source` on the host are not carried into the jail.
    case bind(source: String, destination: String, writable: Bool)
    case tmpfs(destination: String, sizeBytes: UInt64)

    public var destination: String {
        switch self {
        case .bind(_, let destination, _), .tmpfs(let destination, _): return destination
        }
    }
}

public struct Credentials: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    /// Capability numbers kept in every set (bounding, permitted, effective, inheritable, ambient).
    public var keepCaps: [Int]
    /// Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
    public var lastCap: Int

    public init(uid: UInt32, gid: UInt32, groups: [UInt32], keepCaps: [Int], lastCap: Int) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.keepCaps = keepCaps
        self.lastCap = lastCap
    }
}

public struct ResourceLimit: Sendable, Equatable {
    public var name: String
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64
}

public struct Limits: Sendable, Equatable {
    public var rlimits: [ResourceLimit]
    public var memoryMax: UInt64?
    public var pidsMax: UInt64?
    /// Percent of one CPU (150 = one and a half CPUs).
    public var cpuMaxPercent: UInt64?
    /// Written to the jail's /proc/PID/oom_score_adj before it runs; nil: inherited. The supervisor protects
    /// itself (-1000: it feeds the watchdog) and gives its jails back what it had, so a jail is never protected.
    public var oomScoreAdj: Int32?
    /// The jail's nice value (setpriority before it runs); nil: inherited.
    public var niceLevel: Int32?

    public init(rlimits: [ResourceLimit] = [], memoryMax: UInt64? = nil, pidsMax: UInt64? = nil, cpuMaxPercent: UInt64? = nil,
                oomScoreAdj: Int32? = nil) {
        self.rlimits = rlimits
        self.memoryMax = memoryMax
        self.pidsMax = pidsMax
        self.cpuMaxPercent = cpuMaxPercent
        self.oomScoreAdj = oomScoreAdj
    }

    public var needsCgroup: Bool { memoryMax != nil || pidsMax != nil || cpuMaxPercent != nil }
}

public struct NamespaceSpec: Sendable, Equatable {
    /// Map root of a new user namespace to this host uid/gid, with `userRangeSize` ids.
    public var userRangeStart: UInt32?
    public var userRangeSize: UInt32
    public var network: Bool
    public var uts: Bool
    public var hostname: String?
    /// Ports below 1024 the jail serves from its user namespace in the host's network namespace, where its root
    /// holds no CAP_NET_BIND_SERVICE (that network namespace belongs to the host's user namespace).
    public var lowPorts: [UInt16] = []
    /// Host ids mapped (uid and gid alike) into the user namespace right after its range, one each, in order:
    /// the jail's setup (root there, before it drops its capabilities) then holds CAP_DAC_OVERRIDE over files
    /// such an id owns. smbd's jail maps samba-dcerpcd's root this way to bind that daemon's named-pipe sockets,
    /// which sit in a directory Samba insists be 0700 (see SambaTree.prepareNamedPipes).
    public var peerIDs: [UInt32] = []

    public init(userRangeStart: UInt32? = nil, userRangeSize: UInt32 = 65536, network: Bool = false, uts: Bool = false, hostname: String? = nil) {
        self.userRangeStart = userRangeStart
        self.userRangeSize = userRangeSize
        self.network = network
        self.uts = uts
        self.hostname = hostname
    }
}
