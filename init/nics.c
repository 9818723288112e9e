/* nics: NIC appearance and carrier changes (see nics.h). */
#include "nics.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include "log.h"
#include "rtnl.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

int nics_open(struct nic_watch *w, const char *const names[], int n)
{
	int i;

	memset(w, 0, sizeof(*w));
	w->nl.fd = w->req.fd = -1; /* not 0: that is the console */
	w->n = n < NICS_MAX ? n : NICS_MAX;
	for (i = 0; i < w->n; i++) {
		strncpy(w->names[i], names[i], sizeof(w->names[i]) - 1);
		w->lower_up[i] = -1;
	}
	if (nl_open(&w->req, NETLINK_ROUTE, 0) != 0)
		return -1;
	return nl_open(&w->nl, NETLINK_ROUTE, RTMGRP_LINK);
}

static int lookup_all(struct nic_watch *w)
{
	int i, found = 0;

	for (i = 0; i < w->n; i++) {
		if (!w->ifindex[i])
			w->ifindex[i] = (int)if_nametoindex(w->names[i]);
		found += w->ifindex[i] != 0;
	}
	return found;
}

/* Reads whatever is queued without blocking; the content only matters to nics_events. */
static void drain(struct nic_watch *w, void (*fn)(struct nic_watch *, const struct nlmsghdr *))
{
	unsigned char buf[8192] __attribute__((aligned(8)));

	for (;;) {
		ssize_t n = recv(w->nl.fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh;
		size_t len;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN, or ENOBUFS after an overflow: the caller re-checks anyway */
		len = (size_t)n;
		for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len))
			if (fn)
				fn(w, nlh);
	}
}

int nics_wait(struct nic_watch *w, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int found;

	while ((found = lookup_all(w)) < w->n) {
		uint64_t now = now_ms();
		struct pollfd p = { .fd = w->nl.fd, .events = POLLIN };

		if (now >= deadline || w->nl.fd < 0)
			break;
		if (poll(&p, 1, (int)(deadline - now)) > 0)
			drain(w, NULL);
	}
	return found;
}

void nics_set_carrier(struct nic_watch *w, int i, int lower_up)
{
	if (i >= 0 && i < w->n)
		w->lower_up[i] = lower_up;
}

/* An event only says "something changed on ifindex": its flags may be stale (the kernel
 * queues several while a link comes up), so the current flags are asked for and compared
 * with what was last reported. */
static void link_event(struct nic_watch *w, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	int i;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	for (i = 0; i < w->n; i++)
		if (w->ifindex[i] == ifi->ifi_index)
			w->changed[i] = 1;
}

unsigned nics_events(struct nic_watch *w)
{
	int i, up;
	unsigned flags, appeared = 0;

	w->went_down = w->came_up = 0;
	drain(w, link_event);
	/* A NIC that was missing when the wait ended may come now (a slow USB modem). */
	for (i = 0; i < w->n; i++)
		if (!w->ifindex[i] && (w->ifindex[i] = (int)if_nametoindex(w->names[i])) != 0)
			appeared |= 1u << i;
	for (i = 0; i < w->n; i++) {
		if (!w->changed[i])
			continue;
		w->changed[i] = 0;
		if (w->lower_up[i] < 0 || rtnl_link_flags(&w->req, w->ifindex[i], &flags) != 0)
			continue; /* not configured (yet), or gone */
		up = (flags & IFF_LOWER_UP) != 0;
		if (up != w->lower_up[i]) {
			log_line("nic %s: carrier %s", w->names[i], up ? "up" : "down");
			if (up)
				w->came_up |= 1u << i;
			else
				w->went_down |= 1u << i;
		}
		w->lower_up[i] = up;
	}
	return appeared;
}
