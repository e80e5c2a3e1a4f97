import CPitShim
import Glibc
import PitJail
import PitProcess

/// Who may drive the control socket: root, and only root outside every jail. uid 0 alone is not enough: a
/// jail's init often runs as uid 0 (smbd needs it), and a jail that could see the socket's path (a bind of
/// its directory, or a process that joined a jail's namespaces) must not stop or restart jails. So the peer
/// must also live in the supervisor's own PID namespace (every jail has its own) and outside every jail's
/// cgroup. The peer is held by a pidfd while its /proc entries are read, and the pidfd is asked afterwards
/// whether that process still lives: a peer that exited and whose pid went to another process fails there.
enum ControlPeer {
    enum Verdict: Equatable {
        case accepted
        /// `reply` is what the client is told; `detail` (who, and why) goes to the log only.
        case refused(reply: String, detail: String)
    }

    static func check(_ socket: Int32) -> Verdict {
        // SO_PEERCRED's uid is mapped into the supervisor's user namespace: root of a user-namespace jail is
        // its unprivileged host uid here.
        let uid = pit_peer_uid(socket)
        guard uid == 0 else {
            return .refused(reply: "the control socket serves root only", detail: "uid \(uid)")
        }
        // The pid the kernel recorded at connect(2), in this PID namespace (0: the peer is not visible here,
        // i.e. it lives in an ancestor namespace).
        let pid = pit_peer_pid(socket)
        guard pid > 0 else {
            return .refused(reply: "refused: peer is outside the supervisor's PID namespace", detail: "no pid visible for the peer")
        }
        // SO_PEERPIDFD (Linux 6.5) names the very process that connected; before 6.5, a pidfd opened now on the
        // recorded pid is the best there is (a pid reused in between would be judged instead).
        var pidfd = pit_peer_pidfd(socket)
        if pidfd < 0 { pidfd = pit_pidfd_open(pid, 0) }
        guard pidfd >= 0 else {
            return .refused(reply: "refused: peer exited", detail: "pid \(pid): \(String(cString: strerror(errno)))")
        }
        defer { close(pidfd) }
        let who = "pid \(pid) (\((readText("/proc/\(pid)/comm") ?? "?").trimmingCharacters()))"

        var own = stat(), peer = stat()
        guard stat("/proc/self/ns/pid", &own) == 0, stat("/proc/\(pid)/ns/pid", &peer) == 0 else {
            return .refused(reply: "refused: peer exited", detail: "\(who): /proc/\(pid)/ns/pid: \(String(cString: strerror(errno)))")
        }
        if own.st_dev != peer.st_dev || own.st_ino != peer.st_ino {
            return .refused(reply: "refused: peer is inside a jail",
                            detail: "\(who) is in PID namespace \(peer.st_ino), not the supervisor's (\(own.st_ino))")
        }
        guard let cgroups = readText("/proc/\(pid)/cgroup") else {
            return .refused(reply: "refused: peer exited", detail: "\(who): /proc/\(pid)/cgroup unreadable")
        }
        if let jail = jailCgroup(in: cgroups) {
            return .refused(reply: "refused: peer is inside a jail", detail: "\(who) is in the jail cgroup \(jail)")
        }
        // Last: the /proc entries read above belonged to the peer only if it is still alive now.
        guard pit_pidfd_send_signal(pidfd, 0) == 0 else {
            return .refused(reply: "refused: peer exited", detail: "\(who) exited while it was checked")
        }
        return .accepted
    }

    /// The first cgroup path in a /proc/PID/cgroup text that is a jail's cgroup or lies below one, or nil.
    /// Jail cgroups are `pit-NAME-PID` (JailCgroup.create, PID being the launching Pit's): this supervisor's
    /// jails and those of a `pit run` alike. The supervisor's own leaf, `pit-supervisor`, has no pid suffix.
    static func jailCgroup(in procCgroup: String) -> String? {
        for line in procCgroup.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[2].split(separator: "/").contains(where: { JailCgroup.ownerPid(ofLeaf: $0) != nil }) { return String(fields[2]) }
        }
        return nil
    }
}
