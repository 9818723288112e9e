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

static int set(const char *path, const char *value, int *failed, char *err, size_t errlen)
{
	if (sysctl_write(path, value) == 0)
		return 0;
	if (!(*failed)++)
		snprintf(err, errlen, "%s=%s: %s", path, value, strerror(errno));
	return -1;
}

int sysctl_multipath(char *err, size_t errlen)
{
	static const struct {
		const char *key, *value;
	} conf[] = {
		{ "rp_filter", "2" },    /* loose */
		{ "arp_ignore", "1" },   /* answer ARP only for the interface's own address */
		{ "arp_announce", "2" }, /* ARP source = the outgoing interface's address */
	};
	char path[96];
	int failed = 0;
	size_t k;

	/* For all three the kernel uses max(conf/all, conf/IFACE): setting "all" covers every
	 * NIC, present or late, with one write each (each costs under TCG). */
	err[0] = '\0';
	for (k = 0; k < sizeof(conf) / sizeof(conf[0]); k++) {
		snprintf(path, sizeof(path), "net/ipv4/conf/all/%s", conf[k].key);
		set(path, conf[k].value, &failed, err, errlen);
	}
	return failed ? -1 : 0;
}
