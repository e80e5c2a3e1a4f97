import CSeccomp
import PitProcess
#if canImport(Glibc)
import Glibc
#endif

/// Syscall names, per architecture.
///
/// Names resolve through libseccomp's tables first. libseccomp spells syscalls like the glibc
/// `__NR_` constants; strace, perf (kernel `sys_*` function names) and kafel sometimes differ,
/// so an alias table maps those spellings per architecture (only when libseccomp does not know
/// the name on that architecture itself).
///
/// Rule for names missing on the target architecture (documented in policies/example.policy):
///  * a name that exists on no supported architecture is an error, with a "did you mean" hint;
///  * a name that exists on another architecture but not on the target is an error, unless it
///    is in `SyscallNames.archSpecific` — legacy or arch-private calls (open, stat, arch_prctl,
///    mmap2, ...) that a portable policy lists for the arches that have them; those are skipped
///    on the arches that lack them and reported in `CompiledPolicy.skippedSyscalls`.
public enum SyscallNames {
    /// alias -> (architectures it applies to, libseccomp name there)
    static let aliases: [String: [(arches: Set<String>, target: String)]] = {
        let all: Set<String> = ["x86_64", "i386", "aarch64", "arm", "x32"]
        let bit64: Set<String> = ["x86_64", "aarch64", "x32"]
        let bit32: Set<String> = ["i386", "arm"]
        return [
            // Kernel function names (perf, kafel, the article's policy).
            "newfstat": [(all, "fstat")],
            "newstat": [(all, "stat")],
            "newlstat": [(all, "lstat")],
            "newuname": [(all, "uname")],
            // sys_umount implements umount2; i386 also has a real `umount` (22), kept there.
            "umount": [(["x86_64", "aarch64", "arm", "x32"], "umount2")],
            "llseek": [(bit32, "_llseek"), (bit64, "lseek")],
            "_llseek": [(bit64, "lseek")],
            "fstatat64": [(bit64, "newfstatat")],
            "newfstatat": [(bit32, "fstatat64")],
            "_newselect": [(bit64, "select")],
            // ARM EABI has no old select; glibc's select() is _newselect there.
            "select": [(["arm"], "_newselect")],
            "pread": [(all, "pread64")],
            "pwrite": [(all, "pwrite64")],
            "sysctl": [(all, "_sysctl")],
            "sendfile64": [(bit64, "sendfile")],
            "fadvise64_64": [(bit64, "fadvise64"), (["arm"], "arm_fadvise64_64")],
            "fadvise64": [(["arm"], "arm_fadvise64_64")],
            "arm_fadvise64_64": [(bit64, "fadvise64"), (["i386"], "fadvise64_64")],
            "sync_file_range2": [(["arm"], "arm_sync_file_range"), (["x86_64", "i386", "aarch64", "x32"], "sync_file_range")],
            "sync_file_range": [(["arm"], "arm_sync_file_range")],
            "sigreturn": [(bit64, "rt_sigreturn")],
            "mmap_pgoff": [(bit32, "mmap2"), (bit64, "mmap")],
            "old_mmap": [(["i386"], "mmap")],
            "sys_clone": [(all, "clone")],
        ]
    }()

    /// Calls that exist only on some architectures; a policy naming one of them is skipped, not
    /// rejected, on an architecture that lacks it. aarch64 (asm-generic) dropped the legacy
    /// path-based and old-ABI calls; 32-bit arches have *64/*32 variants; x86 and ARM have private calls.
    public static let archSpecific: Set<String> = [
        // legacy calls absent from asm-generic (aarch64)
        "open", "stat", "lstat", "access", "creat", "fork", "vfork", "pipe", "poll", "select",
        "dup2", "link", "unlink", "mkdir", "rmdir", "rename", "chmod", "chown", "lchown",
        "readlink", "symlink", "getdents", "alarm", "pause", "time", "utime", "utimes",
        "epoll_create", "epoll_wait", "inotify_init", "eventfd", "signalfd", "mknod", "getpgrp",
        "ustat", "uselib", "sysfs", "futimesat", "getrlimit", "_sysctl", "newstat", "newlstat",
        "umount", "sendfile64", "epoll_ctl_old", "epoll_wait_old", "mmap",
        // x86 private
        "arch_prctl", "iopl", "ioperm", "modify_ldt", "vm86", "vm86old", "set_thread_area",
        "get_thread_area", "create_module", "get_kernel_syms", "query_module", "nfsservctl",
        "getpmsg", "putpmsg", "afs_syscall", "tuxcall", "security", "uselib",
        // 32-bit only
        "_llseek", "llseek", "mmap2", "fstat64", "stat64", "lstat64", "fstatat64", "fcntl64",
        "truncate64", "ftruncate64", "statfs64", "fstatfs64", "getuid32", "getgid32",
        "geteuid32", "getegid32", "setuid32", "setgid32", "setreuid32", "setregid32",
        "setresuid32", "setresgid32", "getresuid32", "getresgid32", "getgroups32", "setgroups32",
        "chown32", "fchown32", "lchown32", "setfsuid32", "setfsgid32", "_newselect", "sigreturn",
        "sigaction", "sigprocmask", "sigpending", "sigsuspend", "waitpid", "nice", "signal",
        "sgetmask", "ssetmask", "socketcall", "ipc", "ugetrlimit", "oldstat", "oldfstat",
        "oldlstat", "olduname", "oldolduname", "readdir", "fadvise64_64", "arm_fadvise64_64",
        "arm_sync_file_range", "sync_file_range2", "send", "recv", "bdflush", "stime",
        "clock_gettime64", "clock_settime64", "clock_adjtime64", "clock_getres_time64",
        "clock_nanosleep_time64", "timer_gettime64", "timer_settime64", "timerfd_gettime64",
        "timerfd_settime64", "utimensat_time64", "pselect6_time64", "ppoll_time64",
        "io_pgetevents_time64", "recvmmsg_time64", "mq_timedsend_time64",
        "mq_timedreceive_time64", "semtimedop_time64", "rt_sigtimedwait_time64",
        "futex_time64", "sched_rr_get_interval_time64",
        // ARM private
        "breakpoint", "cacheflush", "usr26", "usr32", "set_tls", "get_tls",
        // newer or arch-dependent
        "newfstatat", "fadvise64", "sync_file_range", "renameat", "kexec_file_load",
        "map_shadow_stack", "uretprobe",
    ]

    /// One architecture's syscall table as libseccomp knows it, read by number so that calls
    /// libseccomp multiplexes on i386 (socket, semget, ... through socketcall/ipc, for which
    /// resolve_name answers a pseudo-number) still get their direct syscall numbers.
    struct Table: Sendable {
        var byName: [String: Int] = [:]
        var byNumber: [Int: String] = [:]
    }

    // One lazily built table per architecture (static lets initialise once, thread-safely, on first use):
    // a launch compiles for its own arch only, and building a table costs ~1000 libseccomp look-ups.
    static let x86_64Table = buildTable(.x86_64)
    static let i386Table = buildTable(.i386)
    static let aarch64Table = buildTable(.aarch64)
    static let armTable = buildTable(.arm)
    static let x32Table = buildTable(.x32)

    static func table(_ arch: SeccompArch) -> Table? {
        switch arch {
        case .x86_64: return x86_64Table
        case .i386: return i386Table
        case .aarch64: return aarch64Table
        case .arm: return armTable
        case .x32: return x32Table
        default: return nil
        }
    }

    static func buildTable(_ arch: SeccompArch) -> Table {
        var t = Table()
        for nr in numberRange(arch) {
            if let p = seccomp_syscall_resolve_num_arch(arch.token, Int32(nr)) {
                let name = String(cString: p)
                free(p)
                t.byNumber[nr] = name
                if t.byName[name] == nil { t.byName[name] = nr }
            }
        }
        // The kernel's newer syscalls libseccomp cannot name (KernelSyscalls): never over one it knows.
        for (nr, name) in KernelSyscalls.byArch[arch.name] ?? [] where t.byName[name] == nil && t.byNumber[nr] == nil {
            t.byNumber[nr] = name
            t.byName[name] = nr
        }
        return t
    }

    /// All names known on any supported architecture (libseccomp's plus the aliases):
    /// the dictionary for "did you mean".
    public static let knownNames: Set<String> = {
        var names = Set<String>()
        for arch in SeccompArch.nameArches { names.formUnion(table(arch)!.byName.keys) }
        names.formUnion(aliases.keys)
        return names
    }()

    static func numberRange(_ arch: SeccompArch) -> [Int] {
        var r = Array(0..<1024)
        if arch == .arm { r += Array(0xF0000..<0xF0010) }   // ARM private syscalls
        if arch == .x32 { r = r.map { $0 | 0x4000_0000 } }
        return r
    }

    /// The number of `name` on `arch`, nil when it does not exist there.
    public static func libseccompNumber(_ name: String, _ arch: SeccompArch) -> Int? {
        // One name is libseccomp's own look-up, without building the arch's whole table (~1000 look-ups, a tenth
        // of a millisecond): a launch with a warm policy cache resolves only execve. A negative answer (a name
        // libseccomp lacks, or i386's multiplexed pseudo-numbers, whose direct numbers only the table has) goes
        // to the table.
        let direct = seccomp_syscall_resolve_name_arch(arch.token, name)
        if direct >= 0 { return Int(direct) }
        return table(arch)?.byName[name]
    }

    public static func name(number: Int, arch: SeccompArch) -> String? {
        table(arch)?.byNumber[number]
    }

    public enum Resolution: Equatable, Sendable {
        /// The libseccomp name on the target arch and its number.
        case syscall(name: String, number: Int)
        /// An arch-specific name the target lacks: skipped by the rule above.
        case absent
    }

    /// Resolves a policy's spelling of a syscall for one architecture.
    public static func resolve(_ name: String, arch: SeccompArch) -> Result<Resolution, ResolveFailure> {
        if let kafel = kafelResolution(name, arch: arch) { return .success(kafel) }   // KafelSyscallNames.swift
        if let n = libseccompNumber(name, arch) { return .success(.syscall(name: name, number: n)) }
        // i386 reaches some socket and SysV IPC calls (accept, send, recv, ipc's semop, ...) only
        // through socketcall/ipc: libseccomp answers a pseudo-number (-101... / -201...) and
        // filters the multiplexer's first argument. Summaries show that negative number.
        let pseudo = seccomp_syscall_resolve_name_arch(arch.token, name)
        if pseudo <= -100 && pseudo > -300 { return .success(.syscall(name: name, number: Int(pseudo))) }
        if let list = aliases[name], let a = list.first(where: { $0.arches.contains(arch.name) }),
           let n = libseccompNumber(a.target, arch) {
            return .success(.syscall(name: a.target, number: n))
        }
        let existsElsewhere = SeccompArch.nameArches.contains { other in
            other != arch && (libseccompNumber(name, other) != nil
                || (aliases[name]?.contains { $0.arches.contains(other.name) && libseccompNumber($0.target, other) != nil } ?? false))
        }
        if existsElsewhere {
            if archSpecific.contains(name) { return .success(.absent) }
            return .failure(.notOnArch)
        }
        return .failure(.unknown(suggestion: suggestion(for: name)))
    }

    public enum ResolveFailure: Error, Equatable, Sendable {
        case unknown(suggestion: String?)
        case notOnArch
    }

    /// The closest known name by edit distance, if it is close enough to be a plausible typo (longer names
    /// allow one more edit); ties go to the alphabetically first.
    public static func suggestion(for name: String) -> String? {
        Suggestion.closest(to: name, in: knownNames.sorted(), limit: max(2, min(3, name.count / 3)))
    }
}
