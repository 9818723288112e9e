/* net.h: addresses and sockets for the link: numeric ADDR:PORT ([v6]:PORT), MPTCP listeners,
 * connects with a deadline. */
#ifndef LINK_NET_H
#define LINK_NET_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "1.2.3.4:80" or "[2001:db8::1]:80" into A: 0 or -EINVAL. */
int net_parse(struct net_addr *a, const char *text);
/* A listening socket of PROTO: IPPROTO_MPTCP (plain TCP where MPTCP is refused) or
 * IPPROTO_TCP: the fd or -errno. */
int net_listen(const struct net_addr *a, int proto);
/* A socket of PROTO (IPPROTO_MPTCP or IPPROTO_TCP) connected to A within SECONDS, with
 * TCP_NODELAY (a record never waits for the previous one's ACK): the fd or -errno. */
int net_connect(const struct net_addr *a, int proto, int seconds);
/* The same from local address FROM (port 0: any). */
int net_connect_from(const struct net_addr *a, const struct net_addr *from, int proto, int seconds);
/* Ends the connection on FD with a reset now (MPTCP: a fastclose), so that the peer stops
 * sending at once instead of into a socket nobody reads. */
void net_abort(int fd);
/* Called when FD had nothing to read for a while. A kernel whose MPTCP receiver can deadlock
 * (ours before kernel/patches/mptcp-rx-hole-under-full-rcvbuf.patch; a VPS's 6.18 still): the
 * receive buffer full and nothing to read means it is all out-of-order data, and the data that
 * fills the hole waits in a subflow behind more of it until the buffer grows. Then it doubles
 * the buffer (until it reaches NET_RCVBUF_MAX) and returns the new size; else 0. */
#define NET_RCVBUF_MAX (16 << 20)
int net_rx_unstick(int fd);
/* The peer's address, printable, into BUF (at least INET6_ADDRSTRLEN). */
void net_peer_text(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
