// The few kernel interfaces Swift cannot call directly: variadic syscall()/prctl(), ioctls behind
// function-like macros, and constants that Glibc's module hides behind _GNU_SOURCE. The jail's child,
// which makes its own raw syscalls, is pit_child.h.
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
#include <sys/syscall.h>
#include "pit_child.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) on a prebuilt classic BPF program.
/// Builds the sock_fprog on the stack: no allocation, one syscall.
long pit_seccomp_set_filter(unsigned int flags, const void *instructions, unsigned short count);
/// A raw six-argument syscall (syscall(2) is variadic). Returns the result or -1 with errno set.
long pit_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
/// Issues `nr` through the legacy ia32 gate (`int 0x80`) on x86_64 and returns the raw kernel result
/// (negative errno); -ENOSYS elsewhere. Tests use it to prove filters refuse ia32 entry.
long pit_int80_syscall(long nr, long a0, long a1, long a2);
// Packet sockets for the persona's DHCP client (PitSupervisor/DhcpLink.swift): <netpacket/packet.h> and
// <linux/filter.h> are not in Swift's Glibc module.
/// An AF_PACKET/SOCK_DGRAM socket (non-blocking, close-on-exec) bound to `ifindex` for `ethertype` (host order).
/// `dhcp_client_filter`: a classic BPF filter keeps only unfragmented IPv4/UDP to port 68, so the socket is not
/// handed every packet the interface receives. The fd, or -1 with errno set.
int pit_packet_open(int ifindex, unsigned short ethertype, int dhcp_client_filter);
/// sendto() to `dest_mac` (6 bytes) on `ifindex`; bytes sent or -1 with errno set.
long pit_packet_send(int fd, int ifindex, unsigned short ethertype, const unsigned char *dest_mac, const void *buffer, size_t length);
/// recvfrom(): the frame's source MAC into `source_mac` (6 bytes) and its packet type (PACKET_HOST 0,
/// PACKET_BROADCAST 1, PACKET_OUTGOING 4...) into `packet_type`; bytes received or -1 with errno set.
long pit_packet_recv(int fd, void *buffer, size_t length, unsigned char *source_mac, int *packet_type);

#endif

int pit_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int pit_pidfd_open(pid_t pid, unsigned int flags);

/// Seccomp user notification (linux/seccomp.h ioctls are function-like macros Swift cannot import).
struct pit_notification {
    uint64_t id;
    uint32_t pid;
    int32_t nr;
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t args[6];
};
/// Blocks until a notification arrives (poll first). 0 or -1 with errno.
int pit_notif_recv(int listener, struct pit_notification *out);
/// Answers a notification: `error` > 0 fails the syscall with that errno; `continue_syscall` lets it run.
int pit_notif_respond(int listener, uint64_t id, int32_t error, int continue_syscall);
/// 0 while the notifying task still waits: checked after reading /proc/PID so a reused pid is caught.
int pit_notif_id_valid(int listener, uint64_t id);
int pit_pidfd_getfd(int pidfd, int targetfd);
/// 1 when `fd` is a seccomp user-notification listener.
int pit_is_seccomp_listener(int fd);
/// signalfd(2) for the given signals, nonblocking and close-on-exec.
int pit_signalfd(const int *signals, int count);
/// The next signal number queued on a signalfd, or -1 (EAGAIN when none).
int pit_signalfd_next(int fd);
/// epoll with 64-bit tokens (struct epoll_event is packed on x86_64, which Swift does not import well).
int pit_epoll_create(void);
int pit_epoll_add(int epfd, int fd, uint64_t token, int writable);
int pit_epoll_remove(int epfd, int fd);
/// Changes what an added fd is watched for (readable, plus writable when `writable`).
int pit_epoll_modify(int epfd, int fd, uint64_t token, int writable);
/// Fills `tokens` with up to `max` ready tokens; returns the count, 0 on timeout, -1 on error.
int pit_epoll_wait(int epfd, uint64_t *tokens, int max, int timeout_ms);
/// A CLOCK_MONOTONIC timerfd, nonblocking and close-on-exec.
int pit_timerfd_create(void);
/// Arms the timer to fire once after `ms` milliseconds (at least 1); a negative value disarms it.
int pit_timerfd_arm(int fd, long long ms);
/// Reads and discards the expiration count.
void pit_timerfd_ack(int fd);
/// accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK.
int pit_accept(int socket);
/// The uid of the process at the other end of a Unix socket, or -1.
long pit_peer_uid(int socket);
/// The pid of the process at the other end of a Unix socket (SO_PEERCRED, in this pid namespace), or -1.
int pit_peer_pid(int socket);
/// A pidfd for the process that connected the other end of a Unix socket (SO_PEERPIDFD, Linux 6.5): it names
/// that process even if its pid is reused later. -1 with errno set (ENOPROTOOPT before 6.5).
int pit_peer_pidfd(int socket);
/// pidfd_send_signal(2); signal 0 only checks that the process still exists. 0, or -1 with errno set.
int pit_pidfd_send_signal(int pidfd, int signal);

/// openat2(2)'s RESOLVE_* flags (linux/openat2.h, which older cross sysroots lack).
#define PIT_RESOLVE_NO_XDEV       0x01
#define PIT_RESOLVE_NO_MAGICLINKS 0x02
#define PIT_RESOLVE_NO_SYMLINKS   0x04
#define PIT_RESOLVE_BENEATH       0x08
/// openat2(2) (Linux 5.6; glibc has no wrapper): `path` resolved relative to `dirfd` under `resolve`.
/// The fd, or -1 with errno set (ELOOP for a symlink under RESOLVE_NO_SYMLINKS, EXDEV for an escape).
int pit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);
/// openat2 with O_PATH | O_NOFOLLOW | O_CLOEXEC (GNU-only flags): a handle on the entry itself, a symlink
/// included, for fstat and pit_fchown_handle.
int pit_open_handle(int dirfd, const char *path, unsigned long long resolve);
/// fchownat(fd, "", uid, gid, AT_EMPTY_PATH): re-owns what an O_PATH handle names (a symlink itself).
int pit_fchown_handle(int fd, unsigned int uid, unsigned int gid);

/// reboot(2) with LINUX_REBOOT_CMD_RESTART (after sync); returns only on failure.
int pit_reboot_restart(void);
/// 1 when the child has exited (its status is left for waitpid), 0 while it runs, -1 on error.
int pit_child_has_exited(pid_t pid);


/// seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) on a prebuilt classic BPF program.
/// Builds the sock_fprog on the stack: no allocation, one syscall.
long pit_seccomp_set_filter(unsigned int flags, const void *instructions, unsigned short count);
/// A raw six-argument syscall (syscall(2) is variadic). Returns the result or -1 with errno set.
long pit_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
/// Issues `nr` through the legacy ia32 gate (`int 0x80`) on x86_64 and returns the raw kernel result
/// (negative errno); -ENOSYS elsewhere. Tests use it to prove filters refuse ia32 entry.
long pit_int80_syscall(long nr, long a0, long a1, long a2);

// Linux watchdog ioctls (PitBoard): WDIOC_* are _IOR/_IOWR macros Swift cannot import.
#include <linux/watchdog.h>

int pit_wdt_getsupport(int fd, struct watchdog_info *info);
int pit_wdt_getstatus(int fd, int *flags);
int pit_wdt_getbootstatus(int fd, int *flags);
int pit_wdt_keepalive(int fd);
/// In/out: the driver may round the request; `seconds` receives what it set.
int pit_wdt_settimeout(int fd, int *seconds);
int pit_wdt_gettimeout(int fd, int *seconds);
/// In/out like pit_wdt_settimeout; 0 disables the pretimeout.
int pit_wdt_setpretimeout(int fd, int *seconds);
int pit_wdt_getpretimeout(int fd, int *seconds);
int pit_wdt_gettimeleft(int fd, int *seconds);
/// The request number of a WDIOC_* ioctl by its index in linux/watchdog.h (0 = GETSUPPORT ..
/// 10 = GETTIMELEFT), 0 for an unknown index; lets tests pin the encoding without hardware.
unsigned long pit_wdt_request(int index);

// Pseudo-terminal pairs (PitConsole tests): openpty() is declared in <pty.h>, which Swift's Glibc
// module does not export.
#include <stddef.h>
/// Opens a pty pair; stores both fds (close-on-exec) and copies the slave's path ("/dev/pts/N") into
/// `name` (NUL-terminated, truncated to `name_len`). 0, or -1 with errno set.
int pit_tty_openpty(int *master, int *slave, char *name, size_t name_len);

// Packet sockets for the persona's DHCP client (PitSupervisor/DhcpLink.swift): <netpacket/packet.h> and
// <linux/filter.h> are not in Swift's Glibc module.
/// An AF_PACKET/SOCK_DGRAM socket (non-blocking, close-on-exec) bound to `ifindex` for `ethertype` (host order).
/// `dhcp_client_filter`: a classic BPF filter keeps only unfragmented IPv4/UDP to port 68, so the socket is not
/// handed every packet the interface receives. The fd, or -1 with errno set.
int pit_packet_open(int ifindex, unsigned short ethertype, int dhcp_client_filter);
/// sendto() to `dest_mac` (6 bytes) on `ifindex`; bytes sent or -1 with errno set.
long pit_packet_send(int fd, int ifindex, unsigned short ethertype, const unsigned char *dest_mac, const void *buffer, size_t length);
/// recvfrom(): the frame's source MAC into `source_mac` (6 bytes) and its packet type (PACKET_HOST 0,
/// PACKET_BROADCAST 1, PACKET_OUTGOING 4...) into `packet_type`; bytes received or -1 with errno set.
long pit_packet_recv(int fd, void *buffer, size_t length, unsigned char *source_mac, int *packet_type);

#endif
