/* rates: the bytes each uplink carries for the guest, sampled once a second from sock_diag:
 * the TCP payload of every subflow and plain TCP socket whose local address is that uplink's,
 * the clients' own connections with the proxy left out (they share the first NIC, so the
 * NIC's counters cannot tell them apart). Kept: totals since boot and the last RATES_SECONDS
 * seconds per uplink, for the status page's graph. A socket is counted by its cookie, so one
 * that closes between two samples loses at most its last second. */
#ifndef MPSOCKS_RATES_H
#define MPSOCKS_RATES_H
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "diag.h"
#include "nics.h"

#define RATES_SECONDS 300
#define RATES_SOCKS 4096 /* sockets followed at once: 1,300 connections of 3 subflows */

struct rates_sock {
	uint64_t cookie, acked, received;
};

struct rates {
	int n;                           /* uplinks */
	struct in_addr addr[NICS_MAX];   /* each uplink's IPv4 address now (0: none) */
	struct in6_addr addr6[NICS_MAX]; /* and IPv6 (:: none) */
	struct in_addr listen;           /* the proxy's clients: to listen:port, left out */
	unsigned port;
	uint64_t to_net[NICS_MAX], from_net[NICS_MAX]; /* since boot */
	uint32_t hist_to[RATES_SECONDS][NICS_MAX], hist_from[RATES_SECONDS][NICS_MAX]; /* B/s */
	unsigned head, count; /* the next slot of the ring; seconds kept */
	/* the sockets of the last sample (sorted by cookie) and of this one */
	struct rates_sock prev[RATES_SOCKS], cur[RATES_SOCKS];
	unsigned n_prev, n_cur;
	bool prev_full; /* the last sample had more sockets than it could keep */
	uint64_t d_to[NICS_MAX], d_from[NICS_MAX];
};

/* One socket of this sample (a diag_fn): its bytes since the last sample go to its uplink. */
void rates_account(const struct diag_sock *s, void *r);
/* Ends the sample: the second's bytes into the totals and the ring. */
void rates_commit(struct rates *r);

/* The uplink's rate over the last whole second, and the i-th second back (0: the last). */
uint32_t rates_last(const struct rates *r, int nic, bool to_net, unsigned back);

#endif
