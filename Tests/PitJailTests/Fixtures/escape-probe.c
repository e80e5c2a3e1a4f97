// escape-probe: one attempt per escape class, for Pit's escape suite (Tests/PitJailTests/EscapeSuiteTests.swift)
// and for peers (Tests/Benchmarks/escape-peers.sh). Built dynamically: gcc -O2 -o escape-probe escape-probe.c (see below why)
//
//   escape-probe --list                     the class names, one a line
//   escape-probe [OPTIONS] [CLASS...]       run all classes, or the named ones
//   escape-probe --whoami                   (used by the exec classes) prints "euid=N caps=HEX"
//
// Options: --tcp PORT (a host listener on 127.0.0.1), --unix PATH, --abstract NAME, --control PATH (the supervisor's
// control socket), --writable DIR (a directory the jail may write), --marker PATH (a host file the jail must not
// see), --host-pid PID (a host process outside the jail, e.g. a sleep), --tty-ok (the terminal on fds 0-2 is a pty
// made for the probe: TIOCSTI may inject into it), --inline (no fork per class: each class runs in the probe's own
// process, for filters that kill fork itself; a kill then ends the probe: meant for one class per run, as a class
// may leave the process in a new namespace or chroot).
//
// One line per class: CLASS<TAB>blocked|ESCAPED|n/a<TAB>detail. Each class runs in its own forked child with
// alarm(5), killed by the parent after 8 s, so a seccomp kill or a hang ends that class only ("blocked: killed by
// SIGSYS"), named "ep-INDEX" (its place in --list) for violation reports. Exit status 1 when any class ESCAPED, else 0.
//
// Harmless outside a jail, even as root: nothing is written but a value read back from the same file
// (core_pattern, hostname, release_agent), privileged calls are made with arguments that fail after the
// capability check (finit_module on an empty memfd, kexec_load with an unknown flag, reboot with a bad magic,
// swapon/acct/pivot_root on missing paths, adjtimex with an impossible tick, move_mount on a bad fd, RTM_NEWLINK
// on a missing link), mounts happen only in a new mount namespace of a child that exits, sysrq-trigger and
// /dev/kmsg are opened but never written, files planted in --writable are removed, and nothing is injected into
// a terminal unless --tty-ok says it is the probe's own pty.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/rtnetlink.h>

// Built dynamically, like the daemons whose jails it runs in: static glibc asks readlink("/proc/self/exe") for
// $ORIGIN before main, which a filter learned from a dynamic daemon (nmbd's) kills before the first class; the
// dynamic loader does not, and every jail the suite uses has /usr (the loader and libc) bound.

enum { BLOCKED, ESCAPED, NA };
static const char *verdicts[] = { "blocked", "ESCAPED", "n/a" };

static const char *opt_unix, *opt_abstract, *opt_control, *opt_writable, *opt_marker;
static int opt_tcp = -1, opt_host_pid = -1, opt_tty_ok, opt_inline;
static int inherited[64], inherited_count;   // fds above 2 open when the probe started

typedef int (*class_fn)(char *d, size_t n);

static const char *en(int e) {
    const char *name = strerrorname_np(e);
    return name ? name : "E?";
}
static int say(char *d, size_t n, int verdict, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, n, fmt, ap);
    va_end(ap);
    return verdict;
}
static int fail(char *d, size_t n, const char *what) { return say(d, n, BLOCKED, "%s: %s", what, en(errno)); }

static ssize_t read_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t total = 0, r;
    while ((size_t)total < size - 1 && (r = read(fd, buf + total, size - 1 - total)) > 0) total += r;
    int e = errno;
    close(fd);
    if (r < 0 && total == 0) { errno = e; return -1; }
    buf[total] = 0;
    return total;
}
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t w = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return w < 0 ? -1 : 0;
}
// Opens PATH for writing and writes back exactly what it holds now.
static int rewrite_same(const char *path, char *d, size_t n) {
    char value[4096];
    if (read_file(path, value, sizeof value) < 0) return fail(d, n, path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(d, n, path);
    size_t len = strlen(value);
    if (len == 0) { value[0] = '\n'; value[1] = 0; len = 1; }
    ssize_t w = write(fd, value, len);
    int e = errno;
    close(fd);
    if (w < 0) return say(d, n, BLOCKED, "%s opened for writing, write: %s", path, en(e));
    value[strcspn(value, "\n")] = 0;
    return say(d, n, ESCAPED, "rewrote %s with its own value \"%.60s\"", path, value);
}
// Errno after the capability check: EPERM (or EACCES) means the check refused; ENOSYS means filtered or absent.
static int cap_errno(char *d, size_t n, const char *what, long rc, int e, const char *passed) {
    if (rc >= 0) return say(d, n, ESCAPED, "%s succeeded: %s", what, passed);
    if (e == EPERM || e == EACCES || e == ENOSYS) return say(d, n, BLOCKED, "%s: %s", what, en(e));
    return say(d, n, ESCAPED, "%s: %s, past the capability check (%s)", what, en(e), passed);
}
static int host_uid_of(uid_t inside) {
    char map[4096];
    if (read_file("/proc/self/uid_map", map, sizeof map) < 0) return (int)inside;
    for (char *line = strtok(map, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long in, out, count;
        if (sscanf(line, "%lu %lu %lu", &in, &out, &count) == 3 && inside >= in && inside - in < count) return (int)(out + (inside - in));
    }
    return -1;
}
static void write_maps(uid_t uid, gid_t gid) {
    char line[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(line, sizeof line, "0 %u 1", uid);
    write_file("/proc/self/uid_map", line);
    snprintf(line, sizeof line, "0 %u 1", gid);
    write_file("/proc/self/gid_map", line);
}
// A private mount namespace of this (forked) child: its own, or with a new user namespace when that is refused.
static const char *private_mntns(void) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    const char *how = "own mount namespace";
    if (unshare(CLONE_NEWNS) != 0) {
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return NULL;
        write_maps(uid, gid);
        how = "new user+mount namespace";
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return NULL;
    return how;
}
static int copy_self(const char *dst, int dstfd) {
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0) return -1;
    int fd = dstfd >= 0 ? dstfd : open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    if (fd < 0) { close(src); return -1; }
    char buf[65536];
    ssize_t r;
    while ((r = read(src, buf, sizeof buf)) > 0)
        if (write(fd, buf, r) != r) { r = -1; break; }
    close(src);
    if (dstfd < 0) close(fd);
    return r < 0 ? -1 : 0;
}
// Runs argv (or execveat(fd) when fd >= 0) with --whoami in a grandchild; its first output line in out.
static int run_whoami(const char *path, int fd, char *out, size_t size) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(p[1], 1);
        char *argv[] = { "escape-probe", "--whoami", NULL };
        char *envp[] = { NULL };
        if (fd >= 0) syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
        else execve(path, argv, envp);
        dprintf(1, "exec: %s\n", en(errno));
        _exit(127);
    }
    close(p[1]);
    ssize_t r = read(p[0], out, size - 1);
    close(p[0]);
    out[r > 0 ? r : 0] = 0;
    out[strcspn(out, "\n")] = 0;
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && r <= 0) snprintf(out, size, "exec killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?: "?");
    return 0;
}
static int tty_fds(int *fds) {
    int count = 0;
    for (int fd = 0; fd <= 2; fd++) if (isatty(fd)) fds[count++] = fd;
    int t = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t >= 0) fds[count++] = t;
    return count;
}

// ---- /proc, /sys, /dev ----
static int c_core_pattern(char *d, size_t n) { return rewrite_same("/proc/sys/kernel/core_pattern", d, n); }
static int c_modprobe(char *d, size_t n) {
    if (access("/proc/sys/kernel/modprobe", F_OK) != 0 && errno == ENOENT && access("/proc/sys/kernel/ostype", F_OK) == 0)
        return say(d, n, NA, "no /proc/sys/kernel/modprobe: kernel without modules");
    return rewrite_same("/proc/sys/kernel/modprobe", d, n);
}
static int c_proc_hostname(char *d, size_t n) { return rewrite_same("/proc/sys/kernel/hostname", d, n); }
static int c_sysrq(char *d, size_t n) {
    int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(d, n, "open /proc/sysrq-trigger O_WRONLY");
    return say(d, n, ESCAPED, "/proc/sysrq-trigger open for writing (no byte written)");
}
static int c_kcore(char *d, size_t n) {
    int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(d, n, "open /proc/kcore");
    char b[16];
    ssize_t r = read(fd, b, sizeof b);
    close(fd);
    if (r <= 0) return say(d, n, BLOCKED, "/proc/kcore reads empty (masked)");
    return say(d, n, ESCAPED, "/proc/kcore open (read %zd bytes)", r);
}
static int c_proc_keys(char *d, size_t n) {
    char buf[4096];
    ssize_t r = read_file("/proc/keys", buf, sizeof buf);
    if (r < 0) return fail(d, n, "read /proc/keys");
    if (r == 0) return say(d, n, BLOCKED, "/proc/keys readable but lists no key");
    return say(d, n, ESCAPED, "/proc/keys lists keys (info leak): %.40s", buf);
}
static int c_timer_list(char *d, size_t n) {
    char buf[256];
    ssize_t r = read_file("/proc/timer_list", buf, sizeof buf);
    if (r < 0) return fail(d, n, "read /proc/timer_list");
    if (r == 0) return say(d, n, BLOCKED, "/proc/timer_list reads empty (masked)");
    return say(d, n, ESCAPED, "/proc/timer_list readable (kernel addresses, host tasks)");
}
static int c_sys_write(char *d, size_t n) {
    const char *paths[] = { "/sys/kernel/uevent_helper", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state",
                            "/sys/class/net/lo/mtu", "/sys/kernel/profiling", "/sys/module/printk/parameters/time" };
    int first = 0;
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) return say(d, n, ESCAPED, "%s open for writing (not written)", paths[i]);
        if (!first || errno != ENOENT) first = errno;
    }
    return say(d, n, BLOCKED, "no /sys file opens for writing (%s)", en(first));
}
static int c_dmesg(char *d, size_t n) {
    char buf[256];
    int r = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf);
    if (r >= 0) return say(d, n, ESCAPED, "syslog(READ_ALL) read %d bytes of the kernel log (info leak)", r);
    int e = errno;
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 && read(fd, buf, sizeof buf) > 0) return say(d, n, ESCAPED, "/dev/kmsg readable (info leak)");
    return say(d, n, BLOCKED, "syslog: %s; /dev/kmsg: %s", en(e), en(errno));
}
static int c_kmsg_write(char *d, size_t n) {
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(d, n, "open /dev/kmsg O_WRONLY");
    return say(d, n, ESCAPED, "/dev/kmsg open for writing (no line written)");
}
static int c_dev_mem(char *d, size_t n) {
    const char *paths[] = { "/dev/mem", "/dev/kmem", "/dev/port" };
    int first = 0;
    for (int i = 0; i < 3; i++) {
        int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (fd >= 0) return say(d, n, ESCAPED, "%s open for reading", paths[i]);
        if (!first || errno != ENOENT) first = errno;
    }
    return say(d, n, BLOCKED, "/dev/mem, /dev/kmem, /dev/port: %s", en(first));
}
static int make_node(mode_t type, dev_t dev, char *where, size_t size) {
    const char *dirs[] = { opt_writable, "/tmp", "/dev/shm", "/run", "/dev", "." };
    int best = ENOENT;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        if (!dirs[i]) continue;
        snprintf(where, size, "%s/.pit-probe-node-%d", dirs[i], getpid());
        if (mknod(where, type | 0600, dev) == 0) return 0;
        if (errno == EPERM || best == ENOENT) best = errno;
    }
    errno = best;
    return -1;
}
static int c_mknod_char(char *d, size_t n) {
    char path[512];
    if (make_node(S_IFCHR, makedev(1, 3), path, sizeof path) != 0) return fail(d, n, "mknod c 1 3");
    int fd = open(path, O_RDWR | O_CLOEXEC);
    int e = errno;
    unlink(path);
    return say(d, n, ESCAPED, "made char device 1:3 at %s (open: %s; removed)", path, fd >= 0 ? "ok" : en(e));
}
static int c_block_device(char *d, size_t n) {
    DIR *dir = opendir("/dev");
    struct dirent *e;
    int first = 0;
    char path[512], buf[512];
    while (dir && (e = readdir(dir))) {
        struct stat st;
        snprintf(path, sizeof path, "/dev/%s", e->d_name);
        if (stat(path, &st) != 0 || !S_ISBLK(st.st_mode)) continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && read(fd, buf, sizeof buf) > 0) return say(d, n, ESCAPED, "read the block device %s", path);
        if (!first) first = errno;
    }
    // The disk holding /usr, through a node made here.
    struct stat usr;
    if (stat("/usr", &usr) == 0 && major(usr.st_dev) != 0 && make_node(S_IFBLK, usr.st_dev, path, sizeof path) == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
        int err = errno;
        unlink(path);
        if (r > 0) return say(d, n, ESCAPED, "read /usr's block device %u:%u through a node made at %s", major(usr.st_dev), minor(usr.st_dev), path);
        return say(d, n, BLOCKED, "made a block node for /usr's device but open/read: %s", en(err));
    }
    return say(d, n, BLOCKED, "no block device readable (/dev: %s; mknod b: %s)", first ? en(first) : "none listed", en(errno));
}

// ---- kernel-wide privileged calls (each fails after the capability check) ----
static int c_module_load(char *d, size_t n) {
    int fd = memfd_create("pit-probe-module", MFD_CLOEXEC);
    long rc = syscall(SYS_finit_module, fd, "", 0);
    int e = errno;
    if (rc < 0 && e == ENOSYS) {
        rc = syscall(SYS_init_module, NULL, 0, "");
        e = errno;
        if (rc < 0 && e == ENOSYS) return say(d, n, BLOCKED, "finit_module, init_module: ENOSYS (filtered, or a kernel without modules)");
    }
    return cap_errno(d, n, "finit_module(empty memfd)", rc, e, "CAP_SYS_MODULE");
}
static int c_kexec(char *d, size_t n) {
    long rc = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x8000UL /* no such flag: EINVAL after the check */);
    return cap_errno(d, n, "kexec_load(unknown flag)", rc, errno, "CAP_SYS_BOOT");
}
static int c_reboot(char *d, size_t n) {
    long rc = syscall(SYS_reboot, 0, 0, 0, NULL);   // bad magic: EINVAL after the capability check
    return cap_errno(d, n, "reboot(bad magic)", rc, errno, "CAP_SYS_BOOT over this PID namespace, nothing rebooted");
}
static int c_swapon(char *d, size_t n) {
    long rc = swapon("/nonexistent-pit-probe-swap", 0);
    return cap_errno(d, n, "swapon(missing file)", rc, errno, "CAP_SYS_ADMIN");
}
static int c_acct(char *d, size_t n) {
    long rc = acct("/nonexistent-pit-probe/acct");
    return cap_errno(d, n, "acct(missing file)", rc, errno, "CAP_SYS_PACCT");
}
static int c_clock_set(char *d, size_t n) {
    struct timex t = { .modes = ADJ_TICK, .tick = 1 };   // impossible tick: EINVAL after the capability check
    long rc = adjtimex(&t);
    return cap_errno(d, n, "adjtimex(ADJ_TICK, 1)", rc, errno, "CAP_SYS_TIME");
}
static int c_iopl(char *d, size_t n) {
#if defined(__x86_64__)
    long rc = syscall(SYS_iopl, 3);
    if (rc == 0) return say(d, n, ESCAPED, "iopl(3) granted I/O port access");
    return fail(d, n, "iopl(3)");
#else
    return say(d, n, NA, "iopl is x86 only");
#endif
}
static int c_sethostname(char *d, size_t n) {
    char name[256] = "";
    if (gethostname(name, sizeof name) != 0) return fail(d, n, "gethostname");
    if (sethostname(name, strlen(name)) != 0) return fail(d, n, "sethostname(current)");
    return say(d, n, ESCAPED, "sethostname(\"%s\") allowed (same name; only the jail's own if it has a UTS namespace)", name);
}

// ---- namespaces ----
static int c_unshare_user(char *d, size_t n) {
    if (unshare(CLONE_NEWUSER) != 0) return fail(d, n, "unshare(CLONE_NEWUSER)");
    return say(d, n, ESCAPED, "unshare(CLONE_NEWUSER) succeeded");
}
static int c_unshare_user_net(char *d, size_t n) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return fail(d, n, "unshare(CLONE_NEWUSER|CLONE_NEWNET)");
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    return say(d, n, ESCAPED, "new user+net namespace; NETLINK_NETFILTER socket there: %s", s >= 0 ? "ok" : en(errno));
}
static int c_unshare_mount(char *d, size_t n) {
    if (unshare(CLONE_NEWNS) != 0) return fail(d, n, "unshare(CLONE_NEWNS)");
    return say(d, n, ESCAPED, "unshare(CLONE_NEWNS) succeeded (CAP_SYS_ADMIN)");
}
static int c_unshare_other(char *d, size_t n) {
    struct { int flag; const char *name; } kinds[] = {
        { CLONE_NEWNET, "net" }, { CLONE_NEWUTS, "uts" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWPID, "pid" },
        { CLONE_NEWCGROUP, "cgroup" }, { 0x80 /* CLONE_NEWTIME */, "time" },
    };
    char got[128] = "";
    int e = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (unshare(kinds[i].flag) == 0) { strcat(got, " "); strcat(got, kinds[i].name); }
        else if (!e) e = errno;
    }
    if (*got) return say(d, n, ESCAPED, "unshare succeeded for:%s", got);
    return say(d, n, BLOCKED, "unshare net/uts/ipc/pid/cgroup/time: %s", en(e));
}
static int c_clone_newuser(char *d, size_t n) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid < 0) return fail(d, n, "clone(CLONE_NEWUSER)");
    waitpid(pid, NULL, 0);
    return say(d, n, ESCAPED, "raw clone(CLONE_NEWUSER) made a child in a new user namespace");
}
static int c_clone3(char *d, size_t n) {
    uint64_t args[8] = { 0 };           // struct clone_args, version 0: flags 0, exit_signal SIGCHLD
    args[4] = SIGCHLD;
    long pid = syscall(SYS_clone3, args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid < 0) return fail(d, n, "clone3(no flags)");
    waitpid(pid, NULL, 0);
    return say(d, n, ESCAPED, "clone3 reachable (its flags are in memory a filter cannot read)");
}
static int c_setns(char *d, size_t n) {
    const char *kinds[] = { "mnt", "net", "pid", "uts", "ipc", "cgroup", "user", "time" };
    char got[256] = "";
    int e = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        char path[64], self[64], target[64] = "", mine[64] = "";
        snprintf(path, sizeof path, "/proc/1/ns/%s", kinds[i]);
        snprintf(self, sizeof self, "/proc/self/ns/%s", kinds[i]);
        readlink(path, target, sizeof target - 1);
        readlink(self, mine, sizeof mine - 1);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { if (!e) e = errno; continue; }
        if (setns(fd, 0) == 0) {
            strcat(got, " ");
            strcat(got, kinds[i]);
            strcat(got, strcmp(target, mine) ? "(other)" : "(same)");
        } else if (!e || e == ENOENT) e = errno;
        close(fd);
    }
    if (*got) return say(d, n, ESCAPED, "setns into PID 1's namespaces:%s", got);
    return say(d, n, BLOCKED, "setns to /proc/1/ns/*: %s", en(e));
}
static int c_remount_root(char *d, size_t n) {
    const char *targets[] = { "/", "/usr" };
    const char *target = NULL;
    for (int i = 0; i < 2; i++) {
        struct statvfs v;
        if (statvfs(targets[i], &v) == 0 && (v.f_flag & ST_RDONLY)) { target = targets[i]; break; }
    }
    if (!target) return say(d, n, NA, "neither / nor /usr is read-only here");
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return fail(d, n, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
    write_maps(uid, gid);
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND, NULL) != 0)
        return say(d, n, BLOCKED, "user+mount namespace made; remount %s rw: %s", target, en(errno));
    char path[256];
    snprintf(path, sizeof path, "%s/.pit-probe-rw-%d", strcmp(target, "/") ? target : "", getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int e = errno;
    if (fd >= 0) unlink(path);
    return say(d, n, ESCAPED, "remounted read-only %s writable from a child user namespace (create a file: %s)", target, fd >= 0 ? "ok, removed" : en(e));
}
static int mount_in_private_ns(char *d, size_t n, const char *type, const char *data) {
    const char *how = private_mntns();
    if (!how) return fail(d, n, "no private mount namespace (unshare)");
    if (mount(type, "/proc", type, MS_NOSUID | MS_NODEV | MS_NOEXEC, data) != 0)
        return say(d, n, BLOCKED, "%s; mount %s: %s", how, type, en(errno));
    return say(d, n, ESCAPED, "mounted %s in a %s", type, how);
}
static int c_mount_tmpfs(char *d, size_t n) { return mount_in_private_ns(d, n, "tmpfs", "size=64k"); }
static int c_mount_proc(char *d, size_t n) { return mount_in_private_ns(d, n, "proc", NULL); }
static int c_mount_sysfs(char *d, size_t n) { return mount_in_private_ns(d, n, "sysfs", NULL); }
static int c_release_agent(char *d, size_t n) {
    // Any visible cgroup v1 hierarchy whose release_agent takes a write (of its own value).
    char info[65536];
    if (read_file("/proc/self/mountinfo", info, sizeof info) > 0) {
        for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n")) {
            char *dash = strstr(line, " - cgroup ");
            if (!dash) continue;
            char point[512], path[600];
            if (sscanf(line, "%*s %*s %*s %*s %511s", point) != 1) continue;
            snprintf(path, sizeof path, "%s/release_agent", point);
            char sub[512];
            if (rewrite_same(path, sub, sizeof sub) == ESCAPED) return say(d, n, ESCAPED, "%s", sub);
        }
    }
    // A cgroup v1 hierarchy of its own, mounted in a private (user+)mount namespace.
    const char *how = private_mntns();
    if (!how) return fail(d, n, "no visible release_agent; unshare");
    if (mount("cgroup", "/proc", "cgroup", 0, "none,name=pitprobe") != 0 && mount("cgroup", "/proc", "cgroup", 0, "rdma") != 0)
        return say(d, n, BLOCKED, "no visible release_agent; %s; mount cgroup v1: %s", how, en(errno));
    char sub[512];
    int v = rewrite_same("/proc/release_agent", sub, sizeof sub);
    return say(d, n, v, "mounted cgroup v1 in a %s; %s", how, sub);
}
static int c_cgroup_procs(char *d, size_t n) {
    const char *paths[] = { "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/unified/cgroup.procs", "/sys/fs/cgroup/pids/cgroup.procs",
                            "/sys/fs/cgroup/memory/cgroup.procs", "/sys/fs/cgroup/systemd/cgroup.procs" };
    int first = 0;
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        int fd = open(paths[i], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) return say(d, n, ESCAPED, "%s open for writing (could leave the jail's cgroup; not written)", paths[i]);
        if (!first || errno != ENOENT) first = errno;
    }
    return say(d, n, BLOCKED, "no root cgroup.procs opens for writing (%s)", en(first));
}
static int c_fsopen(char *d, size_t n) {
    int fd = syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
    if (fd < 0) return fail(d, n, "fsopen(tmpfs)");
    long rc = syscall(SYS_fsconfig, fd, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0);
    int m = rc == 0 ? syscall(SYS_fsmount, fd, 1 /* FSMOUNT_CLOEXEC */, 0) : -1;
    return say(d, n, ESCAPED, "fsopen(tmpfs) ok; fsmount: %s (detached, never attached)", m >= 0 ? "ok" : en(errno));
}
static int c_open_tree(char *d, size_t n) {
    int fd = syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
    if (fd < 0) return fail(d, n, "open_tree(/, OPEN_TREE_CLONE)");
    return say(d, n, ESCAPED, "open_tree cloned / (detached copy, never attached)");
}
static int c_move_mount(char *d, size_t n) {
    long rc = syscall(SYS_move_mount, -1, "", AT_FDCWD, "/proc", 4 /* MOVE_MOUNT_F_EMPTY_PATH */);
    return cap_errno(d, n, "move_mount(bad fd)", rc, errno, "may_mount passed, nothing moved");
}
static int c_pivot_root(char *d, size_t n) {
    long rc = syscall(SYS_pivot_root, "/nonexistent-pit-probe-a", "/nonexistent-pit-probe-b");
    return cap_errno(d, n, "pivot_root(missing dirs)", rc, errno, "CAP_SYS_ADMIN over the mount namespace");
}
static int c_chroot_escape(char *d, size_t n) {
    if (chdir("/") != 0 || chroot("/usr") != 0) return fail(d, n, "chroot(/usr)");
    for (int i = 0; i < 64; i++) chdir("..");
    chroot(".");
    struct stat st;
    int reached = opt_marker && stat(opt_marker, &st) == 0;
    return say(d, n, ESCAPED, "chroot allowed (CAP_SYS_CHROOT); chdir(..) out of it: marker %s", reached ? "REACHED" : opt_marker ? "not reached" : "not given");
}
static int c_open_by_handle(char *d, size_t n) {
    struct { unsigned int bytes; int type; unsigned char f[128]; } h = { .bytes = 128 };
    int mount_id;
    const char *path = "/";
    if (syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h, &mount_id, 0) != 0) {
        path = "/usr";
        h.bytes = 128;
        if (syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h, &mount_id, 0) != 0) {
            // A file system that makes no handles at all (an overlay without nfs_export, as some test roots are)
            // says nothing about the jail: not applicable here.
            if (errno == EOPNOTSUPP) return say(d, n, NA, "name_to_handle_at: EOPNOTSUPP (this file system makes no handles)");
            return fail(d, n, "name_to_handle_at");
        }
    }
    int mfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(d, n, "open_by_handle_at");
    return say(d, n, ESCAPED, "open_by_handle_at opened %s by handle (CAP_DAC_READ_SEARCH: any inode of that filesystem)", path);
}
static int c_proc_root(char *d, size_t n) {
    if (!opt_marker) return say(d, n, NA, "no --marker given");
    char path[1024];
    struct stat st;
    if (stat(opt_marker, &st) == 0) return say(d, n, ESCAPED, "host marker %s visible at its own path", opt_marker);
    const char *prefixes[] = { "/proc/1/root", "/proc/self/root/../../..", "/../../..", "/proc/self/cwd/../../.." };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s%s", prefixes[i], opt_marker);
        if (stat(path, &st) == 0) return say(d, n, ESCAPED, "host marker reached as %s", path);
    }
    DIR *dir = opendir("/proc");
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/root%s", e->d_name, opt_marker);
        if (stat(path, &st) == 0) return say(d, n, ESCAPED, "host marker reached as %s", path);
    }
    return say(d, n, BLOCKED, "marker not reached through /proc/*/root or ..");
}

// runc's CVE-2019-5736: a process's executable, reached through /proc/N/exe, writable (once it stops running, or
// through an O_PATH fd kept until then), so the next launch runs the jail's code. Checked with access(W_OK).
static int c_proc_exe(char *d, size_t n) {
    DIR *dir = opendir("/proc");
    struct dirent *e;
    char path[300];
    int first = 0;
    if (access("/proc/self/exe", W_OK) == 0) return say(d, n, ESCAPED, "its own executable (/proc/self/exe) is writable");
    first = errno;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
        if (access(path, W_OK) == 0) return say(d, n, ESCAPED, "%s is writable (access W_OK; while it runs, opening it for writing is ETXTBSY)", path);
    }
    return say(d, n, BLOCKED, "no /proc/N/exe writable (own: %s)", en(first));
}
// runc's CVE-2024-21626: a working directory left outside the jail's root.
static int c_cwd_outside(char *d, size_t n) {
    char cwd[1024];
    if (!getcwd(cwd, sizeof cwd)) return say(d, n, BLOCKED, "getcwd: %s", en(errno));
    if (!strncmp(cwd, "(unreachable)", 13)) return say(d, n, ESCAPED, "working directory outside its root: %.200s", cwd);
    return say(d, n, BLOCKED, "working directory %.200s is inside its root", cwd);
}

// ---- processes outside ----
static int c_signal_host(char *d, size_t n) {
    if (opt_host_pid <= 0) return say(d, n, NA, "no --host-pid given");
    if (kill(opt_host_pid, SIGCONT) == 0) return say(d, n, ESCAPED, "SIGCONT delivered to host pid %d", opt_host_pid);
    if (errno == EPERM) return say(d, n, BLOCKED, "host pid %d visible but signal refused: EPERM", opt_host_pid);
    return fail(d, n, "kill(host pid)");
}
static int c_ptrace_host(char *d, size_t n) {
    if (opt_host_pid <= 0) return say(d, n, NA, "no --host-pid given");
    if (ptrace(PTRACE_SEIZE, opt_host_pid, 0, 0) != 0) return fail(d, n, "ptrace(PTRACE_SEIZE, host pid)");
    return say(d, n, ESCAPED, "PTRACE_SEIZE of host pid %d (released at exit)", opt_host_pid);
}
static int c_pidfd_host(char *d, size_t n) {
    if (opt_host_pid <= 0) return say(d, n, NA, "no --host-pid given");
    int pfd = syscall(SYS_pidfd_open, opt_host_pid, 0);
    if (pfd < 0) return fail(d, n, "pidfd_open(host pid)");
    int fd = syscall(SYS_pidfd_getfd, pfd, 0, 0);
    return say(d, n, ESCAPED, "pidfd_open(host pid %d) ok; pidfd_getfd of its fd 0: %s", opt_host_pid, fd >= 0 ? "ok" : en(errno));
}

// ---- host endpoints ----
static int connect_unix(const char *name, int abstract) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t len = strlen(name);
    if (len > sizeof a.sun_path - 2) { errno = ENAMETOOLONG; return -1; }
    memcpy(a.sun_path + (abstract ? 1 : 0), name, len);
    socklen_t size = offsetof(struct sockaddr_un, sun_path) + len + 1;   // a leading NUL (abstract) or the trailing one (path)
    if (connect(s, (struct sockaddr *)&a, size) != 0) { int e = errno; close(s); errno = e; return -1; }
    return s;
}
static int c_tcp_loopback(char *d, size_t n) {
    if (opt_tcp < 0) return say(d, n, NA, "no --tcp given");
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return fail(d, n, "socket(AF_INET)");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(opt_tcp), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) return fail(d, n, "connect 127.0.0.1");
    return say(d, n, ESCAPED, "connected to the host's 127.0.0.1:%d", opt_tcp);
}
static int c_unix_path(char *d, size_t n) {
    if (!opt_unix) return say(d, n, NA, "no --unix given");
    if (connect_unix(opt_unix, 0) < 0) return fail(d, n, "connect unix path");
    return say(d, n, ESCAPED, "connected to the host's unix socket %s", opt_unix);
}
static int c_unix_abstract(char *d, size_t n) {
    if (!opt_abstract) return say(d, n, NA, "no --abstract given");
    if (connect_unix(opt_abstract, 1) < 0) return fail(d, n, "connect abstract");
    return say(d, n, ESCAPED, "connected to the host's abstract socket @%s", opt_abstract);
}
static int c_control_socket(char *d, size_t n) {
    if (!opt_control) return say(d, n, NA, "no --control given");
    int s = connect_unix(opt_control, 0);
    if (s < 0) return fail(d, n, "connect control socket");
    struct timeval tv = { 1, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char reply[48] = "";
    send(s, "status\n", 7, MSG_NOSIGNAL);
    ssize_t r = recv(s, reply, sizeof reply - 1, 0);
    reply[r > 0 ? r : 0] = 0;
    reply[strcspn(reply, "\n\t")] = 0;
    return say(d, n, ESCAPED, "connected to the control socket; reply: %s", r > 0 ? reply : "none");
}

// ---- files and privileges ----
static int c_host_root_writes(char *d, size_t n) {
    if (!opt_writable) return say(d, n, NA, "no --writable given");
    char path[512];
    snprintf(path, sizeof path, "%s/.pit-probe-owner-%d", opt_writable, getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(d, n, "create in --writable");
    struct stat st;
    fstat(fd, &st);
    unlink(path);
    int host = host_uid_of(st.st_uid);
    if (host == 0) return say(d, n, ESCAPED, "files made in %s are owned by host root (uid_map identity): host-root work on a jail-writable path", opt_writable);
    return say(d, n, BLOCKED, "files made in %s are owned by host uid %d", opt_writable, host);
}
static int c_setuid_plant(char *d, size_t n) {
    if (!opt_writable) return say(d, n, NA, "no --writable given");
    char path[512], who[128] = "";
    snprintf(path, sizeof path, "%s/.pit-probe-suid-%d", opt_writable, getpid());
    if (copy_self(path, -1) != 0) return fail(d, n, "copy to --writable");
    int rc = chmod(path, 04755);
    int e = errno;
    struct stat st;
    stat(path, &st);
    if (rc != 0) { unlink(path); return say(d, n, BLOCKED, "chmod 04755: %s", en(e)); }
    run_whoami(path, -1, who, sizeof who);
    unlink(path);
    int host = host_uid_of(st.st_uid);
    int euid = -1;
    sscanf(who, "euid=%d", &euid);
    if ((st.st_mode & S_ISUID) && host == 0) return say(d, n, ESCAPED, "planted a setuid file owned by host root in %s (ran: %s)", opt_writable, who);
    if (getuid() != 0 && euid == 0) return say(d, n, ESCAPED, "setuid exec gave euid 0 (%s)", who);
    return say(d, n, BLOCKED, "setuid file owned by host uid %d; exec: %s", host, who);
}
static int c_fcaps_plant(char *d, size_t n) {
    if (!opt_writable) return say(d, n, NA, "no --writable given");
    char path[512], who[128] = "";
    snprintf(path, sizeof path, "%s/.pit-probe-fcaps-%d", opt_writable, getpid());
    if (copy_self(path, -1) != 0) return fail(d, n, "copy to --writable");
    struct { uint32_t magic; struct { uint32_t permitted, inheritable; } data[2]; } cap = {
        .magic = 0x02000000 /* VFS_CAP_REVISION_2 */ | 1 /* VFS_CAP_FLAGS_EFFECTIVE */,
        .data = { { 1u << 13 /* CAP_NET_RAW */, 0 }, { 0, 0 } },
    };
    int rc = setxattr(path, "security.capability", &cap, sizeof cap, 0);
    int e = errno;
    if (rc != 0) { unlink(path); return say(d, n, BLOCKED, "setxattr security.capability: %s", en(e)); }
    run_whoami(path, -1, who, sizeof who);
    unlink(path);
    return say(d, n, ESCAPED, "file capability CAP_NET_RAW planted in %s (CAP_SETFCAP); exec: %s", opt_writable, who);
}
static int c_setuid_root(char *d, size_t n) {
    if (getuid() == 0 && geteuid() == 0) return say(d, n, NA, "already uid 0 (see host-root-writes)");
    if (setresuid(0, 0, 0) == 0) return say(d, n, ESCAPED, "setresuid(0,0,0) from uid %d", getuid());
    int e = errno;
    gid_t zero = 0;
    if (setgroups(1, &zero) == 0) return say(d, n, ESCAPED, "setgroups([0]) from a non-root uid");
    return say(d, n, BLOCKED, "setresuid(0): %s; setgroups([0]): %s", en(e), en(errno));
}
static int c_rlimit_raise(char *d, size_t n) {
    struct { int res; const char *name; } kinds[] = { { RLIMIT_NOFILE, "NOFILE" }, { RLIMIT_NPROC, "NPROC" }, { RLIMIT_MEMLOCK, "MEMLOCK" },
                                                      { RLIMIT_CORE, "CORE" }, { RLIMIT_AS, "AS" }, { RLIMIT_STACK, "STACK" } };
    char text[32];
    long nr_open = read_file("/proc/sys/fs/nr_open", text, sizeof text) > 0 ? atol(text) : 1048576;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        struct rlimit r;
        if (getrlimit(kinds[i].res, &r) != 0 || r.rlim_max == RLIM_INFINITY) continue;
        if (kinds[i].res == RLIMIT_NOFILE && (long)r.rlim_max >= nr_open) continue;
        struct rlimit up = { r.rlim_cur, r.rlim_max + 1 };
        if (setrlimit(kinds[i].res, &up) == 0) return say(d, n, ESCAPED, "raised RLIMIT_%s hard limit %lu -> %lu (CAP_SYS_RESOURCE)", kinds[i].name, (unsigned long)r.rlim_max, (unsigned long)up.rlim_max);
        return say(d, n, BLOCKED, "raise RLIMIT_%s hard limit above %lu: %s", kinds[i].name, (unsigned long)r.rlim_max, en(errno));
    }
    return say(d, n, NA, "every hard limit is already unlimited");
}
static int c_core_dump(char *d, size_t n) {
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1;
    struct rlimit core = { 0, 0 };
    getrlimit(RLIMIT_CORE, &core);
    char pattern[256] = "";
    int readable = read_file("/proc/sys/kernel/core_pattern", pattern, sizeof pattern) >= 0;
    pattern[strcspn(pattern, "\n")] = 0;
    int writable = access("/proc/sys/kernel/core_pattern", W_OK) == 0;
    if (!dumpable) return say(d, n, BLOCKED, "cannot make itself dumpable");
    if (pattern[0] == '|') return say(d, n, ESCAPED, "dumpable, and core_pattern pipes cores to a host helper run as root: %.60s", pattern);
    if (core.rlim_max > 0 && writable) return say(d, n, ESCAPED, "dumpable, RLIMIT_CORE hard %lu, and core_pattern writable (a '|' helper would run as host root)", (unsigned long)core.rlim_max);
    return say(d, n, BLOCKED, "dumpable; RLIMIT_CORE hard %lu; core_pattern %s%s", (unsigned long)core.rlim_max,
               readable ? pattern : "unreadable", writable ? " (writable)" : "");
}
static int c_oom_adj(char *d, size_t n) {
    char text[32];
    if (read_file("/proc/self/oom_score_adj", text, sizeof text) < 0) return fail(d, n, "read /proc/self/oom_score_adj");
    int v = atoi(text);
    if (v <= -1000) return say(d, n, NA, "oom_score_adj already -1000");
    snprintf(text, sizeof text, "%d", v - 1);
    if (write_file("/proc/self/oom_score_adj", text) != 0) return say(d, n, BLOCKED, "lower oom_score_adj below %d: %s", v, en(errno));
    return say(d, n, ESCAPED, "lowered its own oom_score_adj %d -> %d (CAP_SYS_RESOURCE)", v, v - 1);
}

// ---- kernel attack surface ----
static int c_io_uring(char *d, size_t n) {
    unsigned char params[120] = { 0 };
    int fd = syscall(SYS_io_uring_setup, 1, params);
    if (fd < 0) return fail(d, n, "io_uring_setup(1)");
    return say(d, n, ESCAPED, "io_uring_setup(1) gave a ring");
}
static int c_bpf(char *d, size_t n) {
    struct bpf_insn insns[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 }, { .code = BPF_JMP | BPF_EXIT } };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insn_cnt = 2;
    attr.insns = (uintptr_t)insns;
    attr.license = (uintptr_t)"GPL";
    int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) return fail(d, n, "bpf(BPF_PROG_LOAD socket filter)");
    return say(d, n, ESCAPED, "loaded a BPF socket filter program");
}
static int c_perf(char *d, size_t n) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.disabled = 1;
    int fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd >= 0) return say(d, n, ESCAPED, "perf_event_open: a software counter on itself, kernel included");
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd >= 0) return say(d, n, ESCAPED, "perf_event_open: a user-only software counter on itself (perf reachable)");
    return fail(d, n, "perf_event_open(software, self)");
}
static int c_userfaultfd(char *d, size_t n) {
    int fd = syscall(SYS_userfaultfd, O_CLOEXEC);
    if (fd < 0) return fail(d, n, "userfaultfd(0)");
    return say(d, n, ESCAPED, "userfaultfd handling kernel faults");
}
static int c_keyctl(char *d, size_t n) {
    long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    if (id < 0) return fail(d, n, "keyctl(GET_KEYRING_ID, session)");
    return say(d, n, ESCAPED, "session keyring %ld reachable (keyrings are not namespaced)", id);
}
static int c_personality(char *d, size_t n) {
    unsigned long want = ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC;
    if (personality(want) < 0) return fail(d, n, "personality");
    if ((unsigned long)personality(0xffffffff) != want) return say(d, n, BLOCKED, "personality did not take");
    return say(d, n, ESCAPED, "personality(ADDR_NO_RANDOMIZE|READ_IMPLIES_EXEC) set (no ASLR for its execs)");
}
static int c_ia32(char *d, size_t n) {
#if defined(__x86_64__)
    long ret, nr = 20;   // getpid in the i386 table
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
    if (ret > 0) return say(d, n, ESCAPED, "int 0x80 getpid returned %ld", ret);
    return say(d, n, BLOCKED, "int 0x80 getpid: %s", en((int)-ret));
#else
    return say(d, n, NA, "x86_64 only");
#endif
}
static int c_x32(char *d, size_t n) {
#if defined(__x86_64__)
    long ret = syscall(0x40000000L | 39 /* getpid */);
    if (ret > 0) return say(d, n, ESCAPED, "x32 getpid returned %ld", ret);
    return fail(d, n, "x32 getpid");
#else
    return say(d, n, NA, "x86_64 only");
#endif
}

// ---- terminal, exec, fds ----
static int c_tiocsti(char *d, size_t n) {
    int fds[4], count = tty_fds(fds);
    if (!count) return say(d, n, NA, "no terminal inherited");
    if (!opt_tty_ok) return say(d, n, NA, "a terminal is present but no --tty-ok (would type into it)");
    int e = 0;
    for (int i = 0; i < count; i++) {
        char c = ' ';
        if (ioctl(fds[i], TIOCSTI, &c) == 0) {
            tcflush(fds[i], TCIFLUSH);
            return say(d, n, ESCAPED, "TIOCSTI pushed a byte into the terminal on fd %d (flushed)", fds[i]);
        }
        if (!e || errno == EPERM) e = errno;
    }
    return say(d, n, BLOCKED, "TIOCSTI on %d terminal fd(s): %s", count, en(e));
}
static int c_tcsets(char *d, size_t n) {
    int fds[4], count = tty_fds(fds);
    if (!count) return say(d, n, NA, "no terminal inherited");
    int e = 0;
    for (int i = 0; i < count; i++) {
        struct termios t;
        if (ioctl(fds[i], TCGETS, &t) != 0) { e = errno; continue; }
        if (ioctl(fds[i], TCSETS, &t) == 0) return say(d, n, ESCAPED, "TCSETS on the terminal on fd %d (same settings written back)", fds[i]);
        e = errno;
    }
    return say(d, n, BLOCKED, "TCGETS/TCSETS on %d terminal fd(s): %s", count, en(e));
}
static int c_memfd_exec(char *d, size_t n) {
    int fd = memfd_create("pit-probe", MFD_CLOEXEC);
    if (fd < 0) return fail(d, n, "memfd_create");
    if (copy_self(NULL, fd) != 0) return fail(d, n, "copy /proc/self/exe into the memfd");
    char who[128] = "";
    if (run_whoami(NULL, fd, who, sizeof who) != 0) return fail(d, n, "fork");
    if (strncmp(who, "euid=", 5) == 0) return say(d, n, ESCAPED, "fileless exec ran (%s): exec after start is open", who);
    return say(d, n, BLOCKED, "execveat(memfd): %s", who);
}
static int c_inherited_fds(char *d, size_t n) {
    if (!inherited_count) return say(d, n, BLOCKED, "no fd above 2 was open at start");
    char list[512] = "";
    for (int i = 0; i < inherited_count && strlen(list) < 400; i++) {
        char path[64], target[128] = "?";
        snprintf(path, sizeof path, "/proc/self/fd/%d", inherited[i]);
        ssize_t r = readlink(path, target, sizeof target - 1);
        if (r > 0) target[r] = 0;
        snprintf(list + strlen(list), sizeof list - strlen(list), " %d->%s", inherited[i], target);
    }
    return say(d, n, ESCAPED, "%d inherited fd(s):%s", inherited_count, list);
}

// ---- sockets ----
static int c_raw_socket(char *d, size_t n) {
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (s < 0) return fail(d, n, "socket(AF_INET, SOCK_RAW, ICMP)");
    return say(d, n, ESCAPED, "raw ICMP socket");
}
static int c_packet_socket(char *d, size_t n) {
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (s < 0) return fail(d, n, "socket(AF_PACKET, SOCK_RAW)");
    return say(d, n, ESCAPED, "packet socket");
}
// Sends one netlink request and returns the first reply's error (0 for data), or -errno of the socket calls.
static int netlink_ask(int protocol, void *msg, size_t len) {
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (s < 0) return -errno;
    struct timeval tv = { 2, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(s, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) { int e = errno; close(s); return -e; }
    char reply[8192];
    ssize_t r = recv(s, reply, sizeof reply, 0);
    int e = errno;
    close(s);
    if (r < 0) return -e;
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    return 0;
}
static int c_netlink_route(char *d, size_t n) {
    struct { struct nlmsghdr h; struct ifinfomsg i; } link = {
        .h = { .nlmsg_len = sizeof link, .nlmsg_type = RTM_NEWLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
        .i = { .ifi_family = AF_UNSPEC, .ifi_index = 0x7ffffff0 },   // no such link: ENODEV after the capability check
    };
    int err = netlink_ask(NETLINK_ROUTE, &link, sizeof link);
    if (err == -EPERM || err == -EACCES) return say(d, n, BLOCKED, "RTM_NEWLINK: %s", en(-err));
    if (err < 0 && err != -ENODEV && err != -EINVAL) return say(d, n, BLOCKED, "RTM_NEWLINK: %s", en(-err));
    return say(d, n, ESCAPED, "RTM_NEWLINK on a missing link: %s, past CAP_NET_ADMIN (nothing changed)", err ? en(-err) : "ok");
}
static int c_netlink_audit(char *d, size_t n) {
    struct nlmsghdr h = { .nlmsg_len = sizeof h, .nlmsg_type = AUDIT_GET, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 };
    int err = netlink_ask(NETLINK_AUDIT, &h, sizeof h);
    if (err == 0) return say(d, n, ESCAPED, "AUDIT_GET answered (CAP_AUDIT_CONTROL)");
    return say(d, n, BLOCKED, "NETLINK_AUDIT AUDIT_GET: %s", en(-err));
}
static int c_netlink_uevent(char *d, size_t n) {
    int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (s < 0) return fail(d, n, "socket(NETLINK_KOBJECT_UEVENT)");
    struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = 1 };
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return fail(d, n, "bind uevent group 1");
    return say(d, n, ESCAPED, "bound to kernel uevents (host device events readable: info leak)");
}
static int c_netlink_netfilter(char *d, size_t n) {
    struct { struct nlmsghdr h; struct nfgenmsg g; } m = {
        .h = { .nlmsg_len = sizeof m, .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
        .g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
    };
    int err = netlink_ask(NETLINK_NETFILTER, &m, sizeof m);
    if (err == -EPERM || err == -EACCES || err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT) return say(d, n, BLOCKED, "nf_tables GETTABLE dump: %s", en(-err));
    if (err < 0 && err != -EOPNOTSUPP && err != -ENOENT) return say(d, n, BLOCKED, "nf_tables GETTABLE dump: %s", en(-err));
    return say(d, n, ESCAPED, "nf_tables dump %s: past CAP_NET_ADMIN (read only)", err ? en(-err) : "answered");
}

static const struct { const char *name; class_fn fn; } classes[] = {
    { "proc-sys-core-pattern", c_core_pattern }, { "proc-sys-modprobe", c_modprobe }, { "proc-sys-hostname", c_proc_hostname },
    { "proc-sysrq-trigger", c_sysrq }, { "proc-kcore", c_kcore }, { "proc-keys", c_proc_keys }, { "proc-timer-list", c_timer_list },
    { "sys-write", c_sys_write }, { "dmesg-read", c_dmesg }, { "dev-kmsg-write", c_kmsg_write }, { "dev-mem", c_dev_mem },
    { "mknod-char", c_mknod_char }, { "block-device-raw", c_block_device },
    { "module-load", c_module_load }, { "kexec-load", c_kexec }, { "reboot", c_reboot }, { "swapon", c_swapon },
    { "acct", c_acct }, { "clock-set", c_clock_set }, { "iopl", c_iopl }, { "sethostname", c_sethostname },
    { "unshare-user", c_unshare_user }, { "unshare-user-net", c_unshare_user_net }, { "unshare-mount", c_unshare_mount },
    { "unshare-other", c_unshare_other }, { "clone-newuser", c_clone_newuser }, { "clone3", c_clone3 }, { "setns-pid1", c_setns },
    { "remount-root-userns", c_remount_root }, { "mount-tmpfs", c_mount_tmpfs }, { "mount-proc", c_mount_proc },
    { "mount-sysfs", c_mount_sysfs }, { "cgroup-release-agent", c_release_agent }, { "cgroup-procs-write", c_cgroup_procs },
    { "fsopen", c_fsopen }, { "open-tree", c_open_tree }, { "move-mount", c_move_mount }, { "pivot-root", c_pivot_root },
    { "chroot-escape", c_chroot_escape }, { "open-by-handle", c_open_by_handle }, { "proc-root-marker", c_proc_root },
    { "proc-exe-overwrite", c_proc_exe }, { "cwd-outside-root", c_cwd_outside },
    { "signal-host", c_signal_host }, { "ptrace-host", c_ptrace_host }, { "pidfd-host", c_pidfd_host },
    { "tcp-loopback", c_tcp_loopback }, { "unix-path", c_unix_path }, { "unix-abstract", c_unix_abstract },
    { "control-socket", c_control_socket }, { "host-root-writes", c_host_root_writes }, { "setuid-plant", c_setuid_plant },
    { "fcaps-plant", c_fcaps_plant }, { "setuid-root", c_setuid_root }, { "rlimit-raise", c_rlimit_raise },
    { "core-dump", c_core_dump }, { "oom-score-adj", c_oom_adj },
    { "io-uring", c_io_uring }, { "bpf", c_bpf }, { "perf-event-open", c_perf }, { "userfaultfd", c_userfaultfd },
    { "keyctl", c_keyctl }, { "personality", c_personality }, { "ia32-syscall", c_ia32 }, { "x32-syscall", c_x32 },
    { "tiocsti", c_tiocsti }, { "tcsets", c_tcsets }, { "memfd-exec", c_memfd_exec }, { "inherited-fds", c_inherited_fds },
    { "raw-socket", c_raw_socket }, { "packet-socket", c_packet_socket }, { "netlink-route-write", c_netlink_route },
    { "netlink-audit", c_netlink_audit }, { "netlink-uevent", c_netlink_uevent }, { "netlink-netfilter", c_netlink_netfilter },
};
enum { CLASS_COUNT = sizeof classes / sizeof *classes };

static void emit(const char *name, int verdict, const char *detail) {
    char line[1024];
    int len = snprintf(line, sizeof line, "%s\t%s\t", name, verdicts[verdict]);
    for (const char *c = detail; *c && len < (int)sizeof line - 2; c++) line[len++] = (*c == '\t' || *c == '\n') ? ' ' : *c;
    line[len++] = '\n';
    write(1, line, len);
}

// The class's index as the process name ("ep-12"): a supervisor's violation report names the comm, so a reported
// syscall can be put against its class.
static void name_process(int index) {
    char comm[16];
    snprintf(comm, sizeof comm, "ep-%d", index);
    prctl(PR_SET_NAME, comm, 0, 0, 0);
}

static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

static int run_forked(int index) {
    char detail[700] = "";
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) { emit(classes[index].name, BLOCKED, "pipe failed"); return BLOCKED; }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(detail, sizeof detail, "fork: %s", en(errno));
        emit(classes[index].name, BLOCKED, detail);
        return BLOCKED;
    }
    if (pid == 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(5);
        name_process(index);
        close(p[0]);
        char out[700];
        int v = classes[index].fn(detail, sizeof detail);
        int len = snprintf(out, sizeof out, "%d%s", v, detail);
        write(p[1], out, len);
        _exit(0);
    }
    close(p[1]);
    timed_out = 0;
    alarm(8);
    int status = 0, hung = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) break;
        if (timed_out) { kill(pid, SIGKILL); timed_out = 0; hung = 1; }
    }
    alarm(0);
    char in[700];
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    ssize_t r = read(p[0], in, sizeof in - 1);
    close(p[0]);
    int verdict = BLOCKED;
    if (r > 0) {
        in[r] = 0;
        verdict = in[0] - '0';
        snprintf(detail, sizeof detail, "%s", in + 1);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        snprintf(detail, sizeof detail, "killed by SIG%s%s", sigabbrev_np(sig) ?: "?", sig == SIGALRM ? " (its alarm: 5 s)" : hung ? " (by the probe after 8 s: hung)" : "");
    } else {
        snprintf(detail, sizeof detail, "exited %d without a result", WEXITSTATUS(status));
    }
    emit(classes[index].name, verdict, detail);
    return verdict;
}

static int whoami(void) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct c[2];
    memset(c, 0, sizeof c);
    syscall(SYS_capget, &h, c);
    char line[128];
    int len = snprintf(line, sizeof line, "euid=%d caps=%08x%08x\n", geteuid(), c[1].effective, c[0].effective);
    write(1, line, len);
    return 0;
}

int main(int argc, char **argv) {
    for (int fd = 3; fd < 1024 && inherited_count < 64; fd++)
        if (fcntl(fd, F_GETFD) >= 0) inherited[inherited_count++] = fd;
    int selected[CLASS_COUNT], chosen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--list")) {
            for (int k = 0; k < CLASS_COUNT; k++) { write(1, classes[k].name, strlen(classes[k].name)); write(1, "\n", 1); }
            return 0;
        }
        if (!strcmp(a, "--whoami")) return whoami();
        if (!strcmp(a, "--tty-ok")) { opt_tty_ok = 1; continue; }
        if (!strcmp(a, "--inline")) { opt_inline = 1; continue; }
        const char **target = !strcmp(a, "--unix") ? &opt_unix : !strcmp(a, "--abstract") ? &opt_abstract : !strcmp(a, "--control") ? &opt_control
                            : !strcmp(a, "--writable") ? &opt_writable : !strcmp(a, "--marker") ? &opt_marker : NULL;
        if (target || !strcmp(a, "--tcp") || !strcmp(a, "--host-pid")) {
            if (!value) { dprintf(2, "escape-probe: %s needs a value\n", a); return 2; }
            if (target) *target = value;
            else if (!strcmp(a, "--tcp")) opt_tcp = atoi(value);
            else opt_host_pid = atoi(value);
            i++;
            continue;
        }
        int k = 0;
        while (k < CLASS_COUNT && strcmp(classes[k].name, a)) k++;
        if (k == CLASS_COUNT) { dprintf(2, "escape-probe: no class %s (--list)\n", a); return 2; }
        selected[chosen++] = k;
    }
    if (!chosen) for (int k = 0; k < CLASS_COUNT; k++) selected[chosen++] = k;
    struct sigaction sa = { .sa_handler = on_alarm };   // no SA_RESTART: waitpid returns EINTR
    sigaction(SIGALRM, &sa, NULL);
    int escaped = 0;
    for (int i = 0; i < chosen; i++) {
        if (opt_inline) {
            // Not named: one class per run needs no attribution, and a filter that refuses prctl(PR_SET_NAME)
            // (dcerpcd.policy) would kill the class before its attempt.
            char detail[700] = "";
            int v = classes[selected[i]].fn(detail, sizeof detail);
            emit(classes[selected[i]].name, v, detail);
            escaped |= v == ESCAPED;
        } else {
            escaped |= run_forked(selected[i]) == ESCAPED;
        }
    }
    return escaped ? 1 : 0;
}
