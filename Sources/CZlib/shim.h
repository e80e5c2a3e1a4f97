// The system zlib, for compressing DNS uplink messages (every byte there costs a label character).
#ifndef PIT_CZLIB_SHIM_H
#define PIT_CZLIB_SHIM_H
#include <zlib.h>
#endif
