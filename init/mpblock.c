/* mpblock: uplinks whose network drops MPTCP, found and retried (see mpblock.h). */
#include "mpblock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"

#define SF_MCAP_REM 0x1 /* MPTCP_SUBFLOW_FLAG_*: the peer answered MP_CAPABLE */
#define SF_MCAP_LOC 0x2 /* we sent MP_CAPABLE */
#define SF_JOIN_REM 0x4 /* the peer answered MP_JOIN */
#define SF_JOIN_LOC 0x8 /* we sent MP_JOIN */
#define SOL_MPTCP_ 284  /* linux/socket.h's SOL_MPTCP; musl lacks it */
#define MPTCP_INFO_ 1

const char *mpblock_name(enum mpblock_state s)
{
	return s == MPBLOCK_JOINS ? "joins-dropped" : s == MPBLOCK_CAPABLE ? "mp-capable-dropped" : "ok";
}

static const char *what(enum mpblock_state s)
{
	return s == MPBLOCK_JOINS ? "MPTCP joins" : "MP_CAPABLE (new MPTCP connections)";
}

unsigned mpblock_avoid(const struct mpblock *mb)
{
	unsigned m = 0;
	int i;

	for (i = 0; i < mb->n; i++)
		if (mb->u[i].state == MPBLOCK_CAPABLE)
			m |= 1u << i;
	return m;
}

void mpblock_account(const struct diag_sock *s, void *arg)
{
	struct mpblock *mb = arg;
	struct mpblock_uplink *u;
	int i;

	if (!s->subflow || s->family != AF_INET)
		return;
	for (i = 0; i < mb->n && !(mb->addr[i].s_addr && s->src[0] == mb->addr[i].s_addr); i++)
		;
	if (i == mb->n)
		return;
	u = &mb->u[i];
	if (s->state == 1) {
		u->ok_join |= (s->sf_flags & SF_JOIN_REM) != 0;
		u->ok_mpc |= (s->sf_flags & SF_MCAP_REM) != 0;
		return;
	}
	if (s->state != 2) /* SYN_SENT */
		return;
	if ((s->sf_flags & SF_JOIN_LOC) && s->total_retrans >= MPBLOCK_SYN_RETRANS)
		u->join_waits = true;
	else if ((s->sf_flags & SF_MCAP_LOC) && s->total_retrans >= 1)
		u->mpc_waits = true;
	else
		return;
	u->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(s->dport) };
	u->to.sin_addr.s_addr = s->dst[0];
}

bool mpblock_read_mib(const char *netstat, uint64_t *drops)
{
	const char *head = strstr(netstat, "MPTcpExt:"), *vals, *h, *v;
	unsigned long long x;
	size_t k;

	if (!head || !(vals = strstr(head + 9, "MPTcpExt:")))
		return false;
	/* the name's position in the header line is the value's in the next line */
	for (h = head + 9, v = vals + 9; *h && *h != '\n';) {
		while (*h == ' ')
			h++;
		while (*v == ' ')
			v++;
		k = strcspn(h, " \n");
		if (k == strlen("MPCapableSYNTXDrop") && strncmp(h, "MPCapableSYNTXDrop", k) == 0)
			return sscanf(v, "%llu", &x) == 1 && (*drops = x, true);
		h += k;
		v += strcspn(v, " \n");
	}
	return false;
}

static void probe_close(struct mpblock_uplink *u)
{
	struct linger lg = { 1, 0 }; /* a reset: the server keeps nothing of it */

	if (u->probe != PROBE_NONE) {
		setsockopt(u->probe_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(u->probe_fd);
	}
	u->probe = PROBE_NONE;
}

static void probe_start(struct mpblock_uplink *u, struct in_addr from, enum mpblock_probe kind, uint64_t now)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = from };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			kind == PROBE_MPTCP ? IPPROTO_MPTCP : IPPROTO_TCP);

	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(fd, (struct sockaddr *)&u->to, sizeof(u->to)) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return;
	}
	u->probe_fd = fd;
	u->probe = kind;
	u->probe_until = now + MPBLOCK_PROBE_MS;
}

/* 1: connected, 0: not yet, -1: failed. */
static int probe_result(const struct mpblock_uplink *u)
{
	struct pollfd p = { .fd = u->probe_fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(u->probe_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err)
		return -1;
	return 1;
}

static void found(struct mpblock_uplink *u, int i, enum mpblock_state s, uint64_t now)
{
	char to[INET_ADDRSTRLEN];

	u->state = s;
	u->since_ms = now;
	u->backoff_s = MPBLOCK_RETRY_MIN;
	u->retry_at = now + MPBLOCK_RETRY_MIN * 1000u;
	log_line("mptcp: uplink %d's network drops %s (to %s:%u; a plain TCP connection gets through); retrying in %u s",
		 i, what(s), inet_ntop(AF_INET, &u->to.sin_addr, to, sizeof(to)), ntohs(u->to.sin_port),
		 MPBLOCK_RETRY_MIN);
}

static void cleared(struct mpblock_uplink *u, int i)
{
	if (u->state != MPBLOCK_OK)
		log_line("mptcp: uplink %d passes %s again", i, what(u->state));
	u->state = MPBLOCK_OK;
	u->retry_at = 0;
	u->backoff_s = 0;
	if (u->probe == PROBE_MPTCP)
		probe_close(u);
}

static void next_retry(struct mpblock_uplink *u, uint64_t now)
{
	u->backoff_s = u->backoff_s * 2 > MPBLOCK_RETRY_MAX ? MPBLOCK_RETRY_MAX : u->backoff_s * 2;
	u->retry_at = now + u->backoff_s * 1000u;
}

/* A probe in flight: what it tells, once it tells something. */
static void probe_check(struct mpblock_uplink *u, int i, uint64_t now)
{
	char to[INET_ADDRSTRLEN];
	socklen_t zero = 0;
	int r = probe_result(u);

	if (r == 0 && now < u->probe_until)
		return;
	if (u->probe == PROBE_TCP) {
		if (r == 1)
			found(u, i, MPBLOCK_JOINS, now);
		else
			log_line("mptcp: uplink %d: no answer from %s:%u through it at all (not an MPTCP block)", i,
				 inet_ntop(AF_INET, &u->to.sin_addr, to, sizeof(to)), ntohs(u->to.sin_port));
	} else if (r == 1 && getsockopt(u->probe_fd, SOL_MPTCP_, MPTCP_INFO_, NULL, &zero) == 0) {
		cleared(u, i); /* an MPTCP connection of its own got through */
	} else {
		log_line("mptcp: uplink %d still drops %s; next try in %u s", i, what(u->state), u->backoff_s);
	}
	probe_close(u);
}

bool mpblock_commit(struct mpblock *mb, uint64_t now, uint64_t mpc_drops, unsigned live, unsigned *rejoin)
{
	unsigned avoid = mpblock_avoid(mb);
	bool dropped = mb->mpc_read && mpc_drops > mb->mpc_drops;
	int i;

	*rejoin = 0;
	for (i = 0; i < mb->n; i++) {
		struct mpblock_uplink *u = &mb->u[i];
		bool up = live & (1u << i);

		if ((u->ok_join && u->state == MPBLOCK_JOINS) || (u->ok_mpc && u->state == MPBLOCK_CAPABLE))
			cleared(u, i);
		if (u->probe != PROBE_NONE)
			probe_check(u, i, now);
		if (dropped && (u->mpc_waits || u->mpc_waited) && u->state != MPBLOCK_CAPABLE)
			found(u, i, MPBLOCK_CAPABLE, now);
		else if (u->join_waits && u->state == MPBLOCK_OK && u->probe == PROBE_NONE && up)
			probe_start(u, mb->addr[i], PROBE_TCP, now);
		if (u->state != MPBLOCK_OK && u->retry_at && now >= u->retry_at && up && u->probe == PROBE_NONE) {
			if (u->state == MPBLOCK_JOINS) {
				*rejoin |= 1u << i;
				log_line("mptcp: uplink %d: joining its running connections again", i);
			} else {
				probe_start(u, mb->addr[i], PROBE_MPTCP, now);
			}
			next_retry(u, now);
		}
		u->mpc_waited = u->mpc_waits;
		u->ok_join = u->ok_mpc = u->join_waits = u->mpc_waits = false;
	}
	mb->mpc_drops = mpc_drops;
	mb->mpc_read = true;
	return mpblock_avoid(mb) != avoid;
}
