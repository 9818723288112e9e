/* status: the appliance's state as one JSON document, the single source of the status page's
 * /status.json and of what `tools/mpsocks status --json` shows of the guest (info port request
 * "status"). The host adds its own facts (taps, uplink names, its counters) around it.
 *
 *   {"version":V,"uptime_s":N,"memory":{"total_kib":N,"available_kib":N},
 *    "processes":{"sockd":N,"mpslink":N},
 *    "sessions":{"max":N,"used":N},"clients":["A:P",...],
 *    "nics":[{"nic":"eth0","guest":A|null,"gateway":A|null,"state":S,"backup":B,
 *             "to_net_bytes":N,"from_net_bytes":N,"to_net_rate":N,"from_net_rate":N,
 *             "mptcp":M,"mptcp_since_s":N|null}],
 *    "history":{"seconds":N,"to_net":[[B/s per second, oldest first] per nic],"from_net":[...]},
 *    "connections":[{"token","local","remote","state","fallback","bytes_sent",
 *                    "bytes_received","bytes_retransmitted",
 *                    "subflows":[{"id","local","remote","nic","state","backup","rtt_ms",
 *                                 "bytes_sent","bytes_acked","bytes_received","retransmits"}]}],
 *    "exits":[{"at","state","serving"}]}
 *
 * S: up, down (the host's word or no carrier), no-address, missing. M: mpblock_name's
 * ok, joins-dropped or mp-capable-dropped (the network drops MPTCP), since N seconds. Byte counts and rates are
 * rates.h's (TCP payload over the uplink), history only with history set (the page asks once
 * a second for everything, so it stays bounded: 300 s x 8 uplinks x 2). */
#ifndef MPSOCKS_STATUS_H
#define MPSOCKS_STATUS_H
#include <stdbool.h>
#include <stddef.h>
#include "cmdline.h"
#include "diag.h"
#include "mpblock.h"
#include "rates.h"
#include "uplinks.h"

#define STATUS_SUBFLOWS 2048 /* subflows shown at most; the rest are counted as left out */

struct status {
	const struct config *cfg;
	const struct uplinks *up;
	const struct nic_watch *nics;
	const struct rates *rates;
	const struct mpblock *mpblock; /* NULL: not known */
	const unsigned *live;        /* the uplinks the host calls up (bit i) */
	const unsigned *sessions_max; /* sockd's limit (0: not known yet) */
	const struct in_addr *listen; /* the proxy's address; its port is cfg->port */
	const char *exits_path;       /* the link entry's state file */
	/* scratch for one rendering */
	struct diag_sock sf[STATUS_SUBFLOWS];
	unsigned n_sf, sf_left_out, used;
	bool first;
};

/* The document into out (cap bytes, NUL-terminated); its length, or 0 when it did not fit. */
size_t status_render(struct status *st, bool history, char *out, size_t cap);

#endif
