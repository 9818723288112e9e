/* Unit tests of init/lease.c and init/dhcphook.c: udhcpc's lease variables, the report line
 * the hook hands to PID 1, recognising the hook by its name, and (as root, in a private
 * network namespace) PID 1 applying and dropping a lease on a veth. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dhcphook.h"
#include "lease.h"

static int ip_is(struct in_addr a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	return strcmp(inet_ntop(AF_INET, &a, buf, sizeof(buf)), want) == 0;
}

static void test_parse(struct check *c)
{
	struct lease l;
	char why[96];

	CHECK(c, "full lease", lease_parse("198.18.1.57", "255.255.255.0", "24", "198.18.1.1 198.18.1.2",
					    "9.9.9.9 1.1.1.1 8.8.8.8 8.8.4.4", "3600", &l, why, sizeof(why)) == 0);
	CHECK(c, "address", ip_is(l.ip, "198.18.1.57"));
	CHECK(c, "prefix from the dotted mask", l.prefix == 24);
	CHECK(c, "first router", l.has_router && ip_is(l.router, "198.18.1.1"));
	CHECK(c, "at most 3 DNS servers, in order", l.n_dns == 3 && ip_is(l.dns[0], "9.9.9.9") &&
							    ip_is(l.dns[2], "8.8.8.8"));
	CHECK(c, "lease time", l.seconds == 3600);
	CHECK(c, "prefix from mask= when subnet is missing",
	      lease_parse("10.0.0.9", NULL, "16", NULL, NULL, NULL, &l, why, sizeof(why)) == 0 &&
		      l.prefix == 16 && !l.has_router && l.n_dns == 0 && l.seconds == 0);
	CHECK(c, "a mask with a hole is refused",
	      lease_parse("10.0.0.9", "255.0.255.0", NULL, NULL, NULL, NULL, &l, why, sizeof(why)) < 0 &&
		      strstr(why, "mask"));
	CHECK(c, "no address is refused", lease_parse(NULL, "255.255.255.0", NULL, NULL, NULL, NULL, &l,
						       why, sizeof(why)) < 0);
	CHECK(c, "a bad address is refused", lease_parse("1.2.3", "255.255.255.0", NULL, NULL, NULL, NULL,
							  &l, why, sizeof(why)) < 0);
	CHECK(c, "0.0.0.0 is refused", lease_parse("0.0.0.0", "255.255.255.0", NULL, NULL, NULL, NULL, &l,
						    why, sizeof(why)) < 0);
	CHECK(c, "mask=0 is refused", lease_parse("10.0.0.9", NULL, "0", NULL, NULL, NULL, &l, why,
						   sizeof(why)) < 0);
	CHECK(c, "mask=garbage is refused", lease_parse("10.0.0.9", NULL, "2x", NULL, NULL, NULL, &l, why,
							 sizeof(why)) < 0);
	CHECK(c, "garbage in the router and DNS lists and the lease time is skipped",
	      lease_parse("10.0.0.9", "255.255.255.252", NULL, "  x 10.0.0.10", "zz 10.0.0.1", "-5", &l,
			  why, sizeof(why)) == 0 &&
		      l.prefix == 30 && ip_is(l.router, "10.0.0.10") && l.n_dns == 1 && l.seconds == 0);
}

static void test_report(struct check *c)
{
	struct lease_report r = { .event = LEASE_BOUND }, back;
	char text[LEASE_REPORT_MAX], why[96];

	lease_parse("198.18.1.57", "255.255.255.0", NULL, "198.18.1.1", "9.9.9.9 1.1.1.1", "600", &r.l,
		    why, sizeof(why));
	CHECK(c, "report line of a lease",
	      lease_report_format(&r, text, sizeof(text)) > 0 &&
		      strcmp(text, "event=bound ip=198.18.1.57/24 router=198.18.1.1 dns=9.9.9.9,1.1.1.1 lease=600\n") == 0);
	CHECK(c, "report round trip",
	      lease_report_parse(text, &back) == 0 && back.event == LEASE_BOUND &&
		      ip_is(back.l.ip, "198.18.1.57") && back.l.prefix == 24 && back.l.has_router &&
		      ip_is(back.l.router, "198.18.1.1") && back.l.n_dns == 2 && ip_is(back.l.dns[1], "1.1.1.1") &&
		      back.l.seconds == 600);
	CHECK(c, "report too long for the buffer", lease_report_format(&r, text, 20) < 0);
	r.event = LEASE_DECONFIG;
	CHECK(c, "deconfig reports the event alone",
	      lease_report_format(&r, text, sizeof(text)) > 0 && strcmp(text, "event=deconfig\n") == 0 &&
		      lease_report_parse(text, &back) == 0 && back.event == LEASE_DECONFIG);
	CHECK(c, "renew without router, DNS or lease time",
	      lease_report_parse("event=renew ip=10.0.0.9/30", &back) == 0 && back.event == LEASE_RENEW &&
		      back.l.prefix == 30 && !back.l.has_router && back.l.n_dns == 0);
	CHECK(c, "leasefail carries no lease", lease_report_parse("event=leasefail\n", &back) == 0 &&
						       back.event == LEASE_LEASEFAIL &&
						       !lease_event_has_lease(back.event));
	CHECK(c, "malformed reports are refused",
	      lease_report_parse("", &back) < 0 && lease_report_parse("event=nak\n", &back) < 0 &&
		      lease_report_parse("event=bound\n", &back) < 0 &&
		      lease_report_parse("event=bound ip=10.0.0.9\n", &back) < 0 &&
		      lease_report_parse("event=bound ip=10.0.0.9/33\n", &back) < 0 &&
		      lease_report_parse("event=bound ip=10.0.0.9/24 what=1\n", &back) < 0 &&
		      lease_report_parse("event=bound ip=10.0.0.9/24 router=x\n", &back) < 0 &&
		      lease_report_parse("event=deconfig ip=10.0.0.9/24\n", &back) < 0 &&
		      lease_report_parse("ip=10.0.0.9/24 event=bound\n", &back) < 0);
	CHECK(c, "events by name", lease_event_parse("bound") == LEASE_BOUND &&
					   lease_event_parse("renew") == LEASE_RENEW &&
					   lease_event_parse("deconfig") == LEASE_DECONFIG &&
					   lease_event_parse("leasefail") == LEASE_LEASEFAIL &&
					   lease_event_parse("nak") < 0 && lease_event_parse(NULL) < 0);

	CHECK(c, "hook by path", dhcphook_is_hook("/bin/mpsocks-dhcp"));
	CHECK(c, "hook by bare name", dhcphook_is_hook("mpsocks-dhcp"));
	CHECK(c, "init is not the hook", !dhcphook_is_hook("/init") &&
						 !dhcphook_is_hook("/bin/mpsocks-dhcpx") && !dhcphook_is_hook(NULL));
}

/* Output of a command, for checking state with an independent tool (ip). */
static int cmd_has(const char *cmd, const char *want)
{
	char out[4096];
	FILE *f = popen(cmd, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return strstr(out, want) != NULL;
}

/* Runs PID 1's side with its console lines (fd 1) captured in log. */
static int applied(struct nl *rt, int ifindex, const struct lease_uplink *u, const char *report,
		   char *log, size_t size)
{
	struct lease_report r;
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600), saved, ret;
	const char *line;
	ssize_t n;

	if (fd < 0 || lease_report_parse(report, &r) != 0)
		return -1;
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	if (lease_event_has_lease(r.event))
		ret = lease_apply(rt, "mpsl0", ifindex, u, &r.l, lease_event_name(r.event));
	else
		ret = lease_drop(rt, "mpsl0", ifindex, u);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, log, size - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	for (line = log; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != '\0'))
		printf("# %.*s\n", (int)strcspn(line, "\n"), line);
	return ret;
}

static void test_kernel(struct check *c)
{
	struct lease_uplink u = { 1, false, false }; /* no resolv.conf: this is the host's /etc */
	char log[2048];
	struct nl rt;
	int ifindex;

	if (unshare(CLONE_NEWNET) != 0) {
		CHECK(c, "unshare(CLONE_NEWNET) (run as root)", 0);
		return;
	}
	if (system("ip link add mpsl0 type veth peer name mpsl0p && ip link set mpsl0 up && "
		   "ip link set mpsl0p up && ip link set lo up") != 0 ||
	    nl_open(&rt, NETLINK_ROUTE, 0) != 0) {
		CHECK(c, "veth in a private namespace", 0);
		return;
	}
	ifindex = (int)if_nametoindex("mpsl0");
	CHECK(c, "apply: bound",
	      applied(&rt, ifindex, &u, "event=bound ip=198.18.1.57/24 router=198.18.1.1 lease=60\n", log,
		      sizeof(log)) == 0 &&
		      strstr(log, "nic mpsl0: 198.18.1.57/24, table 101 default via 198.18.1.1, rule from "
				  "198.18.1.57 (dhcp bound, lease 60 s)") &&
		      strstr(log, "endpoint id=2 198.18.1.57 dev mpsl0 flags=subflow"));
	CHECK(c, "apply: the kernel holds address, table, rules and endpoint",
	      cmd_has("ip -4 addr show dev mpsl0", "inet 198.18.1.57/24") &&
		      cmd_has("ip route show table 101", "default via 198.18.1.1 dev mpsl0") &&
		      cmd_has("ip rule", "from 198.18.1.57 lookup 101") &&
		      cmd_has("ip rule", "40001:\tfrom all lookup 101") &&
		      cmd_has("ip mptcp endpoint show", "198.18.1.57 id 2 subflow dev mpsl0"));
	CHECK(c, "apply: a renewal of the same address changes nothing in MPTCP",
	      applied(&rt, ifindex, &u, "event=renew ip=198.18.1.57/24 router=198.18.1.1 lease=60\n", log,
		      sizeof(log)) == 0 &&
		      !strstr(log, "endpoint id="));
	CHECK(c, "apply: a new address replaces the old one, its rule and its endpoint",
	      applied(&rt, ifindex, &u, "event=bound ip=198.18.1.99/24 router=198.18.1.1\n", log,
		      sizeof(log)) == 0 &&
		      strstr(log, "(dhcp bound, lease ? s)") &&
		      strstr(log, "endpoint id=2 198.18.1.99 dev mpsl0 flags=subflow") &&
		      !cmd_has("ip -4 addr show dev mpsl0", "198.18.1.57") &&
		      !cmd_has("ip rule", "from 198.18.1.57 ") &&
		      cmd_has("ip mptcp endpoint show", "198.18.1.99 id 2 subflow dev mpsl0"));
	CHECK(c, "drop: endpoint, rule and address gone, routes with them",
	      applied(&rt, ifindex, &u, "event=deconfig\n", log, sizeof(log)) == 0 &&
		      strstr(log, "nic mpsl0: dhcp lease gone: 1 address removed, endpoint removed") &&
		      !cmd_has("ip -4 addr show dev mpsl0", "inet ") &&
		      !cmd_has("ip rule", "from 198.18.1.99") &&
		      !cmd_has("ip route show table 101", "default") &&
		      !cmd_has("ip mptcp endpoint show", "id 2"));
	CHECK(c, "drop again: nothing to do, nothing said",
	      applied(&rt, ifindex, &u, "event=leasefail\n", log, sizeof(log)) == 0 && log[0] == '\0');
	nl_close(&rt);
}

int main(void)
{
	struct check c = { "lease", 0 };

	test_parse(&c);
	test_report(&c);
	test_kernel(&c);
	return CHECK_DONE(&c);
}
