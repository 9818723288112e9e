/* Unit tests of the link's pure parts: the request that follows the handshake (link/request.c)
 * and the key's one line of text (link/key.c). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "key.h"
#include "request.h"

static void requests(struct check *c)
{
	struct link_request r, back;
	uint8_t buf[LINK_REQUEST_MAX];
	static const uint8_t v4[] = { 1, 1, 1, 198, 51, 100, 1, 0, 80 };
	static const uint8_t name[] = { 1, 1, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g', 1, 187 };
	size_t i, n;

	CHECK(c, "an IPv4 CONNECT parses whole", link_request_parse(&r, v4, sizeof(v4)) == (int)sizeof(v4) &&
						      r.atyp == LINK_ATYP_IPV4 && r.port == 80 && r.addr[0] == 198);
	for (i = 0; i < sizeof(v4); i++)
		if (link_request_parse(&r, v4, i) != 0)
			break;
	CHECK(c, "every prefix of it asks for more", i == sizeof(v4));
	CHECK(c, "a name parses, NUL-terminated", link_request_parse(&r, name, sizeof(name)) == (int)sizeof(name) &&
						    strcmp((char *)r.addr, "example.org") == 0 && r.port == 443);
	n = link_request_write(&r, buf);
	CHECK(c, "written back, the same bytes", n == sizeof(name) && memcmp(buf, name, n) == 0 &&
							 link_request_parse(&back, buf, n) == (int)n);
	CHECK(c, "another version: -EPROTO", link_request_parse(&r, (const uint8_t *)"\x02\x01\x01", 3) == -EPROTO);
	CHECK(c, "UDP (kept for later): -EOPNOTSUPP", link_request_parse(&r, (const uint8_t *)"\x01\x03\x01", 3) == -EOPNOTSUPP);
	CHECK(c, "an unknown address type: -EOPNOTSUPP", link_request_parse(&r, (const uint8_t *)"\x01\x01\x07", 3) == -EOPNOTSUPP);
	CHECK(c, "an empty name: -EINVAL", link_request_parse(&r, (const uint8_t *)"\x01\x01\x03\x00\x00\x50", 6) == -EINVAL);
	CHECK(c, "a NUL inside a name: -EINVAL", link_request_parse(&r, (const uint8_t *)"\x01\x01\x03\x02\x61\x00\x00\x50", 8) == -EINVAL);
	CHECK(c, "SOCKS5's address form becomes a CONNECT",
	      link_request_from_socks(&r, v4 + 2, sizeof(v4) - 2) == (int)sizeof(v4) - 2 && r.cmd == LINK_CMD_CONNECT);
}

static void keys(struct check *c)
{
	struct link_key k, k2;
	static const char good[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	int p[2];

	CHECK(c, "43 characters of base64url: 32 bytes", link_key_parse(&k, good, strlen(good)) == 0 &&
								  k.psk[0] == 0 && k.psk[31] == 31);
	CHECK(c, "a trailing newline is fine", link_key_parse(&k2, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 44) == 0 &&
						       memcmp(k.id, k2.id, LINK_ID_LEN) == 0);
	CHECK(c, "the identity is not the key", memcmp(k.id, k.psk, LINK_ID_LEN) != 0);
	CHECK(c, "42 characters: -EINVAL", link_key_parse(&k, good, 42) == -EINVAL);
	CHECK(c, "standard base64's '+': -EINVAL", link_key_parse(&k, "+AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43) == -EINVAL);
	CHECK(c, "base64url's '-' and '_' are taken", link_key_parse(&k, "-_ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43) == 0 &&
							      k.psk[0] == 0xfb);
	CHECK(c, "another key, another identity", link_key_parse(&k2, "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43) == 0 &&
						 memcmp(k.id, k2.id, LINK_ID_LEN) != 0);
	CHECK(c, "read from a pipe", pipe(p) == 0 && write(p[1], good, strlen(good)) == (ssize_t)strlen(good) &&
					     close(p[1]) == 0 && link_key_read(&k, p[0]) == 0 && k.psk[5] == 5);
	close(p[0]);
}

int main(void)
{
	struct check c = { .suite = "link", .failed = 0 };

	requests(&c);
	keys(&c);
	return CHECK_DONE(&c);
}
