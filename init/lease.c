/* lease: a DHCP lease, its report line, and applying it in PID 1 (see lease.h). */
#include "lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

static const char *const event_names[] = {
	[LEASE_BOUND] = "bound",
	[LEASE_RENEW] = "renew",
	[LEASE_DECONFIG] = "deconfig",
	[LEASE_LEASEFAIL] = "leasefail",
};

int lease_event_parse(const char *name)
{
	int e;

	for (e = LEASE_BOUND; e <= LEASE_LEASEFAIL; e++)
		if (name && strcmp(name, event_names[e]) == 0)
			return e;
	return -EINVAL;
}

const char *lease_event_name(enum lease_event e)
{
	return e >= LEASE_BOUND && e <= LEASE_LEASEFAIL ? event_names[e] : "?";
}

bool lease_event_has_lease(enum lease_event e)
{
	return e == LEASE_BOUND || e == LEASE_RENEW;
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

/* Decimal digits up to end (or NUL); -1 for none, anything else, or more than max. No
 * strtol/sscanf: they would pull scanf into the static init (~12 KiB). */
static long digits(const char *s, const char *end, long max)
{
	long v = 0;

	if (!s || s == end || !*s)
		return -1;
	for (; s != end && *s; s++) {
		if (*s < '0' || *s > '9' || v > max)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > max ? -1 : v;
}

/* Up to max addresses of a list separated by any of seps, into out; returns how many.
 * Words that are no address are skipped. */
static int parse_list(const char *s, const char *seps, struct in_addr *out, int max)
{
	char word[INET_ADDRSTRLEN + 1];
	int n = 0;

	while (s && *s && n < max) {
		size_t len;

		s += strspn(s, seps);
		len = strcspn(s, seps);
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
		const char *dns, const char *seconds, struct lease *l, char *why, size_t wsize)
{
	struct in_addr m;
	long s;

	memset(l, 0, sizeof(*l));
	if (!ip || inet_pton(AF_INET, ip, &l->ip) != 1 || !l->ip.s_addr) {
		snprintf(why, wsize, "no valid address in the lease");
		return -EINVAL;
	}
	if (subnet && inet_pton(AF_INET, subnet, &m) == 1)
		l->prefix = mask_prefix(m.s_addr);
	else
		l->prefix = (int)digits(mask, NULL, 32);
	if (l->prefix < 1 || l->prefix > 32) {
		snprintf(why, wsize, "no valid subnet mask in the lease");
		return -EINVAL;
	}
	l->has_router = parse_list(router, " ", &l->router, 1) == 1;
	l->n_dns = parse_list(dns, " ", l->dns, CFG_MAX_DNS);
	s = digits(seconds, NULL, 0xfffffffL);
	l->seconds = s > 0 ? (unsigned)s : 0;
	return 0;
}

/* Appends to buf at *len; once something did not fit, *len stays >= size. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

int lease_report_format(const struct lease_report *r, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];
	size_t len = 0;
	int i;

	append(buf, size, &len, "event=%s", lease_event_name(r->event));
	if (lease_event_has_lease(r->event)) {
		append(buf, size, &len, " ip=%s/%d", inet_ntop(AF_INET, &r->l.ip, a, sizeof(a)),
		       r->l.prefix);
		if (r->l.has_router)
			append(buf, size, &len, " router=%s",
			       inet_ntop(AF_INET, &r->l.router, a, sizeof(a)));
		for (i = 0; i < r->l.n_dns; i++)
			append(buf, size, &len, "%s%s", i ? "," : " dns=",
			       inet_ntop(AF_INET, &r->l.dns[i], a, sizeof(a)));
		if (r->l.seconds)
			append(buf, size, &len, " lease=%u", r->l.seconds);
	}
	append(buf, size, &len, "\n");
	return len < size ? (int)len : -ENOSPC;
}

/* One `KEY=VALUE` word of a report: at *p, value copied into val; advances *p past it. */
static int take_word(const char **p, char *key, size_t ksize, char *val, size_t vsize)
{
	size_t k, v;

	*p += strspn(*p, " ");
	k = strcspn(*p, "= \n");
	if (!k || (*p)[k] != '=' || k >= ksize)
		return -EINVAL;
	memcpy(key, *p, k);
	key[k] = '\0';
	*p += k + 1;
	v = strcspn(*p, " \n");
	if (!v || v >= vsize)
		return -EINVAL;
	memcpy(val, *p, v);
	val[v] = '\0';
	*p += v;
	return 0;
}

int lease_report_parse(const char *text, struct lease_report *r)
{
	char key[16], val[64], *slash;
	const char *p = text;
	int e, have_ip = 0;
	long v;

	memset(r, 0, sizeof(*r));
	if (take_word(&p, key, sizeof(key), val, sizeof(val)) || strcmp(key, "event") ||
	    (e = lease_event_parse(val)) < 0)
		return -EINVAL;
	r->event = (enum lease_event)e;
	for (;;) {
		p += strspn(p, " \n");
		if (!*p)
			break;
		if (take_word(&p, key, sizeof(key), val, sizeof(val)))
			return -EINVAL;
		if (strcmp(key, "ip") == 0 && (slash = strchr(val, '/'))) {
			*slash = '\0';
			v = digits(slash + 1, NULL, 32);
			if (inet_pton(AF_INET, val, &r->l.ip) != 1 || !r->l.ip.s_addr || v < 1)
				return -EINVAL;
			r->l.prefix = (int)v;
			have_ip = 1;
		} else if (strcmp(key, "router") == 0) {
			if (inet_pton(AF_INET, val, &r->l.router) != 1)
				return -EINVAL;
			r->l.has_router = true;
		} else if (strcmp(key, "dns") == 0) {
			r->l.n_dns = parse_list(val, ",", r->l.dns, CFG_MAX_DNS);
		} else if (strcmp(key, "lease") == 0) {
			v = digits(val, NULL, 0xfffffffL);
			if (v < 0)
				return -EINVAL;
			r->l.seconds = (unsigned)v;
		} else {
			return -EINVAL;
		}
	}
	/* A lease without its address is no lease; an address without one is a stray. */
	return have_ip == lease_event_has_lease(r->event) ? 0 : -EINVAL;
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
 * addresses went, or the first error. */
static int drop_addresses(struct nl *rt, const char *ifname, int ifindex, uint32_t table,
			  uint32_t keep)
{
	uint32_t addrs[MAX_ADDRS];
	int prefixes[MAX_ADDRS], n, i, r, err = 0, gone = 0;
	char a[INET_ADDRSTRLEN];

	n = rtnl_addr_list(rt, ifindex, addrs, prefixes, MAX_ADDRS);
	for (i = 0; i < n && i < MAX_ADDRS; i++) {
		if (addrs[i] == keep)
			continue;
		if ((r = rtnl_rule_del(rt, addrs[i], table)) != 0) {
			log_line("nic %s: dhcp: rule from %s: %s", ifname,
				 inet_ntop(AF_INET, &addrs[i], a, sizeof(a)), rt->err);
			err = err ? err : r;
		}
		if ((r = rtnl_addr_del(rt, ifindex, addrs[i], prefixes[i])) != 0) {
			log_line("nic %s: dhcp: removing %s/%d: %s", ifname,
				 inet_ntop(AF_INET, &addrs[i], a, sizeof(a)), prefixes[i], rt->err);
			err = err ? err : r;
		} else {
			gone++;
		}
	}
	return err ? err : gone;
}

/* The endpoint with this id: 1 when the kernel holds one (in out), 0 when not, or an error. */
static int find_endpoint(struct mptcp_pm *pm, uint8_t id, struct mptcp_endpoint *out)
{
	struct mptcp_endpoint got[MPTCP_EP_MAX];
	int i, n = 0, r;

	if ((r = mptcp_dump_endpoints(pm, got, MPTCP_EP_MAX, &n)) != 0)
		return r < 0 ? r : -EIO;
	for (i = 0; i < n && i < MPTCP_EP_MAX; i++)
		if (got[i].id == id) {
			*out = got[i];
			return 1;
		}
	return 0;
}

/* Endpoint id i+1 for addr (replacing one for another address) and limits >= endpoints.
 * Failures are logged: the address works without MPTCP subflows on it. */
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

int lease_apply(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u,
		const struct lease *l, const char *event)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)u->index;
	struct nic_cfg c = { 0 };
	char extra[48], secs[16];
	int r;

	/* A new address replaces the old; a leftover that cannot go is logged, not fatal. */
	drop_addresses(rt, ifname, ifindex, table, l->ip.s_addr);
	snprintf(c.ifname, sizeof(c.ifname), "%s", ifname);
	c.addr = l->ip;
	c.prefix = l->prefix;
	c.has_gw = l->has_router;
	c.gw = l->router;
	c.backup = u->backup;
	snprintf(secs, sizeof(secs), "%u", l->seconds);
	snprintf(extra, sizeof(extra), " (dhcp %s, lease %s s)", event, l->seconds ? secs : "?");
	if (!uplink_address(rt, &c, ifindex, u->index, 0, extra))
		return -EADDRNOTAVAIL;
	if ((r = rule_catchall(rt, table, (u->backup ? LEASE_CATCHALL_BACKUP : LEASE_CATCHALL_BASE) +
						  (uint32_t)u->index)) != 0)
		log_line("nic %s: dhcp: rule lookup %u: %s", ifname, table, rt->err);
	set_endpoint(ifname, ifindex, u, l->ip.s_addr);
	if (u->dns)
		write_dns(ifname, l);
	return 0;
}

int lease_drop(struct nl *rt, const char *ifname, int ifindex, const struct lease_uplink *u)
{
	uint32_t table = UPLINK_TABLE_BASE + (uint32_t)u->index;
	uint8_t id = (uint8_t)(u->index + 1);
	struct mptcp_endpoint old;
	struct mptcp_pm pm;
	int gone, had = 0, err = 0;

	/* The endpoint first: the kernel then closes this uplink's subflows at once. */
	if (mptcp_pm_open(&pm) == 0 && (had = find_endpoint(&pm, id, &old)) == 1 &&
	    (err = mptcp_del_endpoint(&pm, id)) != 0) {
		log_line("nic %s: dhcp: removing endpoint id=%u: %s", ifname, id, pm.nl.err);
		had = 0;
	}
	mptcp_pm_close(&pm);
	gone = drop_addresses(rt, ifname, ifindex, table, 0);
	if (gone < 0)
		return gone;
	if (had == 1 || gone)
		log_line("nic %s: dhcp lease gone: %d address%s removed%s", ifname, gone,
			 gone == 1 ? "" : "es", had == 1 ? ", endpoint removed" : "");
	return err < 0 ? err : 0;
}
