/* sysctl: /proc/sys writes for multi-NIC MPTCP (see sysctl.h). */
#include "sysctl.h"

#include <dirent.h>
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

/* Every NIC but lo: after a receive poll, its interrupt stays off for two more polls, run by
 * a 200 us timer. Under TCG each interrupt is costly, and uplinks deliver 1500-byte packets
 * one by one: batched, GRO merges them and the guest does less work per byte (3 x 80 Mbit/s
 * through the proxy: 155-180 -> 222 Mbit/s). At most 0.2 ms more latency. */
static int nic_napi_defer(void)
{
	static const char *const files[][2] = {
		{ "napi_defer_hard_irqs", "2" },
		{ "gro_flush_timeout", "200000" },
	};
	char path[128];
	struct dirent *e;
	DIR *d = opendir("/sys/class/net");
	int rc = 0, saved = 0;
	size_t k;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		for (k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
			snprintf(path, sizeof(path), "/sys/class/net/%s/%s", e->d_name, files[k][0]);
			if (write_proc(path, files[k][1]) != 0 && !rc++)
				saved = errno;
		}
	}
	closedir(d);
	errno = saved;
	return rc ? -1 : 0;
}

int sysctl_multipath(int ipv6, char *err, size_t errlen)
{
	static const struct {
		const char *path, *value;
		int optional; /* absent without the feature, which is fine */
		int v6;       /* 1: only without IPv6 NICs, 2: only with them */
	} conf[] = {
		/* For these three the kernel uses max(conf/all, conf/IFACE): "all" covers every
		 * NIC, present or late, with one write each (each costs under TCG). */
		{ "net/ipv4/conf/all/rp_filter", "2", 0, 0 },    /* loose */
		{ "net/ipv4/conf/all/arp_ignore", "1", 0, 0 },   /* ARP answered for the NIC's own address */
		{ "net/ipv4/conf/all/arp_announce", "2", 0, 0 }, /* ARP source = the outgoing NIC's address */
		/* A NIC without carrier (its cable pulled) is skipped by route lookups: new
		 * connections take the main table's next default route. */
		{ "net/ipv4/conf/all/ignore_routes_with_linkdown", "1", 0, 0 },
		/* IPv4 only: no link-local addresses, DAD, router or MLD chatter on the uplinks (and
		 * less work at each link up). "default" for NICs that come later. */
		{ "net/ipv6/conf/all/disable_ipv6", "1", 1, 1 },
		{ "net/ipv6/conf/default/disable_ipv6", "1", 1, 1 },
		/* With IPv6: the same skip of dead NICs' routes. */
		{ "net/ipv6/conf/all/ignore_routes_with_linkdown", "1", 0, 2 },
		/* Linux sizes the TCP buffer maxima from RAM: ~0.9 MiB at 128 MiB, below one MPTCP
		 * connection's bandwidth-delay product at 3 x 80 Mbit/s with 50 ms queues. The
		 * usual maxima of a big machine; tcp_mem (the global limit) stays RAM-sized. */
		{ "net/ipv4/tcp_rmem", "4096 131072 6291456", 0, 0 },
		{ "net/ipv4/tcp_wmem", "4096 16384 4194304", 0, 0 },
	};
	int failed = 0;
	size_t k;

	err[0] = '\0';
	for (k = 0; k < sizeof(conf) / sizeof(conf[0]); k++) {
		if ((conf[k].v6 == 1 && ipv6) || (conf[k].v6 == 2 && !ipv6))
			continue;
		if (sysctl_write(conf[k].path, conf[k].value) == 0 || (conf[k].optional && errno == ENOENT))
			continue;
		if (!failed++)
			snprintf(err, errlen, "%s=%s: %s", conf[k].path, conf[k].value, strerror(errno));
	}
	if (nic_napi_defer() != 0 && !failed++)
		snprintf(err, errlen, "napi_defer_hard_irqs/gro_flush_timeout: %s", strerror(errno));
	return failed ? -1 : 0;
}
