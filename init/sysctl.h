/* sysctl: the kernel settings multi-NIC MPTCP needs, written under /proc/sys. */
#ifndef MPSOCKS_SYSCTL_H
#define MPSOCKS_SYSCTL_H
#include <stddef.h>

/* Writes value to /proc/sys/PATH (PATH with '/', so interface names may hold dots). */
int sysctl_write(const char *path, const char *value);

/* Loose reverse-path filtering everywhere (replies and subflows arrive on every NIC, and a
 * strict filter drops packets whose source is routed via another table), ARP answered only
 * for addresses on the asking interface and announced from the outgoing interface's address
 * (several NICs, one host), IPv6 off unless ipv6 (some NIC is configured with it; then dead
 * NICs' routes skipped, as for IPv4), TCP buffer maxima of a
 * big machine, and NAPI interrupt deferral on every NIC (sysctl.c says why). Call it before any
 * link goes up. Returns 0, or -1 with the first failure in err. MPTCP itself is switched on
 * by endpoints.c, which reports a kernel without it. */
int sysctl_multipath(int ipv6, char *err, size_t errlen);

#endif
