/* mpblock: the uplinks whose network drops MPTCP (mobile carriers' middleboxes, CGNAT and
 * firewalls that strip or drop MPTCP options), found from sock_diag once a second and retried
 * with a backoff. Two kinds:
 *   joins dropped: a subflow's SYN with MP_JOIN from the uplink is still unanswered after two
 *     retransmissions (3 s); then one plain TCP connect from the same address to the same
 *     server and port decides: it connects, so the network passes TCP and drops the joins;
 *     it does not, so nothing gets through there (the host's watcher's business, not ours).
 *     The in-kernel path manager never retries a failed join, so the retry deletes and re-adds
 *     the uplink's endpoint, which makes it join running connections anew.
 *   MP_CAPABLE dropped: the kernel sent a connection as plain TCP after its MP_CAPABLE SYNs
 *     went unanswered twice (MIB MPCapableSYNTXDrop grew) while a SYN of the uplink waited.
 *     New connections then leave by another uplink (the main route avoids it: mpblock_avoid)
 *     and the retry is one MPTCP connect of its own from the uplink to that server.
 * An established subflow from the uplink that joined clears "joins dropped"; one that began an
 * MPTCP connection (or the retry's own connect) clears "MP_CAPABLE dropped".
 * Retries: MPBLOCK_RETRY_MIN s after the finding, doubling to MPBLOCK_RETRY_MAX. */
#ifndef MPSOCKS_MPBLOCK_H
#define MPSOCKS_MPBLOCK_H
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "diag.h"
#include "nics.h"

#define MPBLOCK_RETRY_MIN 5u
#define MPBLOCK_RETRY_MAX 60u
#define MPBLOCK_PROBE_MS 3000u /* a probe's connect gets this long */
#define MPBLOCK_SYN_RETRANS 2u /* a join SYN this often unanswered starts a probe */

enum mpblock_state { MPBLOCK_OK, MPBLOCK_JOINS, MPBLOCK_CAPABLE };
enum mpblock_probe { PROBE_NONE, PROBE_TCP, PROBE_MPTCP };

struct mpblock_uplink {
	enum mpblock_state state;
	uint64_t since_ms;   /* when state was found */
	/* seen in this sample */
	bool ok_join, ok_mpc; /* an established subflow from it that joined, that began MPTCP */
	bool join_waits;     /* a join SYN unanswered MPBLOCK_SYN_RETRANS times */
	bool mpc_waits, mpc_waited; /* an MP_CAPABLE SYN retransmitted: now, last sample */
	struct sockaddr_in to; /* where the waiting SYN went: what probes and retries try */
	/* a probe (plain TCP for a join, MPTCP for a retry of MP_CAPABLE) */
	enum mpblock_probe probe;
	int probe_fd;
	uint64_t probe_until;
	uint64_t retry_at;   /* 0: none */
	unsigned backoff_s;
};

struct mpblock {
	int n;
	const struct in_addr *addr; /* each uplink's IPv4 address, n of them (rates.h keeps them);
				     * IPv6 subflows are not looked at */
	struct mpblock_uplink u[NICS_MAX];
	uint64_t mpc_drops;  /* MPCapableSYNTXDrop at the last sample */
	bool mpc_read;       /* mpc_drops holds a reading */
};

/* One socket of this sample (a diag_fn over the TCP dump). */
void mpblock_account(const struct diag_sock *s, void *mb);

/* Ends the sample at now: findings, probes, retries. mpc_drops: the MIB counter now.
 * live: the uplinks the host calls up (only those are probed and retried). Sets *rejoin to
 * the uplinks whose endpoint is to be deleted and re-added now; returns true when the set of
 * uplinks to avoid for new connections (mpblock_avoid) changed. */
bool mpblock_commit(struct mpblock *mb, uint64_t now, uint64_t mpc_drops, unsigned live, unsigned *rejoin);

/* The uplinks new connections should not start from (MP_CAPABLE dropped), bit i. */
unsigned mpblock_avoid(const struct mpblock *mb);

/* "ok", "joins-dropped" or "mp-capable-dropped". */
const char *mpblock_name(enum mpblock_state s);

/* MPCapableSYNTXDrop from /proc/net/netstat's MPTcpExt lines; false when not there. */
bool mpblock_read_mib(const char *netstat, uint64_t *drops);

#endif
