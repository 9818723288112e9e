/* endpoints: MPTCP limits and endpoints (see endpoints.h). The two flag values are repeated
 * here: linux/mptcp.h pulls linux/in.h, which clashes with musl's netinet/in.h. */
#include "endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "mptcp.h"
#include "sysctl.h"

#define FLAG_SUBFLOW 2 /* MPTCP_PM_ADDR_FLAG_SUBFLOW, checked in test_netlink */
#define FLAG_BACKUP 4  /* MPTCP_PM_ADDR_FLAG_BACKUP */

/* The limits: an endpoint per uplink and family (configured, not the LAN NIC; DHCP uplinks
 * count too: their endpoint comes with the lease), at most the kernel's limit. A connection's
 * own subflows keep to its family, but an IPv6 one to a server that announces an IPv4 address
 * also gets a subflow to that: so both families count. */
static uint32_t uplink_count(const struct uplinks *up)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < up->n; i++) {
		const struct uplink *u = &up->u[i];

		if ((!u->ok && !(u->cfg->dhcp && u->ifindex)) || u->lan)
			continue;
		n += !u->cfg->v6only;
		n += u->ok && u->cfg->has_v6;
	}
	return n > MPTCP_LIMIT_MAX ? MPTCP_LIMIT_MAX : n;
}

/* family AF_INET6: the NIC's IPv6 address (a connection's subflows keep to its family). */
static void add_endpoint_cfg(struct mptcp_pm *pm, const struct nic_cfg *c, int ifindex,
			     unsigned id, int family)
{
	struct mptcp_endpoint e = { 0 };

	e.id = (uint8_t)id;
	e.family = (uint16_t)family;
	e.addr4 = c->addr.s_addr;
	memcpy(e.addr6, &c->addr6, sizeof(e.addr6));
	e.flags = FLAG_SUBFLOW | (c->backup ? FLAG_BACKUP : 0);
	e.ifindex = ifindex;
	if (mptcp_add_endpoint(pm, &e) != 0)
		log_line("mptcp: endpoint %s%s failed: %s", c->ifname, family == AF_INET6 ? " (IPv6)" : "",
			 pm->nl.err);
}

/* Uplink i's endpoint id: i + 1, until a return gave it another; its IPv6 endpoint's is that
 * + NICS_MAX, so the two never meet (restore steps by 2 x NICS_MAX). */
static unsigned ep_id(const struct uplink *u, int i)
{
	return u->ep_id ? u->ep_id : (unsigned)i + 1;
}

#define EP6_ID(id) ((id) + NICS_MAX)

/* The kernel holds at most MPTCP_LIMIT_MAX endpoints: IPv4 ones first, then IPv6 while room. */
static bool has_ep6(const struct uplinks *up, int i)
{
	int k, n = 0;

	if (!up->u[i].cfg->has_v6)
		return false;
	for (k = 0; k < up->n; k++)
		n += (up->u[k].ok || (up->u[k].cfg->dhcp && up->u[k].ifindex)) && !up->u[k].lan &&
		     !up->u[k].cfg->v6only;
	for (k = 0; k < i; k++)
		n += up->u[k].ok && !up->u[k].lan && up->u[k].cfg->has_v6;
	return n < MPTCP_LIMIT_MAX;
}

static void add_endpoint(struct mptcp_pm *pm, const struct uplinks *up, int i)
{
	const struct uplink *u = &up->u[i];

	if (!u->cfg->v6only)
		add_endpoint_cfg(pm, u->cfg, u->ifindex, ep_id(u, i), AF_INET);
	if (has_ep6(up, i))
		add_endpoint_cfg(pm, u->cfg, u->ifindex, EP6_ID(ep_id(u, i)), AF_INET6);
}

/* Reads the endpoints back and prints them (only endpoint `only` when non-zero). */
int endpoints_print(struct mptcp_pm *pm, unsigned only)
{
	struct mptcp_endpoint got[MPTCP_EP_MAX];
	int i, n = 0;

	if (mptcp_dump_endpoints(pm, got, MPTCP_EP_MAX, &n) != 0) {
		log_line("mptcp: reading endpoints back failed: %s", pm->nl.err);
		return -1;
	}
	for (i = 0; i < n && i < MPTCP_EP_MAX; i++) {
		char a[INET6_ADDRSTRLEN] = "?", dev[IF_NAMESIZE] = "-", flags[64];

		if (only && got[i].id != only && got[i].id != EP6_ID(only))
			continue;
		if (got[i].family == AF_INET)
			inet_ntop(AF_INET, &got[i].addr4, a, sizeof(a));
		else if (got[i].family == AF_INET6)
			inet_ntop(AF_INET6, got[i].addr6, a, sizeof(a));
		if (got[i].ifindex > 0 && !if_indextoname((unsigned)got[i].ifindex, dev))
			snprintf(dev, sizeof(dev), "#%d", got[i].ifindex);
		mptcp_flags_str(got[i].flags, flags, sizeof(flags));
		log_line("endpoint id=%u %s dev %s flags=%s", got[i].id, a, dev, flags);
	}
	return n;
}

static int open_pm(struct mptcp_pm *pm)
{
	/* No /proc/sys/net/mptcp: a kernel built without MPTCP. One line, then plain TCP. */
	if (sysctl_write("net/mptcp/enabled", "1") != 0) {
		log_line("mptcp: %s (net.mptcp.enabled: %s); connections stay plain TCP",
			 errno == ENOENT ? "this kernel has no MPTCP" : "cannot enable MPTCP", strerror(errno));
		return -1;
	}
	/* No hour without MPTCP: after a connection whose MP_CAPABLE SYNs went unanswered
	 * twice got through as plain TCP, the kernel sends every new connection as plain TCP
	 * for blackhole_timeout (3600 s by default, doubling on repeats). A busy server that
	 * drops SYNs looks the same as a middlebox that drops MPTCP; each connection still
	 * falls back on its own after two lost MP_CAPABLE SYNs. */
	if (sysctl_write("net/mptcp/blackhole_timeout", "0") != 0)
		log_line("mptcp: net.mptcp.blackhole_timeout: %s", strerror(errno));
	if (mptcp_pm_open(pm) != 0) {
		log_line("mptcp: %s; connections stay plain TCP", pm->nl.err);
		mptcp_pm_close(pm);
		return -1;
	}
	return 0;
}

static void set_limits(struct mptcp_pm *pm, uint32_t limit)
{
	if (mptcp_set_limits(pm, limit, limit) != 0)
		log_line("mptcp: limits %u failed: %s", limit, pm->nl.err);
	else
		log_line("mptcp: limits subflows=%u add_addr_accepted=%u", limit, limit);
}

int endpoints_setup(const struct uplinks *up)
{
	struct mptcp_pm pm;
	int i, n;

	if (open_pm(&pm) != 0)
		return -1;
	set_limits(&pm, uplink_count(up));
	for (i = 0; i < up->n; i++)
		if (up->u[i].ok && !up->u[i].lan)
			add_endpoint(&pm, up, i);
	n = endpoints_print(&pm, 0);
	mptcp_pm_close(&pm);
	return n;
}

void endpoints_late(const struct uplinks *up, int i)
{
	struct mptcp_pm pm;

	if (!up->u[i].ok || up->u[i].lan || open_pm(&pm) != 0)
		return;
	set_limits(&pm, uplink_count(up));
	add_endpoint(&pm, up, i);
	endpoints_print(&pm, (unsigned)i + 1);
	mptcp_pm_close(&pm);
}

/* Static uplinks only: a DHCP uplink's endpoint follows its lease, the LAN NIC has none;
 * and only with MPTCP (setup said once that there is none: no line per carrier change). */
bool endpoints_withdrawable(const struct uplinks *up, int i)
{
	return i >= 0 && i < up->n && up->u[i].ok && !up->u[i].lan && !up->u[i].cfg->dhcp &&
	       access("/proc/sys/net/mptcp/enabled", F_OK) == 0;
}

int endpoints_withdraw(const struct uplinks *up, int i)
{
	struct mptcp_pm pm;
	int err;

	if (!endpoints_withdrawable(up, i))
		return -EINVAL;
	if (mptcp_pm_open(&pm) != 0)
		return -ENOENT;
	err = up->u[i].cfg->v6only ? 0 : mptcp_del_endpoint(&pm, (uint8_t)ep_id(&up->u[i], i));
	if (has_ep6(up, i)) {
		int err6 = mptcp_del_endpoint(&pm, (uint8_t)EP6_ID(ep_id(&up->u[i], i)));

		err = err ? err : err6;
	}
	if (err)
		log_line("endpoint id=%u: withdrawing failed: %s", ep_id(&up->u[i], i), pm.nl.err);
	else
		log_line("endpoint id=%u %s withdrawn: its uplink is down", ep_id(&up->u[i], i),
			 up->u[i].cfg->ifname);
	mptcp_pm_close(&pm);
	return err;
}

int endpoints_restore(struct uplinks *up, int i)
{
	struct uplink *u = &up->u[i];
	struct mptcp_pm pm;
	unsigned id;

	if (!endpoints_withdrawable(up, i))
		return -EINVAL;
	if (mptcp_pm_open(&pm) != 0)
		return -ENOENT;
	/* Gone already after a withdraw; still there if the down was too short to be seen, or
	 * when the uplink got a new address while up: then it goes now, with its subflows. */
	mptcp_del_endpoint(&pm, (uint8_t)ep_id(u, i));
	if (has_ep6(up, i))
		mptcp_del_endpoint(&pm, (uint8_t)EP6_ID(ep_id(u, i)));
	/* Back under another id: the server may still hold the old subflow (its reset was lost
	 * on the dead uplink), and a join from the same address with the same id then got no
	 * data in the bed; ids i+1, i+1+2 x NICS_MAX, ... (and their IPv6 twins) stay distinct
	 * between uplinks. */
	id = ep_id(u, i) + 2 * NICS_MAX;
	u->ep_id = EP6_ID(id) > 255 ? (unsigned)i + 1 : id;
	add_endpoint(&pm, up, i);
	log_line("endpoint id=%u %s back: its uplink is up; new subflows", ep_id(u, i), u->cfg->ifname);
	mptcp_pm_close(&pm);
	return 0;
}
