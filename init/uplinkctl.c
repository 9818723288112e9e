/* uplinkctl: the host's uplink states over UDP (see uplinkctl.h). */
#include "uplinkctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"

int uplinkctl_parse(const char *msg, bool *up, unsigned *gen, int max)
{
	const char *p = msg;
	int n = 0;

	if (strncmp(p, "uplinks", 7) != 0)
		return -EINVAL;
	p += 7;
	while (*p == ' ')
		p++;
	while (*p && *p != '\n') {
		char *end;
		unsigned long g;
		bool u;

		if (n >= max)
			return -EINVAL;
		if (!strncmp(p, "up/", 3))
			u = true, p += 3;
		else if (!strncmp(p, "down/", 5))
			u = false, p += 5;
		else
			return -EINVAL;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		g = strtoul(p, &end, 10);
		if (g > 0xffffffffUL || (*end && *end != ' ' && *end != '\n'))
			return -EINVAL;
		up[n] = u;
		gen[n++] = (unsigned)g;
		p = end;
		while (*p == ' ')
			p++;
	}
	return n ? n : -EINVAL;
}

int uplinkctl_open(struct uplinkctl *c, uint32_t listen, uint32_t host)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(UPLINKCTL_PORT) };

	memset(c, 0, sizeof(*c));
	c->host = host;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	a.sin_addr.s_addr = listen;
	if (bind(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int err = -errno;

		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

void uplinkctl_read(struct uplinkctl *c, int n, unsigned *down, unsigned *back)
{
	char buf[512];
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t r;
	bool up[NICS_MAX];
	unsigned gen[NICS_MAX];
	int i, got;

	*down = *back = 0;
	while ((r = recvfrom(c->fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &len)) >= 0) {
		len = sizeof(from);
		buf[r] = '\0';
		/* Root on the host only: its tap address and a port below 1024. */
		if (from.sin_addr.s_addr != c->host || ntohs(from.sin_port) >= 1024)
			continue;
		got = uplinkctl_parse(buf, up, gen, NICS_MAX);
		if (got < 0) {
			log_line("uplinks: malformed word from the host ignored");
			continue;
		}
		for (i = 0; i < got && i < n; i++) {
			bool was = c->seen ? c->up[i] : true; /* the guest booted with all of them */

			if (was && !up[i])
				*down |= 1u << i;
			else if (up[i] && (!was || (c->seen && gen[i] != c->gen[i])))
				*back |= 1u << i;
			c->up[i] = up[i];
			c->gen[i] = gen[i];
		}
		c->seen = true;
	}
	/* Several words in one read: down then up again means new subflows (both bits); up then
	 * down ends down. */
	for (i = 0; i < n && i < NICS_MAX; i++)
		if (c->seen && !c->up[i])
			*back &= ~(1u << i);
}
