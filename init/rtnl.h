/* rtnl: the few rtnetlink operations the appliance needs: link up, IPv4 address, routes,
 * policy rules, link state. Addresses are IPv4 in network byte order. Each returns 0 or a
 * negative errno with the reason in nl->err; nl is a NETLINK_ROUTE socket. */
#ifndef MPSOCKS_RTNL_H
#define MPSOCKS_RTNL_H
#include <stdint.h>
#include "netlink.h"

int rtnl_link_up(struct nl *nl, int ifindex);
/* Link flags (IFF_UP, IFF_RUNNING, IFF_LOWER_UP) of ifindex. */
int rtnl_link_flags(struct nl *nl, int ifindex, unsigned *flags);
int rtnl_addr_add(struct nl *nl, int ifindex, uint32_t addr, int prefix);
/* dst/dst_len in table via gw (0: a link-scope route on the device). Replaces an equal route. */
int rtnl_route_add(struct nl *nl, uint32_t table, uint32_t dst, int dst_len, uint32_t gw,
		   int ifindex);
/* The same with a metric (RTA_PRIORITY): several default routes, the lowest live one used. */
int rtnl_route_add_metric(struct nl *nl, uint32_t table, uint32_t dst, int dst_len, uint32_t gw,
			  int ifindex, uint32_t metric);
/* `ip rule add from SRC/32 lookup TABLE priority PRIO`; an identical rule is fine. */
int rtnl_rule_add(struct nl *nl, uint32_t src, uint32_t table, uint32_t priority);
/* `ip rule del from SRC/32 lookup TABLE`; a missing rule is fine. */
int rtnl_rule_del(struct nl *nl, uint32_t src, uint32_t table);
/* The IPv4 addresses (and prefix lengths) on ifindex, at most max; returns how many. */
int rtnl_addr_list(struct nl *nl, int ifindex, uint32_t *addrs, int *prefixes, int max);
int rtnl_addr_del(struct nl *nl, int ifindex, uint32_t addr, int prefix);

#endif
