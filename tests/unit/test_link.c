/* Unit tests of the link's pure parts: the request that follows the handshake (link/request.c)
 * the key's one line of text (link/key.c) and where the exit never connects (link/dest.c); and
 * that the quiet check (link/net.c net_rx_unstick) leaves healthy sockets alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "dest.h"
#include "key.h"
#include "net.h"
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
					     close(p[1]) == 0 && link_keys_read(&k, 1, p[0]) == 0 && k.psk[5] == 5);
	close(p[0]);
}

/* link_keys_read on TEXT through a pipe, for N exits. */
static int keys_from(struct link_key *ks, int n, const char *text)
{
	int p[2], err;

	if (pipe(p) < 0 || write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -EIO;
	close(p[1]);
	err = link_keys_read(ks, n, p[0]);
	close(p[0]);
	return err;
}

static void key_lines(struct check *c)
{
	struct link_key ks[3];
	static const char a[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", b[] = "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
	char text[200];

	snprintf(text, sizeof(text), "%s\n%s\n", a, b);
	CHECK(c, "a line per exit: each exit its own key", keys_from(ks, 2, text) == 0 && ks[0].psk[0] == 0 && ks[1].psk[0] == 1);
	snprintf(text, sizeof(text), "%s\n", a);
	CHECK(c, "one line for three exits: the same key for each", keys_from(ks, 3, text) == 0 && ks[2].psk[0] == 0 &&
									    memcmp(ks[0].id, ks[2].id, LINK_ID_LEN) == 0);
	snprintf(text, sizeof(text), "%s\n%s\n", a, b);
	CHECK(c, "two lines for three exits: -EINVAL", keys_from(ks, 3, text) == -EINVAL);
	CHECK(c, "two lines for one exit: -EINVAL", keys_from(ks, 1, text) == -EINVAL);
	CHECK(c, "nothing: -EINVAL", keys_from(ks, 1, "") == -EINVAL);
	snprintf(text, sizeof(text), "%s\nnot a key\n", a);
	CHECK(c, "a bad second line: -EINVAL", keys_from(ks, 2, text) == -EINVAL);
}

static bool public(const char *text)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		return link_dest_public((struct sockaddr *)&in);
	inet_pton(AF_INET6, text, &in6.sin6_addr);
	return link_dest_public((struct sockaddr *)&in6);
}

static void destinations(struct check *c)
{
	CHECK(c, "an address on the internet: allowed", public("93.184.216.34") && public("2001:db8::1"));
	CHECK(c, "a private network: allowed (the exit's LAN is the user's)", public("10.1.2.3") && public("192.168.0.1"));
	CHECK(c, "loopback: refused", !public("127.0.0.1") && !public("127.9.9.9") && !public("::1"));
	CHECK(c, "the metadata service (link-local): refused", !public("169.254.169.254") && !public("fe80::1"));
	CHECK(c, "unspecified, multicast, broadcast: refused", !public("0.0.0.0") && !public("::") && !public("224.0.0.1") &&
								       !public("255.255.255.255") && !public("ff02::1"));
	CHECK(c, "loopback as v4-mapped IPv6: refused", !public("::ffff:127.0.0.1") && public("::ffff:93.184.216.34"));
}

/* A connected pair over loopback of PROTO: 0, the two fds in FD. */
static int pair(int proto, int fd[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, proto);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0)
		return -1;
	fd[0] = socket(AF_INET, SOCK_STREAM, proto);
	if (fd[0] < 0 || connect(fd[0], (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	fd[1] = accept(l, NULL, NULL);
	close(l);
	return fd[1] < 0 ? -1 : 0;
}

static int rcvbuf(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len);
	return v;
}

/* The positive case (a buffer full of out-of-order data) only a kernel's bug makes; what a
 * test can make is the healthy sockets it must leave alone. */
static void quiet(struct check *c, int proto, const char *what)
{
	static char data[1 << 20];
	char name[96];
	int fd[2], small = 4096, before;
	ssize_t n, sent = 0;

	if (pair(proto, fd) < 0) {
		snprintf(name, sizeof(name), "%s: a loopback pair", what);
		CHECK(c, name, 0);
		return;
	}
	before = rcvbuf(fd[1]);
	snprintf(name, sizeof(name), "%s: an idle connection is left alone", what);
	CHECK(c, name, net_rx_unstick(fd[1]) == 0 && rcvbuf(fd[1]) == before);
	/* A small buffer filled with data nobody read: full, but readable. */
	setsockopt(fd[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	before = rcvbuf(fd[1]);
	while ((n = send(fd[0], data, sizeof(data), MSG_DONTWAIT)) > 0)
		sent += n;
	usleep(100000);
	snprintf(name, sizeof(name), "%s: a full buffer with data to read is left alone (%zd bytes sent)", what, sent);
	CHECK(c, name, sent > 0 && net_rx_unstick(fd[1]) == 0 && rcvbuf(fd[1]) == before);
	close(fd[0]);
	close(fd[1]);
}

int main(void)
{
	struct check c = { .suite = "link", .failed = 0 };

	requests(&c);
	keys(&c);
	key_lines(&c);
	destinations(&c);
	quiet(&c, IPPROTO_TCP, "quiet check, TCP");
	quiet(&c, IPPROTO_MPTCP, "quiet check, MPTCP");
	return CHECK_DONE(&c);
}
