/* lease: applying and removing a DHCP lease from udhcpc's hook (see lease.h). */
#include "lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include "endpoints.h"
#include "fileio.h"
#include "log.h"
#include "mptcp.h"
#include "rtnl.h"
#include "sockdconf.h"
#include "uplinks.h"

#define FLAG_SUBFLOW 2 /* MPTCP_PM_ADDR_FLAG_SUBFLOW (linux/mptcp.h clashes with netinet/in.h) */
#define FLAG_BACKUP 4  /* MPTCP_PM_ADDR_FLAG_BACKUP */
#define MAX_ADDRS 8

int lease_uplink_format(const struct lease_uplink *u, char *buf, size_t size)
{
	int n = snprintf(buf, size, "index=%d backup=%d dns=%d\n", u->index, u->backup, u->dns);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* "KEY=DIGITS" at *p, then a space or the end; advances *p. No sscanf: it would pull scanf
 * into the static init (~6 KiB) for this one line. */
static int take_field(const char **p, const char *key, int *v)
{
	size_t k = strlen(key);
	int n = 0, digits = 0;

	if (strncmp(*p, key, k) != 0)
		return -1;
	*p += k;
	while (**p >= '0' && **p <= '9' && digits < 4) {
		n = n * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	if (!digits || (**p && **p != ' ' && **p != '\n'))
		return -1;
	while (**p == ' ')
		(*p)++;
	*v = n;
	return 0;
}

int lease_uplink_parse(const char *text, struct lease_uplink *u)
{
	const char *p = text;

	if (take_field(&p, "index=", &u->index) || take_field(&p, "backup=", &u->backup) ||
	    take_field(&p, "dns=", &u->dns) || u->index >= CFG_MAX_NICS || (u->backup & ~1) ||
	    (u->dns & ~1))
		return -1;
	return 0;
}

static int mask_prefix(uint32_t mask_be)
{
	uint32_t m = ntohl(mask_be);
	int p = 0;

	while (p < 32 && (m & 0x80000000u)) {
		m <<= 1;
		p++;
	}
	return m ? -1 : p; /* a hole in the mask: not a prefix */
}

/* The first address of a space-separated list, and how many were read into out (max). */
static int parse_list(const char *s, struct in_addr *out, int max)
{
	char word[INET_ADDRSTRLEN + 1];
	int n = 0;

	while (s && *s && n < max) {
		size_t len;

		s += strspn(s, " ");
		len = strcspn(s, " ");
		if (!len)
			break;
		if (len < sizeof(word)) {
			memcpy(word, s, len);
			word[len] = '\0';
			if (inet_pton(AF_INET, word, &out[n]) == 1)
				n++;
		}
		s += len;
	}
	return n;
}

int lease_parse(const char *ip, const char *subnet, const char *mask, const char *router,
		const char *dns, struct lease *l, char *why, size_t wsize)
{
	struct in_addr m;
	char *end;
	long p;

	memset(l, 0, sizeof(*l));
	if (!ip || inet_pton(AF_INET, ip, &l->ip) != 1 || !l->ip.s_addr) {
		snprintf(why, wsize, "no valid address in the lease");
		return -1;
	}
	if (subnet && inet_pton(AF_INET, subnet, &m) == 1) {
		l->prefix = mask_prefix(m.s_addr);
	} else if (mask && *mask) {
		for (p = 0, end = (char *)mask; *end >= '0' && *end <= '9' && p <= 32; end++)
			p = p * 10 + (*end - '0');
		l->prefix = *end || end == mask ? -1 : (int)p;
	} else {
		l->prefix = -1;
	}
	if (l->prefix < 1 || l->prefix > 32) {
		snprintf(why, wsize, "no valid subnet mask in the lease");
		return -1;
	}
	l->has_router = parse_list(router, &l->router, 1) == 1;
	l->n_dns = parse_list(dns, l->dns, CFG_MAX_DNS);
	return 0;
}

int lease_is_hook(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	return base && strcmp(base, LEASE_HOOK_NAME) == 0;
}

/* `ip rule add priority PRIO lookup TABLE` (no selector): rtnl_rule_add always has a source. */
static int rule_catchall(struct nl *nl, uint32_t table, uint32_t priority)
{
	unsigned char buf[256] __attribute__((aligned(8)));
	struct fib_rule_hdr *frh;
	struct nlb b;
	int r;

	nlb_init(&b, buf, sizeof(buf), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL);
	frh = nlb_put_header(&b, sizeof(*frh));
	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	nla_put_u32(&b, FRA_TABLE, table);
	nla_put_u32(&b, FRA_PRIORITY, priority);
	r = nl_request(nl, &b, NULL, NULL);
	return r == -EEXIST ? 0 : r;
}

/* Removes the `from` rules and addresses of ifindex except keep (0: all); returns how many
 * addresses went. */
static int drop_addresses(struct nl *rt, const char *ifname, int ifindex, uint32_t table, uint32_t keep)
{
	uint32_t addrs[MAX_ADDRS];
	int prefixes[MAX_ADDRS], n, i, gone = 0;
	char a[INET_ADDRSTRLEN];

	n = rtnl_addr_list(rt, ifindex, addrs, prefixes, MAX_ADDRS);
	for (i = 0; i < n && i < MAX_ADDRS; i++) {
		if (addrs[i] == keep)
			continue;
		if (rtnl_rule_del(rt, addrs[i], table) != 0)
			log_line("nic %s: dhcp: rule from %s: %s", ifname,
				 inet_ntop(AF_INET, &addrs[i], a, sizeof(a)), rt->err);
		if (rtnl_addr_del(rt, ifindex, addrs[i], prefixes[i]) != 0)
			log_line("nic %s: dhcp: removing %s/%d: %s", ifname,
				 inet_ntop(AF_INET, &addrs[i], a, sizeof(a)), prefixes[i], rt->err);
		else
			gone++;
	}
	return gone;
}

/* The endpoint with this id, if the kernel holds one. */
static int find_endpoint(struct mptcp_pm *pm, uint8_t id, struct mptcp_endpoint *out)
{
	struct mptcp_endpoint got[MPTCP_EP_MAX];
	int i, n = 0;

	if (mptcp_dump_endpoints(pm, got, MPTCP_EP_MAX, &n) != 0)
		return -1;
	for (i = 0; i < n && i < MPTCP_EP_MAX; i++)
		if (got[i].id == id) {
			*out = got[i];
			return 1;
		}
	return 0;
}

/* Endpoint id i+1 for addr (replacing one for another address) and limits >= endpoints. */
static void set_endpoint(const char *ifname, int ifindex, const struct lease_uplink *u, uint32_t addr)
{
	struct mptcp_endpoint e = { 0 }, old;
	struct mptcp_endpoint all[MPTCP_EP_MAX];
	uint32_t sub = 0, acc = 0;
	struct mptcp_pm pm;
	int have, n = 0;

	if (mptcp_pm_open(&pm) != 0) {
		log_line("nic %s: dhcp: %s; no MPTCP endpoint", ifname, pm.nl.err);
		mptcp_pm_close(&pm);
		return;
	}
	e.id = (uint8_t)(u->index + 1);
	e.addr4 = addr;
	e.flags = FLAG_SUBFLOW | (u->backup ? FLAG_BACKUP : 0);
	e.ifindex = ifindex;
	have = find_endpoint(&pm, e.id, &old);
	if (have == 1 && old.addr4 == addr && old.ifindex == ifindex) {
		mptcp_pm_close(&pm);
		return; /* a renewal of the same address: subflows stay as they are */
	}
	if (have == 1 && mptcp_del_endpoint(&pm, e.id) != 0)
		log_line("nic %s: dhcp: removing endpoint id=%u: %s", ifname, e.id, pm.nl.err);
	if (mptcp_add_endpoint(&pm, &e) != 0)
		log_line("nic %s: dhcp: endpoint failed: %s", ifname, pm.nl.err);
	if (mptcp_dump_endpoints(&pm, all, MPTCP_EP_MAX, &n) == 0 &&
	    mptcp_get_limits(&pm, &sub, &acc) == 0 && (uint32_t)n > sub) {
		uint32_t lim = n > MPTCP_LIMIT_MAX ? MPTCP_LIMIT_MAX : (uint32_t)n;

		if (mptcp_set_limits(&pm, lim, lim > acc ? lim : acc) != 0)
			log_line("nic %s: dhcp: limits %u failed: %s", ifname, lim, pm.nl.err);
		else
			log_line("mptcp: limits subflows=%u add_addr_accepted=%u", lim, lim > acc ? lim : acc);
	}
	endpoints_print(&pm, e.id);
	mptcp_pm_close(&pm);
}

static void write_dns(const char *ifname, const struct lease *l)
{
	char text[512];
	int n;

	if (!l->n_dns)
		return;
	n = resolvconf_render(l->dns, l->n_dns, text, sizeof(text));
	if (n < 0 || write_file("/etc/resolv.conf", text, (size_t)n, 0644) != 0)
		log_line("nic %s: dhcp: writing /etc/resolv.conf failed: %s", ifname, strerror(errno));
	else
		log_line("dns: /etc/resolv.conf with %d nameserver%s from %s's lease", l->n_dns,
			 l->n_dns == 1 ? "" : "s", ifname);
}

static void bound(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u,
		  const char *event)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)u->index;
	struct nic_cfg c = { 0 };
	struct lease l;
	char why[96], extra[48];

	if (lease_parse(getenv("ip"), getenv("subnet"), getenv("mask"), getenv("router"),
			getenv("dns"), &l, why, sizeof(why)) != 0) {
		log_line("nic %s: dhcp %s: %s; ignored", ifname, event, why);
		return;
	}
	drop_addresses(rt, ifname, ifindex, table, l.ip.s_addr); /* a new address replaces the old */
	snprintf(c.ifname, sizeof(c.ifname), "%s", ifname);
	c.addr = l.ip;
	c.prefix = l.prefix;
	c.has_gw = l.has_router;
	c.gw = l.router;
	c.backup = u->backup;
	snprintf(extra, sizeof(extra), " (dhcp %s, lease %s s)", event,
		 getenv("lease") ? getenv("lease") : "?");
	if (!uplink_address(rt, &c, ifindex, u->index, 0, extra))
		return;
	if (rule_catchall(rt, table, (u->backup ? LEASE_CATCHALL_BACKUP : LEASE_CATCHALL_BASE) +
					     (uint32_t)u->index) != 0)
		log_line("nic %s: dhcp: rule lookup %u: %s", ifname, table, rt->err);
	set_endpoint(ifname, ifindex, u, l.ip.s_addr);
	if (u->dns)
		write_dns(ifname, &l);
	/* A new address: PID 1 rewrites sockd.conf's externals (and restarts sockd if they
	 * changed). Not for a renewal, and not on deconfig: a restart would cut every proxied
	 * connection, while an address-less external merely goes unused. */
	if (strcmp(event, "bound") == 0 && kill(1, SIGHUP) != 0)
		log_line("nic %s: dhcp: telling init: %s", ifname, strerror(errno));
}

static void deconfig(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)u->index;
	struct mptcp_endpoint old;
	struct mptcp_pm pm;
	int gone, had = 0;
	uint8_t id = (uint8_t)(u->index + 1);

	/* The endpoint first: the kernel then closes this uplink's subflows at once. */
	if (mptcp_pm_open(&pm) == 0 && (had = find_endpoint(&pm, id, &old)) == 1 &&
	    mptcp_del_endpoint(&pm, id) != 0) {
		log_line("nic %s: dhcp: removing endpoint id=%u: %s", ifname, id, pm.nl.err);
		had = 0;
	}
	mptcp_pm_close(&pm);
	gone = drop_addresses(rt, ifname, ifindex, table, 0);
	if (had == 1 || gone)
		log_line("nic %s: dhcp lease gone: %d address%s removed%s", ifname, gone,
			 gone == 1 ? "" : "es", had == 1 ? ", endpoint removed" : "");
}

/* Log lines go to the console even if udhcpc's output does not. */
static void console_out(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && fd != 1) {
		dup2(fd, 1);
		close(fd);
	}
}

int lease_main(int argc, char **argv)
{
	const char *event = argc > 1 ? argv[1] : "", *ifname = getenv("interface");
	char path[64], text[128];
	struct lease_uplink u;
	struct nl rt;
	int ifindex;

	console_out();
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/')) {
		log_line("dhcp hook: no interface given; nothing done");
		return 0;
	}
	if (strcmp(event, "bound") && strcmp(event, "renew") && strcmp(event, "deconfig"))
		return 0; /* leasefail, nak: udhcpc keeps trying and says so itself */
	snprintf(path, sizeof(path), "%s/%s", LEASE_STATE_DIR, ifname);
	if (read_file(path, text, sizeof(text)) < 0 || lease_uplink_parse(text, &u) != 0) {
		log_line("nic %s: dhcp %s: %s missing or malformed; nothing done", ifname, event, path);
		return 0;
	}
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		log_line("nic %s: dhcp %s: interface gone", ifname, event);
		return 0;
	}
	if (nl_open(&rt, NETLINK_ROUTE, 0) != 0) {
		log_line("nic %s: dhcp %s: %s", ifname, event, rt.err);
		return 0;
	}
	if (strcmp(event, "deconfig") == 0)
		deconfig(&rt, ifname, ifindex, &u);
	else
		bound(&rt, ifname, ifindex, &u, event);
	nl_close(&rt);
	return 0;
}
