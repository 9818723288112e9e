/* SHA-256 (FIPS 180-4), streaming; the test server and client hash what they move with it so
 * that both ends' digests can be compared with sha256sum's. */
#ifndef MPSOCKS_SHA256_H
#define MPSOCKS_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* Writes the digest as 64 lowercase hex digits plus NUL into hex[65]. */
void sha256_hex(struct sha256 *s, char hex[65]);
#endif
