// Socket setup for PitPersona's rtnetlink client. In C because sockaddr_nl and the socket-option
// plumbing are one-liners here and several casts in Swift.
#include "CPersonaShim.h"
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int pit_nl_open_route(unsigned int receive_timeout_ms) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    int one = 1;
    // Both options are best effort: kernels before 4.12 lack EXT_ACK and the replies are still valid.
    (void)setsockopt(fd, PIT_NL_SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(fd, PIT_NL_SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    // A receive timeout turns a lost reply into EAGAIN instead of hanging the supervisor forever.
    struct timeval tv = { .tv_sec = receive_timeout_ms / 1000, .tv_usec = (receive_timeout_ms % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) goto fail;
    struct sockaddr_nl local;
    memset(&local, 0, sizeof local);
    local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns a unique port id.
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) goto fail;
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
