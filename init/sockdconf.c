/* sockdconf: sockd.conf and resolv.conf text (see sockdconf.h). */
#include "sockdconf.h"
#include "textbuf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* What one concurrent session costs the guest, all told (sockd's buffers and processes, the
 * kernel's five sockets and their share of tcp_mem), and what stays free for the kernel and a
 * burst of negotiations: measured with N concurrent 1 MiB downloads at --mem 128 (the bench
 * row capacity): 300 took 45 MiB at the most (150 KiB each), 500 took 62 and 700 took 78
 * (86 KiB for each one past 500); tcp_mem's own cap is reached from ~300 on. */
#define SESSION_KIB 160
#define RESERVE_KIB (24 * 1024)
#define SESSIONS_MIN 16

unsigned sockd_sessions_for(unsigned long free_kib)
{
	if (free_kib < RESERVE_KIB + SESSIONS_MIN * SESSION_KIB)
		return SESSIONS_MIN;
	return (unsigned)((free_kib - RESERVE_KIB) / SESSION_KIB);
}

int sockdconf_render(const struct sockd_params *p, char *buf, size_t size)
{
	struct textbuf o;
	char ip[INET_ADDRSTRLEN];
	int i;

	if (size == 0 || p->n_externals <= 0 || p->n_allow <= 0 || !p->unprivileged)
		return -1;
	textbuf_init(&o, buf, size);
	textbuf_put(&o, "# Written by mpsocks init from the kernel command line.\n");
	textbuf_put(&o, "logoutput: stderr\n");
	inet_ntop(AF_INET, &p->listen, ip, sizeof(ip));
	textbuf_put(&o, "internal: %s port = %u\n", ip, p->port);
	for (i = 0; i < p->n_externals; i++)
		textbuf_put(&o, "external: %s\n", p->externals[i]);
	/* The link's entry is on loopback: sockd connects to it from there. */
	if (p->link_port)
		textbuf_put(&o, "external: lo\n");
	/* Pick the outgoing address by the routing table (the main default route), not
	 * round-robin over the externals: MPTCP then adds a subflow per other uplink. */
	textbuf_put(&o, "external.rotation: route\n");
	textbuf_put(&o, "clientmethod: none\n");
	textbuf_put(&o, "socksmethod: %s\n", p->auth ? "username" : "none");
	/* root only to bind and read /etc/shadow; everything else runs as this user. */
	textbuf_put(&o, "user.privileged: root\n");
	textbuf_put(&o, "user.unprivileged: %s\n", p->unprivileged);
	/* dante takes a route out of use for 300 s after one failed connect (measured: requests
	 * kept failing with the exit back up); maxfail 0 never does, so the appliance works
	 * again as soon as the exit does (badexpire 0: else a warning that it means nothing). */
	if (p->has_exit || p->link_port)
		textbuf_put(&o, "route.maxfail: 0\nroute.badexpire: 0\n");
	/* Rules as in sockd/sockd.conf.example: clients from the allowed subnets only; CONNECT
	 * only, never into the appliance's loopback; refusals logged, passes only on error (a
	 * serial console is slow). */
	for (i = 0; i < p->n_allow; i++) {
		inet_ntop(AF_INET, &p->allow[i].addr, ip, sizeof(ip));
		textbuf_put(&o, "client pass {\n\tfrom: %s/%d to: 0/0\n\tlog: error\n}\n", ip, p->allow[i].prefix);
	}
	textbuf_put(&o, "client block {\n\tfrom: 0/0 to: 0/0\n\tlog: connect error\n}\n");
	/* The guest's own loopback (v4 and v6) is no destination. Through an exit, 127/8 is the
	 * exit's, which refuses it; and these rules would look up every name a client sends
	 * here, where the exit is to resolve it. */
	if (!p->has_exit && !p->link_port)
		textbuf_put(&o, "socks block {\n\tfrom: 0/0 to: 127.0.0.0/8\n\tlog: connect error\n}\n"
			    "socks block {\n\tfrom: 0/0 to: ::1/128\n\tlog: connect error\n}\n");
	/* session.max: dante counts a rule's sessions across its processes and answers one over
	 * with "not allowed by ruleset" (a SOCKS error) at once. */
	for (i = 0; i < p->n_allow; i++) {
		inet_ntop(AF_INET, &p->allow[i].addr, ip, sizeof(ip));
		textbuf_put(&o, "socks pass {\n\tfrom: %s/%d to: 0/0\n\tcommand: connect\n", ip, p->allow[i].prefix);
		if (p->sessions_max)
			textbuf_put(&o, "\tsession.max: %u\n",
				    p->sessions_max / (unsigned)p->n_allow ? p->sessions_max / (unsigned)p->n_allow : 1);
		textbuf_put(&o, "\tlog: error\n}\n");
	}
	textbuf_put(&o, "socks block {\n\tfrom: 0/0 to: 0/0\n\tlog: connect error\n}\n");
	if (p->has_exit) {
		/* Every CONNECT through the exit (sockd/patches/route-own-credentials.patch: with
		 * the login of /etc/sockd.conf.route, whatever method the client used; names left
		 * for the exit to resolve). "0/0" matches names without resolving them. */
		inet_ntop(AF_INET, &p->exit_addr, ip, sizeof(ip));
		textbuf_put(&o, "route {\n\tfrom: 0/0 to: 0/0 via: %s port = %u\n\tproxyprotocol: socks_v5\n"
			"\tcommand: connect\n\tmethod: username\n}\n", ip, p->exit_port);
	} else if (p->link_port) {
		/* Every CONNECT to the link's entry, which carries it to an exit; names too. */
		textbuf_put(&o, "route {\n\tfrom: 0/0 to: 0/0 via: 127.0.0.1 port = %u\n\tproxyprotocol: socks_v5\n"
			"\tcommand: connect\n\tmethod: none\n}\n", p->link_port);
	}
	return o.full ? -1 : (int)o.len;
}

int sockdroute_render(const char *user, const char *pass, char *buf, size_t size)
{
	struct textbuf o;

	if (size == 0 || !*user || !*pass || strchr(user, ':') || strpbrk(pass, "\r\n"))
		return -1;
	textbuf_init(&o, buf, size);
	textbuf_put(&o, "%s:%s\n", user, pass);
	return o.full ? -1 : (int)o.len;
}

int resolvconf_render(const struct in_addr *dns, int n, char *buf, size_t size)
{
	struct textbuf o;
	char ip[INET_ADDRSTRLEN];
	int i;

	if (size == 0)
		return -1;
	textbuf_init(&o, buf, size);
	for (i = 0; i < n; i++) {
		inet_ntop(AF_INET, &dns[i], ip, sizeof(ip));
		textbuf_put(&o, "nameserver %s\n", ip);
	}
	return o.full ? -1 : (int)o.len;
}
