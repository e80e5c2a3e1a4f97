// Compiled by image/check-cross-shim for each ARM target against that target's Debian headers and
// libraries: Pit's C shim exactly as Pit compiles it, the system-library headers its Swift modules import,
// and checks of the architecture-dependent choices the shim makes. Linked statically (never run here).
#include "../../Sources/CPitShim/shim.c"
#include "../../Sources/CPitShim/child.c"
#include "../../Sources/CSeccomp/shim.h"
#include "../../Sources/CCap/shim.h"
#include "../../Sources/CGpiod/shim.h"
#include <stdio.h>

// Credentials must use the 32-bit-id syscalls (see shim.c).
#ifdef __NR_setresuid32
_Static_assert(PIT_SYS_setresuid == __NR_setresuid32, "setresuid must be the 32-bit-uid call");
_Static_assert(PIT_SYS_setresgid == __NR_setresgid32, "setresgid must be the 32-bit-gid call");
_Static_assert(PIT_SYS_setgroups == __NR_setgroups32, "setgroups must be the 32-bit-gid call");
#endif
// The jail's child makes the same choice with its raw syscalls (child.c).
_Static_assert(CHILD_SYS_setresuid == PIT_SYS_setresuid && CHILD_SYS_setresgid == PIT_SYS_setresgid
               && CHILD_SYS_setgroups == PIT_SYS_setgroups, "the child's credential syscalls");
_Static_assert(sizeof(uid_t) == 4 && sizeof(gid_t) == 4, "32-bit ids");
// The seccomp data the supervisor reads from user notifications has a fixed layout on every arch.
_Static_assert(sizeof(struct seccomp_data) == 64, "struct seccomp_data");
#if defined(__aarch64__)
_Static_assert(AUDIT_ARCH_AARCH64 == SCMP_ARCH_AARCH64, "audit arch");
#elif defined(__arm__)
_Static_assert(AUDIT_ARCH_ARM == SCMP_ARCH_ARM, "audit arch");
#endif

int main(void) {
    // One call into each library, so the static link below resolves them for this target.
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    cap_t caps = cap_get_proc();
    printf("%p %p %s %ld %p\n", (void *)filter, (void *)caps, gpiod_version_string(), (long)pit_setresuid(-1, -1, -1),
           (void *)pit_child_spawn);
    return 0;
}
