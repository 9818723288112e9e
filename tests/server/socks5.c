/* SOCKS5 handshake, blocking, bounded by the socket's timeouts. */
#include "socks5.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int xfer(int fd, void *buf, size_t n, int out)
{
	char *p = buf;

	while (n) {
		ssize_t r = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r, n -= (size_t)r;
	}
	return 0;
}

#define FAIL(...) do { snprintf(err, errsize, __VA_ARGS__); return -1; } while (0)

int socks5_connect(int fd, const char *host, unsigned port, const char *user, const char *pass,
		   char *err, unsigned errsize)
{
	unsigned char m[600], *p = m;
	struct in_addr ip;
	size_t hl = strlen(host), ul, pl;

	m[0] = 5, m[1] = 1, m[2] = user ? 2 : 0;
	if (xfer(fd, m, 3, 1) < 0 || xfer(fd, m, 2, 0) < 0)
		FAIL("socks5: greeting: %s", errno ? strerror(errno) : "closed");
	if (m[0] != 5 || m[1] != (user ? 2 : 0))
		FAIL("socks5: proxy refused the method (answered %u %u)", m[0], m[1]);
	if (user) {
		ul = strlen(user), pl = strlen(pass);
		if (ul > 255 || pl > 255)
			FAIL("socks5: user or password longer than 255 bytes");
		*p++ = 1, *p++ = (unsigned char)ul, memcpy(p, user, ul), p += ul;
		*p++ = (unsigned char)pl, memcpy(p, pass, pl), p += pl;
		if (xfer(fd, m, (size_t)(p - m), 1) < 0 || xfer(fd, m, 2, 0) < 0)
			FAIL("socks5: auth: %s", errno ? strerror(errno) : "closed");
		if (m[1] != 0)
			FAIL("socks5: authentication refused (status %u)", m[1]);
	}
	p = m;
	*p++ = 5, *p++ = 1, *p++ = 0;
	if (inet_pton(AF_INET, host, &ip) == 1) {
		*p++ = 1, memcpy(p, &ip, 4), p += 4;
	} else {
		if (hl > 255)
			FAIL("socks5: name longer than 255 bytes");
		*p++ = 3, *p++ = (unsigned char)hl, memcpy(p, host, hl), p += hl;
	}
	*p++ = (unsigned char)(port >> 8), *p++ = (unsigned char)port;
	if (xfer(fd, m, (size_t)(p - m), 1) < 0 || xfer(fd, m, 4, 0) < 0)
		FAIL("socks5: connect: %s", errno ? strerror(errno) : "closed");
	if (m[1] != 0)
		FAIL("socks5: CONNECT refused (reply %u)", m[1]);
	/* Skip the bound address: IPv4 4, IPv6 16, name 1+len, then the port. */
	if (m[3] == 1)
		hl = 4;
	else if (m[3] == 4)
		hl = 16;
	else if (m[3] == 3 && xfer(fd, m, 1, 0) == 0)
		hl = m[0];
	else
		FAIL("socks5: bad reply address type %u", m[3]);
	if (xfer(fd, m, hl + 2, 0) < 0)
		FAIL("socks5: truncated reply");
	return 0;
}
