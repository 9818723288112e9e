/* main: PID 1 of the mpsocks appliance. Stages, one console line each: mounts and console,
 * configuration from /proc/cmdline, NICs and routing, MPTCP endpoints, resolv.conf, users
 * and sockd.conf, then sockd (and the debug shell) under supervision in one event loop that
 * reaps every child and powers off on SIGTERM, SIGINT (Ctrl-Alt-Del) or SIGUSR2. SIGHUP
 * means uplink addresses changed: sockd.conf is rewritten and sockd restarted with it. DHCP
 * leases come as reports from udhcpc's script (dhcp.c), applied here like everything else.
 * Nothing here may end PID 1: every failure is one console line and the rest carries on. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "dhcp.h"
#include "dhcphook.h"
#include "endpoints.h"
#include "espconf.h"
#include "fileio.h"
#include "httpd.h"
#include "info.h"
#include "linkentry.h"
#include "log.h"
#include "loop.h"
#include "mounts.h"
#include "mpblock.h"
#include "rates.h"
#include "ready.h"
#include "rtnl.h"
#include "shutdown.h"
#include "status.h"
#include "sockdconf.h"
#include "supervise.h"
#include "uplinkctl.h"
#include "uplinks.h"
#include "users.h"

#define SOCKD_PATH "/bin/sockd"
#define SOCKD_CONF "/etc/sockd.conf"
#define SOCKD_ROUTE SOCKD_CONF ".route" /* the exit login; sockd/route_credentials.h */
#define SOCKD_USER "sockd"
#define SOCKS_USER_ID 1000
#define READY_FIRST_MS 1u   /* readiness poll: fast at first ... */
#define READY_MAX_MS 4u     /* ... then at most this far apart (one read of /proc/net/tcp) */
#define READY_WARN_MS 10000u

/* Everything the event loop's callbacks need; lives in main's frame. */
struct app {
	struct config cfg;
	sigset_t child_mask; /* the mask children get back */
	struct loop loop;
	struct loop_watch sig_watch, link_watch;
	struct loop_timer sockd_timer, shell_timer, ready_timer, kill_timer, reap_timer, link_timer;
	struct nic_watch nics;
	struct uplinks up;
	struct child sockd, shell;
	struct linkentry link; /* the encrypted link's entry, when there are exits of the link */
	struct dhcp dhcp; /* udhcpc per DHCP uplink (hardware image) */
	struct shutdown down;
	struct info info; /* the host's status queries (virtio-serial) */
	struct rates rates; /* each uplink's bytes, sampled by tick_timer */
	struct mpblock mpblock; /* uplinks whose network drops MPTCP, found by tick_timer */
	struct status status; /* the JSON document of info's "status" and the page */
	struct httpd httpd; /* the status page */
	struct loop_timer tick_timer; /* once a second: rates, the page's deadlines */
	struct uplinkctl ctl; /* the host's word on its uplinks */
	struct loop_watch ctl_watch;
	unsigned live; /* uplinks the host calls up (bit i) */
	struct in_addr listen;
	int listen_nic;       /* uplink index of the listen address */
	int image_conf;       /* /etc/sockd.conf came with the image: never rewritten */
	char sockd_conf[8192]; /* what init last wrote there */
	unsigned sessions_max; /* sockd's session limit, fixed at the first configuration */
	unsigned ready_interval;
	uint64_t ready_since;
	int ready_warned;
	char tty[32];
};

static void uplinks_changed(void *arg);

/* Each uplink's address now, for rates and the page: a static one from the command line, a
 * DHCP one from the kernel (it changes with leases). */
static void refresh_addresses(struct app *a)
{
	struct rates *r = &a->rates;
	uint32_t addrs[1];
	int prefixes[1], i;
	struct nl rt;
	bool rt_open = false;

	r->n = a->up.n;
	for (i = 0; i < a->up.n; i++) {
		const struct uplink *u = &a->up.u[i];

		if (u->lan) {
			r->addr[i].s_addr = 0;
			continue;
		}
		if (!u->cfg->dhcp) {
			r->addr[i] = u->cfg->addr;
			if (u->cfg->has_v6)
				r->addr6[i] = u->cfg->addr6;
			continue;
		}
		if (!rt_open)
			rt_open = nl_open(&rt, NETLINK_ROUTE, 0) == 0;
		r->addr[i].s_addr = rt_open && u->ifindex && rtnl_addr_list(&rt, u->ifindex, addrs, prefixes, 1) > 0
			? addrs[0] : 0;
	}
	if (rt_open)
		nl_close(&rt);
}

/* The main default route through a live uplink that passes MP_CAPABLE, else any live one. */
static void main_route(struct app *a)
{
	unsigned pass = a->live & ~mpblock_avoid(&a->mpblock);

	uplinks_main_route(&a->up, pass ? pass : a->live);
}

static void tick_account(const struct diag_sock *s, void *arg)
{
	struct app *a = arg;

	rates_account(s, &a->rates);
	mpblock_account(s, &a->mpblock);
}

/* Once a second: each uplink's bytes and its MPTCP block, from one sock_diag dump. */
static void on_tick(void *arg)
{
	struct app *a = arg;
	char netstat[16384]; /* /proc/net/netstat: ~7 KB with MPTcpExt */
	uint64_t drops = 0;
	unsigned rejoin;
	struct nl nl;
	int i;

	refresh_addresses(a);
	a->mpblock.n = a->rates.n;
	if (nl_open(&nl, NETLINK_SOCK_DIAG, 0) == 0) {
		diag_dump(&nl, IPPROTO_TCP, tick_account, a);
		nl_close(&nl);
	}
	rates_commit(&a->rates);
	if (read_file("/proc/net/netstat", netstat, sizeof(netstat)) > 0)
		mpblock_read_mib(netstat, &drops);
	if (mpblock_commit(&a->mpblock, now_ms(), drops, a->live, &rejoin))
		main_route(a);
	for (i = 0; i < a->up.n; i++)
		if (rejoin & (1u << i) && endpoints_withdraw(&a->up, i) != -EINVAL)
			endpoints_restore(&a->up, i);
	if (a->httpd.fd >= 0)
		httpd_sweep(&a->httpd, now_ms());
	a->tick_timer.when = now_ms() + 1000;
}

/* The status document's sources, the page on the proxy's address (its clients only), and the
 * once-a-second tick. The page is off when SOCKS itself uses its port. */
static void start_status(struct app *a)
{
	char ip[INET_ADDRSTRLEN];
	struct cidr allow[1];
	int err;

	a->rates.listen = a->listen;
	a->rates.port = a->cfg.port;
	a->status = (struct status){ .cfg = &a->cfg, .up = &a->up, .nics = &a->nics, .rates = &a->rates,
		.mpblock = &a->mpblock,
		.live = &a->live, .sessions_max = &a->sessions_max, .listen = &a->listen, .exits_path = LINK_STATE };
	a->info.status = &a->status;
	a->mpblock.addr = a->rates.addr;
	a->httpd.fd = -1;
	a->tick_timer = (struct loop_timer){ now_ms() + 1000, on_tick, a };
	loop_add_timer(&a->loop, &a->tick_timer);
	if (!a->listen.s_addr)
		return;
	if (a->cfg.port == HTTPD_PORT) {
		log_line("status page: off (SOCKS uses port %d)", HTTPD_PORT);
		return;
	}
	allow[0] = nic_subnet(a->up.u[a->listen_nic].cfg);
	err = a->cfg.n_allow ? httpd_start(&a->httpd, &a->loop, &a->cfg, a->listen, a->cfg.allow, a->cfg.n_allow, &a->status)
			     : httpd_start(&a->httpd, &a->loop, &a->cfg, a->listen, allow, 1, &a->status);
	inet_ntop(AF_INET, &a->listen, ip, sizeof(ip));
	if (err)
		log_line("status page: cannot listen on %s:%d: %s", ip, HTTPD_PORT, strerror(-err));
	else
		log_line("status page: http://%s/", ip); /* HTTPD_PORT is http's own */
}

static void start_sockd(struct app *a)
{
	if (a->down.active || child_start(&a->sockd, &a->child_mask, now_ms()) != 0)
		return;
	if (!a->sockd.exec_errno) /* else its exit line says why, with the restart delay */
		log_line("sockd started (pid %d)", (int)a->sockd.pid);
	a->ready_interval = READY_FIRST_MS;
	a->ready_since = now_ms();
	a->ready_warned = 0;
	a->ready_timer.when = a->ready_since + READY_FIRST_MS;
}

static void on_sockd_timer(void *arg)
{
	struct app *a = arg;

	if (!a->sockd.pid && a->sockd.restart_at)
		start_sockd(a);
}

static void start_link(struct app *a)
{
	int i;

	if (a->down.active || child_start(&a->link.child, &a->child_mask, now_ms()) != 0 || a->link.child.exec_errno)
		return;
	log_line("mpslink entry started (pid %d): 127.0.0.1:%u to %d exit%s, first %s", (int)a->link.child.pid,
		 LINK_ENTRY_PORT, a->cfg.n_links, a->cfg.n_links == 1 ? "" : "s", a->link.exits[0]);
	for (i = 1; i < a->cfg.n_links; i++)
		log_line("mpslink: then %s", a->link.exits[i]);
}

static void on_link_timer(void *arg)
{
	struct app *a = arg;

	if (!a->link.child.pid && a->link.child.restart_at)
		start_link(a);
}

static void on_shell_timer(void *arg)
{
	struct app *a = arg;

	if (!a->shell.pid && a->shell.restart_at && !a->down.active)
		child_start(&a->shell, &a->child_mask, now_ms());
}

static void on_ready_timer(void *arg)
{
	struct app *a = arg;
	char ip[INET_ADDRSTRLEN];
	uint64_t now = now_ms();

	if (!a->sockd.pid)
		return; /* it died first; the restart re-arms this */
	inet_ntop(AF_INET, &a->listen, ip, sizeof(ip));
	if (tcp_listening(a->listen.s_addr, a->cfg.port)) {
		log_line("sockd listening on %s:%u", ip, a->cfg.port);
		return;
	}
	if (!a->ready_warned && now - a->ready_since >= READY_WARN_MS) {
		log_line("sockd running but not listening on %s:%u after %u ms", ip, a->cfg.port,
			 READY_WARN_MS);
		a->ready_warned = 1;
	}
	a->ready_interval = a->ready_interval * 2 > READY_MAX_MS ? READY_MAX_MS : a->ready_interval * 2;
	a->ready_timer.when = now + a->ready_interval;
}

static void poweroff_now(struct app *a, bool stragglers)
{
	shutdown_finish(&a->down, stragglers);
	for (;;)
		pause(); /* power off failed: PID 1 must still never exit */
}

/* Reaps every exited process: our children and re-parented orphans alike. */
static void reap(struct app *a)
{
	uint64_t now = now_ms();
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (child_reaped(&a->sockd, pid, status, now)) {
			a->sockd_timer.when = a->sockd.restart_at;
			a->ready_timer.when = 0;
		} else if (child_reaped(&a->link.child, pid, status, now)) {
			a->link_timer.when = a->link.child.restart_at;
		} else if (child_reaped(&a->shell, pid, status, now)) {
			a->shell_timer.when = a->shell.restart_at;
		} else {
			dhcp_reaped(&a->dhcp, pid, status, now);
		}
	}
	if (a->down.active && pid < 0 && errno == ECHILD)
		poweroff_now(a, false);
}

static void begin_shutdown(struct app *a, const char *why)
{
	if (a->down.active)
		return;
	a->sockd.stopped = a->shell.stopped = a->link.child.stopped = 1;
	a->sockd_timer.when = a->shell_timer.when = a->ready_timer.when = a->link_timer.when = 0;
	shutdown_begin(&a->down, why, now_ms());
	/* sockd: its main process only. It tells its helpers to exit and waits for them; a TERM
	 * to each of them would have it log every one's death as unexpected. */
	if (a->sockd.pid) {
		kill(a->sockd.pid, SIGTERM);
		kill(a->sockd.pid, SIGCONT);
	}
	/* The entry and a process per connection, all in its process group. */
	if (a->link.child.pid)
		kill(-a->link.child.pid, SIGTERM);
	dhcp_stop(&a->dhcp); /* TERM: udhcpc -R releases its lease */
	/* An interactive shell ignores SIGTERM; a hangup ends it and its jobs. */
	if (a->shell.pid)
		kill(-a->shell.pid, SIGHUP);
	a->kill_timer.when = a->down.rest_at;
	reap(a); /* nothing running: power off right away */
}

/* Only without a signalfd: reap by polling, so zombies never pile up under PID 1. */
static void on_reap_timer(void *arg)
{
	struct app *a = arg;

	reap(a);
	a->reap_timer.when = now_ms() + 500;
}

/* First the TERM to everyone left, then the KILL deadline. */
static void on_kill_timer(void *arg)
{
	struct app *a = arg;

	if (a->down.rest_termed) {
		poweroff_now(a, true);
		return;
	}
	shutdown_rest(&a->down);
	a->kill_timer.when = a->down.kill_at;
}

static void on_signal(void *arg)
{
	struct app *a = arg;
	struct signalfd_siginfo si;

	while (read(a->sig_watch.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			break; /* reaped below, once for any number of them */
		case SIGINT:
			begin_shutdown(a, "SIGINT: Ctrl-Alt-Del or power button");
			break;
		case SIGTERM:
			begin_shutdown(a, "SIGTERM");
			break;
		case SIGUSR2:
			begin_shutdown(a, "SIGUSR2 (poweroff)");
			break;
		case SIGHUP: /* uplink addresses changed */
			uplinks_changed(a);
			break;
		}
	}
	reap(a);
}

static void on_link(void *arg)
{
	struct app *a = arg;
	unsigned appeared = nics_events(&a->nics);
	int i;

	for (i = 0; i < a->up.n; i++) {
		if (!(appeared & (1u << i)))
			continue;
		uplinks_late(&a->up, &a->nics, i);
		endpoints_late(&a->up, i); /* subflows use it; sockd needs it only as an `external:`
					    * for routes it picks, which stay on the main-route NIC */
	}
	/* The host mirrors each uplink's fate on its NIC's carrier (tools/lib/uplinks.sh). */
	for (i = 0; i < a->up.n; i++) {
		if (a->nics.went_down & (1u << i))
			endpoints_withdraw(&a->up, i);
		else if (a->nics.came_up & (1u << i))
			endpoints_restore(&a->up, i);
	}
	dhcp_links(&a->dhcp); /* late DHCP NICs get udhcpc; carrier changes release/renew */
}

/* The host's word on its uplinks: the main route through a live one, their endpoints
 * withdrawn and re-added. The route moves first: withdrawing an endpoint fails the connects
 * still leaving from its address (kernel/patches/mptcp-endpoint-removal-fails-its-
 * connects.patch), and sockd connects those again from where the main route then points. */
static void on_uplinkctl(void *arg)
{
	struct app *a = arg;
	unsigned down, back;
	int i;

	uplinkctl_read(&a->ctl, a->up.n, &down, &back);
	for (i = 0; i < a->up.n; i++) {
		if (!endpoints_withdrawable(&a->up, i))
			continue;
		if (down & (1u << i))
			a->live &= ~(1u << i);
		if (back & (1u << i))
			a->live |= 1u << i;
	}
	if (down | back)
		main_route(a);
	for (i = 0; i < a->up.n; i++) {
		if (down & (1u << i))
			endpoints_withdraw(&a->up, i);
		if (back & (1u << i))
			endpoints_restore(&a->up, i);
	}
}

/* Where the host's word comes: the listen address, from the listen NIC's gateway (the host's
 * end of its tap). Without a gateway there is no host to listen to. */
static void start_uplinkctl(struct app *a)
{
	const struct uplink *u = &a->up.u[a->listen_nic];
	int err;

	a->live = ~0u;
	a->ctl.fd = -1;
	if (!a->listen.s_addr || u->lan || !u->cfg->has_gw)
		return;
	err = uplinkctl_open(&a->ctl, a->listen.s_addr, u->cfg->gw.s_addr);
	if (err) {
		log_line("uplinks: no word from the host (udp port %d: %s)", UPLINKCTL_PORT, strerror(-err));
		return;
	}
	a->ctl_watch = (struct loop_watch){ .fd = a->ctl.fd, .fn = on_uplinkctl, .arg = a };
	loop_add_fd(&a->loop, &a->ctl_watch);
}

static void stage_cmdline(struct config *cfg)
{
	static char text[4096]; /* the kernel's cmdline is at most COMMAND_LINE_SIZE (2048 on x86) */
	struct cmdline_errors errs;
	int i;

	if (read_file("/proc/cmdline", text, sizeof(text)) < 0) {
		log_line("cmdline: cannot read /proc/cmdline: %s", strerror(errno));
		text[0] = '\0';
	}
	espconf_apply(text, sizeof(text)); /* hardware image: mpsocks/cmdline.txt on the stick */
	cmdline_parse(text, cfg, &errs);
	for (i = 0; i < errs.n; i++)
		log_line("cmdline: %s", errs.msg[i]);
	if (errs.dropped)
		log_line("cmdline: %d more errors not shown", errs.dropped);
	log_line("cmdline: %d uplink%s%s%s, port %u, auth %s, debug %s", cfg->n_nics,
		 cfg->n_nics == 1 ? "" : "s", cfg->has_lan ? ", lan " : "",
		 cfg->has_lan ? cfg->lan.ifname : "", cfg->port, cfg->has_user ? "username" : "none",
		 cfg->debug ? "on" : "off");
	if (cfg->n_nics == 0)
		log_line("cmdline: no mpsocks.nic=IF,ADDR/PREFIX[,gw=GW] given: no uplinks");
}

/* Where SOCKS listens: the LAN NIC, else the first configured static uplink, else the first
 * static uplink at all. Returns 0 when there is none. */
static int pick_listen(const struct uplinks *up, int *which)
{
	int i;

	for (i = 0; i < up->n; i++)
		if (up->u[i].lan) {
			*which = i;
			return 1;
		}
	for (i = 0; i < up->n; i++)
		if (up->u[i].ok && !up->u[i].cfg->dhcp) {
			*which = i;
			return 1;
		}
	for (i = 0; i < up->n; i++)
		if (!up->u[i].cfg->dhcp) {
			*which = i;
			return 1;
		}
	return 0;
}

/* Does uplink i have an IPv4 address now? Static ones once configured; DHCP ones once leased
 * (asked from the kernel, which also counts an address someone added by hand). */
static int has_address(const struct uplink *u)
{
	uint32_t addrs[1];
	int prefixes[1], n = 0;
	struct nl rt;

	if (!u->ifindex || u->lan)
		return 0;
	if (!u->cfg->dhcp)
		return u->ok;
	if (nl_open(&rt, NETLINK_ROUTE, 0) == 0) {
		n = rtnl_addr_list(&rt, u->ifindex, addrs, prefixes, 1);
		nl_close(&rt);
	}
	return n > 0;
}

/* Writes /etc/sockd.conf for the uplinks that have an address now (dante refuses an
 * `external:` interface without one: it takes the name for a host name and gives up).
 * Returns 1 when the file changed, 0 when it is unchanged, -1 when there is none to write. */
static int write_sockd_conf(struct app *a)
{
	const struct config *cfg = &a->cfg;
	const struct uplinks *up = &a->up;
	char text[sizeof(a->sockd_conf)], ip[INET_ADDRSTRLEN], at[INET_ADDRSTRLEN];
	const char *ext[NICS_MAX];
	struct cidr allow[1];
	struct sockd_params p = { 0 };
	int i, n;

	for (i = 0, n = 0; i < up->n; i++)
		if (has_address(&up->u[i]))
			ext[n++] = up->u[i].cfg->ifname;
	if (n == 0) {
		log_line("sockd: no uplink has an address yet; sockd starts when a DHCP lease comes");
		return -1;
	}
	p.listen = a->listen;
	p.port = cfg->port;
	p.externals = ext;
	p.n_externals = n;
	if (cfg->n_allow) {
		p.allow = cfg->allow;
		p.n_allow = cfg->n_allow;
	} else {
		allow[0] = nic_subnet(up->u[a->listen_nic].cfg);
		p.allow = allow;
		p.n_allow = 1;
	}
	p.auth = cfg->has_user;
	p.unprivileged = SOCKD_USER;
	p.has_exit = cfg->has_exit;
	p.exit_addr = cfg->exit_addr;
	p.exit_port = cfg->exit_port;
	p.link_port = cfg->n_links ? LINK_ENTRY_PORT : 0;
	/* Once, from the memory free before sockd runs: a later value would differ, and a new
	 * configuration restarts sockd. */
	if (!a->sessions_max) {
		struct sysinfo si;
		unsigned long free_kib = sysinfo(&si) == 0 ? (unsigned long)((unsigned long long)si.freeram * si.mem_unit / 1024) : 0;

		a->sessions_max = sockd_sessions_for(free_kib);
		log_line("sockd: at most %u sessions at once (%lu MiB free)", a->sessions_max, free_kib / 1024);
	}
	p.sessions_max = a->sessions_max;
	n = sockdconf_render(&p, text, sizeof(text));
	if (n < 0) {
		log_line("sockd: configuration too long for %s", SOCKD_CONF);
		return -1;
	}
	if (strcmp(text, a->sockd_conf) == 0)
		return 0;
	if (write_file(SOCKD_CONF, text, (size_t)n, 0644) != 0) {
		log_line("sockd: writing %s failed: %s", SOCKD_CONF, strerror(errno));
		return -1;
	}
	memcpy(a->sockd_conf, text, (size_t)n + 1);
	inet_ntop(AF_INET, &p.allow[0].addr, ip, sizeof(ip));
	log_line("sockd: %s written (listen %s:%u, %d external%s, clients from %s/%d%s)", SOCKD_CONF,
		 inet_ntop(AF_INET, &a->listen, at, sizeof(at)), cfg->port, p.n_externals,
		 p.n_externals == 1 ? "" : "s", ip, p.allow[0].prefix, p.n_allow > 1 ? " and more" : "");
	if (p.has_exit)
		log_line("sockd: every CONNECT through the exit %s:%u",
			 inet_ntop(AF_INET, &p.exit_addr, ip, sizeof(ip)), p.exit_port);
	if (p.link_port)
		log_line("sockd: every CONNECT through the link's entry on 127.0.0.1:%u", p.link_port);
	return 1;
}

/* resolv.conf, the SOCKS user, where sockd listens and its configuration. Returns 1 when
 * sockd can be started. */
static int stage_files(struct app *a)
{
	const struct config *cfg = &a->cfg;
	char text[1024], err[160];
	struct stat st;
	int n, which = 0;

	if (cfg->n_dns) {
		n = resolvconf_render(cfg->dns, cfg->n_dns, text, sizeof(text));
		if (n < 0 || write_file("/etc/resolv.conf", text, (size_t)n, 0644) != 0)
			log_line("dns: writing /etc/resolv.conf failed: %s", strerror(errno));
		else
			log_line("dns: /etc/resolv.conf with %d nameserver%s", cfg->n_dns,
				 cfg->n_dns == 1 ? "" : "s");
	} else if (cfg->has_exit || cfg->n_links) {
		log_line("dns: no mpsocks.dns given; the exit resolves names");
	} else {
		log_line("dns: no mpsocks.dns given; clients must send addresses, not names");
	}
	if (cfg->has_exit) {
		/* The exit's login for sockd's route, mode 0600: never on the console, never a
		 * client's to see. */
		n = sockdroute_render(cfg->exit_user, cfg->exit_pass, text, sizeof(text));
		if (n < 0 || write_file(SOCKD_ROUTE, text, (size_t)n, 0600) != 0)
			log_line("exit: writing %s failed: %s; logins at the exit will fail", SOCKD_ROUTE,
				 strerror(errno));
		else
			log_line("exit: login %s in %s", cfg->exit_user, SOCKD_ROUTE);
		memset(text, 0, sizeof(text));
	}
	if (cfg->n_links) {
		n = linkentry_prepare(&a->link, cfg);
		if (n < 0)
			log_line("link: writing %s failed: %s; no exit is reachable", LINK_KEYS, strerror(-n));
		else
			log_line("link: %d exit key%s in %s", cfg->n_links, cfg->n_links == 1 ? "" : "s", LINK_KEYS);
	}
	if (cfg->has_user) {
		if (users_add("/etc", cfg->user, cfg->pass, SOCKS_USER_ID, err, sizeof(err)) != 0)
			log_line("user: %s; username logins will fail", err);
		else
			log_line("user: %s added (SHA-512 crypt)", cfg->user);
	}
	if (!pick_listen(&a->up, &which)) {
		log_line("sockd: no static address to listen on; not started");
		return 0;
	}
	a->listen = a->up.u[which].cfg->addr;
	a->listen_nic = which;
	if (stat(SOCKD_CONF, &st) == 0) {
		a->image_conf = 1;
		log_line("sockd: using %s from the image", SOCKD_CONF);
		return 1;
	}
	return write_sockd_conf(a) >= 0;
}

/* SIGHUP, or a DHCP lease with a new address: uplink addresses changed (or a late NIC should
 * become an `external:`). sockd.conf is rewritten for the uplinks with an address; if it
 * changed, sockd is restarted (dante 1.4.2 cannot reread it: on SIGHUP its unprivileged mother
 * fails to look up user root and exits), or started if it could not run before for want of
 * any. */
static void uplinks_changed(void *arg)
{
	struct app *a = arg;
	int r;

	if (a->down.active || !a->listen.s_addr)
		return;
	r = a->image_conf ? 0 : write_sockd_conf(a);
	if (r <= 0)
		return;
	if (a->sockd.pid) {
		a->sockd.backoff_ms = 0; /* its restart is intended: the first delay */
		kill(a->sockd.pid, SIGTERM);
		log_line("sockd: restarting with the new uplink set");
	} else if (!a->sockd.restart_at) {
		start_sockd(a);
	}
}

/* Signals go to the signalfd only; Ctrl-Alt-Del becomes SIGINT; SIGHUP says uplink addresses
 * changed. */
static int setup_signals(struct app *a)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &a->child_mask);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int main(int argc, char **argv)
{
	static struct app a; /* large (config, buffers): not on the stack of PID 1 */
	static char *const sockd_argv[] = { "sockd", "-f", SOCKD_CONF, "-N", "1", NULL };
	static char *const shell_argv[] = { "-sh", NULL };
	struct mount_errors merr;
	int i;

	if (argc > 0 && dhcphook_is_hook(argv[0]))
		return dhcphook_main(argc, argv); /* udhcpc runs /bin/mpsocks-dhcp -> /init */
	if (getpid() != 1) {
		fprintf(stderr, "mpsocks init: not PID 1; refusing to touch this system\n");
		return 1;
	}
	a.sig_watch.fd = setup_signals(&a); /* first: no signal may be lost during boot */
	mounts_setup(&merr);
	console_setup();
	log_line("init started");
	for (i = 0; i < merr.n; i++)
		log_line("%s", merr.msg[i]);
	if (sethostname("mpsocks", 7) != 0)
		log_line("hostname: %s", strerror(errno));
	if (reboot(RB_DISABLE_CAD) != 0)
		log_line("ctrl-alt-del: %s", strerror(errno));

	stage_cmdline(&a.cfg);
	if (loop_init(&a.loop) != 0)
		log_line("epoll: %s; timers only", strerror(errno));
	a.sig_watch.fn = on_signal;
	a.sig_watch.arg = &a;
	a.reap_timer = (struct loop_timer){ 0, on_reap_timer, &a };
	loop_add_timer(&a.loop, &a.reap_timer);
	if (loop_add_fd(&a.loop, &a.sig_watch) != 0) {
		log_line("signalfd: %s; shutdown signals are not handled, children reaped by polling",
			 strerror(errno));
		sigprocmask(SIG_SETMASK, &a.child_mask, NULL);
		a.reap_timer.when = now_ms() + 500;
	}
	a.sockd_timer = (struct loop_timer){ 0, on_sockd_timer, &a };
	a.shell_timer = (struct loop_timer){ 0, on_shell_timer, &a };
	a.ready_timer = (struct loop_timer){ 0, on_ready_timer, &a };
	a.kill_timer = (struct loop_timer){ 0, on_kill_timer, &a };
	a.link_timer = (struct loop_timer){ 0, on_link_timer, &a };
	loop_add_timer(&a.loop, &a.link_timer);
	loop_add_timer(&a.loop, &a.sockd_timer);
	loop_add_timer(&a.loop, &a.shell_timer);
	loop_add_timer(&a.loop, &a.ready_timer);
	loop_add_timer(&a.loop, &a.kill_timer);
	if (info_setup(&a.info, &a.loop) != 0)
		log_line("info: no timer left; status shows no connections");

	uplinks_setup(&a.cfg, &a.nics, &a.up);
	a.link_watch = (struct loop_watch){ .fd = a.nics.nl.fd, .fn = on_link, .arg = &a };
	if (a.nics.nl.fd >= 0)
		loop_add_fd(&a.loop, &a.link_watch);
	endpoints_setup(&a.up);
	dhcp_setup(&a.dhcp, &a.cfg, &a.up, &a.nics, &a.loop, &a.child_mask, uplinks_changed, &a);
	a.sockd = (struct child){ .name = "sockd", .path = SOCKD_PATH, .argv = sockd_argv };
	i = stage_files(&a);
	if (a.link.child.path)
		start_link(&a); /* first: sockd's first CONNECT goes to it */
	if (i)
		start_sockd(&a);
	start_uplinkctl(&a);
	start_status(&a);
	/* Last, so its prompt does not land amid the stage lines (every stage is bounded). */
	if (a.cfg.debug) {
		console_tty(a.tty, sizeof(a.tty));
		a.shell = (struct child){ .name = "shell", .path = "/bin/sh", .argv = shell_argv, .tty = a.tty };
		if (child_start(&a.shell, &a.child_mask, now_ms()) == 0 && !a.shell.exec_errno)
			log_line("debug: shell on %s", a.tty);
	}
	for (;;)
		loop_once(&a.loop);
}
