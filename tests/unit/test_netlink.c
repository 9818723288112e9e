/* Unit tests of init/netlink.c, genl.c, rtnl.c, mptcp.c: messages byte for byte, reply and
 * extended-ack parsing on crafted buffers, then the real thing against the running kernel in
 * a private network namespace (needs root: make test runs as root). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "check.h"
#include "../../init/genl.h"
#include "../../init/mptcp.h"
#include "../../init/netlink.h"
#include "../../init/rtnl.h"

/* Flag values from linux/mptcp.h (not included here: it clashes with netinet/in.h). */
#define FLAG_SIGNAL 1
#define FLAG_SUBFLOW 2
#define FLAG_BACKUP 4

static unsigned char buf[4096] __attribute__((aligned(8)));

static int same_bytes(const void *a, const unsigned char *b, size_t n, size_t len)
{
	return n == len && memcmp(a, b, n) == 0;
}

static void test_builders(struct check *c)
{
	static const unsigned char limits[] = {
		0x24, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* nlmsghdr */
		5, 1, 0, 0,                                             /* SET_LIMITS, v1 */
		8, 0, 2, 0, 3, 0, 0, 0,                                 /* RCV_ADD_ADDRS 3 */
		8, 0, 3, 0, 4, 0, 0, 0,                                 /* SUBFLOWS 4 */
	};
	static const unsigned char add[] = {
		0x38, 0, 0, 0, 0x1c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* nlmsghdr */
		1, 1, 0, 0,                                             /* ADD_ADDR, v1 */
		0x24, 0, 0x01, 0x80,                                    /* nested ADDR */
		6, 0, 1, 0, 2, 0, 0, 0,                                 /* FAMILY AF_INET + pad */
		8, 0, 3, 0, 10, 66, 6, 2,                               /* ADDR4 10.66.6.2 */
		8, 0, 6, 0, 6, 0, 0, 0,                                 /* FLAGS subflow|backup */
		8, 0, 7, 0, 3, 0, 0, 0,                                 /* IF_IDX 3 */
	};
	static const unsigned char getfamily[] = {
		0x24, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* GENL_ID_CTRL */
		3, 1, 0, 0,                                             /* CTRL_CMD_GETFAMILY */
		0x0d, 0, 2, 0, /* FAMILY_NAME, 9 bytes + 3 padding */ 'm', 'p', 't', 'c', 'p', '_', 'p', 'm', 0, 0, 0, 0,
	};
	struct mptcp_endpoint e = { 0 }, back;
	struct nlb b;

	mptcp_msg_set_limits(&b, buf, sizeof(buf), 0x1c, 4, 3);
	CHECK(c, "SET_LIMITS message byte-exact", !b.overflow &&
	      same_bytes(b.nlh, limits, b.nlh->nlmsg_len, sizeof(limits)));

	inet_pton(AF_INET, "10.66.6.2", &e.addr4);
	e.flags = FLAG_SUBFLOW | FLAG_BACKUP;
	e.ifindex = 3;
	mptcp_msg_add_endpoint(&b, buf, sizeof(buf), 0x1c, &e);
	CHECK(c, "ADD_ADDR message with nested address byte-exact", !b.overflow &&
	      same_bytes(b.nlh, add, b.nlh->nlmsg_len, sizeof(add)));

	/* The same layout with an id is what a GET_ADDR reply holds: decode it back. */
	e.id = 5;
	mptcp_msg_add_endpoint(&b, buf, sizeof(buf), 0x1c, &e);
	CHECK(c, "endpoint decodes back", mptcp_parse_endpoint(b.nlh, &back) == 0 && back.id == 5 &&
	      back.addr4 == e.addr4 && back.flags == e.flags && back.ifindex == 3 && back.family == AF_INET);
	b.nlh->nlmsg_len -= 4; /* cut into the nest: must be refused, not over-read */
	CHECK(c, "truncated endpoint refused", mptcp_parse_endpoint(b.nlh, &back) != 0);

	genl_init(&b, buf, sizeof(buf), 0x10, 0, 3, 1);
	nla_put_str(&b, 2, "mptcp_pm");
	CHECK(c, "CTRL_CMD_GETFAMILY message byte-exact", !b.overflow &&
	      same_bytes(b.nlh, getfamily, b.nlh->nlmsg_len, sizeof(getfamily)));

	nlb_init(&b, buf, 40, RTM_NEWLINK, 0);
	nla_put_str(&b, IFLA_IFNAME, "eth0");
	CHECK(c, "attribute that fits is kept", !b.overflow && b.nlh->nlmsg_len == 28);
	nla_put_str(&b, IFLA_IFNAME, "a-much-longer-name");
	CHECK(c, "attribute that does not fit sets overflow, length unchanged",
	      b.overflow && b.nlh->nlmsg_len == 28);
}

/* Appends an attribute to a raw buffer at *off (test-side encoder, independent of nla_put). */
static void raw_attr(unsigned char *p, size_t *off, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type };

	memcpy(p + *off, &a, sizeof(a));
	memcpy(p + *off + NLA_HDRLEN, data, len);
	*off += NLA_ALIGN(a.nla_len);
}

/* An NLMSG_ERROR for request seq 7: capped or echoing a 24-byte request, with an extack. */
static size_t make_error(unsigned char *p, int error, int capped, const char *msg)
{
	struct nlmsghdr h = { .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 7 };
	struct nlmsgerr e = { .error = error };
	size_t off = NLMSG_HDRLEN;

	memset(p, 0, 512);
	e.msg.nlmsg_len = 24;
	e.msg.nlmsg_type = 0x1c;
	e.msg.nlmsg_seq = 7;
	memcpy(p + off, &e, sizeof(e));
	off += sizeof(e);
	if (!capped)
		off += 8; /* the request's payload after its header */
	if (msg)
		raw_attr(p, &off, NLMSGERR_ATTR_MSG, msg, (uint16_t)(strlen(msg) + 1));
	h.nlmsg_len = (uint32_t)off;
	h.nlmsg_flags = (capped ? NLM_F_CAPPED : 0) | (msg ? NLM_F_ACK_TLVS : 0);
	memcpy(p, &h, sizeof(h));
	return off;
}

static int count_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(int *)arg)++;
	return 0;
}

static void test_replies(struct check *c)
{
	unsigned char p[1024] __attribute__((aligned(8)));
	char err[NL_ERR_LEN];
	size_t len;
	int r, n;

	len = make_error(p, 0, 1, NULL);
	err[0] = '\0';
	CHECK(c, "ACK finishes the request", nl_walk(p, len, 7, NULL, NULL, err, sizeof(err)) == 1);

	len = make_error(p, -EINVAL, 1, "limit greater than maximum");
	err[0] = '\0';
	r = nl_walk(p, len, 7, NULL, NULL, err, sizeof(err));
	CHECK(c, "capped error with extack: errno", r == -EINVAL);
	CHECK(c, "capped error with extack: message", strstr(err, "limit greater than maximum") != NULL);

	len = make_error(p, -EEXIST, 0, "address already in use");
	err[0] = '\0';
	r = nl_walk(p, len, 7, NULL, NULL, err, sizeof(err));
	CHECK(c, "uncapped error: extack found after the echoed request",
	      r == -EEXIST && strstr(err, "address already in use") != NULL);

	len = make_error(p, -ENOENT, 1, NULL);
	err[0] = '\0';
	r = nl_walk(p, len, 7, NULL, NULL, err, sizeof(err));
	CHECK(c, "error without extack", r == -ENOENT && strcmp(err, strerror(ENOENT)) == 0);

	len = make_error(p, -EINVAL, 1, "x");
	p[len - 4] = 'y'; /* overwrite the terminating NUL and padding: not a C string any more */
	p[len - 3] = 'y';
	p[len - 2] = 'y';
	p[len - 1] = 'y';
	{
		int error;
		const char *msg = "unset";
		nl_parse_error((struct nlmsghdr *)p, &error, &msg);
		CHECK(c, "unterminated extack string ignored", msg == NULL && error == -EINVAL);
	}

	len = make_error(p, -EINVAL, 1, "x");
	CHECK(c, "reply for another sequence ignored", nl_walk(p, len, 8, NULL, NULL, err, sizeof(err)) == 0);

	/* A dump: two parts then DONE in one datagram. */
	{
		struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = 0x1c,
				      .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = 9 };
		size_t off = 0;
		int zero = 0;

		memset(p, 0, sizeof(p));
		memcpy(p + off, &h, sizeof(h));
		off += NLMSG_ALIGN(h.nlmsg_len);
		memcpy(p + off, &h, sizeof(h));
		off += NLMSG_ALIGN(h.nlmsg_len);
		h.nlmsg_type = NLMSG_DONE;
		memcpy(p + off, &h, sizeof(h));
		memcpy(p + off + NLMSG_HDRLEN, &zero, 4);
		off += NLMSG_ALIGN(h.nlmsg_len);
		n = 0;
		r = nl_walk(p, off, 9, count_cb, &n, err, sizeof(err));
		CHECK(c, "dump: every part to the callback, DONE finishes", r == 1 && n == 2);
		n = 0;
		r = nl_walk(p, off - NLMSG_ALIGN(h.nlmsg_len), 9, count_cb, &n, err, sizeof(err));
		CHECK(c, "dump without DONE yet: wait for more", r == 0 && n == 2);
		((struct nlmsghdr *)p)->nlmsg_len = 4096;
		r = nl_walk(p, off, 9, count_cb, &n, err, sizeof(err));
		CHECK(c, "message longer than the datagram refused", r == -EBADMSG);
	}

	{
		unsigned char a[64] __attribute__((aligned(8)));
		const struct nlattr *tb[4];
		size_t off = 0;
		uint32_t v = 42, got = 0;

		raw_attr(a, &off, 1, &v, 4);
		raw_attr(a, &off, 3 | NLA_F_NESTED, &v, 4);
		raw_attr(a, &off, 9, &v, 4); /* above max: ignored */
		CHECK(c, "nla_parse: types, NLA_F_NESTED masked, unknown ignored",
		      nla_parse(tb, 3, a, off) == 0 && tb[1] && !tb[2] && tb[3] &&
			      nla_get_u32(tb[1], &got) == 0 && got == 42);
		((struct nlattr *)a)->nla_len = 200;
		CHECK(c, "nla_parse: overrunning attribute refused", nla_parse(tb, 3, a, off) != 0);
		((struct nlattr *)a)->nla_len = 2;
		CHECK(c, "nla_parse: attribute shorter than its header refused", nla_parse(tb, 3, a, off) != 0);
	}
}

/* Test-side helper: `ip link add NAME type veth peer name PEER` with our builder, three
 * levels of nesting (IFLA_LINKINFO > IFLA_INFO_DATA > VETH_INFO_PEER + ifinfomsg). The host
 * kernel has no dummy driver; veth it has. */
static int add_veth(struct nl *nl, const char *name, const char *peer)
{
	struct nlb b;
	struct ifinfomsg *ifi;
	struct nlattr *info, *data, *p;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = nlb_put_header(&b, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nla_put_str(&b, IFLA_IFNAME, name);
	info = nla_nest_start(&b, IFLA_LINKINFO);
	nla_put_str(&b, IFLA_INFO_KIND, "veth");
	data = nla_nest_start(&b, IFLA_INFO_DATA);
	p = nla_nest_start(&b, 1 /* VETH_INFO_PEER */);
	nlb_put_header(&b, sizeof(struct ifinfomsg));
	nla_put_str(&b, IFLA_IFNAME, peer);
	nla_nest_end(&b, p);
	nla_nest_end(&b, data);
	nla_nest_end(&b, info);
	return nl_request(nl, &b, NULL, NULL);
}

/* Output of an `ip` command, for checking state with an independent tool. */
static void run_ip(const char *cmd, char *out, size_t size)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0;

	out[0] = '\0';
	if (!f)
		return;
	n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	pclose(f);
}

static void test_kernel(struct check *c)
{
	struct nl rt;
	struct mptcp_pm pm;
	struct mptcp_endpoint e = { 0 }, got[MPTCP_EP_MAX];
	uint32_t a0, a1, gw0, sub = 0, rcv = 0;
	unsigned flags = 0;
	char out[2048];
	int if0, if1, r, n = -1;

	if (unshare(CLONE_NEWNET) != 0) {
		CHECK(c, "unshare(CLONE_NEWNET) (run as root)", 0);
		return;
	}
	CHECK(c, "rtnetlink socket opens", nl_open(&rt, NETLINK_ROUTE, 0) == 0);
	CHECK(c, "veth links created via nested IFLA_LINKINFO",
	      add_veth(&rt, "mps0", "mps0p") == 0 && add_veth(&rt, "mps1", "mps1p") == 0);
	r = add_veth(&rt, "mps0", "mps0q");
	CHECK(c, "duplicate link: EEXIST with reason text", r == -EEXIST && rt.err[0] != '\0');
	if0 = (int)if_nametoindex("mps0");
	if1 = (int)if_nametoindex("mps1");
	inet_pton(AF_INET, "10.66.6.2", &a0);
	inet_pton(AF_INET, "10.66.7.2", &a1);
	inet_pton(AF_INET, "10.66.6.1", &gw0);
	CHECK(c, "link up", rtnl_link_up(&rt, if0) == 0 && rtnl_link_up(&rt, if1) == 0);
	CHECK(c, "link flags read back with IFF_UP",
	      rtnl_link_flags(&rt, if0, &flags) == 0 && (flags & IFF_UP));
	CHECK(c, "address added", rtnl_addr_add(&rt, if0, a0, 24) == 0 && rtnl_addr_add(&rt, if1, a1, 24) == 0);
	CHECK(c, "address added again (replace) is fine", rtnl_addr_add(&rt, if0, a0, 24) == 0);
	CHECK(c, "subnet + default route in table 100",
	      rtnl_route_add(&rt, 100, a0 & htonl(0xffffff00), 24, 0, if0) == 0 &&
		      rtnl_route_add(&rt, 100, 0, 0, gw0, if0) == 0);
	CHECK(c, "rule from ADDR lookup 100 (twice: idempotent)",
	      rtnl_rule_add(&rt, a0, 100, 1000) == 0 && rtnl_rule_add(&rt, a0, 100, 1000) == 0);
	r = rtnl_route_add(&rt, 101, 0, 0, htonl(0xc0a80101), if1);
	CHECK(c, "route via an unreachable gateway fails with a reason", r < 0 && rt.err[0] != '\0');
	printf("# unreachable gateway: %s\n", rt.err);
	{
		uint32_t addrs[4], extra;
		int prefixes[4], n2;

		inet_pton(AF_INET, "10.66.6.9", &extra);
		rtnl_addr_add(&rt, if0, extra, 24);
		n2 = rtnl_addr_list(&rt, if0, addrs, prefixes, 4);
		CHECK(c, "address list: both addresses of the device, with prefixes",
		      n2 == 2 && ((addrs[0] == a0 && addrs[1] == extra) || (addrs[0] == extra && addrs[1] == a0)) &&
			      prefixes[0] == 24 && prefixes[1] == 24);
		CHECK(c, "address deleted", rtnl_addr_del(&rt, if0, extra, 24) == 0 &&
		      rtnl_addr_list(&rt, if0, addrs, prefixes, 4) == 1 && addrs[0] == a0);
		rtnl_rule_add(&rt, extra, 100, 1001);
		run_ip("ip -4 rule show", out, sizeof(out));
		CHECK(c, "second rule there", strstr(out, "from 10.66.6.9 lookup 100") != NULL);
		CHECK(c, "rule deleted by source and table, twice (missing is fine)",
		      rtnl_rule_del(&rt, extra, 100) == 0 && rtnl_rule_del(&rt, extra, 100) == 0);
		run_ip("ip -4 rule show", out, sizeof(out));
		CHECK(c, "only that rule went", !strstr(out, "from 10.66.6.9 lookup 100") &&
		      strstr(out, "from 10.66.6.2 lookup 100"));
	}
	run_ip("ip -4 route show table 100", out, sizeof(out));
	CHECK(c, "ip route show table 100 lists the default route",
	      strstr(out, "default via 10.66.6.1 dev mps0") != NULL);
	run_ip("ip -4 rule show", out, sizeof(out));
	CHECK(c, "ip rule show lists the rule", strstr(out, "1000:\tfrom 10.66.6.2 lookup 100") != NULL);

	r = genl_resolve(&rt, "mptcp_pm"); /* wrong protocol socket: must fail cleanly */
	CHECK(c, "genl on a rtnetlink socket fails cleanly", r < 0);
	nl_close(&rt);

	r = mptcp_pm_open(&pm);
	CHECK(c, "mptcp_pm family resolved", r == 0 && pm.family > 0);
	if (r != 0) {
		printf("# %s\n", pm.nl.err);
		return;
	}
	r = genl_resolve(&pm.nl, "no_such_family");
	CHECK(c, "unknown genl family: ENOENT", r == -ENOENT && strstr(pm.nl.err, "no_such_family"));
	CHECK(c, "limits set and read back",
	      mptcp_set_limits(&pm, 2, 3) == 0 && mptcp_get_limits(&pm, &sub, &rcv) == 0 && sub == 2 && rcv == 3);
	r = mptcp_set_limits(&pm, 9, 9);
	CHECK(c, "limit above 8: EINVAL with the kernel's extack text",
	      r == -EINVAL && strstr(pm.nl.err, "Invalid argument: ") == pm.nl.err && strlen(pm.nl.err) > 20);
	printf("# extack: %s\n", pm.nl.err);

	e.addr4 = a0;
	e.flags = FLAG_SUBFLOW;
	e.ifindex = if0;
	r = mptcp_add_endpoint(&pm, &e);
	CHECK(c, "endpoint 1 added", r == 0);
	e.addr4 = a1;
	e.flags = FLAG_SUBFLOW | FLAG_BACKUP;
	e.ifindex = if1;
	CHECK(c, "endpoint 2 (backup) added", mptcp_add_endpoint(&pm, &e) == 0);
	r = mptcp_add_endpoint(&pm, &e);
	CHECK(c, "duplicate endpoint refused with a reason", r < 0 && pm.nl.err[0] != '\0');
	printf("# duplicate: %s\n", pm.nl.err);
	r = mptcp_dump_endpoints(&pm, got, MPTCP_EP_MAX, &n);
	CHECK(c, "dump returns both endpoints", r == 0 && n == 2);
	if (n == 2) {
		CHECK(c, "endpoint 1 as set: id, address, flags, device",
		      got[0].id == 1 && got[0].addr4 == a0 && got[0].flags == FLAG_SUBFLOW && got[0].ifindex == if0);
		CHECK(c, "endpoint 2 as set: id, address, flags, device",
		      got[1].id == 2 && got[1].addr4 == a1 &&
			      got[1].flags == (FLAG_SUBFLOW | FLAG_BACKUP) && got[1].ifindex == if1);
	}
	run_ip("ip mptcp endpoint show", out, sizeof(out));
	CHECK(c, "ip mptcp endpoint show agrees",
	      strstr(out, "10.66.6.2 id 1 subflow dev mps0") && strstr(out, "10.66.7.2 id 2 subflow backup dev mps1"));
	CHECK(c, "endpoint deleted by id",
	      mptcp_del_endpoint(&pm, 2) == 0 && mptcp_dump_endpoints(&pm, got, MPTCP_EP_MAX, &n) == 0 && n == 1 &&
		      got[0].id == 1);
	CHECK(c, "deleting a missing id fails with a reason", mptcp_del_endpoint(&pm, 2) < 0 && pm.nl.err[0]);
	CHECK(c, "flush, then the dump is empty",
	      mptcp_flush_endpoints(&pm) == 0 && mptcp_dump_endpoints(&pm, got, MPTCP_EP_MAX, &n) == 0 && n == 0);
	mptcp_pm_close(&pm);
}

static void test_flags(struct check *c)
{
	char s[64];

	mptcp_flags_str(FLAG_SUBFLOW, s, sizeof(s));
	CHECK(c, "flags: subflow", strcmp(s, "subflow") == 0);
	mptcp_flags_str(FLAG_SUBFLOW | FLAG_BACKUP, s, sizeof(s));
	CHECK(c, "flags: subflow,backup", strcmp(s, "subflow,backup") == 0);
	mptcp_flags_str(0, s, sizeof(s));
	CHECK(c, "flags: none", strcmp(s, "none") == 0);
	mptcp_flags_str(FLAG_SIGNAL | 0x100, s, sizeof(s));
	CHECK(c, "flags: unknown bits in hex", strcmp(s, "signal,0x100") == 0);
}

int main(void)
{
	struct check c = { "netlink", 0 };

	test_builders(&c);
	test_replies(&c);
	test_flags(&c);
	test_kernel(&c);
	return CHECK_DONE(&c);
}
