// The jail's child side: a list of steps, built in Swift by PitJail (see Contain.swift, which lists the
// isolation sequence top to bottom), carried out here with raw system calls in a child that shares the
// parent's memory (clone with CLONE_VM): no copy of the parent's page tables, no copy-on-write faults,
// nothing to unmap at execve. That child may touch nothing but its own stack and the (read-only) program:
// no malloc, no errno, no stdio, no locks. A failing step is reported to the parent as its index and errno;
// the parent words the error (`step: path: error`).
#ifndef PIT_CHILD_H
#define PIT_CHILD_H

#include <stdint.h>
#include <sys/types.h>

enum pit_op {
    PIT_OP_CLOSE_FD = 1,          // close(n1): an fd the child inherited and must not keep
    PIT_OP_AWAIT_PARENT,          // read one byte from the channel; end-of-file: exit 1 quietly
    PIT_OP_SETRESGID,             // n1
    PIT_OP_SETRESUID,             // n1
    PIT_OP_UNSHARE,               // n1 = flags
    PIT_OP_MOUNT,                 // source: fd1 (as /proc/self/fd/N) or s1 or none; target: fd2 or s2;
                                  // fstype s3, data s4, flags n1; n2 = 1: add the flags the target's
                                  // mount already has (statfs), which a user namespace locks
    PIT_OP_OPEN,                  // slot = O_PATH open of s1 (under fd1 when >= 0), O_DIRECTORY when n1; n2: no symlink in s1
    PIT_OP_MOUNTPOINT,            // slot = walk s1 under fd1 without following symlinks; n1 = PIT_MP_* bits;
                                  // with PIT_MP_LIKE_SOURCE, a directory when fd2 is one
    PIT_OP_CLOSE,                 // fd1
    PIT_OP_CREATE_FILE,           // create s1 under fd1 (O_EXCL, never through a symlink), mode n1
    PIT_OP_SYMLINK,               // symlinkat(s1, fd1, s2); n1 = 1: an existing entry is fine
    PIT_OP_CHDIR,                 // s1
    PIT_OP_PIVOT_ROOT,            // pivot_root(".", ".")
    PIT_OP_UMOUNT,                // umount2(s1, n1)
    PIT_OP_LOOPBACK_UP,           // bring up "lo" in a new network namespace
    PIT_OP_SETHOSTNAME,           // s1, length n1
    PIT_OP_SETSID,
    PIT_OP_RLIMIT,                // prlimit(0, n1, {n2, n3})
    PIT_OP_PRCTL,                 // prctl(n1, n2, n3, 0, 0)
    PIT_OP_DROP_BOUNDING,         // PR_CAPBSET_DROP for 0...n2 except the bits of n1; sub = the capability
    PIT_OP_SETGROUPS,             // n1 gids (uint32) at s1
    PIT_OP_CAPSET,                // effective = permitted = inheritable = n1 (caps 0-31) | n2 (32-63)
    PIT_OP_AMBIENT_RAISE,         // PR_CAP_AMBIENT_RAISE for each bit of n1; sub = the capability
    PIT_OP_PARENT_ALIVE,          // channel at end-of-file (the parent died before the death signal was
                                  // armed): exit 1 quietly
    PIT_OP_FIND_PROGRAM,          // the first of n1 NUL-separated paths at s1 that access(X_OK) accepts;
                                  // sub on failure = the last one tried
    PIT_OP_CLOSE_ALL_ON_EXEC,     // every fd above 2 close-on-exec
    PIT_OP_ANNOUNCE_LISTENER,     // send "L<n>", n the lowest free fd (where the listener will land)
    PIT_OP_SECCOMP,               // load the n2 instructions at s1 with flags n1; then, when n1 asks for
                                  // a listener, wait for the parent's byte (it has copied the listener)
    PIT_OP_EXEC,                  // execve(the program FIND_PROGRAM chose, argv, envp); sub = its index
    PIT_OP_MKNOD,                 // character device s1 under fd1, major n1 minor n2, mode 0666 (whatever the umask)
    PIT_OP_LANDLOCK_RULESET,      // slot = a Landlock ruleset handling fs rights n1, net rights n2, scopes n3 (its
                                  // attribute's size follows: 8, 16 or 24 bytes as the kernel's ABI has them)
    PIT_OP_LANDLOCK_PATH,         // rights n1 beneath the jail path s1 in the ruleset at fd1 (a file keeps only the
                                  // rights that apply to files)
    PIT_OP_LANDLOCK_PORT,         // net rights n1 for TCP port n2 in the ruleset at fd1
    PIT_OP_LANDLOCK_RESTRICT,     // landlock_restrict_self(fd1): from here the jail is in that domain
    PIT_OP_PROC_GUARD,            // s1 under the procfs at fd1 (absent: nothing to do): n1 = PIT_PROC_READ_ONLY, a
                                  // read-only bind of itself; PIT_PROC_MASK, fd2 (/dev/null) bound over a file or an
                                  // empty read-only tmpfs over a directory
    PIT_OP_DUP2,                  // the parent's fd n1 onto n2 (0-2), without close-on-exec: the jail's stdio
};

enum {
    PIT_PROC_READ_ONLY = 1,
    PIT_PROC_MASK = 2,
};

enum {
    PIT_MP_DIRECTORY = 1,         // the mountpoint is a directory (else a file)
    PIT_MP_CREATE = 2,            // create what is missing
    PIT_MP_LIKE_SOURCE = 4,       // directory or file like fd2
};

// Failure sub-codes the parent turns into words.
enum {
    PIT_SUB_MKDIR = 1,            // PIT_OP_MOUNTPOINT: creating a component failed
    PIT_SUB_MISSING = 2,          // PIT_OP_MOUNTPOINT: a component is missing and nothing may be created
    PIT_SUB_WALK = 3,             // PIT_OP_MOUNTPOINT: a component cannot be opened (ELOOP/ENOTDIR: a symlink)
    PIT_SUB_STAT = 4,             // PIT_OP_MOUNTPOINT: the source cannot be examined
    PIT_SUB_NOT_TAKEN = 5,        // PIT_OP_SECCOMP: the parent never took the listener
};

struct pit_step {
    uint32_t op;
    int32_t slot;                 // where PIT_OP_OPEN / PIT_OP_MOUNTPOINT put the fd
    int32_t fd1, fd2;             // slots read by the step, -1 for none
    int64_t s1, s2, s3, s4;       // offsets into `strings`, -1 for none
    uint64_t n1, n2, n3;
    // How the parent words this step's failure (the child ignores these): a PitJail failure kind and
    // offsets into `strings` of the step's name, the path it works on and a detail, -1 for none.
    uint32_t failure;
    int32_t reserved;
    int64_t what, where, detail;
};

struct pit_program {
    const struct pit_step *steps;
    uint32_t count;
    const char *strings;
    char *const *argv;
    char *const *envp;
    int channel;                  // the child's end of the SOCK_SEQPACKET pair
};

/// What the child sends when step `step` fails: 'E', then this (host order).
struct pit_child_failure {
    uint32_t step;
    int32_t error;
    int32_t sub;
};

/// Largest number of fds a program may hold open at once (slots).
#define PIT_CHILD_SLOTS 256

/// Starts the child on `stack` (its highest address is stack + stack_size) with clone(flags | SIGCHLD) and
/// returns its pid, or -1 with errno. `flags` normally hold CLONE_VM (the child shares this memory). All signals are blocked in the parent across the clone,
/// so none can run a parent handler on the child's stack; the program's first step resets them.
/// `program`, the memory it points to and `stack` must stay untouched until the child has exec'd or exited.
/// Without CLONE_VM in `flags` the child gets a copy of this process's memory (see ChildImage.spawn).
pid_t pit_child_spawn(const struct pit_program *program, unsigned long flags, void *stack, size_t stack_size);

#endif
