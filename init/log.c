/* log: timestamped console lines (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void log_line(const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;
	int saved = errno; /* callers often log strerror(errno) next */
	int n, m;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "mpsocks: [%lld.%03ld] ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2; /* truncated: still one whole line */
	line[n++] = '\n';
	/* The console may be gone or full; PID 1 must not care. */
	while (write(1, line, (size_t)n) < 0 && errno == EINTR)
		;
	errno = saved;
}
