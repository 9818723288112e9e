/* entry.h: the appliance's side of the link: a SOCKS5 server for sockd on loopback (no
 * authentication, CONNECT only) that carries each request to an exit over MPTCP and the link's
 * TLS, the request in the handshake's last flight. Exits are tried in their order, those that
 * failed lately last; a failed exit is probed in the background until it answers again. */
#ifndef LINK_ENTRY_H
#define LINK_ENTRY_H

#include <time.h>

#include "key.h"
#include "net.h"
#include "tls.h"

/* What the entry last learnt of one exit (shared by its processes). */
enum exit_state { EXIT_UNTRIED, EXIT_UP, EXIT_NO_ANSWER, EXIT_REFUSED_KEY, EXIT_PLAIN_SOCKS };

struct exit_seen {
	enum exit_state state;
	time_t failed_at; /* CLOCK_MONOTONIC seconds of the latest failure; 0: none */
};

struct entry_exits {
	struct net_addr addr[LINK_KEYS_MAX];
	struct link_tls tls[LINK_KEYS_MAX]; /* each exit has its own key */
	int n;
	int seconds;       /* to connect to one exit before the next is tried */
	int patient_seconds; /* to connect, when no exit answered within seconds */
	int handshake_seconds; /* then for its handshake (a loaded appliance is slow at it) */
	int retry_seconds; /* how often a failed exit is probed */
	int state_fd;      /* -1, or a file that gets a line per exit on every change */
};

/* Serves LISTEN_FD until a signal ends the process: -errno if it cannot go on. */
int entry_serve(int listen_fd, struct entry_exits *ex);

/* Connects to exit A (from FROM if not NULL) and proves the key with T within SECONDS, then
 * closes: EXIT_UP, EXIT_NO_ANSWER (no connection or no answer), EXIT_REFUSED_KEY (it
 * accepted the connection and dropped the handshake: another key), or EXIT_PLAIN_SOCKS (it
 * answers a SOCKS5 greeting instead: an exit of the old, plain protocol). */
enum exit_state entry_probe(const struct net_addr *a, const struct net_addr *from, struct link_tls *t, int seconds);

/* "up", "no-answer", "refused-key", "plain-socks", "untried": the state file's and probe's
 * words. */
const char *exit_state_word(enum exit_state s);

#endif
