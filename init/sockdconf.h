/* sockdconf: the text of /etc/sockd.conf (dante 1.4.2), of its route credentials file
 * (/etc/sockd.conf.route, see sockd/route_credentials.h) and of /etc/resolv.conf from the
 * configuration. Pure functions: unit-tested in tests/unit/test_sockdconf.c. */
#ifndef MPSOCKS_SOCKDCONF_H
#define MPSOCKS_SOCKDCONF_H
#include <stddef.h>
#include "cmdline.h"

struct sockd_params {
	struct in_addr listen;
	unsigned port;
	const char *const *externals; /* uplink interface names, in order */
	int n_externals;
	const struct cidr *allow; /* clients allowed */
	int n_allow;
	int auth; /* username/password (RFC 1929) instead of no authentication */
	const char *unprivileged; /* the user sockd runs as */
	/* Chain every CONNECT through the exit at exit_addr:exit_port, logging in there with the
	 * credentials of sockdroute_render's file (never a client's). */
	int has_exit;
	struct in_addr exit_addr;
	unsigned exit_port;
	/* Or through the link's entry (init/linkentry.h) on 127.0.0.1:link_port: no login, the
	 * entry holds the keys. 0: no link. */
	unsigned link_port;
	/* Concurrent sessions at most, over all allowed subnets (each subnet's rule gets an equal
	 * share); past it a CONNECT is refused at once with a SOCKS error. 0: no limit. */
	unsigned sessions_max;
};

/* The sessions_max that free_kib KiB of RAM (at boot, before sockd) holds without the OOM
 * killer: see sockdconf.c. */
unsigned sockd_sessions_for(unsigned long free_kib);

/* Returns the length written, or -1 when size is too small or a parameter is unusable
 * (no external interface, no allowed client). */
int sockdconf_render(const struct sockd_params *p, char *buf, size_t size);
/* The route credentials file: "NAME:PASS\n"; returns the length or -1. */
int sockdroute_render(const char *user, const char *pass, char *buf, size_t size);
/* "nameserver A.B.C.D" lines; returns the length or -1. */
int resolvconf_render(const struct in_addr *dns, int n, char *buf, size_t size);

#endif
