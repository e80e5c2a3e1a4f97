/*
 * Plays OpenWrt's boot and `ubus call system watchdog` against procd's own watchdog.c (compiled unmodified next
 * to this file), then plays Pit opening the device. Pit's test driver, not procd's code; see ../README.md.
 *
 *   handover SCRIPT [--stay] [--device PATH]
 *
 * SCRIPT is the ubus message the init script sends:
 *   stop             '{"stop": true}'                      (image/init/pit.init before the fix)
 *   magicclose-stop  '{"magicclose": true, "stop": true}'  (image/init/pit.init now)
 *
 * 1. Boot as OpenWrt boots: /sbin/init (procd's initd/init.c) calls watchdog_init(1), which opens /dev/watchdog
 *    without O_CLOEXEC, and execs procd with WDTFD=<fd>; procd's state.c calls watchdog_init(0) on entering
 *    STATE_EARLY, which takes the fd over from WDTFD. Here: watchdog_init(1), then exec of this program with
 *    WDTFD set, then watchdog_init(0). procd then feeds from its uloop timer (every 5 s, 30 s timeout).
 * 2. Run procd's loop for a moment, then apply the message exactly as system.c's `watchdog_set` handler does
 *    (procd 2c1834a system.c:465-518): frequency, timeout, then magicclose, then stop; the reply's status is
 *    "offline" when watchdog_fd() is NULL, else "stopped" or "running".
 * 3. Report what procd holds (its fd table) and the device's state (sysfs: active/inactive).
 * 4. Play Pit in another process: open the device O_WRONLY (what Pit's WatchdogDevice does). On success, set a
 *    timeout, feed it three times, and disarm it with the magic 'V' (so the next check starts clean). EBUSY: the
 *    device is still held; procd is then told '{"magicclose": true, "stop": true}' to release it, as the fixed
 *    script would.
 * 5. --stay: stay alive in procd's loop afterwards, as PID 1 does, so that a later opener (the real Pit) meets
 *    the procd that let go, not one that exited.
 *
 * Lines on stdout, one per fact, "procd-handover <key> <value>", for image/vm/test_board.py.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/watchdog.h>

#include <libubox/uloop.h>
#include "watchdog.h"

unsigned int debug = 4;

static void say(const char *key, const char *value)
{
	printf("procd-handover %s %s\n", key, value);
	fflush(stdout);
}

/* system.c's watchdog_set with the message's fields (-1: absent), without blobmsg. */
static const char *ubus_system_watchdog(int frequency, int timeout, int magicclose, int stop)
{
	static char reply[128];
	const char *status;

	if (frequency >= 0) {
		unsigned int t = timeout >= 0 ? (unsigned int)timeout : (unsigned int)watchdog_timeout(0);
		unsigned int freq = frequency;

		if (freq) {
			if (freq > t / 2)
				freq = t / 2;
			watchdog_frequency(freq);
		}
	}
	if (timeout >= 0) {
		unsigned int t = timeout;
		unsigned int f = watchdog_frequency(0);

		if (t <= f)
			t = f * 2;
		watchdog_timeout(t);
	}
	if (magicclose >= 0)
		watchdog_set_magicclose(magicclose);
	if (stop >= 0)
		watchdog_set_stopped(stop);

	if (watchdog_fd() == NULL)
		status = "offline";
	else if (watchdog_get_stopped())
		status = "stopped";
	else
		status = "running";
	snprintf(reply, sizeof(reply), "{\"status\":\"%s\",\"timeout\":%d,\"frequency\":%d,\"magicclose\":%s}",
		 status, watchdog_timeout(0), watchdog_frequency(0), watchdog_get_magicclose() ? "true" : "false");
	return reply;
}

/* Whether this process (procd) has a watchdog device open. */
static const char *procd_holds_device(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	char path[PATH_MAX], target[PATH_MAX];
	bool held = false;

	if (!dir)
		return "unknown";
	while ((entry = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", entry->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strncmp(target, "/dev/watchdog", 13))
			held = true;
	}
	closedir(dir);
	return held ? "yes" : "no";
}

static const char *device_state(void)
{
	static char state[32];
	FILE *f = fopen("/sys/class/watchdog/watchdog0/state", "r");

	if (!f || !fgets(state, sizeof(state), f)) {
		if (f)
			fclose(f);
		return "unknown";
	}
	fclose(f);
	state[strcspn(state, "\n")] = 0;
	return state;
}

/* Pit's side, in a child process: 0 when it opened, fed and disarmed the device, else the open's errno. */
static int pit_opens(const char *device)
{
	int status, pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		return EIO;
	pid = fork();
	if (pid == 0) {
		int fd = open(device, O_WRONLY | O_CLOEXEC), error = fd < 0 ? errno : 0, timeout = 10, i;

		if (fd >= 0) {
			if (ioctl(fd, WDIOC_SETTIMEOUT, &timeout))
				error = errno;
			for (i = 0; i < 3 && !error; i++) {
				if (ioctl(fd, WDIOC_KEEPALIVE, 0))
					error = errno;
				usleep(100 * 1000);
			}
			if (write(fd, "V", 1) != 1 && !error)
				error = errno;
			close(fd);
		}
		if (write(pipefd[1], &error, sizeof(error)) != sizeof(error))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	int error = EIO;
	if (read(pipefd[0], &error, sizeof(error)) != sizeof(error))
		error = EIO;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return error;
}

static void run_loop_ms(int ms)
{
	uloop_run_timeout(ms);
}

int main(int argc, char **argv)
{
	const char *script = NULL, *device = "/dev/watchdog";
	bool stay = false;
	char reply_before[160];
	int i, error;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stay"))
			stay = true;
		else if (!strcmp(argv[i], "--device") && i + 1 < argc)
			device = argv[++i];
		else if (!strcmp(argv[i], "stop") || !strcmp(argv[i], "magicclose-stop"))
			script = argv[i];
		else {
			fprintf(stderr, "usage: %s stop|magicclose-stop [--stay] [--device PATH]\n", argv[0]);
			return 64;
		}
	}
	if (!script) {
		fprintf(stderr, "usage: %s stop|magicclose-stop [--stay] [--device PATH]\n", argv[0]);
		return 64;
	}

	/* 1. /sbin/init: watchdog_init(1), then exec procd with the fd in WDTFD. */
	if (!getenv("PIT_HANDOVER_STAGE2")) {
		watchdog_init(1);
		if (!watchdog_fd()) {
			say("boot", "no-watchdog");
			return 1;
		}
		setenv("WDTFD", watchdog_fd(), 1);
		setenv("PIT_HANDOVER_STAGE2", "1", 1);
		execv("/proc/self/exe", argv);
		perror("execv");
		return 1;
	}
	/* procd: STATE_EARLY's watchdog_init(0) takes the fd from WDTFD. */
	uloop_init();
	watchdog_init(0);
	say("boot", watchdog_fd() ? "procd-feeds" : "procd-offline");
	run_loop_ms(1200);
	snprintf(reply_before, sizeof(reply_before), "%s", ubus_system_watchdog(-1, -1, -1, -1));
	say("before", reply_before);
	say("state-before", device_state());

	/* 2. The init script's message. */
	if (!strcmp(script, "stop"))
		say("reply", ubus_system_watchdog(-1, -1, -1, 1));
	else
		say("reply", ubus_system_watchdog(-1, -1, 1, 1));
	/* 3. */
	say("procd-holds", procd_holds_device());
	say("state-after", device_state());
	/* 4. Pit. */
	error = pit_opens(device);
	say("pit-open", error == 0 ? "ok-fed-disarmed" : error == EBUSY ? "EBUSY" : strerror(error));
	if (error == EBUSY) {
		say("release", ubus_system_watchdog(-1, -1, 1, 1));
		say("procd-holds-after-release", procd_holds_device());
		error = pit_opens(device);
		say("pit-open-after-release", error == 0 ? "ok-fed-disarmed" : error == EBUSY ? "EBUSY" : strerror(error));
	}
	say("state-end", device_state());
	/* 5. */
	if (stay) {
		say("stay", "procd-loop");
		signal(SIGHUP, SIG_IGN);
		uloop_run();
	}
	return 0;
}
