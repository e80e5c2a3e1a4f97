import CPitShim
import Glibc

extension Credentials {
    /// Drops to the jail's identity: bounding set, groups, gid, uid, then the remaining capability sets.
    /// The order matters: the bounding set needs CAP_SETPCAP, which setresuid away from root clears.
    func apply() throws(JailError) {
        let keep = Set(keepCaps)
        if !keep.isEmpty {
            // Keep the permitted set across setresuid so capset can keep exactly `keep` afterwards.
            guard pit_prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == 0 else { throw .sys("prctl PR_SET_KEEPCAPS") }
        }
        for cap in 0...lastCap where !keep.contains(cap) {
            guard pit_prctl(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) == 0 else { throw .sys("drop bounding capability \(cap)") }
        }
        guard groups.withUnsafeBufferPointer({ pit_setgroups($0.count, $0.baseAddress) }) == 0 else {
            throw .sys("setgroups", groups.map(String.init).joined(separator: ","))
        }
        guard pit_setresgid(gid, gid, gid) == 0 else { throw .sys("setresgid", String(gid)) }
        guard pit_setresuid(uid, uid, uid) == 0 else { throw .sys("setresuid", String(uid)) }

        var mask: [UInt32] = [0, 0]
        for cap in keep { mask[cap / 32] |= 1 << UInt32(cap % 32) }
        guard pit_capset(mask, mask, mask) == 0 else { throw .sys("capset") }
        guard pit_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0) == 0 else { throw .sys("clear ambient capabilities") }
        // Ambient capabilities are what lets a non-root uid keep `keep` across execve.
        for cap in keep.sorted() {
            guard pit_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt(cap), 0, 0) == 0 else {
                throw .sys("raise ambient capability \(cap)")
            }
        }
        if !keep.isEmpty {
            guard pit_prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == 0 else { throw .sys("prctl PR_SET_KEEPCAPS") }
        }
    }
}

enum Privileges {
    /// no_new_privs: setuid binaries and file capabilities inside the jail grant nothing.
    static func forbidNewPrivileges() throws(JailError) {
        guard pit_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 else { throw .sys("prctl PR_SET_NO_NEW_PRIVS") }
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
