/* sysctl: /proc/sys writes for multi-NIC MPTCP (see sysctl.h). */
#include "sysctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "fileio.h"

int sysctl_write(const char *path, const char *value)
{
	char full[192];

	if (snprintf(full, sizeof(full), "/proc/sys/%s", path) >= (int)sizeof(full)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return write_proc(full, value);
}

int sysctl_multipath(char *err, size_t errlen)
{
	static const struct {
		const char *path, *value;
		int optional; /* absent without the feature, which is fine */
	} conf[] = {
		/* For these three the kernel uses max(conf/all, conf/IFACE): "all" covers every
		 * NIC, present or late, with one write each (each costs under TCG). */
		{ "net/ipv4/conf/all/rp_filter", "2", 0 },    /* loose */
		{ "net/ipv4/conf/all/arp_ignore", "1", 0 },   /* ARP answered for the NIC's own address */
		{ "net/ipv4/conf/all/arp_announce", "2", 0 }, /* ARP source = the outgoing NIC's address */
		/* A NIC without carrier (its cable pulled) is skipped by route lookups: new
		 * connections take the main table's next default route. */
		{ "net/ipv4/conf/all/ignore_routes_with_linkdown", "1", 0 },
		/* IPv4 only: no link-local addresses, DAD, router or MLD chatter on the uplinks (and
		 * less work at each link up). "default" for NICs that come later. */
		{ "net/ipv6/conf/all/disable_ipv6", "1", 1 },
		{ "net/ipv6/conf/default/disable_ipv6", "1", 1 },
	};
	int failed = 0;
	size_t k;

	err[0] = '\0';
	for (k = 0; k < sizeof(conf) / sizeof(conf[0]); k++) {
		if (sysctl_write(conf[k].path, conf[k].value) == 0 || (conf[k].optional && errno == ENOENT))
			continue;
		if (!failed++)
			snprintf(err, errlen, "%s=%s: %s", conf[k].path, conf[k].value, strerror(errno));
	}
	return failed ? -1 : 0;
}
