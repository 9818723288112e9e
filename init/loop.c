/* loop: epoll + timers (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "log.h"

int loop_init(struct loop *l)
{
	l->n_timers = 0;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

int loop_add_fd(struct loop *l, struct loop_watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN | w->extra_events, .data.ptr = w };

	if (l->epfd < 0 || w->fd < 0)
		return -1;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_add_timer(struct loop *l, struct loop_timer *t)
{
	if (l->n_timers == LOOP_MAX_TIMERS)
		return -1;
	l->timers[l->n_timers++] = t;
	return 0;
}

int loop_timeout(const struct loop *l, uint64_t now)
{
	uint64_t first = 0;
	int i;

	for (i = 0; i < l->n_timers; i++)
		if (l->timers[i]->when && (!first || l->timers[i]->when < first))
			first = l->timers[i]->when;
	if (!first)
		return -1;
	if (first <= now)
		return 0;
	return first - now > 60000 ? 60000 : (int)(first - now);
}

void loop_once(struct loop *l)
{
	struct epoll_event ev[8];
	uint64_t now = now_ms();
	int n, i;

	if (l->epfd >= 0) {
		n = epoll_wait(l->epfd, ev, 8, loop_timeout(l, now));
	} else {
		/* No epoll (cannot happen on a sane kernel): still keep timers going. */
		int t = loop_timeout(l, now);
		usleep((useconds_t)(t < 0 || t > 1000 ? 1000 : t) * 1000u);
		n = 0;
	}
	for (i = 0; i < n; i++) {
		struct loop_watch *w = ev[i].data.ptr;
		w->fn(w->arg);
	}
	now = now_ms();
	for (i = 0; i < l->n_timers; i++) {
		struct loop_timer *t = l->timers[i];

		if (t->when && t->when <= now) {
			t->when = 0; /* one-shot: fn re-arms when it wants more */
			t->fn(t->arg);
		}
	}
}
