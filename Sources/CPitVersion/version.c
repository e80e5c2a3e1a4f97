#include "CPitVersion.h"

#ifndef PIT_VERSION
#define PIT_VERSION "unknown"
#endif

const char *pit_version(void) { return PIT_VERSION; }
