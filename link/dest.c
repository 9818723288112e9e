/* dest.c: see dest.h. */
#include "dest.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

static bool v4_public(const unsigned char *a)
{
	if (a[0] == 0 || a[0] == 127 || a[0] >= 224)  /* this network, loopback, multicast and up */
		return false;
	return !(a[0] == 169 && a[1] == 254);          /* link-local */
}

bool link_dest_public(const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a;

	if (sa->sa_family == AF_INET)
		return v4_public((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return v4_public(a + 12);
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)) /* multicast, link-local */
		return false;
	for (int i = 0; i < 15; i++) /* :: and ::1 */
		if (a[i])
			return true;
	return a[15] > 1;
}

bool link_dest_is_own(const struct sockaddr *sa)
{
	struct ifaddrs *all, *i;
	bool own = false;

	if (getifaddrs(&all) < 0)
		return false;
	for (i = all; i && !own; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET)
			own = ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			      ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
		else
			own = memcmp(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				     &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) == 0;
	}
	freeifaddrs(all);
	return own;
}
