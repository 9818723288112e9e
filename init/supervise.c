/* supervise: child start, exit reasons, restart backoff (see supervise.h). */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"

unsigned backoff_next(unsigned current_ms, uint64_t ran_ms)
{
	if (ran_ms >= BACKOFF_RESET_MS || current_ms == 0)
		return BACKOFF_FIRST_MS;
	if (current_ms >= BACKOFF_MAX_MS / 2)
		return BACKOFF_MAX_MS;
	return current_ms * 2;
}

void exit_reason(int status, int exec_errno, const char *path, char *buf, size_t size)
{
	if (exec_errno)
		snprintf(buf, size, "exec %s: %s", path, strerror(exec_errno));
	else if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "wait status 0x%x", (unsigned)status);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_setup(const struct child *c, const sigset_t *mask)
{
	int fd;

	sigprocmask(SIG_SETMASK, mask, NULL);
	setsid(); /* own session and process group: a console ^C does not reach PID 1's others */
	if (c->tty) {
		fd = open(c->tty, O_RDWR);
		if (fd >= 0) {
			ioctl(fd, TIOCSCTTY, 1);
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	} else {
		/* Keep the console on stdout/stderr (sockd logs there), but not its input. */
		fd = open(c->stdin_path ? c->stdin_path : "/dev/null", O_RDONLY);
		if (fd >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
	}
}

int child_start(struct child *c, const sigset_t *mask, uint64_t now)
{
	static char *const envp[] = { "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/",
				      "TERM=linux", NULL };
	int pipefd[2], err = 0;
	ssize_t n;
	pid_t pid;

	c->restart_at = 0;
	c->exec_errno = 0;
	/* A close-on-exec pipe tells the parent whether exec worked: EOF = yes, errno = no. */
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		log_line("%s: cannot start: pipe: %s", c->name, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_line("%s: cannot start: fork: %s", c->name, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child_setup(c, mask);
		execve(c->path, c->argv, envp);
		err = errno;
		n = write(pipefd[1], &err, sizeof(err));
		(void)n;
		_exit(127);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	c->pid = pid;
	c->started_ms = now;
	if (n == (ssize_t)sizeof(err))
		c->exec_errno = err; /* reported once reaped, with the restart delay */
	return 0;
}

int child_reaped(struct child *c, pid_t pid, int status, uint64_t now)
{
	char why[128];

	if (c->pid == 0 || pid != c->pid)
		return 0;
	c->pid = 0;
	exit_reason(status, c->exec_errno, c->path, why, sizeof(why));
	if (c->stopped) {
		log_line("%s exited (%s)", c->name, why);
		return 1;
	}
	c->backoff_ms = backoff_next(c->backoff_ms, now - c->started_ms);
	c->restart_at = now + c->backoff_ms;
	log_line("%s exited (%s); restart in %u ms", c->name, why, c->backoff_ms);
	return 1;
}
