/* splitmix64 seeded with the FNV-1a hash of the tag: fast and good enough to defeat compression. */
#include "pattern.h"
#include <string.h>

void pattern_init(struct pattern *p, const char *tag)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *tag; tag++)
		h = (h ^ (uint8_t)*tag) * 0x100000001b3ULL;
	p->state = h;
}

void pattern_fill(struct pattern *p, void *buf, size_t n)
{
	unsigned char *out = buf;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t z = (p->state += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(out + i, &z, 8);
	}
}
