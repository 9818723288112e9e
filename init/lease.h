/* lease: a DHCP lease as PID 1 applies it. udhcpc's hook (dhcphook.c) only reports what the
 * lease says, as one line in /run/mpsocks-dhcp/IF.lease; PID 1 (dhcp.c) reads the report and
 * applies it here, so PID 1 alone writes the guest's network state:
 *   bound/renew: address, table 100+i (subnet + default via the router) and `from ADDR lookup
 *     100+i` (uplink_address, as a static uplink gets them), a catch-all `lookup 100+i` rule
 *     after the main table (priority 40000+i, backups 41000+i: an empty table falls through to
 *     the next uplink, so unbound sockets leave by the first uplink holding a lease), the MPTCP
 *     endpoint id i+1 (replaced when the address changed), limits raised to the endpoint
 *     count, /etc/resolv.conf from the lease's DNS when the command line gave none;
 *   deconfig, leasefail (no lease: link down and released, lost, or none to be had): the
 *     endpoint, the `from` rules and the addresses removed (the kernel drops the NIC's routes
 *     with its last address).
 * One console line per change, in init's format. */
#ifndef MPSOCKS_LEASE_H
#define MPSOCKS_LEASE_H
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include "cmdline.h"
#include "netlink.h"

#define LEASE_DIR "/run/mpsocks-dhcp"    /* IF.lease: the hook's latest report for IF */
#define LEASE_WAKE LEASE_DIR "/wake"     /* fifo: the hook writes a byte after each report */
#define LEASE_SUFFIX ".lease"
#define LEASE_REPORT_MAX 192
#define LEASE_CATCHALL_BASE 40000u
#define LEASE_CATCHALL_BACKUP 41000u

enum lease_event { LEASE_BOUND = 1, LEASE_RENEW, LEASE_DECONFIG, LEASE_LEASEFAIL };

/* What PID 1 knows about the uplink a lease is for. */
struct lease_uplink {
	int index;   /* uplink i: table 100+i, endpoint id i+1 */
	bool backup; /* endpoint flag backup */
	bool dns;    /* may write /etc/resolv.conf (no mpsocks.dns given) */
};

struct lease {
	struct in_addr ip;
	int prefix;
	bool has_router;
	struct in_addr router;
	struct in_addr dns[CFG_MAX_DNS];
	int n_dns;
	unsigned seconds; /* lease time; 0: not given */
};

/* One hook call: the event and, for bound/renew, the lease. */
struct lease_report {
	enum lease_event event;
	struct lease l;
};

/* Pure helpers (unit-tested). */
/* udhcpc's variables (NULL when unset): ip, subnet (dotted mask; else mask = prefix length),
 * router and dns (space-separated lists: the first router, up to CFG_MAX_DNS servers), lease
 * (seconds). Returns 0, or -EINVAL with the reason in why. */
int lease_parse(const char *ip, const char *subnet, const char *mask, const char *router,
		const char *dns, const char *seconds, struct lease *l, char *why, size_t wsize);
/* udhcpc's event name -> event; -EINVAL for the ones PID 1 has no use for (nak: udhcpc
 * follows it with deconfig when it held a lease). */
int lease_event_parse(const char *name);
const char *lease_event_name(enum lease_event e);
/* Does the event carry a lease (bound, renew)? */
bool lease_event_has_lease(enum lease_event e);
/* The report line: `event=bound ip=A/P router=R dns=D1,D2 lease=S` (router, dns and lease
 * only when known; `event=deconfig` alone). Returns the length or -ENOSPC. */
int lease_report_format(const struct lease_report *r, char *buf, size_t size);
/* 0 or -EINVAL (unknown event, malformed or missing field). */
int lease_report_parse(const char *text, struct lease_report *r);

/* PID 1: applies a bound/renew report to ifname (rt: a NETLINK_ROUTE socket). 0 once the
 * address is set (a failed rule, endpoint or resolv.conf is logged, not returned), else a
 * negative errno (logged). */
int lease_apply(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u,
		const struct lease *l, const char *event);
/* PID 1: no lease any more on ifname: endpoint, `from` rules, addresses. 0 or a negative
 * errno (the first failure; each one logged). */
int lease_drop(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u);

#endif
