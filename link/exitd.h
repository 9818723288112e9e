/* exitd.h: the exit's side of the link: accepts MPTCP connections, proves the key with each
 * (a child process per connection), then connects where the request says, in plain TCP, and
 * carries the bytes. A stranger costs a fork, a parse and a deadline, and one that keeps
 * failing is turned away before the fork. */
#ifndef LINK_EXITD_H
#define LINK_EXITD_H

#include "tls.h"

struct exitd_limits {
	int handshake_seconds; /* from accept to the whole request, for a peer yet to prove the key */
	int proven_seconds;    /* then once more, for one that proved it */
	int connect_seconds;   /* to the request's server */
	int max_children;      /* connections at once; more wait in the listen queue */
	int max_failures;      /* unproven openings from one address before it is turned away */
	int penalty_seconds;   /* how long it then is */
};

/* Serves LISTEN_FD until a signal ends the process: -errno if it cannot go on. */
int exitd_serve(int listen_fd, struct link_tls *t, const struct exitd_limits *lim);

#endif
