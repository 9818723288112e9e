/* mptcp: path manager requests over generic netlink (see mptcp.h). Modelled on the kernel's
 * tools/testing/selftests/net/mptcp/pm_nl_ctl.c. */
#include "mptcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include "genl.h"

#define MSG_BUF 256

int mptcp_pm_open(struct mptcp_pm *pm)
{
	int r = nl_open(&pm->nl, NETLINK_GENERIC, 0);

	pm->family = 0;
	if (r < 0)
		return r;
	r = genl_resolve(&pm->nl, MPTCP_PM_NAME);
	if (r < 0)
		return r;
	pm->family = r;
	return 0;
}

void mptcp_pm_close(struct mptcp_pm *pm)
{
	nl_close(&pm->nl);
}

void mptcp_msg_set_limits(struct nlb *b, void *buf, size_t cap, uint16_t family,
			  uint32_t subflows, uint32_t add_addr_accepted)
{
	genl_init(b, buf, cap, family, 0, MPTCP_PM_CMD_SET_LIMITS, MPTCP_PM_VER);
	nla_put_u32(b, MPTCP_PM_ATTR_RCV_ADD_ADDRS, add_addr_accepted);
	nla_put_u32(b, MPTCP_PM_ATTR_SUBFLOWS, subflows);
}

void mptcp_msg_add_endpoint(struct nlb *b, void *buf, size_t cap, uint16_t family,
			    const struct mptcp_endpoint *e)
{
	struct nlattr *nest;

	genl_init(b, buf, cap, family, 0, MPTCP_PM_CMD_ADD_ADDR, MPTCP_PM_VER);
	nest = nla_nest_start(b, MPTCP_PM_ATTR_ADDR);
	nla_put_u16(b, MPTCP_PM_ADDR_ATTR_FAMILY, e->family == AF_INET6 ? AF_INET6 : AF_INET);
	if (e->id)
		nla_put_u8(b, MPTCP_PM_ADDR_ATTR_ID, e->id);
	if (e->family == AF_INET6)
		nla_put(b, MPTCP_PM_ADDR_ATTR_ADDR6, e->addr6, 16);
	else
		nla_put(b, MPTCP_PM_ADDR_ATTR_ADDR4, &e->addr4, 4);
	if (e->port)
		nla_put_u16(b, MPTCP_PM_ADDR_ATTR_PORT, e->port);
	nla_put_u32(b, MPTCP_PM_ADDR_ATTR_FLAGS, e->flags);
	if (e->ifindex)
		nla_put_u32(b, MPTCP_PM_ADDR_ATTR_IF_IDX, (uint32_t)e->ifindex);
	nla_nest_end(b, nest);
}

/* Parses the attributes after the genlmsghdr; -1 when malformed. */
static int genl_attrs(const struct nlmsghdr *nlh, const struct nlattr *tb[], int max)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;

	if (nlh->nlmsg_len < off)
		return -1;
	return nla_parse(tb, max, (const unsigned char *)nlh + off, nlh->nlmsg_len - off);
}

int mptcp_parse_endpoint(const struct nlmsghdr *nlh, struct mptcp_endpoint *e)
{
	const struct nlattr *tb[MPTCP_PM_ATTR_MAX + 1];
	const struct nlattr *ta[MPTCP_PM_ADDR_ATTR_MAX + 1];
	uint32_t ifindex = 0;

	memset(e, 0, sizeof(*e));
	if (genl_attrs(nlh, tb, MPTCP_PM_ATTR_MAX) != 0 || !tb[MPTCP_PM_ATTR_ADDR])
		return -1;
	if (nla_parse(ta, MPTCP_PM_ADDR_ATTR_MAX, nla_data(tb[MPTCP_PM_ATTR_ADDR]),
		      nla_len(tb[MPTCP_PM_ATTR_ADDR])) != 0)
		return -1;
	if (nla_get_u16(ta[MPTCP_PM_ADDR_ATTR_FAMILY], &e->family) != 0 ||
	    nla_get_u8(ta[MPTCP_PM_ADDR_ATTR_ID], &e->id) != 0)
		return -1;
	if (e->family == AF_INET && nla_get_u32(ta[MPTCP_PM_ADDR_ATTR_ADDR4], &e->addr4) != 0)
		return -1;
	if (e->family == AF_INET6) {
		if (!ta[MPTCP_PM_ADDR_ATTR_ADDR6] || nla_len(ta[MPTCP_PM_ADDR_ATTR_ADDR6]) != 16)
			return -1;
		memcpy(e->addr6, nla_data(ta[MPTCP_PM_ADDR_ATTR_ADDR6]), 16);
	}
	nla_get_u16(ta[MPTCP_PM_ADDR_ATTR_PORT], &e->port);
	nla_get_u32(ta[MPTCP_PM_ADDR_ATTR_FLAGS], &e->flags);
	nla_get_u32(ta[MPTCP_PM_ADDR_ATTR_IF_IDX], &ifindex);
	e->ifindex = (int32_t)ifindex;
	return 0;
}

int mptcp_set_limits(struct mptcp_pm *pm, uint32_t subflows, uint32_t add_addr_accepted)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;

	mptcp_msg_set_limits(&b, buf, sizeof(buf), (uint16_t)pm->family, subflows, add_addr_accepted);
	return nl_request(&pm->nl, &b, NULL, NULL);
}

struct limits {
	uint32_t subflows, rcv;
	int seen;
};

static int limits_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[MPTCP_PM_ATTR_MAX + 1];
	struct limits *l = arg;

	if (genl_attrs(nlh, tb, MPTCP_PM_ATTR_MAX) != 0 ||
	    nla_get_u32(tb[MPTCP_PM_ATTR_SUBFLOWS], &l->subflows) != 0 ||
	    nla_get_u32(tb[MPTCP_PM_ATTR_RCV_ADD_ADDRS], &l->rcv) != 0)
		return -EBADMSG;
	l->seen = 1;
	return 0;
}

int mptcp_get_limits(struct mptcp_pm *pm, uint32_t *subflows, uint32_t *add_addr_accepted)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct limits l = { 0, 0, 0 };
	struct nlb b;
	int r;

	genl_init(&b, buf, sizeof(buf), (uint16_t)pm->family, 0, MPTCP_PM_CMD_GET_LIMITS, MPTCP_PM_VER);
	r = nl_request(&pm->nl, &b, limits_cb, &l);
	if (r == 0 && !l.seen) {
		snprintf(pm->nl.err, sizeof(pm->nl.err), "no limits in the reply");
		r = -EBADMSG;
	}
	*subflows = l.subflows;
	*add_addr_accepted = l.rcv;
	return r;
}

int mptcp_add_endpoint(struct mptcp_pm *pm, const struct mptcp_endpoint *e)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;

	mptcp_msg_add_endpoint(&b, buf, sizeof(buf), (uint16_t)pm->family, e);
	return nl_request(&pm->nl, &b, NULL, NULL);
}

int mptcp_flush_endpoints(struct mptcp_pm *pm)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;

	genl_init(&b, buf, sizeof(buf), (uint16_t)pm->family, 0, MPTCP_PM_CMD_FLUSH_ADDRS, MPTCP_PM_VER);
	return nl_request(&pm->nl, &b, NULL, NULL);
}

int mptcp_del_endpoint(struct mptcp_pm *pm, uint8_t id)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlattr *nest;
	struct nlb b;

	genl_init(&b, buf, sizeof(buf), (uint16_t)pm->family, 0, MPTCP_PM_CMD_DEL_ADDR, MPTCP_PM_VER);
	nest = nla_nest_start(&b, MPTCP_PM_ATTR_ADDR);
	nla_put_u8(&b, MPTCP_PM_ADDR_ATTR_ID, id);
	nla_nest_end(&b, nest);
	return nl_request(&pm->nl, &b, NULL, NULL);
}

struct dump {
	struct mptcp_endpoint *out;
	int max, n;
};

static int dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct mptcp_endpoint e;

	if (mptcp_parse_endpoint(nlh, &e) != 0)
		return -EBADMSG;
	if (d->n < d->max)
		d->out[d->n] = e;
	d->n++;
	return 0;
}

int mptcp_dump_endpoints(struct mptcp_pm *pm, struct mptcp_endpoint *out, int max, int *n)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct dump d = { out, max, 0 };
	struct nlb b;
	int r;

	genl_init(&b, buf, sizeof(buf), (uint16_t)pm->family, NLM_F_DUMP, MPTCP_PM_CMD_GET_ADDR,
		  MPTCP_PM_VER);
	r = nl_request(&pm->nl, &b, dump_cb, &d);
	*n = d.n;
	return r;
}

void mptcp_flags_str(uint32_t flags, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ MPTCP_PM_ADDR_FLAG_SIGNAL, "signal" },
		{ MPTCP_PM_ADDR_FLAG_SUBFLOW, "subflow" },
		{ MPTCP_PM_ADDR_FLAG_BACKUP, "backup" },
		{ MPTCP_PM_ADDR_FLAG_FULLMESH, "fullmesh" },
		{ MPTCP_PM_ADDR_FLAG_IMPLICIT, "implicit" },
	};
	size_t i, n = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			int w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", names[i].name);
			if (w < 0 || (size_t)w >= size - n)
				return;
			n += (size_t)w;
			flags &= ~names[i].bit;
		}
	}
	if (flags)
		snprintf(buf + n, size - n, "%s0x%x", n ? "," : "", flags);
	else if (n == 0)
		snprintf(buf, size, "none");
}
