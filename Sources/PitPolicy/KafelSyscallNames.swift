#if canImport(Glibc)
import Glibc
#endif
import CSeccomp

/// kafel's syscall names, which win over libseccomp's where the two differ, so that a policy pasted from NsJail
/// filters the same numbers under Pit.
///
/// kafel's tables (src/syscalls/*_syscalls.c) name syscalls after the kernel's functions. On i386 and arm that shifts
/// the uid/gid family: kafel's `setuid` is sys_setuid, number 213 (libseccomp's and glibc's setuid32, what glibc
/// calls), and the 16-bit call 23 is `setuid16`; libseccomp's `setuid` is 23. The same for getuid, getgid, geteuid,
/// getegid, setgid, setreuid, setregid, setresuid, setresgid, getresuid, getresgid, setfsuid, setfsgid, getgroups,
/// setgroups, chown, fchown, lchown (each with a `...16`), and on i386 also `stat`, `lstat`, `fstat` (the old calls
/// 18, 84, 28; `newstat`... are 106...), `uname` (olduname, 109; `newuname` is 122), `select` (142, libseccomp's
/// _newselect), `umount` (umount2, 52; `oldumount` is 22) and `getrlimit` (ugetrlimit, 191; `old_getrlimit` is 76).
/// Names kafel has and libseccomp lacks (`newfstat`, `setuid16`, `llseek`, `mmap_pgoff`, ...) are here too.
///
/// Only the names whose number differs from libseccomp's answer are listed, so that resolving a name stays one
/// libseccomp look-up (a launch resolves execve only). Not listed, and resolved as before: i386's socket and IPC
/// calls (libseccomp answers a socketcall/ipc pseudo-number; Pit's table has the direct number, kafel's), and names
/// whose number libseccomp does not know on that architecture (README, "Differences from kafel": arm's OABI-only
/// alarm, time, stime, utime, readdir, ipc, socketcall, syscall, mmap and old_* calls, which EABI kernels do not
/// implement), because a rule for another architecture than the host's reaches libseccomp by name only. Syscalls
/// newer than libseccomp resolve through Pit's own tables, to kafel's numbers too. KafelSyscallNamesTests walks
/// kafel's whole tables (ArgTables.swift).
///
/// Generated from Tests/Fixtures/kafel (google/kafel 18f2074) and libseccomp 2.5.4 with:
///   python3 - <<'PY'
///   import re, ctypes
///   ls = ctypes.CDLL("libseccomp.so.2")
///   ls.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
///   ls.seccomp_syscall_resolve_num_arch.argtypes = [ctypes.c_uint32, ctypes.c_int]
///   ls.seccomp_syscall_resolve_num_arch.restype = ctypes.c_char_p
///   tok = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7, "arm": 0x40000028}
///   for arch, f in [("x86_64", "amd64"), ("i386", "i386"), ("aarch64", "aarch64"), ("arm", "arm")]:
///       s = open("Tests/Fixtures/kafel/src/syscalls/%s_syscalls.c" % f).read(); body = s[s.index("_syscall_list[] = {"):]
///       out = []
///       for n, nr in re.findall(r'\{"(\w+)",\s*([0-9a-fA-Fx]+),\s*\{', body):
///           nr = int(nr, 0); r = ls.seccomp_syscall_resolve_name_arch(tok[arch], n.encode())
///           if r == nr or -300 < r <= -100 or ls.seccomp_syscall_resolve_num_arch(tok[arch], nr) is None: continue
///           out.append('"%s": %d' % (n, nr))
///       print('        "%s": [%s],' % (arch, ", ".join(sorted(out))))
///   PY
extension SyscallNames {
    static let kafelNumbers: [String: [String: Int]] = [
        "x86_64": ["newfstat": 5, "newlstat": 6, "newstat": 4, "newuname": 63, "sendfile64": 40, "sysctl": 156,
            "umount": 166],
        "i386": ["chown": 212, "chown16": 182, "fchown": 207, "fchown16": 95, "fstat": 28, "getegid": 202,
            "getegid16": 50, "geteuid": 201, "geteuid16": 49, "getgid": 200, "getgid16": 47, "getgroups": 205,
            "getgroups16": 80, "getresgid": 211, "getresgid16": 171, "getresuid": 209, "getresuid16": 165,
            "getrlimit": 191, "getuid": 199, "getuid16": 24, "lchown": 198, "lchown16": 16, "llseek": 140,
            "lstat": 84, "mmap_pgoff": 192, "newfstat": 108, "newlstat": 107, "newstat": 106, "newuname": 122,
            "old_getrlimit": 76, "old_mmap": 90, "old_readdir": 89, "old_select": 82, "oldumount": 22,
            "olduname": 59, "select": 142, "setfsgid": 216, "setfsgid16": 139, "setfsuid": 215, "setfsuid16": 138,
            "setgid": 214, "setgid16": 46, "setgroups": 206, "setgroups16": 81, "setregid": 204, "setregid16": 71,
            "setresgid": 210, "setresgid16": 170, "setresuid": 208, "setresuid16": 164, "setreuid": 203,
            "setreuid16": 70, "setuid": 213, "setuid16": 23, "stat": 18, "sysctl": 149, "umount": 52, "uname": 109],
        "aarch64": ["newfstat": 80, "newuname": 160, "sync_file_range2": 84, "umount": 39],
        "arm": ["chown": 212, "chown16": 182, "fchown": 207, "fchown16": 95, "getegid": 202, "getegid16": 50,
            "geteuid": 201, "geteuid16": 49, "getgid": 200, "getgid16": 47, "getgroups": 205, "getgroups16": 80,
            "getresgid": 211, "getresgid16": 171, "getresuid": 209, "getresuid16": 165, "getrlimit": 191,
            "getuid": 199, "getuid16": 24, "lchown": 198, "lchown16": 16, "llseek": 140, "newfstat": 108,
            "newlstat": 107, "newstat": 106, "newuname": 122, "select": 142, "setfsgid": 216, "setfsgid16": 139,
            "setfsuid": 215, "setfsuid16": 138, "setgid": 214, "setgid16": 46, "setgroups": 206, "setgroups16": 81,
            "setregid": 204, "setregid16": 71, "setresgid": 210, "setresgid16": 170, "setresuid": 208,
            "setresuid16": 164, "setreuid": 203, "setreuid16": 70, "setuid": 213, "setuid16": 23,
            "sync_file_range2": 341, "sysctl": 149, "umount": 52],
    ]

    /// The name a policy writes for `number` on `arch` (what `pit policy learn` emits): libseccomp's, unless kafel
    /// gives that name another number (arm's 24 is libseccomp's `getuid`, kafel's `getuid16`; 199 stays `getuid32`).
    public static func policyName(number: Int, arch: SeccompArch) -> String? {
        guard let name = name(number: number, arch: arch) else { return nil }
        guard let kafel = kafelNumbers[arch.name], let other = kafel[name], other != number else { return name }
        return kafel.filter { $0.value == number }.map(\.key).min() ?? name
    }

    /// kafel's meaning of `name` on `arch` where it differs from libseccomp's: libseccomp's name for kafel's number.
    static func kafelResolution(_ name: String, arch: SeccompArch) -> Resolution? {
        guard let number = kafelNumbers[arch.name]?[name] else { return nil }
        guard let p = seccomp_syscall_resolve_num_arch(arch.token, Int32(number)) else { return nil }
        defer { free(p) }
        return .syscall(name: String(cString: p), number: number)
    }
}
