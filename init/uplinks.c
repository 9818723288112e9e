/* uplinks: NIC, address, table, rule and route setup (see uplinks.h). */
#include "uplinks.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "rtnl.h"
#include "rtnl6.h"
#include "sysctl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static const char *ip(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void wait_for_nics(const struct config *cfg, struct nic_watch *w, struct uplinks *up)
{
	const char *names[NICS_MAX];
	uint64_t t0 = now_ms();
	int i, found;

	up->n = 0;
	for (i = 0; i < cfg->n_nics; i++) {
		up->u[up->n].cfg = &cfg->nics[i];
		names[up->n++] = cfg->nics[i].ifname;
	}
	if (cfg->has_lan) {
		up->u[up->n].cfg = &cfg->lan;
		up->u[up->n].lan = 1;
		names[up->n++] = cfg->lan.ifname;
	}
	if (nics_open(w, names, up->n) != 0)
		log_line("nics: no link events (%s); looking once", w->nl.err);
	found = nics_wait(w, NIC_WAIT_MS);
	for (i = 0; i < up->n; i++) {
		up->u[i].ifindex = w->ifindex[i];
		if (!w->ifindex[i])
			log_line("nic %s: not present after %d ms; configured if it comes", names[i],
				 NIC_WAIT_MS);
	}
	log_line("nics: %d of %d present after %llu ms", found, up->n,
		 (unsigned long long)(now_ms() - t0));
}

static const char *ip6(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* The IPv6 twin of the IPv4 part below: address, subnet and default route in the same table,
 * a rule from the address. One console line; a failure leaves the NIC IPv4 only. */
static void address6(struct nl *rt, const struct nic_cfg *c, int ifindex, int i)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)i;
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
	struct in6_addr net = c->addr6;
	int k;

	for (k = c->prefix6; k < 128; k++)
		net.s6_addr[k / 8] &= (uint8_t)~(0x80u >> (k % 8));
	if (rtnl6_addr_add(rt, ifindex, &c->addr6, c->prefix6) != 0 ||
	    rtnl6_route_add(rt, table, &net, c->prefix6, NULL, ifindex, 0) != 0 ||
	    rtnl6_route_add(rt, table, &in6addr_any, 0, c->has_gw6 ? &c->gw6 : NULL, ifindex, 0) != 0 ||
	    rtnl6_rule_add(rt, &c->addr6, table, UPLINK_RULE_BASE + (uint32_t)i) != 0) {
		log_line("nic %s: IPv6 %s/%d failed: %s; IPv4 only", c->ifname, ip6(&c->addr6, a),
			 c->prefix6, rt->err);
		return;
	}
	log_line("nic %s: %s/%d, table %u default %s%s, rule from %s", c->ifname, ip6(&c->addr6, a),
		 c->prefix6, table, c->has_gw6 ? "via " : "dev ",
		 c->has_gw6 ? ip6(&c->gw6, g) : c->ifname, a);
}

int uplink_address(struct nl *rt, const struct nic_cfg *c, int ifindex, int i, int lan,
		   const char *extra)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)i;
	struct cidr net = nic_subnet(c);
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (rtnl_addr_add(rt, ifindex, c->addr.s_addr, c->prefix) != 0) {
		log_line("nic %s: address %s/%d failed: %s; skipped", c->ifname, ip(c->addr, a),
			 c->prefix, rt->err);
		return 0;
	}
	if (lan) {
		log_line("nic %s: lan %s/%d%s", c->ifname, ip(c->addr, a), c->prefix, extra);
		return 1;
	}
	/* Subnet route too, so the table alone routes everything from this address. */
	if (rtnl_route_add(rt, table, net.addr.s_addr, net.prefix, 0, ifindex) != 0 ||
	    rtnl_route_add(rt, table, 0, 0, c->has_gw ? c->gw.s_addr : 0, ifindex) != 0) {
		log_line("nic %s: %s/%d, but table %u routes failed: %s", c->ifname, ip(c->addr, a),
			 c->prefix, table, rt->err);
		return 1;
	}
	if (rtnl_rule_add(rt, c->addr.s_addr, table, UPLINK_RULE_BASE + (uint32_t)i) != 0) {
		log_line("nic %s: %s/%d, table %u, but the rule failed: %s", c->ifname, ip(c->addr, a),
			 c->prefix, table, rt->err);
		return 1;
	}
	log_line("nic %s: %s/%d, table %u default %s%s%s, rule from %s%s", c->ifname, ip(c->addr, a),
		 c->prefix, table, c->has_gw ? "via " : "dev ", c->has_gw ? ip(c->gw, g) : c->ifname,
		 c->backup ? ", backup" : "", a, extra);
	if (c->has_v6)
		address6(rt, c, ifindex, i);
	return 1;
}

/* Link up, then the address part; one console line. */
static void configure(struct nl *rt, struct nic_watch *w, struct uplink *u, int i)
{
	const struct nic_cfg *c = u->cfg;
	char extra[32] = "";
	unsigned flags = 0;

	if (rtnl_link_up(rt, u->ifindex) != 0) {
		log_line("nic %s: link up failed: %s; skipped", c->ifname, rt->err);
		return;
	}
	if (rtnl_link_flags(rt, u->ifindex, &flags) == 0) {
		nics_set_carrier(w, i, (flags & IFF_LOWER_UP) != 0);
		if (!(flags & IFF_LOWER_UP))
			snprintf(extra, sizeof(extra), " (no carrier yet)");
	}
	if (c->dhcp) {
		log_line("nic %s: dhcp, link up%s; address when a lease comes", c->ifname, extra);
		return;
	}
	u->ok = uplink_address(rt, c, u->ifindex, i, u->lan, extra);
}

int uplinks_main_index(const struct config *cfg)
{
	int i;

	for (i = 0; i < cfg->n_nics; i++)
		if (!cfg->nics[i].backup)
			return i;
	return cfg->n_nics ? 0 : -1;
}

/* The first uplink of live (bit i) that is configured: non-backup first; -1 when none. */
static int pick_main(const struct uplinks *up, unsigned live)
{
	int i;

	for (i = 0; i < up->n; i++)
		if ((live & (1u << i)) && up->u[i].ok && !up->u[i].lan && !up->u[i].cfg->v6only &&
		    !up->u[i].cfg->backup)
			return i;
	for (i = 0; i < up->n; i++)
		if ((live & (1u << i)) && up->u[i].ok && !up->u[i].lan && !up->u[i].cfg->v6only)
			return i;
	return -1;
}

void uplinks_main_route(struct uplinks *up, unsigned live)
{
	char g[INET_ADDRSTRLEN];
	int pick = pick_main(up, live);
	struct nl rt;

	if (pick < 0 || pick == up->main_nic || nl_open(&rt, NETLINK_ROUTE, 0) != 0)
		return; /* none live: the old route is as good as any */
	const struct nic_cfg *c = up->u[pick].cfg;
	if (rtnl_route_add(&rt, 254, 0, 0, c->has_gw ? c->gw.s_addr : 0, up->u[pick].ifindex) != 0) {
		log_line("route: main default via %s failed: %s", c->ifname, rt.err);
	} else {
		log_line("route: main default now via %s dev %s", c->has_gw ? ip(c->gw, g) : "-",
			 c->ifname);
		up->main_nic = pick;
	}
	nl_close(&rt);
}

/* The main table's IPv6 default routes, one per IPv6 uplink with the metric order of the
 * IPv4 fallbacks: the first live non-backup one carries new connections. */
static void main_route6(struct nl *rt, const struct uplinks *up)
{
	char g[INET6_ADDRSTRLEN];
	int i, first = -1;

	for (i = 0; i < up->n; i++) {
		const struct nic_cfg *c = up->u[i].cfg;
		uint32_t metric = (uint32_t)i + 1 + (c->backup ? NICS_MAX : 0);

		if (!up->u[i].ok || up->u[i].lan || !c->has_v6)
			continue;
		if (rtnl6_route_add(rt, 254, &in6addr_any, 0, c->has_gw6 ? &c->gw6 : NULL,
				    up->u[i].ifindex, metric) != 0)
			log_line("route: IPv6 default via %s failed: %s", c->ifname, rt->err);
		else if (first < 0 || (up->u[first].cfg->backup && !c->backup))
			first = i;
	}
	if (first >= 0)
		log_line("route: main IPv6 default via %s dev %s",
			 up->u[first].cfg->has_gw6 ? ip6(&up->u[first].cfg->gw6, g) : "-",
			 up->u[first].cfg->ifname);
}

/* The main table's default route: first non-backup uplink, else the first uplink. */
static void main_route(struct nl *rt, struct uplinks *up)
{
	char g[INET_ADDRSTRLEN];
	int i, pick = pick_main(up, ~0u);

	up->main_nic = pick;
	if (pick < 0) {
		log_line("route: no uplink configured; no default route");
		return;
	}
	const struct nic_cfg *c = up->u[pick].cfg;
	if (rtnl_route_add(rt, 254 /* RT_TABLE_MAIN */, 0, 0, c->has_gw ? c->gw.s_addr : 0,
			   up->u[pick].ifindex) != 0)
		log_line("route: main default via %s failed: %s", c->ifname, rt->err);
	else if (c->has_gw)
		log_line("route: main default via %s dev %s", ip(c->gw, g), c->ifname);
	else
		log_line("route: main default dev %s", c->ifname);
	main_route6(rt, up);
	/* The others as fallbacks, in order: when the chosen NIC loses its carrier (hardware
	 * image; ignore_routes_with_linkdown), new connections leave by the next one. */
	for (i = 0; i < up->n; i++) {
		const struct nic_cfg *o = up->u[i].cfg;

		if (i == pick || !up->u[i].ok || up->u[i].lan || o->v6only)
			continue;
		if (rtnl_route_add_metric(rt, 254, 0, 0, o->has_gw ? o->gw.s_addr : 0, up->u[i].ifindex,
					  (uint32_t)i + 1 + (o->backup ? NICS_MAX : 0)) != 0)
			log_line("route: fallback default via %s failed: %s", o->ifname, rt->err);
	}
}

void uplinks_late(struct uplinks *up, struct nic_watch *w, int i)
{
	const char *name = up->u[i].cfg->ifname;
	struct nl rt;

	up->u[i].ifindex = w->ifindex[i];
	log_line("nic %s: appeared late; configuring it now", name);
	if (nl_open(&rt, NETLINK_ROUTE, 0) != 0) {
		log_line("nic %s: %s", name, rt.err);
		return;
	}
	configure(&rt, w, &up->u[i], i);
	nl_close(&rt);
}

void uplinks_setup(const struct config *cfg, struct nic_watch *w, struct uplinks *up)
{
	char err[160];
	struct nl rt;
	int i, lo, v6;

	memset(up, 0, sizeof(*up));
	up->main_nic = -1;
	wait_for_nics(cfg, w, up);
	if (nl_open(&rt, NETLINK_ROUTE, 0) != 0) {
		log_line("net: %s; no NIC configured", rt.err);
		return;
	}
	for (i = 0, v6 = 0; i < cfg->n_nics; i++)
		v6 |= cfg->nics[i].has_v6;
	if (sysctl_multipath(v6, err, sizeof(err)) != 0)
		log_line("sysctl: %s", err);
	else
		log_line("sysctl: rp_filter=2 (loose), arp_ignore=1, arp_announce=2, ipv6 %s",
			 v6 ? "on" : "off");
	lo = (int)if_nametoindex("lo");
	if (!lo || rtnl_link_up(&rt, lo) != 0)
		log_line("nic lo: link up failed: %s", lo ? rt.err : "no loopback device");
	for (i = 0; i < up->n; i++)
		if (up->u[i].ifindex)
			configure(&rt, w, &up->u[i], i);
	main_route(&rt, up);
	nl_close(&rt);
}
