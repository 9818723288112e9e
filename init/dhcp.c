/* dhcp: udhcpc per DHCP uplink, driven by link state (see dhcp.h). */
#include "dhcp.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dhcphook.h"
#include "fileio.h"
#include "lease.h"
#include "log.h"
#include "rtnl.h"

#define UDHCPC_PATH "/bin/busybox"

static bool is_dhcp(const struct dhcp *d, int i)
{
	return !d->up->u[i].lan && d->up->u[i].cfg->dhcp;
}

/* udhcpc is started once the NIC exists and has a carrier (or cannot tell): a discover sent
 * without one is lost, and a signal that came before udhcpc set up its handlers would kill it. */
static bool startable(const struct dhcp *d, int i)
{
	return is_dhcp(d, i) && !d->c[i].argv && d->up->u[i].ifindex && d->w->lower_up[i] != 0;
}

/* Starts udhcpc in the foreground: -R releases the lease when it is told to stop; discover
 * 3 times 1 s apart, then pause 2 s. */
static void start_one(struct dhcp *d, int i)
{
	const struct nic_cfg *c = d->up->u[i].cfg;
	char **argv = d->argv[i];
	int n;

	n = 0;
	argv[n++] = "udhcpc";
	argv[n++] = "-f";
	argv[n++] = "-R";
	argv[n++] = "-i";
	argv[n++] = (char *)c->ifname;
	argv[n++] = "-s";
	argv[n++] = DHCPHOOK_PATH;
	argv[n++] = "-t";
	argv[n++] = "3";
	argv[n++] = "-T";
	argv[n++] = "1";
	argv[n++] = "-A";
	argv[n++] = "2";
	argv[n] = NULL;
	d->c[i] = (struct child){ .name = "udhcpc", .path = UDHCPC_PATH, .argv = argv };
	if (child_start(&d->c[i], d->mask, now_ms()) == 0 && !d->c[i].exec_errno)
		log_line("nic %s: dhcp: udhcpc started (pid %d)", c->ifname, (int)d->c[i].pid);
	d->carrier[i] = d->w->lower_up[i];
}

static void on_timer(void *arg)
{
	struct dhcp *d = arg;
	uint64_t now = now_ms(), next = 0;
	int i;

	for (i = 0; i < d->up->n; i++) {
		struct child *c = &d->c[i];

		if (c->pid || !c->restart_at || d->stopped)
			continue;
		if (now >= c->restart_at)
			start_one(d, i);
		else if (!next || c->restart_at < next)
			next = c->restart_at;
	}
	d->timer.when = next;
}

/* One uplink's report, if it changed since the last: applied. Returns true when the uplink
 * now holds an address it did not hold before. */
static bool take_report(struct dhcp *d, struct nl *rt, int i)
{
	const struct nic_cfg *c = d->up->u[i].cfg;
	struct lease_uplink u = { i, c->backup, d->write_dns };
	char path[64], text[LEASE_REPORT_MAX];
	struct lease_report rep;
	uint32_t had = d->addr[i];
	int ifindex;

	snprintf(path, sizeof(path), "%s/%s%s", LEASE_DIR, c->ifname, LEASE_SUFFIX);
	if (read_file(path, text, sizeof(text)) < 0 || strcmp(text, d->applied[i]) == 0)
		return false; /* none yet, or nothing new */
	memcpy(d->applied[i], text, sizeof(text));
	if (lease_report_parse(text, &rep) != 0) {
		log_line("nic %s: dhcp: malformed report in %s; ignored", c->ifname, path);
		return false;
	}
	ifindex = (int)if_nametoindex(c->ifname);
	if (!ifindex) {
		log_line("nic %s: dhcp %s: interface gone", c->ifname, lease_event_name(rep.event));
		d->addr[i] = 0;
		return false;
	}
	if (!lease_event_has_lease(rep.event)) {
		lease_drop(rt, c->ifname, ifindex, &u);
		d->addr[i] = 0;
		return false;
	}
	d->addr[i] = lease_apply(rt, c->ifname, ifindex, &u, &rep.l,
				 lease_event_name(rep.event)) == 0 ? rep.l.ip.s_addr : 0;
	return d->addr[i] && d->addr[i] != had;
}

void dhcp_reports(struct dhcp *d)
{
	bool fresh = false, any = false;
	struct nl rt;
	int i;

	for (i = 0; i < d->up->n; i++)
		any |= is_dhcp(d, i);
	if (!any)
		return;
	if (nl_open(&rt, NETLINK_ROUTE, 0) != 0) {
		log_line("dhcp: %s; leases not applied", rt.err);
		return;
	}
	for (i = 0; i < d->up->n; i++)
		if (is_dhcp(d, i) && take_report(d, &rt, i))
			fresh = true;
	nl_close(&rt);
	/* Only for a new address: a lost one leaves sockd.conf alone, since restarting sockd
	 * would cut every proxied connection while an address-less external goes unused. */
	if (fresh && d->new_address)
		d->new_address(d->arg);
}

/* The fifo is readable: drain it (one byte per report, any number of them), then read the
 * reports themselves. */
static void on_wake(void *arg)
{
	struct dhcp *d = arg;
	char buf[64];

	while (read(d->wake.fd, buf, sizeof(buf)) > 0)
		;
	dhcp_reports(d);
}

/* The hook's fifo, opened read-write so it never reports end-of-file while no hook runs. */
static int open_wake(struct dhcp *d, struct loop *l)
{
	if (mkdir(LEASE_DIR, 0755) != 0 && errno != EEXIST)
		return -errno;
	if (mkfifo(LEASE_WAKE, 0600) != 0 && errno != EEXIST)
		return -errno;
	d->wake = (struct loop_watch){ .fd = open(LEASE_WAKE, O_RDWR | O_NONBLOCK | O_CLOEXEC), .fn = on_wake, .arg = d };
	if (d->wake.fd < 0)
		return -errno;
	return loop_add_fd(l, &d->wake) != 0 ? -errno : 0;
}

void dhcp_setup(struct dhcp *d, const struct config *cfg, struct uplinks *up, struct nic_watch *w,
		struct loop *l, const sigset_t *mask, loop_fn new_address, void *arg)
{
	int i, any = 0, r;

	memset(d, 0, sizeof(*d));
	d->up = up;
	d->w = w;
	d->mask = mask;
	d->write_dns = cfg->n_dns == 0;
	d->new_address = new_address;
	d->arg = arg;
	d->wake.fd = -1;
	for (i = 0; i < up->n; i++)
		any |= is_dhcp(d, i);
	if (!any)
		return;
	d->timer = (struct loop_timer){ 0, on_timer, d };
	if (loop_add_timer(l, &d->timer) != 0)
		log_line("dhcp: no timer left in the event loop; udhcpc is not restarted");
	if ((r = open_wake(d, l)) != 0)
		log_line("dhcp: %s: %s; leases are applied only when a NIC changes", LEASE_WAKE,
			 strerror(-r));
	for (i = 0; i < NICS_MAX; i++)
		d->carrier[i] = -1;
	for (i = 0; i < up->n; i++)
		if (startable(d, i))
			start_one(d, i);
}

void dhcp_links(struct dhcp *d)
{
	int i, now;

	if (d->wake.fd < 0)
		dhcp_reports(d); /* no fifo: look for reports at least on link events */
	for (i = 0; i < d->up->n; i++) {
		if (!is_dhcp(d, i) || d->stopped)
			continue;
		if (startable(d, i)) { /* carrier came, or the NIC appeared late (uplinks_late) */
			start_one(d, i);
			continue;
		}
		now = d->w->lower_up[i];
		if (now < 0 || now == d->carrier[i] || !d->c[i].pid)
			continue;
		/* Down: release now (the hook drops the endpoint); up again: ask for a lease. */
		if (kill(d->c[i].pid, now ? SIGUSR1 : SIGUSR2) != 0)
			log_line("nic %s: dhcp: signalling udhcpc: %s", d->up->u[i].cfg->ifname, strerror(errno));
		d->carrier[i] = now;
	}
}

int dhcp_reaped(struct dhcp *d, pid_t pid, int status, uint64_t now)
{
	int i;

	for (i = 0; i < d->up->n; i++) {
		if (!child_reaped(&d->c[i], pid, status, now))
			continue;
		if (d->c[i].restart_at && (!d->timer.when || d->c[i].restart_at < d->timer.when))
			d->timer.when = d->c[i].restart_at;
		return 1;
	}
	return 0;
}

void dhcp_stop(struct dhcp *d)
{
	int i;

	d->stopped = 1;
	d->timer.when = 0;
	for (i = 0; i < NICS_MAX; i++) {
		d->c[i].stopped = 1;
		if (d->c[i].pid)
			kill(d->c[i].pid, SIGTERM);
	}
}
