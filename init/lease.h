/* lease: the udhcpc hook. udhcpc runs /bin/mpsocks-dhcp (a link to /init) with the event as
 * argv[1] and the lease in its environment; init's main() hands that call to lease_main, which
 * talks to the kernel with init's own modules:
 *   bound/renew: address, table 100+i (subnet + default via the router) and `from ADDR lookup
 *     100+i` (uplink_address, as a static uplink gets them), a catch-all `lookup 100+i` rule
 *     after the main table (priority 40000+i, backups 41000+i: an empty table falls through to
 *     the next uplink, so unbound sockets leave by the first uplink holding a lease), the MPTCP
 *     endpoint id i+1 (replaced when the address changed), limits raised to the endpoint
 *     count, /etc/resolv.conf from the lease's DNS when the command line gave none, and for a
 *     new address SIGHUP to PID 1 (sockd.conf's externals: init/README.md);
 *   deconfig (link down: init makes udhcpc release; lease lost; udhcpc's start): endpoint,
 *     `from` rules and addresses removed (the kernel drops the NIC's routes with its last
 *     address). One console line per change, in init's format.
 * Which uplink an interface is, dhcp.c writes to /run/mpsocks-dhcp/IF before starting udhcpc
 * (udhcpc gets init's fixed environment and passes only its own variables on). */
#ifndef MPSOCKS_LEASE_H
#define MPSOCKS_LEASE_H
#include <stddef.h>
#include <netinet/in.h>
#include "cmdline.h"

#define LEASE_HOOK_NAME "mpsocks-dhcp"
#define LEASE_HOOK_PATH "/bin/" LEASE_HOOK_NAME
#define LEASE_STATE_DIR "/run/mpsocks-dhcp"
#define LEASE_CATCHALL_BASE 40000u
#define LEASE_CATCHALL_BACKUP 41000u

/* What init tells the hook about an uplink (the state file's one line). */
struct lease_uplink {
	int index;  /* uplink i: table 100+i, endpoint id i+1 */
	int backup; /* endpoint flag backup */
	int dns;    /* may write /etc/resolv.conf (no mpsocks.dns given) */
};

struct lease {
	struct in_addr ip;
	int prefix;
	int has_router;
	struct in_addr router;
	struct in_addr dns[CFG_MAX_DNS];
	int n_dns;
};

/* Pure helpers (unit-tested). */
int lease_uplink_format(const struct lease_uplink *u, char *buf, size_t size);
int lease_uplink_parse(const char *text, struct lease_uplink *u); /* 0 or -1 */
/* udhcpc's variables (NULL when unset): ip, subnet (dotted mask; else mask = prefix length),
 * router and dns (space-separated lists: the first router, up to CFG_MAX_DNS servers).
 * Returns 0, or -1 with the reason in why. */
int lease_parse(const char *ip, const char *subnet, const char *mask, const char *router,
		const char *dns, struct lease *l, char *why, size_t wsize);

/* Is this process the hook (argv[0]'s last component)? */
int lease_is_hook(const char *argv0);
/* The hook's main: always exits 0 (udhcpc ignores the status; the console has the reason). */
int lease_main(int argc, char **argv);

#endif
