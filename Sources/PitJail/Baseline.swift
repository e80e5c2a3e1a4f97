import Glibc
import PitPolicy

extension JailPolicy {
    /// The filter of a jail without a policy of its own (`pit run` without --policy or --seccomp-string, a jail
    /// spec without `policy`): everything runs but the calls that reach past the jail into kernel state the
    /// jail's namespaces do not cover, or into the kernel's least-hardened code. Each is refused with EPERM and
    /// reported (pid, syscall, arguments), and the process goes on. The compiler adds the nested-namespace rule
    /// (clone/unshare with namespace flags, setns) to this filter as to every other.
    /// Why a baseline at all: a jail without a filter can create a user namespace and with it every capability
    /// over namespaces of its own; bubblewrap and NsJail refuse that by default, and so does Pit.
    public static let baselineText = """
        // Pit's baseline filter (Sources/PitJail/Baseline.swift): a jail without a policy of its own.
        POLICY pit_baseline {
          // personality: only the harmless personas (Linux, its 32-bit variant, the query); READ_IMPLIES_EXEC
          // and ADDR_NO_RANDOMIZE weaken the process's own defences.
          ALLOW { personality(persona) { persona == 0 || persona == 8 || persona == 0x20000 || persona == 0x20008 || persona == 0xffffffff } }
          REPORT {
            personality,
            // The kernel's keyrings are not namespaced: keys of other users and services are one lookup away.
            keyctl, add_key, request_key,
            // Kernel attack surface with a long CVE history and no use in a service jail.
            bpf, perf_event_open, userfaultfd, io_uring_setup, io_uring_enter, io_uring_register,
            // The machine itself: modules, kexec, reboot, swap, accounting, the clock.
            init_module, finit_module, delete_module, kexec_load, kexec_file_load, reboot, swapon, swapoff, acct,
            settimeofday, clock_settime,
            // A file handle opens any inode of the file system, beyond the jail's root (CVE-2014 "shocker").
            open_by_handle_at,
            // Mounts: the jail's tree is fixed once it runs (old and new mount API).
            mount, umount2, pivot_root, fsopen, fsconfig, fsmount, fspick, open_tree, move_mount, mount_setattr
          }
        }
        USE pit_baseline DEFAULT ALLOW
        """

    /// The baseline compiled for `arch` (from the policy cache when there).
    public static func baseline(arch: SeccompArch = .native) throws(PolicyError) -> JailPolicy {
        var policy = try compile(PolicySource(text: baselineText, file: "<baseline>"), arch: arch)
        // Refused, not killed: the baseline guards a jail that asked for no policy, whose program may probe.
        policy.outcome = .errno(EPERM)
        return policy
    }
}
