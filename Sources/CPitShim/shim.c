#define _GNU_SOURCE
#include "CPitShim.h"
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <sys/reboot.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <linux/filter.h>
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <unistd.h>

int pit_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}
int pit_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

int pit_notif_recv(int listener, struct pit_notification *out) {
    struct seccomp_notif notif;
    memset(&notif, 0, sizeof notif);  // the kernel insists on a zeroed buffer
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notif) != 0) return -1;
    out->id = notif.id;
    out->pid = notif.pid;
    out->nr = notif.data.nr;
    out->arch = notif.data.arch;
    out->instruction_pointer = notif.data.instruction_pointer;
    for (int i = 0; i < 6; i++) out->args[i] = notif.data.args[i];
    return 0;
}

int pit_notif_respond(int listener, uint64_t id, int32_t error, int continue_syscall) {
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = id;
    if (continue_syscall) {
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        resp.error = -error;
    }
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

int pit_notif_id_valid(int listener, uint64_t id) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
}

int pit_is_seccomp_listener(int fd) {
    // Only a seccomp notification fd knows this ioctl; for an unknown id it answers ENOENT.
    uint64_t id = 0;
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 || errno == ENOENT;
}

int pit_pidfd_getfd(int pidfd, int targetfd) {
    return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, 0);
}

int pit_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

long pit_seccomp_set_filter(unsigned int flags, const void *instructions, unsigned short count) {
    struct sock_fprog prog = { .len = count, .filter = (struct sock_filter *)instructions };
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

long pit_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
    return syscall(nr, a0, a1, a2, a3, a4, a5);
}

long pit_int80_syscall(long nr, long a0, long a1, long a2) {
#if defined(__x86_64__)
    long ret;
    __asm__ volatile ("int $0x80"
                      : "=a"(ret)
                      : "a"(nr), "b"(a0), "c"(a1), "d"(a2)
                      : "memory", "r8", "r9", "r10", "r11");
    return ret;
#else
    (void)nr; (void)a0; (void)a1; (void)a2;
    return -ENOSYS;
#endif
}

int pit_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    return n == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

// PitBoard: watchdog ioctls.

int pit_wdt_getsupport(int fd, struct watchdog_info *info) { return ioctl(fd, WDIOC_GETSUPPORT, info); }
int pit_wdt_getstatus(int fd, int *flags) { return ioctl(fd, WDIOC_GETSTATUS, flags); }
int pit_wdt_getbootstatus(int fd, int *flags) { return ioctl(fd, WDIOC_GETBOOTSTATUS, flags); }
// The argument is ignored by the kernel, but WDIOC_KEEPALIVE is declared _IOR(int), so pass a
// valid pointer rather than garbage in case a driver copies it.
int pit_wdt_keepalive(int fd) { int unused = 0; return ioctl(fd, WDIOC_KEEPALIVE, &unused); }
int pit_wdt_settimeout(int fd, int *seconds) { return ioctl(fd, WDIOC_SETTIMEOUT, seconds); }
int pit_wdt_gettimeout(int fd, int *seconds) { return ioctl(fd, WDIOC_GETTIMEOUT, seconds); }
int pit_wdt_setpretimeout(int fd, int *seconds) { return ioctl(fd, WDIOC_SETPRETIMEOUT, seconds); }
int pit_wdt_getpretimeout(int fd, int *seconds) { return ioctl(fd, WDIOC_GETPRETIMEOUT, seconds); }
int pit_wdt_gettimeleft(int fd, int *seconds) { return ioctl(fd, WDIOC_GETTIMELEFT, seconds); }

unsigned long pit_wdt_request(int index) {
    switch (index) {
    case 0: return WDIOC_GETSUPPORT;
    case 1: return WDIOC_GETSTATUS;
    case 2: return WDIOC_GETBOOTSTATUS;
    case 3: return WDIOC_GETTEMP;
    case 4: return WDIOC_SETOPTIONS;
    case 5: return WDIOC_KEEPALIVE;
    case 6: return WDIOC_SETTIMEOUT;
    case 7: return WDIOC_GETTIMEOUT;
    case 8: return WDIOC_SETPRETIMEOUT;
    case 9: return WDIOC_GETPRETIMEOUT;
    case 10: return WDIOC_GETTIMELEFT;
    default: return 0;
    }
}

int pit_child_has_exited(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return -1;
    return info.si_pid != 0;
}

int pit_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int pit_epoll_add(int epfd, int fd, uint64_t token, int writable) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = writable ? EPOLLOUT : EPOLLIN;
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int pit_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int pit_epoll_wait(int epfd, uint64_t *tokens, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) tokens[i] = events[i].data.u64;
    return n;
}

int pit_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int pit_timerfd_arm(int fd, long long ms) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    if (ms >= 0) {
        if (ms == 0) ms = 1;  // a zero it_value would disarm instead of firing now
        spec.it_value.tv_sec = ms / 1000;
        spec.it_value.tv_nsec = (ms % 1000) * 1000000L;
    }
    return timerfd_settime(fd, 0, &spec, NULL);
}

void pit_timerfd_ack(int fd) {
    uint64_t expirations;
    ssize_t n = read(fd, &expirations, sizeof expirations);
    (void)n;
}

long pit_peer_uid(int socket) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    return (long)cred.uid;
}

int pit_peer_pid(int socket) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    return (int)cred.pid;
}

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
int pit_peer_pidfd(int socket) {
    int fd = -1;
    socklen_t len = sizeof fd;
    if (getsockopt(socket, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) != 0) return -1;
    return fd;
}

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
int pit_pidfd_send_signal(int pidfd, int signal) { return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0); }

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
int pit_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
    // struct open_how, spelled out: the cross sysroots' headers may predate linux/openat2.h.
    struct { unsigned long long flags, mode, resolve; } how = { (unsigned long long)(unsigned int)flags, mode, resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int pit_open_handle(int dirfd, const char *path, unsigned long long resolve) {
    return pit_openat2(dirfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, resolve);
}

int pit_fchown_handle(int fd, unsigned int uid, unsigned int gid) { return fchownat(fd, "", uid, gid, AT_EMPTY_PATH); }

int pit_accept(int socket) { return accept4(socket, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }

int pit_tty_openpty(int *master, int *slave, char *name, size_t name_len) {
    int m = -1, s = -1;
    char path[128];
    if (openpty(&m, &s, path, NULL, NULL) != 0) return -1;
    // openpty has no O_CLOEXEC flag; set it before anyone can fork.
    if (fcntl(m, F_SETFD, FD_CLOEXEC) != 0 || fcntl(s, F_SETFD, FD_CLOEXEC) != 0) {
        int saved = errno;
        close(m);
        close(s);
        errno = saved;
        return -1;
    }
    if (name_len > 0) {
        strncpy(name, path, name_len - 1);
        name[name_len - 1] = '\0';
    }
    *master = m;
    *slave = s;
    return 0;
}

int pit_epoll_modify(int epfd, int fd, uint64_t token, int writable) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (writable ? EPOLLOUT : 0);
    ev.data.u64 = token;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int pit_reboot_restart(void) {
    sync();
    return reboot(RB_AUTOBOOT);
}

int pit_packet_open(int ifindex, unsigned short ethertype, int dhcp_client_filter) {
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ethertype));
    if (fd < 0) return -1;
    if (dhcp_client_filter) {
        // Offsets are from the IPv4 header (SOCK_DGRAM strips the link header).
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),             // protocol
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 6),      // UDP, else drop
            BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),             // flags and fragment offset
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 0), // a fragment: drop
            BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),            // X = header length
            BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),             // UDP destination port
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 0, 1),      // 68, else drop
            BPF_STMT(BPF_RET | BPF_K, 0x40000),
            BPF_STMT(BPF_RET | BPF_K, 0),
        };
        struct sock_fprog program = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) != 0) { int e = errno; close(fd); errno = e; return -1; }
    }
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype), .sll_ifindex = ifindex };
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0) { int e = errno; close(fd); errno = e; return -1; }
    return fd;
}

long pit_packet_send(int fd, int ifindex, unsigned short ethertype, const unsigned char *dest_mac, const void *buffer, size_t length) {
    struct sockaddr_ll address = { .sll_family = AF_PACKET, .sll_protocol = htons(ethertype), .sll_ifindex = ifindex, .sll_halen = 6 };
    memcpy(address.sll_addr, dest_mac, 6);
    return sendto(fd, buffer, length, 0, (struct sockaddr *)&address, sizeof(address));
}

long pit_packet_recv(int fd, void *buffer, size_t length, unsigned char *source_mac, int *packet_type) {
    struct sockaddr_ll address;
    socklen_t size = sizeof(address);
    memset(&address, 0, sizeof(address));
    ssize_t n = recvfrom(fd, buffer, length, 0, (struct sockaddr *)&address, &size);
    if (n < 0) return -1;
    memcpy(source_mac, address.sll_addr, 6);
    *packet_type = address.sll_pkttype;
    return n;
}
