/* loop: the one event loop of PID 1: epoll over file descriptors (signalfd, netlink link
 * events) plus a few millisecond timers on CLOCK_BOOTTIME. Watchers and timers are owned by
 * the caller and registered once; a timer is armed by setting `when`. */
#ifndef MPSOCKS_LOOP_H
#define MPSOCKS_LOOP_H
#include <stdint.h>

#define LOOP_MAX_TIMERS 12

typedef void (*loop_fn)(void *arg);

struct loop_watch {
	int fd;
	loop_fn fn;
	void *arg;
	uint32_t extra_events; /* epoll flags besides EPOLLIN, e.g. EPOLLET */
};

struct loop_timer {
	uint64_t when; /* 0: disarmed; else run fn once at or after this now_ms() */
	loop_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	int n_timers;
	struct loop_timer *timers[LOOP_MAX_TIMERS];
};

int loop_init(struct loop *l);
int loop_add_fd(struct loop *l, struct loop_watch *w);
int loop_add_timer(struct loop *l, struct loop_timer *t);
/* Milliseconds until the earliest armed timer (0 if due), -1 when none is armed. */
int loop_timeout(const struct loop *l, uint64_t now);
/* Waits for one round of events (bounded by the earliest timer) and dispatches them. */
void loop_once(struct loop *l);

#endif
