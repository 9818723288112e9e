/* entry.h: the appliance's side of the link: a SOCKS5 server for sockd on loopback (no
 * authentication, CONNECT only) that carries each request to the first exit that answers,
 * over MPTCP and the link's TLS, the request in the handshake's last flight. */
#ifndef LINK_ENTRY_H
#define LINK_ENTRY_H

#include "net.h"
#include "tls.h"

struct entry_exits {
	struct net_addr addr[8];
	int n;
	int seconds; /* connect + handshake to one exit before the next is tried */
};

/* Serves LISTEN_FD until a signal ends the process: -errno if it cannot go on. */
int entry_serve(int listen_fd, struct link_tls *t, const struct entry_exits *ex);

#endif
