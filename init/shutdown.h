/* shutdown: stopping everything and powering off, in steps so the event loop keeps reaping
 * in between: begin (the caller stops its own children: sockd by its main process alone,
 * which ends its helpers itself), then the rest (TERM to every process still there: orphans,
 * anything started from the debug shell), then KILL once the deadline passed; power off as
 * soon as no process is left. */
#ifndef MPSOCKS_SHUTDOWN_H
#define MPSOCKS_SHUTDOWN_H
#include <stdbool.h>
#include <stdint.h>

#define SHUTDOWN_REST_MS 1000u  /* own children get this long before everyone gets TERM */
#define SHUTDOWN_GRACE_MS 3000u /* and this long before the stragglers get KILL */

struct shutdown {
	bool active;
	bool rest_termed; /* the TERM to every process went out */
	uint64_t rest_at; /* when every process left gets SIGTERM */
	uint64_t kill_at; /* when the stragglers get SIGKILL */
};

/* Logs `shutdown (WHY): stopping processes` and sets the deadlines; signals nobody. */
void shutdown_begin(struct shutdown *s, const char *why, uint64_t now);
/* SIGTERM (and SIGCONT, so stopped ones handle it) to every process but PID 1. */
void shutdown_rest(struct shutdown *s);
/* SIGKILL to whatever is left, sync, reboot(RB_POWER_OFF). Returns only if that failed
 * (logged); PID 1 then idles, it never exits. */
void shutdown_finish(struct shutdown *s, bool stragglers);

#endif
