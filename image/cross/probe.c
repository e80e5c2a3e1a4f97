// Compiled by image/check-cross-shim for each ARM target against that target's Debian headers and
// libraries: the system-library headers Pit's Swift modules import and checks of the architecture-dependent
// layouts, linked statically with Pit's C shims as Pit compiles them (never run here).
#include "../../Sources/CPitShim/include/CPitShim.h"
#include "../../Sources/CSeccomp/shim.h"
#include "../../Sources/CCap/shim.h"
#include "../../Sources/CGpiod/shim.h"
#include <stdio.h>

// The 32-bit-id credential syscalls on armv7 are asserted where they are chosen (child.c), which
// check-cross-shim compiles for each target.
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
    printf("%p %p %s %ld %p\n", (void *)filter, (void *)caps, gpiod_version_string(), (long)pit_pidfd_open(-1, 0),
           (void *)pit_child_spawn);
    return 0;
}
