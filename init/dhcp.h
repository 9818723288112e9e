/* dhcp: one busybox udhcpc per DHCP uplink, supervised like sockd (restart with backoff),
 * with /bin/mpsocks-dhcp (dhcphook.c) as its script, and the leases it reports applied here,
 * in PID 1 (lease.c): the script writes /run/mpsocks-dhcp/IF.lease and a byte into the fifo
 * /run/mpsocks-dhcp/wake, which is in the event loop; each report whose text changed is then
 * applied. Link state drives udhcpc: carrier down makes it release the lease (SIGUSR2: its
 * deconfig report makes PID 1 remove the address and the MPTCP endpoint at once, so new
 * subflows avoid the dead link), carrier up makes it ask again (SIGUSR1). An uplink whose NIC
 * comes later (a dongle plugged in) gets its udhcpc then; udhcpc starts only once the NIC has
 * a carrier (or does not report one). */
#ifndef MPSOCKS_DHCP_H
#define MPSOCKS_DHCP_H
#include <signal.h>
#include "lease.h"
#include "loop.h"
#include "supervise.h"
#include "uplinks.h"

#define DHCP_ARGC_MAX 16

struct dhcp {
	struct uplinks *up;
	struct nic_watch *w;
	const sigset_t *mask;
	int write_dns; /* no mpsocks.dns: leases may set /etc/resolv.conf */
	struct loop_timer timer; /* restarts */
	struct loop_watch wake;  /* the hook's fifo (LEASE_WAKE) */
	loop_fn new_address;     /* an uplink got an address it did not have: sockd.conf may change */
	void *arg;               /* new_address's argument */
	char applied[NICS_MAX][LEASE_REPORT_MAX]; /* the last report applied per uplink */
	uint32_t addr[NICS_MAX]; /* the leased address applied now; 0: none */
	struct child c[NICS_MAX];
	char *argv[NICS_MAX][DHCP_ARGC_MAX];
	int carrier[NICS_MAX]; /* last state acted on: -1 unknown */
	int stopped;
};

/* Opens the hook's fifo, starts udhcpc for every present DHCP uplink; registers the fifo and
 * the restart timer on l. new_address(arg) runs after a report gave an uplink a new address. */
void dhcp_setup(struct dhcp *d, const struct config *cfg, struct uplinks *up, struct nic_watch *w,
		struct loop *l, const sigset_t *mask, loop_fn new_address, void *arg);
/* Reads every DHCP uplink's report and applies those that changed (the fifo's callback). */
void dhcp_reports(struct dhcp *d);
/* After nics_events(): late NICs get their udhcpc, carrier changes release or renew. */
void dhcp_links(struct dhcp *d);
/* Called with every reaped pid; 1 when it was one of ours (restart scheduled). */
int dhcp_reaped(struct dhcp *d, pid_t pid, int status, uint64_t now);
/* Shutting down: no more restarts, SIGTERM to each udhcpc (-R: it releases its lease). */
void dhcp_stop(struct dhcp *d);

#endif
