/* Unit tests of init/lease.c's pure part: udhcpc's lease variables, the per-uplink state line
 * init writes for the hook, and recognising the hook by its name. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "lease.h"

static int ip_is(struct in_addr a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	return strcmp(inet_ntop(AF_INET, &a, buf, sizeof(buf)), want) == 0;
}

int main(void)
{
	struct check c = { "lease", 0 };
	struct lease l;
	struct lease_uplink u = { 3, 1, 0 }, v;
	char why[96], text[64];

	CHECK(&c, "full lease", lease_parse("198.18.1.57", "255.255.255.0", "24", "198.18.1.1 198.18.1.2",
					    "9.9.9.9 1.1.1.1 8.8.8.8 8.8.4.4", &l, why, sizeof(why)) == 0);
	CHECK(&c, "address", ip_is(l.ip, "198.18.1.57"));
	CHECK(&c, "prefix from the dotted mask", l.prefix == 24);
	CHECK(&c, "first router", l.has_router && ip_is(l.router, "198.18.1.1"));
	CHECK(&c, "at most 3 DNS servers, in order", l.n_dns == 3 && ip_is(l.dns[0], "9.9.9.9") &&
							    ip_is(l.dns[2], "8.8.8.8"));
	CHECK(&c, "prefix from mask= when subnet is missing",
	      lease_parse("10.0.0.9", NULL, "16", NULL, NULL, &l, why, sizeof(why)) == 0 && l.prefix == 16 &&
		      !l.has_router && l.n_dns == 0);
	CHECK(&c, "a mask with a hole is refused",
	      lease_parse("10.0.0.9", "255.0.255.0", NULL, NULL, NULL, &l, why, sizeof(why)) == -1 &&
		      strstr(why, "mask"));
	CHECK(&c, "no address is refused", lease_parse(NULL, "255.255.255.0", NULL, NULL, NULL, &l, why,
						       sizeof(why)) == -1);
	CHECK(&c, "a bad address is refused", lease_parse("1.2.3", "255.255.255.0", NULL, NULL, NULL, &l,
							  why, sizeof(why)) == -1);
	CHECK(&c, "0.0.0.0 is refused", lease_parse("0.0.0.0", "255.255.255.0", NULL, NULL, NULL, &l, why,
						    sizeof(why)) == -1);
	CHECK(&c, "mask=0 is refused", lease_parse("10.0.0.9", NULL, "0", NULL, NULL, &l, why, sizeof(why)) == -1);
	CHECK(&c, "mask=garbage is refused", lease_parse("10.0.0.9", NULL, "2x", NULL, NULL, &l, why,
							 sizeof(why)) == -1);
	CHECK(&c, "garbage in the router and DNS lists is skipped",
	      lease_parse("10.0.0.9", "255.255.255.252", NULL, "  x 10.0.0.10", "zz 10.0.0.1", &l, why,
			  sizeof(why)) == 0 && l.prefix == 30 && ip_is(l.router, "10.0.0.10") && l.n_dns == 1);

	CHECK(&c, "state line round trip", lease_uplink_format(&u, text, sizeof(text)) > 0 &&
						   lease_uplink_parse(text, &v) == 0 && v.index == 3 &&
						   v.backup == 1 && v.dns == 0);
	CHECK(&c, "state line too small", lease_uplink_format(&u, text, 8) == -1);
	CHECK(&c, "state line: index out of range", lease_uplink_parse("index=8 backup=0 dns=0", &v) == -1);
	CHECK(&c, "state line: bad flag", lease_uplink_parse("index=1 backup=2 dns=0", &v) == -1);
	CHECK(&c, "state line: garbage", lease_uplink_parse("index=1", &v) == -1 &&
						 lease_uplink_parse("", &v) == -1);

	CHECK(&c, "hook by path", lease_is_hook("/bin/mpsocks-dhcp"));
	CHECK(&c, "hook by bare name", lease_is_hook("mpsocks-dhcp"));
	CHECK(&c, "init is not the hook", !lease_is_hook("/init") && !lease_is_hook("/bin/mpsocks-dhcpx") &&
						  !lease_is_hook(NULL));
	return CHECK_DONE(&c);
}
