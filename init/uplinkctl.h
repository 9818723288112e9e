/* uplinkctl: the host's word on each uplink. The guest's NICs are taps that never lose their
 * carrier, whatever the host's uplinks do, and the first one also carries the clients to the
 * proxy; so the host's uplink tracker (tools/lib/uplinks.sh) sends the state of every uplink
 * as one UDP datagram to the listen address, port UPLINKCTL_PORT, on each change (and again
 * now and then: it is idempotent):
 *     uplinks S0 S1 ...      Si = up/GEN or down/GEN, GEN the uplink's generation
 * A new generation of an uplink that stays up means it came back or got a new address: its
 * subflows are to be made anew. Accepted only from the host's tap address and a privileged
 * source port, which only root on the host can send from. */
#ifndef MPSOCKS_UPLINKCTL_H
#define MPSOCKS_UPLINKCTL_H
#include <stdbool.h>
#include <stdint.h>
#include "nics.h"

#define UPLINKCTL_PORT 4266

struct uplinkctl {
	int fd;
	uint32_t host;          /* the only sender: the host's tap address (network order) */
	bool seen;              /* a datagram came: up[] and gen[] hold the host's word */
	bool up[NICS_MAX];
	unsigned gen[NICS_MAX];
};

/* Parses one datagram's text into up[] and gen[] (max entries); returns how many uplinks it
 * names, or -EINVAL for anything malformed. Pure. */
int uplinkctl_parse(const char *msg, bool *up, unsigned *gen, int max);
/* Binds the UDP socket to listen:UPLINKCTL_PORT (both network order). 0 or -errno. */
int uplinkctl_open(struct uplinkctl *c, uint32_t listen, uint32_t host);
/* Reads what is queued. *down gets the uplinks that went down, *back those that came up or
 * got a new generation (bit i), compared with the last word (all up before the first). */
void uplinkctl_read(struct uplinkctl *c, int n, unsigned *down, unsigned *back);

#endif
