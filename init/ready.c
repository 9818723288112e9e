/* ready: LISTEN lookup in /proc/net/tcp (see ready.h). */
#include "ready.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fileio.h"

#define TCP_LISTEN 0x0A

int tcp_listening_in(const char *text, uint32_t addr, unsigned port)
{
	const char *line = strchr(text, '\n'); /* skip the header */

	while (line && *++line) {
		/* "  0: 0206420A:0438 00000000:0000 0A ..." -- the address is the kernel's __be32
		 * printed as a host-order number, so it compares equal to addr as stored. */
		unsigned long a, p, st;
		char *end;
		const char *s = strchr(line, ':');

		if (!s)
			break;
		a = strtoul(s + 1, &end, 16);
		if (*end == ':') {
			p = strtoul(end + 1, &end, 16);
			strtoul(end, &end, 16); /* remote address */
			if (*end == ':') {
				strtoul(end + 1, &end, 16); /* remote port */
				st = strtoul(end, &end, 16);
				if (st == TCP_LISTEN && p == port && ((uint32_t)a == addr || a == 0))
					return 1;
			}
		}
		line = strchr(line, '\n');
	}
	return 0;
}

int tcp_listening(uint32_t addr, unsigned port)
{
	/* ~150 bytes a socket: 64 KiB covers a few hundred, and listeners come first. */
	char buf[65536];

	if (read_file("/proc/net/tcp", buf, sizeof(buf)) < 0)
		return 0;
	return tcp_listening_in(buf, addr, port);
}
