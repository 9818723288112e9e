/* What the kernel knows about one MPTCP connection's subflows, sampled during a transfer:
 * subflows come and go (an uplink dies, a join arrives late), so every sample is merged into
 * a table keyed by the subflow's address pair and the largest byte counters are kept. */
#ifndef MPSOCKS_SUBFLOWS_H
#define MPSOCKS_SUBFLOWS_H
#include <stddef.h>
#include <stdint.h>

#define SUBFLOWS_MAX 16

struct subflow_seen {
	char local[64];   /* "ADDR:PORT" */
	char remote[64];
	uint64_t tx;      /* tcpi_bytes_acked: bytes this end sent on it, acked */
	uint64_t rx;      /* tcpi_bytes_received */
};

struct subflows {
	int mptcp;        /* 1: MPTCP_INFO answered and the connection did not fall back */
	int n;
	struct subflow_seen sf[SUBFLOWS_MAX];
};

/* Merges the socket's current subflows into t. Returns the number of subflows now open
 * (0 for a plain TCP socket or a fallen-back connection). */
int subflows_sample(int fd, struct subflows *t);
/* 1 when everything this end wrote at the MPTCP level has been acked (or not MPTCP). */
int subflows_all_acked(int fd);
/* Appends " subflows=N sf=LOCAL>REMOTE,tx=N,rx=N ..." to out. */
void subflows_format(const struct subflows *t, char *out, size_t size);
#endif
