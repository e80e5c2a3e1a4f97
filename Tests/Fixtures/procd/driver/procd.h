/*
 * Stand-in for procd's procd.h when compiling procd's watchdog.c alone (Pit's test driver; not procd's code).
 * procd's own procd.h pulls in libubus and udebug; watchdog.c needs only the logging macros of procd's log.h
 * (DEBUG, LOG, ERROR, the `debug` level) and the libc headers procd.h brings. Messages go to stderr, prefixed
 * "procd: ", where procd would send them to ulog.
 */
#ifndef PIT_PROCD_SHIM_H
#define PIT_PROCD_SHIM_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libubox/uloop.h>
#include <libubox/utils.h>

extern unsigned int debug;

#define DEBUG(level, fmt, ...) do { \
	if (debug >= level) \
		fprintf(stderr, "procd: " fmt, ## __VA_ARGS__); \
	} while (0)
#define LOG(fmt, ...) fprintf(stderr, "procd: " fmt, ## __VA_ARGS__)
#define ERROR(fmt, ...) fprintf(stderr, "procd: error: " fmt, ## __VA_ARGS__)

#endif
