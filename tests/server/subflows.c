/* Subflow sampling with getsockopt(SOL_MPTCP, MPTCP_INFO / MPTCP_SUBFLOW_ADDRS /
 * MPTCP_TCPINFO). The host's uapi header (Debian 12: 6.1) has all three. */
#include "subflows.h"
#include <arpa/inet.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif

static void format_addr(const struct sockaddr *sa, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, size, "%s:%u", ip, port);
}

static int mptcp_info(int fd, struct mptcp_info *mi)
{
	socklen_t len = sizeof(*mi);

	memset(mi, 0, sizeof(*mi));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, mi, &len) < 0)
		return -1;
	/* A connection that fell back to TCP has no subflows worth reporting. */
	return mi->mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK ? -1 : 0;
}

int subflows_all_acked(int fd)
{
	struct mptcp_info mi;

	if (mptcp_info(fd, &mi) < 0)
		return 1;
	return mi.mptcpi_snd_una >= mi.mptcpi_write_seq;
}

static struct subflow_seen *find_or_add(struct subflows *t, const char *local, const char *remote)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->sf[i].local, local) && !strcmp(t->sf[i].remote, remote))
			return &t->sf[i];
	if (t->n == SUBFLOWS_MAX)
		return NULL;
	memset(&t->sf[t->n], 0, sizeof(t->sf[0]));
	snprintf(t->sf[t->n].local, sizeof(t->sf[0].local), "%s", local);
	snprintf(t->sf[t->n].remote, sizeof(t->sf[0].remote), "%s", remote);
	return &t->sf[t->n++];
}

int subflows_sample(int fd, struct subflows *t)
{
	struct mptcp_info mi;
	struct {
		struct mptcp_subflow_data d;
		struct mptcp_subflow_addrs a[SUBFLOWS_MAX];
	} addrs;
	struct {
		struct mptcp_subflow_data d;
		struct tcp_info ti[SUBFLOWS_MAX];
	} tcp;
	socklen_t len;
	unsigned i, n;

	if (mptcp_info(fd, &mi) < 0)
		return 0;
	t->mptcp = 1;
	memset(&addrs.d, 0, sizeof(addrs.d));
	addrs.d.size_subflow_data = sizeof(addrs.d);
	addrs.d.size_user = sizeof(addrs.a[0]);
	len = sizeof(addrs);
	if (getsockopt(fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &addrs, &len) < 0)
		return 0;
	memset(&tcp.d, 0, sizeof(tcp.d));
	tcp.d.size_subflow_data = sizeof(tcp.d);
	tcp.d.size_user = sizeof(tcp.ti[0]);
	len = sizeof(tcp);
	/* Both lists walk the same subflow list in order; when a subflow came or went between the
	 * two calls the counts differ and the counters are skipped for this sample. */
	if (getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, &tcp, &len) < 0 ||
	    tcp.d.num_subflows != addrs.d.num_subflows)
		tcp.d.num_subflows = 0;
	n = addrs.d.num_subflows < SUBFLOWS_MAX ? addrs.d.num_subflows : SUBFLOWS_MAX;
	for (i = 0; i < n; i++) {
		char local[64], remote[64];
		struct subflow_seen *s;

		format_addr(&addrs.a[i].sa_local, local, sizeof(local));
		format_addr(&addrs.a[i].sa_remote, remote, sizeof(remote));
		s = find_or_add(t, local, remote);
		if (!s || i >= tcp.d.num_subflows)
			continue;
		if (tcp.ti[i].tcpi_bytes_acked > s->tx)
			s->tx = tcp.ti[i].tcpi_bytes_acked;
		if (tcp.ti[i].tcpi_bytes_received > s->rx)
			s->rx = tcp.ti[i].tcpi_bytes_received;
	}
	return (int)n;
}

void subflows_format(const struct subflows *t, char *out, size_t size)
{
	size_t used = strlen(out);
	int i;

	used += snprintf(out + used, size - used, " mptcp=%d subflows=%d", t->mptcp, t->n);
	for (i = 0; i < t->n && used < size; i++)
		used += snprintf(out + used, size - used, " sf=%s>%s,tx=%llu,rx=%llu",
				 t->sf[i].local, t->sf[i].remote,
				 (unsigned long long)t->sf[i].tx, (unsigned long long)t->sf[i].rx);
}
