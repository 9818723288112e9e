/* key.c: parse the link key and derive the identity the TLS handshake names it by. */
#include "key.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

int link_key_parse(struct link_key *key, const char *text, size_t len)
{
	unsigned char b64[LINK_KEY_TEXT_LEN + 1];
	unsigned char raw[LINK_KEY_LEN + 2];
	unsigned char digest[32];
	static const char label[] = "mpsocks link id v1";
	size_t i, n = 0;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len != LINK_KEY_TEXT_LEN)
		return -EINVAL;
	/* base64url -> base64, padded to a whole quantum (43 + '=' = 44). */
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return -EINVAL;
		b64[i] = (unsigned char)c;
	}
	b64[len] = '=';
	if (mbedtls_base64_decode(raw, sizeof(raw), &n, b64, len + 1) != 0 || n != LINK_KEY_LEN)
		return -EINVAL;
	memcpy(key->psk, raw, LINK_KEY_LEN);
	/* The identity is a hash of the key: a stranger learns nothing from it, and a rotated key
	 * has another one, so the exit can tell an old key from a stranger. */
	mbedtls_sha256_context h;
	mbedtls_sha256_init(&h);
	mbedtls_sha256_starts(&h, 0);
	mbedtls_sha256_update(&h, (const unsigned char *)label, sizeof(label) - 1);
	mbedtls_sha256_update(&h, key->psk, LINK_KEY_LEN);
	mbedtls_sha256_finish(&h, digest);
	mbedtls_sha256_free(&h);
	memcpy(key->id, digest, LINK_ID_LEN);
	memset(raw, 0, sizeof(raw));
	memset(b64, 0, sizeof(b64));
	return 0;
}

int link_keys_read(struct link_key *keys, int n, int fd)
{
	char buf[LINK_KEYS_MAX * (LINK_KEY_TEXT_LEN + 2) + 1];
	size_t len = 0;
	ssize_t r;
	char *line, *nl, *end;
	int i = 0, err = 0;

	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len == sizeof(buf) || n < 1 || n > LINK_KEYS_MAX)
		err = -EINVAL;
	end = buf + len;
	for (line = buf; !err && line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		if (nl == line)
			continue; /* an empty line: nothing */
		err = i < n ? link_key_parse(&keys[i++], line, (size_t)(nl - line)) : -EINVAL;
	}
	/* One key for every exit, or one line per exit in their order. */
	if (!err && i == 1)
		for (; i < n; i++)
			keys[i] = keys[0];
	if (!err && i != n)
		err = -EINVAL;
	memset(buf, 0, sizeof(buf));
	return err;
}
