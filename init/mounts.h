/* mounts: the pseudo filesystems every later stage needs (/proc, /sys, /dev, /run, /tmp),
 * the console on fds 0-2, and the hostname. Runs before the console exists, so failures are
 * collected and printed by the caller. */
#ifndef MPSOCKS_MOUNTS_H
#define MPSOCKS_MOUNTS_H
#include <stddef.h>

#define MOUNTS_MAX_ERRORS 8

struct mount_errors {
	int n;
	char msg[MOUNTS_MAX_ERRORS][96];
};

void mounts_setup(struct mount_errors *errs);
/* Opens /dev/console on fds 0, 1 and 2; -1 when there is no console. */
int console_setup(void);
/* The device behind /dev/console (last entry of /sys/class/tty/console/active), e.g.
 * "/dev/ttyS0": a shell needs a real tty for job control. Falls back to /dev/console. */
void console_tty(char *path, size_t size);

#endif
