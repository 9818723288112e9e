/* rtnl: link, address, route and rule requests over rtnetlink (see rtnl.h). */
#include "rtnl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#define MSG_BUF 512

int rtnl_link_up(struct nl *nl, int ifindex)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct ifinfomsg *ifi;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWLINK, 0);
	ifi = nlb_put_header(&b, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_request(nl, &b, NULL, NULL);
}

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EBADMSG;
	*(unsigned *)arg = ifi->ifi_flags;
	return 0;
}

int rtnl_link_flags(struct nl *nl, int ifindex, unsigned *flags)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct ifinfomsg *ifi;

	*flags = 0;
	nlb_init(&b, buf, sizeof(buf), RTM_GETLINK, 0);
	ifi = nlb_put_header(&b, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* Only the flags are wanted: skip the stats and VF blobs. */
	nla_put_u32(&b, IFLA_EXT_MASK, 0);
	return nl_request(nl, &b, link_cb, flags);
}

int rtnl_addr_add(struct nl *nl, int ifindex, uint32_t addr, int prefix)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct ifaddrmsg *ifa;
	uint32_t brd = addr | (prefix < 31 ? ~(prefix ? htonl(0xffffffffu << (32 - prefix)) : 0) : 0);

	nlb_init(&b, buf, sizeof(buf), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	ifa = nlb_put_header(&b, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	nla_put(&b, IFA_LOCAL, &addr, 4);
	nla_put(&b, IFA_ADDRESS, &addr, 4);
	if (prefix < 31)
		nla_put(&b, IFA_BROADCAST, &brd, 4);
	return nl_request(nl, &b, NULL, NULL);
}

int rtnl_route_add(struct nl *nl, uint32_t table, uint32_t dst, int dst_len, uint32_t gw,
		   int ifindex)
{
	return rtnl_route_add_metric(nl, table, dst, dst_len, gw, ifindex, 0);
}

int rtnl_route_add_metric(struct nl *nl, uint32_t table, uint32_t dst, int dst_len, uint32_t gw,
			  int ifindex, uint32_t metric)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct rtmsg *rtm;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	rtm = nlb_put_header(&b, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	nla_put_u32(&b, RTA_TABLE, table);
	if (dst_len)
		nla_put(&b, RTA_DST, &dst, 4);
	if (gw)
		nla_put(&b, RTA_GATEWAY, &gw, 4);
	nla_put_u32(&b, RTA_OIF, (uint32_t)ifindex);
	if (metric)
		nla_put_u32(&b, RTA_PRIORITY, metric);
	return nl_request(nl, &b, NULL, NULL);
}

/* One `from SRC lookup TABLE` rule request; priority 0 leaves it out. The error that means
 * "already in that state" (EEXIST on add, ENOENT on delete) counts as success, e.g. for a
 * re-run in a test namespace. */
static int rule_request(struct nl *nl, int type, int flags, uint32_t src, uint32_t table,
			uint32_t priority, int benign)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct fib_rule_hdr *frh;
	int r;

	nlb_init(&b, buf, sizeof(buf), type, flags);
	frh = nlb_put_header(&b, sizeof(*frh));
	frh->family = AF_INET;
	frh->src_len = 32;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	nla_put(&b, FRA_SRC, &src, 4);
	nla_put_u32(&b, FRA_TABLE, table);
	if (priority)
		nla_put_u32(&b, FRA_PRIORITY, priority);
	r = nl_request(nl, &b, NULL, NULL);
	if (r == benign) {
		nl->err[0] = '\0';
		return 0;
	}
	return r;
}

int rtnl_rule_add(struct nl *nl, uint32_t src, uint32_t table, uint32_t priority)
{
	return rule_request(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, src, table, priority, -EEXIST);
}

int rtnl_rule_del(struct nl *nl, uint32_t src, uint32_t table)
{
	return rule_request(nl, RTM_DELRULE, 0, src, table, 0, -ENOENT);
}

struct addr_list {
	int ifindex, max, n;
	uint32_t *addrs;
	int *prefixes;
};

static int addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_list *l = arg;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	const struct nlattr *tb[IFA_MAX + 1];
	size_t off = NLMSG_LENGTH(sizeof(*ifa));
	uint32_t a;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < off)
		return 0;
	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != l->ifindex)
		return 0;
	if (nla_parse(tb, IFA_MAX, (const unsigned char *)nlh + NLMSG_ALIGN(off),
		      nlh->nlmsg_len - NLMSG_ALIGN(off)) != 0 ||
	    nla_get_u32(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], &a) != 0)
		return 0;
	if (l->n < l->max) {
		l->addrs[l->n] = a;
		l->prefixes[l->n] = ifa->ifa_prefixlen;
		l->n++;
	}
	return 0;
}

int rtnl_addr_list(struct nl *nl, int ifindex, uint32_t *addrs, int *prefixes, int max)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct addr_list l = { ifindex, max, 0, addrs, prefixes };
	struct nlb b;
	struct ifaddrmsg *ifa;

	nlb_init(&b, buf, sizeof(buf), RTM_GETADDR, NLM_F_DUMP);
	ifa = nlb_put_header(&b, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	if (nl_request(nl, &b, addr_cb, &l) != 0)
		return -1;
	return l.n;
}

int rtnl_addr_del(struct nl *nl, int ifindex, uint32_t addr, int prefix)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct ifaddrmsg *ifa;

	nlb_init(&b, buf, sizeof(buf), RTM_DELADDR, 0);
	ifa = nlb_put_header(&b, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)ifindex;
	nla_put(&b, IFA_LOCAL, &addr, 4);
	return nl_request(nl, &b, NULL, NULL);
}
