// The jail's child: carries out the steps PitJail planned (see include/pit_child.h). It runs in the parent's
// address space until execve, so it uses only its own stack, reads the program, and enters the kernel
// through raw system calls that return -errno (glibc's wrappers would write errno, which lives in the
// parent thread's TLS).
#define _GNU_SOURCE
#include "CPitShim.h"
#include "pit_child.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

// MARK: raw system calls

#if defined(__x86_64__)
static long raw6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static long raw6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
}
#elif defined(__arm__)
static long raw6(long n, long a, long b, long c, long d, long e, long f) {
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r3 __asm__("r3") = d;
    register long r4 __asm__("r4") = e;
    register long r5 __asm__("r5") = f;
#if defined(__thumb__)
    // In Thumb code r7 is the frame pointer and cannot be named as an operand: swap the number in
    // around the trap and restore it.
    long saved;
    __asm__ volatile("mov %1, r7\n\tmov r7, %2\n\tsvc 0\n\tmov r7, %1"
                     : "+r"(r0), "=&r"(saved)
                     : "r"(n), "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5)
                     : "memory");
#else
    register long r7 __asm__("r7") = n;
    __asm__ volatile("svc 0"
                     : "+r"(r0)
                     : "r"(r7), "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5)
                     : "memory");
#endif
    return r0;
}
#else
// Other architectures: glibc's syscall(), which also writes errno in the shared TLS. Correct for the child;
// the parent only ever reads errno right after its own calls, which this cannot race with on a single
// thread of the parent... except while the child runs, so add the architecture above before shipping it.
static long raw6(long n, long a, long b, long c, long d, long e, long f) {
    long r = syscall(n, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}
#endif

#define SC0(n) raw6((n), 0, 0, 0, 0, 0, 0)
#define SC1(n, a) raw6((n), (long)(a), 0, 0, 0, 0, 0)
#define SC2(n, a, b) raw6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SC3(n, a, b, c) raw6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SC4(n, a, b, c, d) raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SC5(n, a, b, c, d, e) raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SC6(n, a, b, c, d, e, f) raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

// On 32-bit ARM (and i386) the plain setresuid/setresgid/setgroups syscalls are the legacy 16-bit-id ones:
// uid 99999 would become 34463, 0xffff would mean "unchanged", and setgroups16 would read a 32-bit gid array
// as pairs of 16-bit gids (65534 -> 65534, 0: root's group). The 32-bit-id calls have their own numbers there;
// 64-bit arches only have those. image/check-cross-shim compiles this for armv7, asserting the choice.
#if defined(SYS_setresuid32)
# define CHILD_SYS_setresuid SYS_setresuid32
# define CHILD_SYS_setresgid SYS_setresgid32
# define CHILD_SYS_setgroups SYS_setgroups32
#else
# define CHILD_SYS_setresuid SYS_setresuid
# define CHILD_SYS_setresgid SYS_setresgid
# define CHILD_SYS_setgroups SYS_setgroups
#endif
#ifdef SYS_setresuid32
_Static_assert(CHILD_SYS_setresuid == SYS_setresuid32 && CHILD_SYS_setresgid == SYS_setresgid32
               && CHILD_SYS_setgroups == SYS_setgroups32, "credentials must use the 32-bit-id calls");
#endif

#define PATH_FLAGS (O_PATH | O_CLOEXEC)

// MARK: the child's state

struct child {
    const struct pit_program *program;
    int slots[PIT_CHILD_SLOTS];
    const char *chosen;           // the program FIND_PROGRAM found
    int32_t chosen_index;
};

static void child_exit(int code) {
    for (;;) SC1(SYS_exit, code);
}

static void send_bytes(int channel, const void *bytes, size_t length) {
    SC6(SYS_sendto, channel, bytes, length, MSG_NOSIGNAL, 0, 0);
}

static void fail(struct child *c, uint32_t step, long error, int32_t sub) {
    struct { char tag; char pad[3]; struct pit_child_failure failure; } message;
    memset(&message, 0, sizeof message);   // a builtin on a small struct: no libc state involved
    message.tag = 'E';
    message.failure.step = step;
    message.failure.error = (int32_t)(error < 0 ? -error : error);
    message.failure.sub = sub;
    send_bytes(c->program->channel, &message, sizeof message);
    child_exit(2);
}

static const char *text(const struct child *c, int64_t offset) {
    return offset < 0 ? NULL : c->program->strings + offset;
}

/// "/proc/self/fd/N" into `buffer` (at least 32 bytes).
static const char *fd_path(char *buffer, int fd) {
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0;
    unsigned value = (unsigned)fd;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value && n < 11);
    size_t at = sizeof prefix - 1;
    memcpy(buffer, prefix, at);
    while (n) buffer[at++] = digits[--n];
    buffer[at] = 0;
    return buffer;
}

static int slot_fd(const struct child *c, int32_t slot) {
    return slot >= 0 && slot < PIT_CHILD_SLOTS ? c->slots[slot] : -1;
}

static void set_slot(struct child *c, int32_t slot, int fd) {
    if (slot >= 0 && slot < PIT_CHILD_SLOTS) c->slots[slot] = fd;
}

// MARK: steps

static void reset_signals(void) {
    // An all-zero kernel sigaction is SIG_DFL, no flags, empty mask, on every architecture; 32 bytes covers the
    // largest layout (handler, flags, restorer, 64-bit mask).
    uint64_t action[4] = { 0, 0, 0, 0 };
    for (long sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        SC4(SYS_rt_sigaction, sig, action, 0, 8);
    }
    uint64_t none = 0;
    SC4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
}

static void await_byte(const struct child *c) {
    char byte;
    for (;;) {
        long n = SC3(SYS_read, c->program->channel, &byte, 1);
        if (n == 1) return;
        if (n == -EINTR) continue;
        child_exit(1);   // the parent is gone before it let us go on: nothing to report to
    }
}

/// The flags a mount already carries, as mount(2) flags (the ST_* bits statfs reports).
static unsigned long locked_flags(const char *path) {
#if defined(SYS_statfs64)
    struct statfs64 fs;
    if (SC3(SYS_statfs64, path, sizeof fs, &fs) != 0) return 0;
#else
    struct statfs fs;
    if (SC2(SYS_statfs, path, &fs) != 0) return 0;
#endif
    static const unsigned long pairs[][2] = {
        { 2, MS_NOSUID }, { 4, MS_NODEV }, { 8, MS_NOEXEC }, { 1, MS_RDONLY },
        { 1024, MS_NOATIME }, { 2048, MS_NODIRATIME }, { 4096, MS_RELATIME },
    };
    unsigned long flags = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if ((unsigned long)fs.f_flags & pairs[i][0]) flags |= pairs[i][1];
    }
    return flags;
}

static long do_mount(struct child *c, const struct pit_step *s) {
    char source_buffer[32], target_buffer[32];
    if ((s->fd1 >= 0 && slot_fd(c, s->fd1) < 0) || (s->fd2 >= 0 && slot_fd(c, s->fd2) < 0)) return -EBADF;
    const char *source = s->fd1 >= 0 ? fd_path(source_buffer, slot_fd(c, s->fd1)) : text(c, s->s1);
    // A directory held as an fd is reached as the working directory: "." costs no lookup, where /proc/self/fd/N
    // walks procfs (a new inode for the fd entry each time). Nothing later depends on the working directory
    // before the explicit chdir that precedes pivot_root. A file target (a file bind) keeps the /proc path.
    const char *target = text(c, s->s2);
    if (s->fd2 >= 0) {
        long rc = SC1(SYS_fchdir, slot_fd(c, s->fd2));
        if (rc == 0) target = ".";
        else if (rc == -ENOTDIR) target = fd_path(target_buffer, slot_fd(c, s->fd2));
        else return rc;
    }
    unsigned long flags = (unsigned long)s->n1;
    if (s->n2) flags |= locked_flags(target);
    return SC5(SYS_mount, source, target, text(c, s->s3), flags, text(c, s->s4));
}

static int is_directory(int fd);

// openat2 (linux/openat2.h, not in every libc's headers): the same number on every architecture; its RESOLVE_*
// flags are CPitShim.h's.
#define CHILD_SYS_openat2 437
struct child_open_how { uint64_t flags, mode, resolve; };

// Landlock (linux/landlock.h, not in every libc's headers): the same numbers on every architecture.
#define CHILD_SYS_landlock_create_ruleset 444
#define CHILD_SYS_landlock_add_rule 445
#define CHILD_SYS_landlock_restrict_self 446
#define CHILD_LANDLOCK_RULE_PATH_BENEATH 1
#define CHILD_LANDLOCK_RULE_NET_PORT 2
// The rights that apply to a file (not a directory): execute, write, read, truncate, ioctl on a device.
#define CHILD_LANDLOCK_FILE_RIGHTS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))

struct child_landlock_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct child_landlock_path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
struct child_landlock_net_port_attr { uint64_t allowed_access, port; };

static long landlock_ruleset(struct child *c, const struct pit_step *s) {
    struct child_landlock_ruleset_attr attr = { s->n1, s->n2, s->n3 };
    // A kernel older than the scopes (ABI 6) or the network rights (ABI 4) refuses a larger attribute.
    size_t size = s->n3 ? 24 : s->n2 ? 16 : 8;
    long fd = SC3(CHILD_SYS_landlock_create_ruleset, &attr, size, 0);
    if (fd >= 0) set_slot(c, s->slot, (int)fd);
    return fd < 0 ? fd : 0;
}

/// Opens `path` with no symlink anywhere in it (openat2). Before Linux 5.6 only its last component can be
/// checked: O_NOFOLLOW with O_PATH opens a final symlink itself rather than failing, so that case is told by
/// readlinkat(fd, ""), which succeeds only on a symlink, and refused with ELOOP as openat2 would.
static long open_no_symlinks(int dir, const char *path, int flags) {
    struct child_open_how how = { (uint64_t)flags, 0, PIT_RESOLVE_NO_SYMLINKS | PIT_RESOLVE_NO_MAGICLINKS };
    long fd = SC4(CHILD_SYS_openat2, dir, path, &how, sizeof how);
    if (fd != -ENOSYS) return fd;
    fd = SC3(SYS_openat, dir, path, flags | O_NOFOLLOW);
    char byte;
    if (fd >= 0 && SC4(SYS_readlinkat, fd, "", &byte, 1) >= 0) {
        SC1(SYS_close, fd);
        return -ELOOP;
    }
    return fd;
}

static long landlock_path(struct child *c, const struct pit_step *s) {
    // No symlink anywhere in a rule's path: the jail's writable trees outlive its runs, and a link it planted
    // there would widen the next run's rules to wherever it points.
    long fd = open_no_symlinks(AT_FDCWD, text(c, s->s1), PATH_FLAGS);
    if (fd < 0) return fd;
    struct child_landlock_path_beneath_attr rule = { s->n1, (int32_t)fd };
    if (!is_directory((int)fd)) rule.allowed_access &= CHILD_LANDLOCK_FILE_RIGHTS;
    long rc = SC4(CHILD_SYS_landlock_add_rule, slot_fd(c, s->fd1), CHILD_LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    SC1(SYS_close, fd);
    return rc;
}

static long landlock_port(struct child *c, const struct pit_step *s) {
    struct child_landlock_net_port_attr rule = { s->n1, s->n2 };
    return SC4(CHILD_SYS_landlock_add_rule, slot_fd(c, s->fd1), CHILD_LANDLOCK_RULE_NET_PORT, &rule, 0);
}

/// Puts a kernel knob under the jail's procfs out of reach (see Mounts.guardProc). The path is walked with
/// O_NOFOLLOW from the procfs's own fd: nothing in /proc/<pid> is involved, so no process can redirect it.
static long proc_guard(struct child *c, const struct pit_step *s) {
    char path_buffer[32], source_buffer[32];
    long fd = SC3(SYS_openat, slot_fd(c, s->fd1), text(c, s->s1), PATH_FLAGS | O_NOFOLLOW);
    if (fd == -ENOENT) return 0;             // this kernel has no such file (timer_stats, sched_debug...)
    if (fd < 0) return fd;
    const char *target = fd_path(path_buffer, (int)fd);
    long rc;
    if (s->n1 == PIT_PROC_READ_ONLY) {
        rc = SC5(SYS_mount, target, target, 0, MS_BIND | MS_REC, 0);
        if (rc == 0) {
            // The fd still names the covered inode: reopen the path to reach the new mount's root.
            long mounted = SC3(SYS_openat, slot_fd(c, s->fd1), text(c, s->s1), PATH_FLAGS | O_NOFOLLOW);
            if (mounted < 0) { rc = mounted; }
            else {
                const char *top = fd_path(source_buffer, (int)mounted);
                unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
                rc = SC5(SYS_mount, 0, top, 0, flags | locked_flags(top), 0);
                SC1(SYS_close, mounted);
            }
        }
    } else if (is_directory((int)fd)) {
        rc = SC5(SYS_mount, "tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=1,mode=0555");
    } else {
        rc = SC5(SYS_mount, fd_path(source_buffer, slot_fd(c, s->fd2)), target, 0, MS_BIND, 0);
    }
    SC1(SYS_close, fd);
    return rc;
}

static int is_directory(int fd) {
    long probe = SC3(SYS_openat, fd, ".", PATH_FLAGS);
    if (probe < 0) return 0;
    SC1(SYS_close, probe);
    return 1;
}

/// Walks `path` under `root` one component at a time with O_NOFOLLOW, creating what is missing when allowed.
/// Returns the fd, or -errno with *sub saying which part failed.
static long mountpoint(const char *path, int root, int directory, int create, int32_t *sub) {
    long current = SC1(SYS_dup, root);
    if (current < 0) { *sub = PIT_SUB_WALK; return current; }
    const char *p = path;
    for (;;) {
        while (*p == '/') p++;
        if (!*p) break;
        char name[256];
        size_t length = 0;
        while (p[length] && p[length] != '/') length++;
        if (length >= sizeof name) { SC1(SYS_close, current); *sub = PIT_SUB_WALK; return -ENAMETOOLONG; }
        memcpy(name, p, length);
        name[length] = 0;
        p += length;
        while (*p == '/') p++;
        int last = *p == 0;
        int want_directory = !last || directory;
        int flags = PATH_FLAGS | O_NOFOLLOW | (want_directory ? O_DIRECTORY : 0);
        long next = SC3(SYS_openat, current, name, flags);
        if (next == -ENOENT && create) {
            long made;
            if (want_directory) {
                made = SC3(SYS_mkdirat, current, name, 0755);
            } else {
                made = SC4(SYS_openat, current, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (made >= 0) made = SC1(SYS_close, made);
            }
            if (made < 0 && made != -EEXIST) { SC1(SYS_close, current); *sub = PIT_SUB_MKDIR; return made; }
            next = SC3(SYS_openat, current, name, flags);
        }
        SC1(SYS_close, current);
        if (next < 0) {
            // ENOTDIR/ELOOP here also mean "a symlink where a directory was expected": refused, never followed.
            *sub = next == -ENOENT && !create ? PIT_SUB_MISSING : PIT_SUB_WALK;
            return next;
        }
        current = next;
    }
    if (!directory) {
        // O_PATH | O_NOFOLLOW opens a symlink itself; readlinkat(fd, "") succeeds only on one.
        char byte;
        if (SC4(SYS_readlinkat, current, "", &byte, 1) >= 0) {
            SC1(SYS_close, current);
            *sub = PIT_SUB_WALK;
            return -ELOOP;
        }
    }
    return current;
}

static long loopback_up(void) {
    long s = SC3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return s;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    memcpy(request.ifr_name, "lo", 3);
    long rc = SC3(SYS_ioctl, s, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        request.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = SC3(SYS_ioctl, s, SIOCSIFFLAGS, &request);
    }
    SC1(SYS_close, s);
    return rc;
}

static long close_all_on_exec(void) {
#if defined(SYS_close_range)
    long rc = SC3(SYS_close_range, 3, ~0U, 1U << 2 /* CLOSE_RANGE_CLOEXEC */);
    if (rc == 0) return 0;
    if (rc != -ENOSYS && rc != -EINVAL) return rc;
#endif
    // Kernels before 5.11: walk /proc/self/fd (the jail's own /proc is mounted by now).
    long dir = SC3(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return dir;
    char buffer[1024] __attribute__((aligned(8)));
    for (;;) {
        long n = SC3(SYS_getdents64, dir, buffer, sizeof buffer);
        if (n <= 0) { SC1(SYS_close, dir); return n; }
        for (long at = 0; at < n;) {
            // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[]
            unsigned short reclen;
            memcpy(&reclen, buffer + at + 16, sizeof reclen);
            const char *name = buffer + at + 19;
            long fd = 0;
            int digits = 0;
            for (; *name >= '0' && *name <= '9'; name++, digits++) fd = fd * 10 + (*name - '0');
            if (digits && !*name && fd > 2 && fd != dir) SC3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
            at += reclen;
        }
    }
}

/// Sends "L<n>" where n is the lowest free fd: where the seccomp listener will land.
static long announce_listener(const struct child *c) {
    long probe = SC3(SYS_openat, AT_FDCWD, "/", PATH_FLAGS);
    if (probe < 0) return probe;
    SC1(SYS_close, probe);
    char message[16] = "L";
    char digits[12];
    int n = 0;
    unsigned long value = (unsigned long)probe;
    do { digits[n++] = (char)('0' + value % 10); value /= 10; } while (value && n < 11);
    size_t at = 1;
    while (n) message[at++] = digits[--n];
    send_bytes(c->program->channel, message, at);
    return 0;
}

static long load_seccomp(struct child *c, const struct pit_step *s, int32_t *sub) {
    struct sock_fprog program = { .len = (unsigned short)s->n2, .filter = (struct sock_filter *)text(c, s->s1) };
    long listener = SC3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned long)s->n1, &program);
    if (listener < 0) return listener;
    if (s->n1 & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
        // The parent, polling for it, copies the listener (pidfd_getfd) as soon as it exists and answers with
        // one byte, microseconds later: poll for it briefly before sleeping, sparing the wake-up. If the policy
        // reports these calls, the parent answers them through the listener it now holds.
        char byte;
        for (int i = 0; i < 2000; i++) {
            long n = SC6(SYS_recvfrom, c->program->channel, &byte, 1, MSG_DONTWAIT, 0, 0);
            if (n == 1) return 0;
            if (n != -EAGAIN && n != -EINTR) { *sub = PIT_SUB_NOT_TAKEN; return -EPIPE; }
            SC0(SYS_sched_yield);
        }
        if (SC3(SYS_read, c->program->channel, &byte, 1) != 1) { *sub = PIT_SUB_NOT_TAKEN; return -EPIPE; }
    }
    return 0;
}

static long find_program(struct child *c, const struct pit_step *s, int32_t *sub) {
    const char *candidate = text(c, s->s1);
    long last = -ENOENT;
    for (uint64_t i = 0; i < s->n1; i++) {
        last = SC4(SYS_faccessat, AT_FDCWD, candidate, X_OK, 0);
        if (last == 0) { c->chosen = candidate; c->chosen_index = (int32_t)i; return 0; }
        *sub = (int32_t)i;
        candidate += strlen(candidate) + 1;
    }
    return last;
}

static long run_step(struct child *c, const struct pit_step *s, int32_t *sub) {
    switch (s->op) {
    case PIT_OP_CLOSE_FD: return SC1(SYS_close, s->n1);
    case PIT_OP_DUP2:
        // dup3 refuses equal fds; then the fd is already in place and only needs to survive execve.
        if (s->n1 == s->n2) return SC3(SYS_fcntl, s->n2, F_SETFD, 0);
        return SC3(SYS_dup3, s->n1, s->n2, 0);
    case PIT_OP_PROC_GUARD: return proc_guard(c, s);
    case PIT_OP_LANDLOCK_RULESET: return landlock_ruleset(c, s);
    case PIT_OP_LANDLOCK_PATH: return landlock_path(c, s);
    case PIT_OP_LANDLOCK_PORT: return landlock_port(c, s);
    case PIT_OP_LANDLOCK_RESTRICT: return SC2(CHILD_SYS_landlock_restrict_self, slot_fd(c, s->fd1), 0);
    case PIT_OP_MKNOD: {
        // The kernel's dev_t encoding for small numbers: major in bits 8-19, minor in 0-7 and 20-31.
        unsigned long dev = (s->n2 & 0xff) | ((s->n1 & 0xfff) << 8) | ((s->n2 & ~0xffUL) << 12);
        long rc = SC4(SYS_mknodat, slot_fd(c, s->fd1), text(c, s->s1), S_IFCHR | 0666, dev);
        // mknod applies the umask; the jail's user must be able to write /dev/null.
        return rc < 0 ? rc : SC4(SYS_fchmodat, slot_fd(c, s->fd1), text(c, s->s1), 0666, 0);
    }
    case PIT_OP_AWAIT_PARENT: await_byte(c); return 0;
    case PIT_OP_SETRESGID: return SC3(CHILD_SYS_setresgid, s->n1, s->n1, s->n1);
    case PIT_OP_SETRESUID: return SC3(CHILD_SYS_setresuid, s->n1, s->n1, s->n1);
    case PIT_OP_UNSHARE: return SC1(SYS_unshare, s->n1);
    case PIT_OP_MOUNT: return do_mount(c, s);
    case PIT_OP_OPEN: {
        int flags = PATH_FLAGS | (s->n1 ? O_DIRECTORY : 0);
        int dir = s->fd1 >= 0 ? slot_fd(c, s->fd1) : AT_FDCWD;
        long fd;
        if (s->n2) {
            // A path others can write along: no symlink anywhere in it (before Linux 5.6 at least not as its last
            // component).
            fd = open_no_symlinks(dir, text(c, s->s1), flags);
        } else {
            fd = SC3(SYS_openat, dir, text(c, s->s1), flags);
        }
        if (fd >= 0) set_slot(c, s->slot, (int)fd);
        return fd < 0 ? fd : 0;
    }
    case PIT_OP_MOUNTPOINT: {
        int directory = (s->n1 & PIT_MP_DIRECTORY) != 0;
        if (s->n1 & PIT_MP_LIKE_SOURCE) directory = is_directory(slot_fd(c, s->fd2));
        long fd = mountpoint(text(c, s->s1), slot_fd(c, s->fd1), directory, (s->n1 & PIT_MP_CREATE) != 0, sub);
        if (fd >= 0) set_slot(c, s->slot, (int)fd);
        return fd < 0 ? fd : 0;
    }
    case PIT_OP_CLOSE: {
        int fd = slot_fd(c, s->fd1);
        set_slot(c, s->fd1, -1);
        return fd >= 0 ? SC1(SYS_close, fd) : 0;
    }
    case PIT_OP_CREATE_FILE: {
        long fd = SC4(SYS_openat, slot_fd(c, s->fd1), text(c, s->s1), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, s->n1);
        return fd < 0 ? fd : SC1(SYS_close, fd);
    }
    case PIT_OP_SYMLINK: {
        long rc = SC3(SYS_symlinkat, text(c, s->s1), slot_fd(c, s->fd1), text(c, s->s2));
        return rc == -EEXIST && s->n1 ? 0 : rc;
    }
    case PIT_OP_CHDIR: return SC1(SYS_chdir, text(c, s->s1));
    case PIT_OP_PIVOT_ROOT: return SC2(SYS_pivot_root, ".", ".");
    case PIT_OP_UMOUNT: return SC2(SYS_umount2, text(c, s->s1), s->n1);
    case PIT_OP_LOOPBACK_UP: return loopback_up();
    case PIT_OP_SETHOSTNAME: return SC2(SYS_sethostname, text(c, s->s1), s->n1);
    case PIT_OP_SETSID: { long rc = SC0(SYS_setsid); return rc < 0 ? rc : 0; }
    case PIT_OP_RLIMIT: {
        uint64_t limit[2] = { s->n2, s->n3 };
        return SC4(SYS_prlimit64, 0, s->n1, limit, 0);
    }
    case PIT_OP_PRCTL: return SC5(SYS_prctl, s->n1, s->n2, s->n3, 0, 0);
    case PIT_OP_DROP_BOUNDING:
        for (uint64_t cap = 0; cap <= s->n2 && cap < 64; cap++) {
            if (s->n1 & (1ULL << cap)) continue;
            long rc = SC5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (rc < 0) { *sub = (int32_t)cap; return rc; }
        }
        return 0;
    case PIT_OP_SETGROUPS: return SC2(CHILD_SYS_setgroups, s->n1, text(c, s->s1));
    case PIT_OP_CAPSET: {
        struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct data[2];
        uint32_t words[2] = { (uint32_t)s->n1, (uint32_t)s->n2 };
        for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = words[i];
        return SC2(SYS_capset, &header, data);
    }
    case PIT_OP_AMBIENT_RAISE:
        for (uint64_t cap = 0; cap < 64; cap++) {
            if (!(s->n1 & (1ULL << cap))) continue;
            long rc = SC5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
            if (rc < 0) { *sub = (int32_t)cap; return rc; }
        }
        return 0;
    case PIT_OP_PARENT_ALIVE: {
        char byte;
        if (SC6(SYS_recvfrom, c->program->channel, &byte, 1, MSG_PEEK | MSG_DONTWAIT, 0, 0) == 0) child_exit(1);
        return 0;
    }
    case PIT_OP_FIND_PROGRAM: return find_program(c, s, sub);
    case PIT_OP_CLOSE_ALL_ON_EXEC: return close_all_on_exec();
    case PIT_OP_ANNOUNCE_LISTENER: return announce_listener(c);
    case PIT_OP_SECCOMP: return load_seccomp(c, s, sub);
    case PIT_OP_EXEC:
        if (!c->chosen) return -ENOENT;
        *sub = c->chosen_index;
        return SC3(SYS_execve, c->chosen, c->program->argv, c->program->envp);
    default: return -ENOSYS;
    }
}

static int child_main(void *argument) {
    struct child c;
    c.program = argument;
    c.chosen = NULL;
    c.chosen_index = 0;
    for (int i = 0; i < PIT_CHILD_SLOTS; i++) c.slots[i] = -1;
    // Before anything else: no parent handler may ever run here, and the jail starts with no signal
    // blocked or ignored (ignored ones would survive execve).
    reset_signals();
    for (uint32_t i = 0; i < c.program->count; i++) {
        int32_t sub = 0;
        long rc = run_step(&c, &c.program->steps[i], &sub);
        if (rc < 0) fail(&c, i, rc, sub);
    }
    fail(&c, c.program->count, -ENOEXEC, 0);   // a program must end in PIT_OP_EXEC
    return 2;
}

pid_t pit_child_spawn(const struct pit_program *program, unsigned long flags, void *stack, size_t stack_size) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    // The stack grows down on every supported architecture; clone wants its top, 16-byte aligned.
    char *top = (char *)(((uintptr_t)stack + stack_size) & ~(uintptr_t)15);
    pid_t pid = clone(child_main, top, (int)(flags | SIGCHLD), (void *)program);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    errno = saved;
    return pid;
}
