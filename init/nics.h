/* nics: NIC presence and link state, event-driven over an RTNLGRP_LINK subscription:
 * waiting (bounded) for named NICs to appear, and reporting carrier changes later on. */
#ifndef MPSOCKS_NICS_H
#define MPSOCKS_NICS_H
#include "netlink.h"

#define NICS_MAX 9 /* 8 uplinks + a LAN NIC */

struct nic_watch {
	struct nl nl;  /* subscribed to RTNLGRP_LINK */
	struct nl req; /* for flag queries: replies never mix with the events */
	int n;
	char names[NICS_MAX][16];
	int ifindex[NICS_MAX]; /* 0: not seen */
	int lower_up[NICS_MAX]; /* last carrier state reported: -1 unknown */
	int changed[NICS_MAX];  /* an event named it since the last check */
	unsigned went_down, came_up; /* carrier changes found by the last nics_events (bit i) */
};

/* Opens the subscription before looking, so no appearance can slip between look and wait. */
int nics_open(struct nic_watch *w, const char *const names[], int n);
/* Waits until every named NIC exists or timeout_ms passed; returns how many exist. */
int nics_wait(struct nic_watch *w, int timeout_ms);
/* Drains pending link events (the fd is in the event loop) and logs carrier changes of the
 * watched NICs, as "nic eth1: carrier down", after checking the current flags; those changes
 * are left in went_down / came_up. Returns a bit mask of the watched NICs that appeared since
 * the wait ended (bit i = names[i]). */
unsigned nics_events(struct nic_watch *w);
/* Records the current carrier state (after link up) without logging a change. */
void nics_set_carrier(struct nic_watch *w, int i, int lower_up);

#endif
