/* rates: per-uplink bytes from sock_diag, once a second (see rates.h). */
#include "rates.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int by_cookie(const void *a, const void *b)
{
	uint64_t x = ((const struct rates_sock *)a)->cookie, y = ((const struct rates_sock *)b)->cookie;

	return x < y ? -1 : x > y;
}

static int uplink_of(const struct rates *r, const struct diag_sock *s)
{
	int i;

	for (i = 0; i < r->n; i++) {
		if (s->family == AF_INET && r->addr[i].s_addr && s->src[0] == r->addr[i].s_addr)
			return i;
		if (s->family == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(&r->addr6[i]) &&
		    memcmp(s->src, &r->addr6[i], 16) == 0)
			return i;
	}
	return -1;
}

void rates_account(const struct diag_sock *s, void *arg)
{
	struct rates *r = arg;
	struct rates_sock key = { .cookie = s->cookie }, *was;
	uint64_t to, from;
	int i = uplink_of(r, s);

	if (i < 0 || (s->family == AF_INET && s->src[0] == r->listen.s_addr && s->sport == r->port))
		return;
	was = bsearch(&key, r->prev, r->n_prev, sizeof(key), by_cookie);
	if (was) {
		/* A socket's counters only grow; a smaller value is a closed one's (time-wait). */
		to = s->bytes_acked >= was->acked ? s->bytes_acked - was->acked : 0;
		from = s->bytes_received >= was->received ? s->bytes_received - was->received : 0;
	} else if (r->prev_full) {
		to = from = 0; /* maybe one the last sample could not keep: unknown, not new */
	} else {
		to = s->bytes_acked; /* new since the last sample */
		from = s->bytes_received;
	}
	r->d_to[i] += to;
	r->d_from[i] += from;
	if (r->n_cur < RATES_SOCKS) /* past it, commit marks the sample full */
		r->cur[r->n_cur++] = (struct rates_sock){ s->cookie, s->bytes_acked, s->bytes_received };
}

void rates_commit(struct rates *r)
{
	int i;

	for (i = 0; i < r->n; i++) {
		r->to_net[i] += r->d_to[i];
		r->from_net[i] += r->d_from[i];
		r->hist_to[r->head][i] = r->d_to[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)r->d_to[i];
		r->hist_from[r->head][i] = r->d_from[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)r->d_from[i];
		r->d_to[i] = r->d_from[i] = 0;
	}
	r->head = (r->head + 1) % RATES_SECONDS;
	if (r->count < RATES_SECONDS)
		r->count++;
	qsort(r->cur, r->n_cur, sizeof(r->cur[0]), by_cookie);
	memcpy(r->prev, r->cur, r->n_cur * sizeof(r->cur[0]));
	r->prev_full = r->n_cur == RATES_SOCKS;
	r->n_prev = r->n_cur;
	r->n_cur = 0;
}

uint32_t rates_last(const struct rates *r, int nic, bool to_net, unsigned back)
{
	unsigned slot;

	if (back >= r->count || nic < 0 || nic >= r->n)
		return 0;
	slot = (r->head + RATES_SECONDS - 1 - back) % RATES_SECONDS;
	return to_net ? r->hist_to[slot][nic] : r->hist_from[slot][nic];
}
