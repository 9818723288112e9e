/* diag: sock_diag dumps as parsed records (see diag.h). */
#include "diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tcp.h> /* struct tcp_info with the byte counters (glibc's lacks them) */
#include <linux/inet_diag.h>
#if __has_include(<linux/mptcp_pm.h>)
#include <linux/mptcp_pm.h> /* 6.7+: MPTCP_SUBFLOW_ATTR_* moved here */
#else
#include <linux/mptcp.h> /* an older host's uapi (unit tests, glibc copes with its linux/in.h) */
#endif
#include <linux/sock_diag.h>

#define NOT_LISTEN (0xfffu & ~(1u << 10)) /* every TCP state but LISTEN (10) */

/* The head of the kernel's struct mptcp_info (linux/mptcp.h, a stable uapi layout). That
 * header cannot be included here: it pulls linux/in.h, which clashes with musl's netinet/in.h. */
struct msk_info {
	uint8_t subflows, add_addr_signal, add_addr_accepted, subflows_max;
	uint8_t add_addr_signal_max, add_addr_accepted_max;
	uint32_t flags, token;
	uint64_t write_seq, snd_una, rcv_nxt;
	uint8_t local_addr_used, local_addr_max, csum_enabled;
	uint32_t retransmits;
	uint64_t bytes_retrans, bytes_sent, bytes_received, bytes_acked;
};

struct walk {
	unsigned protocol;
	diag_fn fn;
	void *arg;
};

const char *diag_endpoint(char *buf, size_t n, const struct diag_sock *s, bool local)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(s->family, local ? s->src : s->dst, a, sizeof(a));
	snprintf(buf, n, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, local ? s->sport : s->dport);
	return buf;
}

/* Attributes after the inet_diag_msg header. */
static int diag_attrs(const struct nlmsghdr *nlh, const struct nlattr *tb[])
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg));

	if (nlh->nlmsg_len < off)
		return -1;
	return nla_parse(tb, INET_DIAG_MAX, (const unsigned char *)nlh + off, nlh->nlmsg_len - off);
}

/* The subflow facts in INET_DIAG_ULP_INFO when the ULP is "mptcp". */
static bool subflow_of(const struct nlattr *ulp, struct diag_sock *s)
{
	const struct nlattr *tu[INET_ULP_INFO_MAX + 1], *ts[MPTCP_SUBFLOW_ATTR_MAX + 1];
	const char *name;

	if (!ulp || nla_parse(tu, INET_ULP_INFO_MAX, nla_data(ulp), nla_len(ulp)) != 0)
		return false;
	name = nla_get_str(tu[INET_ULP_INFO_NAME]);
	if (!name || strcmp(name, "mptcp") != 0 || !tu[INET_ULP_INFO_MPTCP] ||
	    nla_parse(ts, MPTCP_SUBFLOW_ATTR_MAX, nla_data(tu[INET_ULP_INFO_MPTCP]),
		      nla_len(tu[INET_ULP_INFO_MPTCP])) != 0)
		return false;
	nla_get_u32(ts[MPTCP_SUBFLOW_ATTR_TOKEN_LOC], &s->token);
	nla_get_u8(ts[MPTCP_SUBFLOW_ATTR_ID_LOC], &s->sf_id);
	nla_get_u32(ts[MPTCP_SUBFLOW_ATTR_FLAGS], &s->sf_flags);
	return true;
}

static int on_msg(const struct nlmsghdr *nlh, void *arg)
{
	const struct walk *w = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	struct diag_sock s = { 0 };
	size_t n;

	if ((m->idiag_family != AF_INET && m->idiag_family != AF_INET6) || diag_attrs(nlh, tb) != 0)
		return 0;
	s.family = m->idiag_family;
	s.state = m->idiag_state;
	memcpy(s.src, m->id.idiag_src, sizeof(s.src));
	memcpy(s.dst, m->id.idiag_dst, sizeof(s.dst));
	s.sport = ntohs(m->id.idiag_sport);
	s.dport = ntohs(m->id.idiag_dport);
	s.cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	if (w->protocol == IPPROTO_MPTCP) {
		struct msk_info mi = { 0 };

		if (tb[INET_DIAG_INFO]) {
			n = nla_len(tb[INET_DIAG_INFO]);
			memcpy(&mi, nla_data(tb[INET_DIAG_INFO]), n < sizeof(mi) ? n : sizeof(mi));
		}
		s.token = mi.token;
		s.msk_flags = mi.flags;
		s.msk_subflows = mi.subflows;
		s.bytes_sent = mi.bytes_sent;
		s.bytes_acked = mi.bytes_acked;
		s.bytes_received = mi.bytes_received;
		s.bytes_retrans = mi.bytes_retrans;
	} else {
		struct tcp_info ti = { 0 };

		if (tb[INET_DIAG_INFO]) {
			n = nla_len(tb[INET_DIAG_INFO]);
			memcpy(&ti, nla_data(tb[INET_DIAG_INFO]), n < sizeof(ti) ? n : sizeof(ti));
		}
		s.rtt_us = ti.tcpi_rtt;
		s.total_retrans = ti.tcpi_total_retrans;
		s.bytes_sent = ti.tcpi_bytes_sent;
		s.bytes_acked = ti.tcpi_bytes_acked;
		s.bytes_received = ti.tcpi_bytes_received;
		s.subflow = subflow_of(tb[INET_DIAG_ULP_INFO], &s);
	}
	w->fn(&s, w->arg);
	return 0;
}

static int dump_family(struct nl *nl, int family, struct walk *w)
{
	unsigned char buf[128] __attribute__((aligned(8)));
	struct inet_diag_req_v2 *req;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf), SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	req = nlb_put_header(&b, sizeof(*req));
	if (!req)
		return -EMSGSIZE;
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = w->protocol > 255 ? IPPROTO_TCP : (uint8_t)w->protocol;
	req->idiag_states = NOT_LISTEN;
	req->idiag_ext = 1u << (INET_DIAG_INFO - 1);
	if (w->protocol > 255) /* IPPROTO_MPTCP does not fit the u8 field: an attribute carries it */
		nla_put_u32(&b, INET_DIAG_REQ_PROTOCOL, w->protocol);
	return nl_request(nl, &b, on_msg, w);
}

int diag_dump(struct nl *nl, unsigned protocol, diag_fn fn, void *arg)
{
	struct walk w = { protocol, fn, arg };
	int r = dump_family(nl, AF_INET, &w);

	/* IPv6 only where the guest has it: without, the family has no diag handler. */
	if (r == 0 && access("/proc/sys/net/ipv6", F_OK) == 0)
		r = dump_family(nl, AF_INET6, &w);
	return r;
}
