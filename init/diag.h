/* diag: the kernel's sock_diag dumps of TCP and MPTCP sockets (all states but LISTEN), each
 * socket handed to a callback as one parsed record. The one reader of sock_diag in init: the
 * info port's lines, the status document and the uplink byte counter all start here. */
#ifndef MPSOCKS_DIAG_H
#define MPSOCKS_DIAG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "netlink.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define DIAG_ENDPOINT_LEN (INET6_ADDRSTRLEN + 8)

struct diag_sock {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t state;     /* TCP_ESTABLISHED ... */
	uint32_t src[4], dst[4]; /* addresses, network order (IPv4 in [0]) */
	uint16_t sport, dport;   /* host order */
	uint64_t cookie;   /* the kernel's socket cookie: stable for the socket's life */
	/* TCP sockets: the tcp_info counters; subflow: it is one of an MPTCP connection */
	uint32_t rtt_us, total_retrans;
	uint64_t bytes_sent, bytes_acked, bytes_received;
	bool subflow;
	uint8_t sf_id;
	uint32_t sf_flags;
	/* both: the MPTCP connection's token (of the subflow's connection for a subflow) */
	uint32_t token;
	/* MPTCP sockets: the head of struct mptcp_info */
	uint32_t msk_flags;
	uint8_t msk_subflows;
	uint64_t bytes_retrans;
};

/* Every socket of protocol (IPPROTO_TCP or IPPROTO_MPTCP), IPv4 then IPv6 where the guest has
 * it, to fn. 0, or -errno with the reason in nl->err. */
typedef void (*diag_fn)(const struct diag_sock *s, void *arg);
int diag_dump(struct nl *nl, unsigned protocol, diag_fn fn, void *arg);

/* "A.B.C.D:PORT" or "[IPV6]:PORT" of one end of s (local: src, else dst). */
const char *diag_endpoint(char *buf, size_t n, const struct diag_sock *s, bool local);

#endif
