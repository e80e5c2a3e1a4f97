import Glibc
import PitProcess

/// Where each cgroup controller lives on this machine: the unified (v2) hierarchy when the controller is
/// enabled there, otherwise its v1 hierarchy. Appliances may have either layout, or (like systemd's hybrid
/// mode) both at once.
public struct CgroupLayout: Sendable, Equatable {
    public enum Hierarchy: Sendable, Equatable {
        case v2(directory: String)
        case v1(directory: String)
    }
    public var controllers: [String: Hierarchy]

    /// Reads /proc/self/mountinfo and /proc/self/cgroup to find Pit's own cgroup in each hierarchy.
    public static func detect() -> CgroupLayout {
        var v2Mount: String?
        var v1Mounts: [String: String] = [:]
        for mount in cgroupMounts(mountinfo: readText("/proc/self/mountinfo") ?? "") {
            if mount.type == "cgroup2" { v2Mount = v2Mount ?? mount.point }
            if mount.type == "cgroup" {
                for option in mount.options.split(separator: ",") { v1Mounts[String(option)] = mount.point }
            }
        }
        let (v2Path, v1Paths) = memberships(procSelfCgroup: readText("/proc/self/cgroup") ?? "")
        var controllers: [String: Hierarchy] = [:]
        if let v2Mount, let v2Path {
            let base = jailParent(ofV2Path: v2Path)
            let own = v2Mount + (base == "/" ? "" : base)
            for name in (readText(own + "/cgroup.controllers") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                controllers[String(name)] = .v2(directory: own)
            }
        }
        for name in ["memory", "pids", "cpu"] where controllers[name] == nil {
            if let mount = v1Mounts[name], let path = v1Paths[name] {
                controllers[name] = .v1(directory: mount + (path == "/" ? "" : path))
            }
        }
        return CgroupLayout(controllers: controllers)
    }

    /// The cgroup file systems in a mountinfo text: mount point (unescaped), type (cgroup or cgroup2) and
    /// super options (the v1 controllers).
    public static func cgroupMounts(mountinfo: String) -> [(point: String, type: String, options: String)] {
        var mounts: [(point: String, type: String, options: String)] = []
        for line in mountinfo.split(separator: "\n") {
            // "36 35 0:30 / /sys/fs/cgroup/memory rw,... shared:1 - cgroup cgroup rw,memory"
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " "), right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3, right[0] == "cgroup" || right[0] == "cgroup2" else { continue }
            mounts.append((unescape(String(left[4])), String(right[0]), String(right[2])))
        }
        return mounts
    }

    /// This process's cgroups from a /proc/self/cgroup text: its v2 path ("0::PATH") and its v1 path per controller.
    public static func memberships(procSelfCgroup: String) -> (v2: String?, v1: [String: String]) {
        var v1: [String: String] = [:]
        var v2: String?
        for line in procSelfCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[1].isEmpty { v2 = String(fields[2]) } else {
                for controller in fields[1].split(separator: ",") { v1[String(controller)] = String(fields[2]) }
            }
        }
        return (v2, v1)
    }

    /// The leaf `pit supervise` moves itself into when its cgroup v2 is not the root (systemd with Delegate=yes,
    /// procd): a cgroup with processes cannot enable controllers for children ("no internal processes").
    public static let supervisorLeaf = "pit-supervisor"

    /// Where jails' v2 cgroups go for a process in `path`: beside the supervisor's leaf, not below it.
    public static func jailParent(ofV2Path path: String) -> String {
        guard path == "/" + supervisorLeaf || path.hasSuffix("/" + supervisorLeaf) else { return path }
        let parent = String(path.dropLast(supervisorLeaf.count + 1))
        return parent.isEmpty ? "/" : parent
    }

    private static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\040", with: " ")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// The jail's own cgroup(s): created before the jail starts, removed after it ends.
public struct JailCgroup: Sendable {
    public private(set) var directories: [String] = []

    /// Creates `pit-NAME-PID` under Pit's own cgroup for each controller the limits need, and writes the limits.
    public static func create(name: String, limits: Limits, layout: CgroupLayout = .detect()) throws(JailError) -> JailCgroup {
        var cgroup = JailCgroup()
        let leaf = "pit-\(name)-\(getpid())"
        var wanted: [String] = []
        if limits.memoryMax != nil { wanted.append("memory") }
        if limits.pidsMax != nil { wanted.append("pids") }
        if limits.cpuMaxPercent != nil { wanted.append("cpu") }

        var created: [String: String] = [:]   // hierarchy directory -> jail directory
        do throws(JailError) {
            for controller in wanted {
                guard let hierarchy = layout.controllers[controller] else {
                    throw JailError("cgroup", path: controller, detail: "controller not available on this system")
                }
                let parent: String, isV2: Bool
                switch hierarchy {
                case .v2(let directory): parent = directory; isV2 = true
                case .v1(let directory): parent = directory; isV2 = false
                }
                if isV2 {
                    // Enabling a controller for children; fails with EBUSY if Pit's own cgroup holds processes
                    // and is not the root (the "no internal processes" rule): start Pit in a delegated cgroup.
                    try writeFile(parent + "/cgroup.subtree_control", "+\(controller)", step: "cgroup enable \(controller)")
                }
                let directory = parent + "/" + leaf
                if created[parent] == nil {
                    guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { throw .sys("cgroup mkdir", directory) }
                    created[parent] = directory
                    cgroup.directories.append(directory)
                }
                for (file, value, optional) in settings(for: controller, limits: limits, v2: isV2) {
                    let path = directory + "/" + file
                    if optional && access(path, F_OK) != 0 { continue }
                    try writeFile(path, value, step: "cgroup limit")
                }
            }
        } catch {
            cgroup.remove()
            throw error
        }
        return cgroup
    }

    private static func settings(for controller: String, limits: Limits, v2: Bool) -> [(String, String, Bool)] {
        switch controller {
        case "memory":
            let bytes = String(limits.memoryMax!)
            // Without swap accounting a hog would swap instead of meeting the limit.
            return v2 ? [("memory.max", bytes, false), ("memory.swap.max", "0", true)]
                      : [("memory.limit_in_bytes", bytes, false), ("memory.memsw.limit_in_bytes", bytes, true)]
        case "pids":
            return [("pids.max", String(limits.pidsMax!), false)]
        case "cpu":
            let period: UInt64 = 100_000
            let quota = limits.cpuMaxPercent! * period / 100
            return v2 ? [("cpu.max", "\(quota) \(period)", false)]
                      : [("cpu.cfs_period_us", String(period), false), ("cpu.cfs_quota_us", String(quota), false)]
        default:
            return []
        }
    }

    public func add(pid: pid_t) throws(JailError) {
        for directory in directories {
            try writeFile(directory + "/cgroup.procs", String(pid), step: "cgroup attach")
        }
    }

    /// Removes the directories. Called after the jail's init was reaped: the PID namespace is empty by then,
    /// but the kernel may still be releasing the last tasks, so EBUSY is retried briefly.
    public func remove() {
        for directory in directories.reversed() {
            var attempts = 0
            while rmdir(directory) != 0 && errno == EBUSY && attempts < 200 {
                attempts += 1
                usleep(1000)
            }
        }
    }

    /// Removes the cgroups of jails whose Pit is gone (`pit-NAME-PID` where no process PID lives): after a kill -9
    /// or a crash of the supervisor (or of `pit run`), their directories stayed, and under an init that respawns
    /// Pit every crash would add more. Only empty ones, and only if still empty a moment later: the hierarchy is
    /// the whole machine's, and a Pit in another PID namespace (a container, a test root) names its cgroups by
    /// pids this one cannot see; such a Pit's jail has processes in its cgroup, or is between making it and
    /// moving its child in (microseconds; a cgroup's times cannot tell its age: kernfs sets them at the first
    /// look). A jail's processes die with their Pit (their death signal), so a dead Pit's cgroups are empty.
    /// Returns the directories removed.
    @discardableResult
    public static func removeStale(layout: CgroupLayout = .detect()) -> [String] {
        var removed: [String] = []
        var parents: [String] = []
        for hierarchy in layout.controllers.values {
            switch hierarchy {
            case .v2(let directory), .v1(let directory): if !parents.contains(directory) { parents.append(directory) }
            }
        }
        for parent in parents {
            guard let dir = opendir(parent) else { continue }
            var names: [String] = []
            while let entry = readdir(dir) {
                names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
            }
            closedir(dir)
            for name in names {
                guard let owner = ownerPid(ofLeaf: name), !isLive(owner) else { continue }
                let directory = parent + "/" + name
                func empty() -> Bool { (readText(directory + "/cgroup.procs") ?? "x").isEmpty }
                guard empty() else { continue }
                usleep(50_000)
                if empty() && rmdir(directory) == 0 { removed.append(directory) }
            }
        }
        return removed
    }

    /// The Pit pid a jail leaf `pit-NAME-PID` names; nil for any other directory (`pit-supervisor` included).
    public static func ownerPid<S: StringProtocol>(ofLeaf name: S) -> pid_t? {
        guard name.hasPrefix("pit-"), let dash = name.lastIndex(of: "-"), dash > name.index(name.startIndex, offsetBy: 4) else { return nil }
        let digits = name[name.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return pid_t(digits)
    }

    /// Whether a process `pid` exists. A Pit that launches jails in-process need not be called `pit` (tests and
    /// benchmarks do it too), so any live owner keeps its cgroups: a pid reused since leaves a leak, never a
    /// running jail's cgroup removed.
    static func isLive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
