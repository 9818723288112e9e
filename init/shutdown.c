/* shutdown: TERM, KILL, sync, power off (see shutdown.h). */
#include "shutdown.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>
#include "log.h"

void shutdown_begin(struct shutdown *s, const char *why, uint64_t now)
{
	s->active = true;
	s->rest_termed = false;
	s->rest_at = now + SHUTDOWN_REST_MS;
	s->kill_at = now + SHUTDOWN_GRACE_MS;
	log_line("shutdown (%s): stopping processes", why);
}

void shutdown_rest(struct shutdown *s)
{
	s->rest_termed = true;
	kill(-1, SIGTERM); /* every process except PID 1 itself */
	kill(-1, SIGCONT); /* stopped ones must run to handle it */
}

void shutdown_finish(struct shutdown *s, bool stragglers)
{
	(void)s;
	if (stragglers) {
		log_line("shutdown: processes left after %u ms, killing them", SHUTDOWN_GRACE_MS);
		kill(-1, SIGKILL);
	}
	sync();
	log_line("power off");
	reboot(RB_POWER_OFF);
	log_line("power off failed: %s; halting here", strerror(errno));
}
