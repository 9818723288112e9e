/* dhcp: udhcpc per DHCP uplink, driven by link state (see dhcp.h). */
#include "dhcp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "fileio.h"
#include "lease.h"
#include "log.h"

#define UDHCPC_PATH "/bin/busybox"

static int is_dhcp(const struct dhcp *d, int i)
{
	return !d->up->u[i].lan && d->up->u[i].cfg->dhcp;
}

/* udhcpc is started once the NIC exists and has a carrier (or cannot tell): a discover sent
 * without one is lost, and a signal that came before udhcpc set up its handlers would kill it. */
static int startable(const struct dhcp *d, int i)
{
	return is_dhcp(d, i) && !d->c[i].argv && d->up->u[i].ifindex && d->w->lower_up[i] != 0;
}

/* Tells the hook which uplink the interface is, then starts udhcpc in the foreground: -R
 * releases the lease when it is told to stop; discover 3 times 1 s apart, then pause 2 s. */
static void start_one(struct dhcp *d, int i)
{
	const struct nic_cfg *c = d->up->u[i].cfg;
	struct lease_uplink u = { i, c->backup, d->write_dns };
	char path[64], text[64];
	char **argv = d->argv[i];
	int n;

	mkdir(LEASE_STATE_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s", LEASE_STATE_DIR, c->ifname);
	n = lease_uplink_format(&u, text, sizeof(text));
	if (n < 0 || write_file(path, text, (size_t)n, 0644) != 0) {
		log_line("nic %s: dhcp: writing %s failed: %s; no DHCP", c->ifname, path, strerror(errno));
		return;
	}
	n = 0;
	argv[n++] = "udhcpc";
	argv[n++] = "-f";
	argv[n++] = "-R";
	argv[n++] = "-i";
	argv[n++] = (char *)c->ifname;
	argv[n++] = "-s";
	argv[n++] = LEASE_HOOK_PATH;
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

void dhcp_setup(struct dhcp *d, const struct config *cfg, struct uplinks *up, struct nic_watch *w,
		struct loop *l, const sigset_t *mask)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->up = up;
	d->w = w;
	d->mask = mask;
	d->write_dns = cfg->n_dns == 0;
	d->timer = (struct loop_timer){ 0, on_timer, d };
	if (loop_add_timer(l, &d->timer) != 0)
		log_line("dhcp: no timer left in the event loop; udhcpc is not restarted");
	for (i = 0; i < NICS_MAX; i++)
		d->carrier[i] = -1;
	for (i = 0; i < up->n; i++)
		if (startable(d, i))
			start_one(d, i);
}

void dhcp_links(struct dhcp *d)
{
	int i, now;

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
	for (i = 0; i < NICS_MAX; i++)
		d->c[i].stopped = 1;
}
