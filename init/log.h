/* log: one timestamped console line per event, "mpsocks: [S.mmm] text", S.mmm being
 * CLOCK_BOOTTIME (seconds since the kernel started), which is what the contract parses. */
#ifndef MPSOCKS_LOG_H
#define MPSOCKS_LOG_H
#include <stdint.h>

/* Milliseconds of CLOCK_BOOTTIME: also the time base of the event loop's timers. */
uint64_t now_ms(void);

/* Writes one line to fd 1 (the console) with a single write(), so lines from
 * concurrent writers (sockd logs to the same console) do not interleave mid-line. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
