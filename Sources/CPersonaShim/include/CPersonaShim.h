// Kernel netlink ABI for PitPersona. Glibc's Swift module does not export <linux/netlink.h> or
// <linux/rtnetlink.h>, so this header brings in the structs (nlmsghdr, ifinfomsg, ifaddrmsg, rtmsg,
// nlmsgerr, sockaddr_nl) and enum constants straight from the kernel's uapi headers: their layout is
// then checked by the compiler instead of being retyped by hand in Swift. Only the function-like
// macros (NLMSG_ALIGN, RTA_NEXT...) are not importable; Swift re-implements those few lines.
#ifndef PIT_PERSONA_SHIM_H
#define PIT_PERSONA_SHIM_H

#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>

/// SOL_NETLINK lives behind __USE_MISC-style guards in some libcs; the value is kernel ABI.
static const int PIT_NL_SOL_NETLINK = 270;

/// The alignment every netlink message and attribute is padded to (NLMSG_ALIGNTO / RTA_ALIGNTO).
static const unsigned int PIT_NL_ALIGNTO = 4;

/// Opens a NETLINK_ROUTE socket, close-on-exec, bound to a kernel-assigned port id, with extended
/// ACKs (the kernel's own error text, e.g. "Nexthop has invalid gateway") and capped ACKs (errors do
/// not echo the whole request back). Returns the fd, or -1 with errno set.
int pit_nl_open_route(unsigned int receive_timeout_ms);

#endif
