/* Deterministic pseudo-random bytes for downloads: incompressible, and the same tag gives the
 * same stream, so a test can download twice and expect the same sha256. */
#ifndef MPSOCKS_PATTERN_H
#define MPSOCKS_PATTERN_H
#include <stddef.h>
#include <stdint.h>

struct pattern {
	uint64_t state;
};

void pattern_init(struct pattern *p, const char *tag);
void pattern_fill(struct pattern *p, void *buf, size_t n); /* n: a multiple of 8 */
#endif
