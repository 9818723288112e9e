/* supervise: starting a child (sockd, the debug shell), noticing why it ended, and
 * restarting it with exponential backoff. The caller's event loop owns timing: it starts the
 * child again once now >= restart_at. */
#ifndef MPSOCKS_SUPERVISE_H
#define MPSOCKS_SUPERVISE_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 10000u
#define BACKOFF_RESET_MS 10000u /* a child that ran this long starts over at the first delay */

struct child {
	const char *name;    /* for console lines */
	const char *path;    /* executable */
	char *const *argv;
	const char *tty;     /* non-NULL: new session with this tty as controlling terminal on 0-2 */
	const char *stdin_path; /* non-NULL (and no tty): this file on 0, else /dev/null */
	pid_t pid;           /* 0: not running */
	uint64_t started_ms;
	unsigned backoff_ms; /* delay before the next restart */
	uint64_t restart_at; /* 0: no restart scheduled */
	int exec_errno;      /* exec failed with this errno (reported when reaped) */
	int stopped;         /* shutting down: never restart */
};

/* Forks and execs the child with the signal mask set to mask (PID 1 blocks signals for its
 * signalfd; children must not inherit that). Logs failures. 0 or -1. */
int child_start(struct child *c, const sigset_t *mask, uint64_t now);
/* Called with every reaped pid; returns 1 when it was this child's, then logs why it ended
 * and schedules the restart as `NAME exited (REASON); restart in N ms`. */
int child_reaped(struct child *c, pid_t pid, int status, uint64_t now);

/* Pure helpers (unit-tested): */
unsigned backoff_next(unsigned current_ms, uint64_t ran_ms);
/* "exit status 1", "killed by signal 11 (Segmentation fault)", "exec /bin/sockd: No such
 * file or directory" (when exec_errno != 0). */
void exit_reason(int status, int exec_errno, const char *path, char *buf, size_t size);

#endif
