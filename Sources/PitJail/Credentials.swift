import CPitShim
import Glibc

extension Credentials {
    /// Drops to the jail's identity: bounding set, groups, gid, uid, then the remaining capability sets.
    /// The order matters: the bounding set needs CAP_SETPCAP, which setresuid away from root clears.
    func apply(_ program: inout ChildProgram) {
        var keep: UInt64 = 0
        for cap in keepCaps where cap >= 0 && cap < 64 { keep |= 1 << UInt64(cap) }
        if keep != 0 {
            // Keep the permitted set across setresuid so capset can keep exactly `keep` afterwards.
            program.prctl(PR_SET_KEEPCAPS, 1, step: "prctl PR_SET_KEEPCAPS")
        }
        program.dropBoundingCapabilities(keeping: keep, lastCap: lastCap)
        program.setGroups(groups)
        program.setGroupID(gid, step: "setresgid", path: String(gid))
        program.setUserID(uid, step: "setresuid", path: String(uid))
        program.setCapabilities(keep)
        program.prctl(PR_CAP_AMBIENT, UInt64(PR_CAP_AMBIENT_CLEAR_ALL), step: "clear ambient capabilities")
        // Ambient capabilities are what lets a non-root uid keep `keep` across execve.
        program.raiseAmbientCapabilities(keep)
        if keep != 0 {
            program.prctl(PR_SET_KEEPCAPS, 0, step: "prctl PR_SET_KEEPCAPS")
        }
    }
}

enum Privileges {
    /// no_new_privs: setuid binaries and file capabilities inside the jail grant nothing.
    static func forbidNewPrivileges(_ program: inout ChildProgram) {
        program.prctl(PR_SET_NO_NEW_PRIVS, 1, step: "prctl PR_SET_NO_NEW_PRIVS")
    }
}

/// Capability names as the kernel and libcap spell them, indexed by number.
public enum CapabilityNames {
    public static let all = [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
        "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
        "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
        "checkpoint_restore",
    ]

    /// Accepts `CAP_NET_BIND_SERVICE`, `net_bind_service` or a number.
    public static func number(of name: String) -> Int? {
        if let n = Int(name), n >= 0, n < 64 { return n }
        var lowered = name.lowercased()
        if lowered.hasPrefix("cap_") { lowered.removeFirst(4) }
        return all.firstIndex(of: lowered)
    }

    public static func name(of number: Int) -> String {
        number < all.count ? "CAP_" + all[number].uppercased() : "CAP_\(number)"
    }
}
