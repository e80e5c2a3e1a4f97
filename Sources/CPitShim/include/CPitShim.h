// The few kernel interfaces Swift cannot call directly: variadic syscall()/prctl(), GNU-only
// prototypes (unshare, setresuid, setgroups) and constants that Glibc's module hides behind _GNU_SOURCE.
#ifndef PIT_SHIM_H
#define PIT_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/sched.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <linux/close_range.h>
#include <linux/audit.h>
#include <linux/prctl.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

// GNU-only flags Glibc's Swift module does not export.
static const int PIT_O_PATH = 010000000;
static const unsigned long PIT_ST_RDONLY = 1, PIT_ST_NOSUID = 2, PIT_ST_NODEV = 4, PIT_ST_NOEXEC = 8,
    PIT_ST_NOATIME = 1024, PIT_ST_NODIRATIME = 2048, PIT_ST_RELATIME = 4096;

/// fork(2) semantics with namespace flags: the child returns 0 and continues on the same stack.
/// Only safe when the caller is single-threaded (the launcher checks /proc/self/task first).
pid_t pit_clone_fork(unsigned long flags);
int pit_unshare(int flags);
int pit_setns(int fd, int nstype);
int pit_setresuid(uid_t r, uid_t e, uid_t s);
int pit_setresgid(gid_t r, gid_t e, gid_t s);
int pit_setgroups(size_t count, const gid_t *groups);
int pit_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int pit_pivot_root(const char *new_root, const char *put_old);
int pit_close_range(unsigned int first, unsigned int last, unsigned int flags);
/// capset(2) v3: two 32-bit words per set.
int pit_capset(const uint32_t effective[2], const uint32_t permitted[2], const uint32_t inheritable[2]);
long pit_seccomp(unsigned int op, unsigned int flags, void *args);
int pit_pidfd_open(pid_t pid, unsigned int flags);
int pit_tiocsti(int fd, char c);
int pit_set_loopback_up(void);
int pit_sethostname(const char *name, size_t len);
/// The fd number SCM_RIGHTS carried, or -1.
int pit_recv_fd(int socket);
int pit_send_fd(int socket, int fd);

#endif
