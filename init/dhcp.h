/* dhcp: one busybox udhcpc per DHCP uplink, supervised like sockd (restart with backoff),
 * with /bin/mpsocks-dhcp (lease.c) as its script. Link state drives it: carrier down makes
 * udhcpc release the lease (SIGUSR2: the hook removes the address and the MPTCP endpoint at
 * once, so new subflows avoid the dead link), carrier up makes it ask again (SIGUSR1). An
 * uplink whose NIC comes later (a dongle plugged in) gets its udhcpc then; udhcpc starts only
 * once the NIC has a carrier (or does not report one). */
#ifndef MPSOCKS_DHCP_H
#define MPSOCKS_DHCP_H
#include <signal.h>
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
	struct child c[NICS_MAX];
	char *argv[NICS_MAX][DHCP_ARGC_MAX];
	int carrier[NICS_MAX]; /* last state acted on: -1 unknown */
	int stopped;
};

/* Starts udhcpc for every present DHCP uplink; registers the restart timer on l. */
void dhcp_setup(struct dhcp *d, const struct config *cfg, struct uplinks *up, struct nic_watch *w,
		struct loop *l, const sigset_t *mask);
/* After nics_events(): late NICs get their udhcpc, carrier changes release or renew. */
void dhcp_links(struct dhcp *d);
/* Called with every reaped pid; 1 when it was one of ours (restart scheduled). */
int dhcp_reaped(struct dhcp *d, pid_t pid, int status, uint64_t now);
/* Shutting down: no more restarts (udhcpc -R releases its lease on the SIGTERM to come). */
void dhcp_stop(struct dhcp *d);

#endif
