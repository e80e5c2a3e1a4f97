import Glibc
import PitProcess
import PitJail

/// cgroup v2 lets a cgroup enable controllers for its children only while it holds no processes itself,
/// except at the root. Under busybox init Pit runs in the root cgroup; under systemd (pit.service,
/// Delegate=yes) or procd it runs in its service's cgroup, where enabling memory/pids/cpu for the jails'
/// cgroups fails with EBUSY. So, before any jail starts, Pit moves itself into a leaf `pit-supervisor` of
/// its cgroup, and the jails' cgroups are created beside that leaf (CgroupLayout.jailParent).
public enum CgroupLeaf {
    /// The leaf directory to move into, or nil when none is needed: no cgroup2, the root cgroup, already in
    /// the leaf, or no controller the jails use (memory, pids, cpu) enabled in the v2 cgroup (a hybrid
    /// layout like this development machine's, where those are v1 hierarchies).
    public static func plan(procSelfCgroup: String, mountinfo: String, controllersOf: (String) -> String?) -> String? {
        guard let path = CgroupLayout.memberships(procSelfCgroup: procSelfCgroup).v2 else { return nil }
        guard path != "/", CgroupLayout.jailParent(ofV2Path: path) == path else { return nil }
        guard let mount = CgroupLayout.cgroupMounts(mountinfo: mountinfo).first(where: { $0.type == "cgroup2" })?.point else {
            return nil
        }
        let own = mount + path
        let enabled = (controllersOf(own) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard enabled.contains(where: { ["memory", "pids", "cpu"].contains($0) }) else { return nil }
        return own + "/" + CgroupLayout.supervisorLeaf
    }

    /// Moves this process into the leaf when `plan` says so. Returns a problem to report, or nil.
    public static func enterIfNeeded() -> String? {
        guard let leaf = plan(procSelfCgroup: readText("/proc/self/cgroup") ?? "",
                              mountinfo: readText("/proc/self/mountinfo") ?? "",
                              controllersOf: { readText($0 + "/cgroup.controllers") }) else { return nil }
        if mkdir(leaf, 0o755) != 0 && errno != EEXIST { return "cgroup \(leaf): \(String(cString: strerror(errno)))" }
        let fd = open(leaf + "/cgroup.procs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return "cgroup \(leaf)/cgroup.procs: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let pid = "\(getpid())"
        guard write(fd, pid, pid.utf8.count) == pid.utf8.count else {
            return "cgroup \(leaf)/cgroup.procs: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
