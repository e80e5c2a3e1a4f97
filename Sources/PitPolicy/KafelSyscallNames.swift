/// kafel's syscall names, which win over libseccomp's where the two differ, so that a policy pasted from NsJail
/// filters the same numbers under Pit.
///
/// kafel's tables (src/syscalls/*_syscalls.c, carried with their numbers in ArgTables.swift) name syscalls after
/// the kernel's functions. On i386 and arm that shifts the uid/gid family: kafel's `setuid` is sys_setuid, number
/// 213 (libseccomp's and glibc's setuid32, what glibc calls), and the 16-bit call 23 is `setuid16`; libseccomp's
/// `setuid` is 23. The same for getuid, getgid, geteuid, getegid, setgid, setreuid, setregid, setresuid,
/// setresgid, getresuid, getresgid, setfsuid, setfsgid, getgroups, setgroups, chown, fchown, lchown (each with a
/// `...16`), and on i386 also `stat`, `lstat`, `fstat` (the old calls 18, 84, 28; `newstat`... are 106...),
/// `uname` (olduname, 109; `newuname` is 122), `select` (142, libseccomp's _newselect), `umount` (umount2, 52;
/// `oldumount` is 22) and `getrlimit` (ugetrlimit, 191; `old_getrlimit` is 76). Names kafel has and libseccomp
/// lacks (`newfstat`, `setuid16`, `llseek`, `mmap_pgoff`, ...) resolve to kafel's numbers too.
///
/// i386's socket calls resolve to their direct numbers, as before and as in kafel (libseccomp filters the socketcall(2)
/// form too). Names whose number libseccomp does not know on that architecture keep Pit's resolution (README,
/// "Differences from kafel"): arm's OABI-only alarm, time, stime, utime, readdir, ipc, socketcall, syscall, mmap and
/// old_* calls, which EABI kernels do not implement, and syscalls newer than libseccomp 2.5.4; a rule for another
/// architecture than the host's reaches libseccomp by name only. KafelSyscallNamesTests walks kafel's tables.
extension SyscallNames {
    static func kafelResolution(_ name: String, arch: SeccompArch) -> Resolution? {
        guard arch != .x32, let table = SyscallArgs.table(arch), let number = table.numberByName[name] else { return nil }
        guard let libseccompName = self.name(number: number, arch: arch) else { return nil }
        return .syscall(name: libseccompName, number: number)
    }
}
