/* shutdown: stopping everything and powering off. Two steps so the event loop keeps reaping
 * in between: begin (TERM to every process, deadline for KILL), then, once no child is left
 * or the deadline passed, finish (KILL, sync, power off). */
#ifndef MPSOCKS_SHUTDOWN_H
#define MPSOCKS_SHUTDOWN_H
#include <stdint.h>

#define SHUTDOWN_GRACE_MS 3000u

struct shutdown {
	int active;
	uint64_t kill_at; /* when the stragglers get SIGKILL */
};

/* Logs `shutdown (WHY): stopping processes`, sends SIGTERM to all processes but PID 1. */
void shutdown_begin(struct shutdown *s, const char *why, uint64_t now);
/* SIGKILL to whatever is left, sync, reboot(RB_POWER_OFF). Returns only if that failed
 * (logged); PID 1 then idles, it never exits. */
void shutdown_finish(struct shutdown *s, int stragglers);

#endif
