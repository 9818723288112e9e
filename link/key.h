/* key.h: the link's key: 32 random bytes, written as 43 characters of base64url (no padding),
 * the form a user copies in one line (mpsocks://KEY@HOST:PORT). */
#ifndef LINK_KEY_H
#define LINK_KEY_H

#include <stddef.h>
#include <stdint.h>

#define LINK_KEY_LEN 32
#define LINK_KEY_TEXT_LEN 43 /* base64url of 32 bytes, unpadded */
#define LINK_ID_LEN 16       /* the PSK identity on the wire: derived, names nothing */

struct link_key {
	uint8_t psk[LINK_KEY_LEN];
	uint8_t id[LINK_ID_LEN];
};

/* 0, or -EINVAL when TEXT (LEN bytes) is not 43 base64url characters. */
int link_key_parse(struct link_key *key, const char *text, size_t len);
#define LINK_KEYS_MAX 8

/* Reads N keys' text from FD (a 0600 file or a pipe: never a command line), one line per key,
 * or a single line for all N: 0, or -EINVAL (wrong count or form), or -errno. */
int link_keys_read(struct link_key *keys, int n, int fd);

#endif
