/* rtnl6: IPv6 address, route and rule requests over rtnetlink (see rtnl6.h). */
#include "rtnl6.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#define MSG_BUF 512

int rtnl6_addr_add(struct nl *nl, int ifindex, const struct in6_addr *addr, int prefix)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct ifaddrmsg *ifa;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	ifa = nlb_put_header(&b, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	nla_put(&b, IFA_LOCAL, addr, 16);
	nla_put(&b, IFA_ADDRESS, addr, 16);
	nla_put_u32(&b, IFA_FLAGS, IFA_F_NODAD);
	return nl_request(nl, &b, NULL, NULL);
}

int rtnl6_route_add(struct nl *nl, uint32_t table, const struct in6_addr *dst, int dst_len,
		    const struct in6_addr *gw, int ifindex, uint32_t metric)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct rtmsg *rtm;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
	rtm = nlb_put_header(&b, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE; /* IPv6 routes have no link scope */
	rtm->rtm_type = RTN_UNICAST;
	nla_put_u32(&b, RTA_TABLE, table);
	if (dst_len)
		nla_put(&b, RTA_DST, dst, 16);
	if (gw)
		nla_put(&b, RTA_GATEWAY, gw, 16);
	nla_put_u32(&b, RTA_OIF, (uint32_t)ifindex);
	if (metric)
		nla_put_u32(&b, RTA_PRIORITY, metric);
	return nl_request(nl, &b, NULL, NULL);
}

int rtnl6_rule_add(struct nl *nl, const struct in6_addr *src, uint32_t table, uint32_t priority)
{
	unsigned char buf[MSG_BUF] __attribute__((aligned(8)));
	struct nlb b;
	struct fib_rule_hdr *frh;
	int r;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	frh = nlb_put_header(&b, sizeof(*frh));
	frh->family = AF_INET6;
	frh->src_len = 128;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	frh->action = FR_ACT_TO_TBL;
	nla_put(&b, FRA_SRC, src, 16);
	nla_put_u32(&b, FRA_TABLE, table);
	nla_put_u32(&b, FRA_PRIORITY, priority);
	r = nl_request(nl, &b, NULL, NULL);
	if (r == -EEXIST) {
		nl->err[0] = '\0';
		return 0;
	}
	return r;
}
