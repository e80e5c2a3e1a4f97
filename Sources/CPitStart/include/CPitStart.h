#ifndef PIT_START_H
#define PIT_START_H
// Nothing to call: argv.c defines the Swift runtime's argument entry points for the `pit` executable.
#endif
