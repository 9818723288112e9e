/* Unit tests of init/supervise.c: backoff, exit reasons, and real children (a missing
 * program, one that exits, one that is killed), reaped as PID 1 would. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "supervise.h"

/* Waits for c's pid and hands it to child_reaped, as the event loop does. */
static int reap(struct child *c, uint64_t now)
{
	int status;
	pid_t pid = waitpid(c->pid, &status, 0);

	return pid > 0 && child_reaped(c, pid, status, now);
}

int main(void)
{
	struct check c = { "supervise", 0 };
	char why[128];
	sigset_t none, blocked;
	unsigned b = 0;
	int i;

	CHECK(&c, "backoff starts at the first delay", backoff_next(0, 0) == BACKOFF_FIRST_MS);
	CHECK(&c, "backoff doubles", backoff_next(100, 5) == 200 && backoff_next(200, 5) == 400);
	for (i = 0; i < 20; i++)
		b = backoff_next(b, 1);
	CHECK(&c, "backoff stops at the maximum", b == BACKOFF_MAX_MS);
	CHECK(&c, "backoff resets after a long run", backoff_next(BACKOFF_MAX_MS, BACKOFF_RESET_MS) == BACKOFF_FIRST_MS);

	exit_reason(1 << 8, 0, "/bin/sockd", why, sizeof(why));
	CHECK(&c, "reason: exit status", strcmp(why, "exit status 1") == 0);
	exit_reason(SIGSEGV, 0, "/bin/sockd", why, sizeof(why));
	CHECK(&c, "reason: signal with its name", strncmp(why, "killed by signal 11 (", 21) == 0);
	exit_reason(127 << 8, ENOENT, "/bin/sockd", why, sizeof(why));
	CHECK(&c, "reason: exec failure names the program",
	      strcmp(why, "exec /bin/sockd: No such file or directory") == 0);

	/* Children must get an empty signal mask even though the parent blocks signals. */
	sigemptyset(&none);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	{
		static char *const argv[] = { "nope", NULL };
		struct child ch = { .name = "nope", .path = "/nonexistent/sockd", .argv = argv };

		CHECK(&c, "missing program: started (fork worked)", child_start(&ch, &none, 1000) == 0 && ch.pid > 0);
		CHECK(&c, "missing program: exec errno kept", ch.exec_errno == ENOENT);
		CHECK(&c, "missing program: reaped, restart scheduled after the first delay",
		      reap(&ch, 1010) && ch.pid == 0 && ch.restart_at == 1010 + BACKOFF_FIRST_MS);
		child_start(&ch, &none, 1200);
		CHECK(&c, "missing program again: delay doubles", reap(&ch, 1210) && ch.backoff_ms == 2 * BACKOFF_FIRST_MS);
	}
	{
		static char *const argv[] = { "sh", "-c", "exit 3", NULL };
		struct child ch = { .name = "sh", .path = "/bin/sh", .argv = argv };

		CHECK(&c, "exiting child", child_start(&ch, &none, 0) == 0 && ch.exec_errno == 0 && reap(&ch, 5));
		ch.stopped = 1;
		child_start(&ch, &none, 10);
		CHECK(&c, "stopped child is not rescheduled", reap(&ch, 20) && ch.restart_at == 0);
		CHECK(&c, "someone else's pid is not ours", child_reaped(&ch, 12345, 0, 30) == 0);
	}
	{
		/* The child kills itself with SIGTERM: only works if its mask was reset. */
		static char *const argv[] = { "sh", "-c", "kill -TERM $$; sleep 5; exit 9", NULL };
		struct child ch = { .name = "sh", .path = "/bin/sh", .argv = argv };
		int status = 0;

		child_start(&ch, &none, 0);
		waitpid(ch.pid, &status, 0);
		CHECK(&c, "child gets the given signal mask, not the parent's",
		      WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	}
	return CHECK_DONE(&c);
}
