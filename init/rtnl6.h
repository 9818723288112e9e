/* rtnl6: the IPv6 side of rtnl.h: an address without duplicate address detection, a route
 * in a table, a `from ADDR lookup TABLE` rule. Each returns 0 or a negative errno with the
 * reason in nl->err; nl is a NETLINK_ROUTE socket. */
#ifndef MPSOCKS_RTNL6_H
#define MPSOCKS_RTNL6_H
#include <netinet/in.h>
#include <stdint.h>
#include "netlink.h"

/* IFA_F_NODAD: our addresses are given, never shared, and DAD would keep them unusable
 * (tentative) for a second after each boot. */
int rtnl6_addr_add(struct nl *nl, int ifindex, const struct in6_addr *addr, int prefix);
/* dst/dst_len in table via gw (NULL: on the link), with a metric (0: none). Replaces an equal
 * route. */
int rtnl6_route_add(struct nl *nl, uint32_t table, const struct in6_addr *dst, int dst_len,
		    const struct in6_addr *gw, int ifindex, uint32_t metric);
/* `ip -6 rule add from SRC/128 lookup TABLE priority PRIO`; an identical rule is fine. */
int rtnl6_rule_add(struct nl *nl, const struct in6_addr *src, uint32_t table, uint32_t priority);

#endif
