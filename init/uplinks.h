/* uplinks: from the configuration to configured NICs: wait for them, link up, address, a
 * routing table per uplink (subnet + default via its gateway) with `from ADDR lookup TABLE`,
 * the main default route via the first non-backup uplink, and the multi-NIC sysctls.
 * One console line per NIC and per step; a missing or failing NIC is skipped, never fatal. */
#ifndef MPSOCKS_UPLINKS_H
#define MPSOCKS_UPLINKS_H
#include "cmdline.h"
#include "nics.h"

#define UPLINK_TABLE_BASE 100 /* uplink i uses table 100 + i ... */
#define UPLINK_RULE_BASE 1000 /* ... and rule priority 1000 + i, before main (32766) */
#define NIC_WAIT_MS 5000

struct uplink {
	const struct nic_cfg *cfg;
	int ifindex; /* 0: not present */
	int ok;      /* present, up and addressed */
	int lan;     /* the LAN NIC: address only, no table */
	unsigned ep_id; /* its MPTCP endpoint's id now; 0: i + 1 (endpoints_restore moves it) */
};

struct uplinks {
	struct uplink u[NICS_MAX];
	int n;
	int main_nic; /* the uplink of the main table's default route; -1: none */
};

/* Address, table 100+i (subnet route + default via the gateway), `from ADDR lookup 100+i`
 * (only the address for the LAN NIC): what a static NIC gets at boot and a DHCP NIC per lease.
 * One console line, extra appended. Returns 1 when the address is set. */
int uplink_address(struct nl *rt, const struct nic_cfg *c, int ifindex, int i, int lan,
		   const char *extra);
/* The uplink that carries the main default route: the first non-backup one, else the first;
 * -1 without uplinks. */
int uplinks_main_index(const struct config *cfg);

/* The main table's default route through the first live uplink (bit i of live): the first
 * non-backup one, else the first. Replaced only when that changes; one console line. */
void uplinks_main_route(struct uplinks *up, unsigned live);
/* Configures everything; w is opened here and left open for carrier events. */
void uplinks_setup(const struct config *cfg, struct nic_watch *w, struct uplinks *up);
/* NIC i, missing at setup, exists now (w->ifindex[i]): configures it the same way. The main
 * default route stays where it is, and sockd keeps its externals: the NIC adds an MPTCP
 * subflow path (endpoints_late), not a new first path. */
void uplinks_late(struct uplinks *up, struct nic_watch *w, int i);

#endif
