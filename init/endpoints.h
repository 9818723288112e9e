/* endpoints: MPTCP for the configured uplinks: limits sized to their count, one `subflow`
 * endpoint per uplink bound to its device (`backup` where asked; no `signal`: the host NATs),
 * then the kernel's view read back and printed, one contract line per endpoint:
 * `endpoint id=N ADDR dev IF flags=subflow[,backup]`. */
#ifndef MPSOCKS_ENDPOINTS_H
#define MPSOCKS_ENDPOINTS_H
#include "mptcp.h"
#include <stdbool.h>
#include "uplinks.h"

/* Returns the number of endpoints the kernel holds, or -1 (no MPTCP; logged). */
int endpoints_setup(const struct uplinks *up);
/* Uplink i came late (uplinks_late): raises the limits and adds its endpoint. */
void endpoints_late(const struct uplinks *up, int i);
/* Whether uplink i's endpoint follows the uplink's state (endpoints_withdraw/_restore act). */
bool endpoints_withdrawable(const struct uplinks *up, int i);
/* Uplink i is down (its NIC lost its carrier, or the host said so: uplinkctl.h): its endpoint
 * is deleted, so the kernel closes its subflows now, not after retransmission timeouts.
 * 0 or -errno; DHCP uplinks are left to their lease (lease.c). */
int endpoints_withdraw(const struct uplinks *up, int i);
/* Uplink i is back (or has a new address upstream): its endpoint is deleted if still there
 * and added again. The
 * in-kernel PM never re-creates a closed subflow; a new endpoint gets one on every running
 * connection (mptcp_join.sh "delete and re-add"). 0 or -errno. */
int endpoints_restore(struct uplinks *up, int i);
/* Reads the endpoints back and prints the contract line of each (only id `only` when
 * non-zero); returns how many the kernel holds, or -1. Also used by the DHCP hook (lease.c). */
int endpoints_print(struct mptcp_pm *pm, unsigned only);

#endif
