#ifndef PIT_START_H
#define PIT_START_H
/// 1 when CommandLine's arguments were captured at start-up by this module (glibc), 0 when the Swift
/// runtime finds them itself (see argv.c).
int pit_start_captures_arguments(void);
#endif
