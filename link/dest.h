/* dest.h: where the exit never connects for a client: itself. Loopback, unspecified, link-local
 * (a VPS's metadata service, 169.254.169.254), multicast and broadcast, and every address of
 * its own interfaces, so a key holder reaches the internet and not the VPS's own services. */
#ifndef LINK_DEST_H
#define LINK_DEST_H

#include <stdbool.h>
#include <sys/socket.h>

/* Is SA (AF_INET or AF_INET6) outside the ranges above? v4-mapped IPv6 counts as its IPv4. */
bool link_dest_public(const struct sockaddr *sa);
/* Is SA one of this host's interface addresses? (getifaddrs; false when it cannot tell) */
bool link_dest_is_own(const struct sockaddr *sa);

#endif
