// Where Swift's CommandLine.arguments comes from in `pit`, found without reading /proc/self/maps.
//
// On Linux the Swift runtime finds argv for CommandLine in a static constructor (CommandLine.cpp's
// ArgvGrabber): it opens /proc/self/maps, scans it with sscanf for the stack's range and walks back from
// `environ`. That is ~35 us of every start of a static executable here (interleaved A/B of a trivial program,
// measured), paid before main by every `pit` invocation. glibc already hands argc and argv to each
// .init_array function; capturing them there and defining the runtime's two entry points for the standard
// library makes the linker leave CommandLine.cpp out of a static link, and its constructor with it.
//
// glibc only: musl calls .init_array functions without arguments, so there the runtime's own code stays.
// In a dynamic link the runtime's definitions stay in libswiftCore.so; if ours are preferred, they give the
// same answer. The signatures are those of Swift 6's runtime (stdlib/public/CommandLineSupport).
#include "CPitStart.h"
#include <stdlib.h>   // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
static char **start_argv;
static int start_argc;

static void capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    start_argc = argc;
    start_argv = argv;
}
__attribute__((section(".init_array"), used)) static void (*const capture_arguments_entry)(int, char **, char **) =
    capture_arguments;

__attribute__((swiftcall)) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    *outArgLen = start_argc;
    return start_argv;
}

__attribute__((swiftcall)) void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    start_argv = argv;
    start_argc = argc;
}
#endif

