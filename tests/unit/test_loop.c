/* Unit tests of init/loop.c: timers fire once and in time, fds dispatch, timeouts bound. */
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "loop.h"

struct counter {
	int n;
	uint64_t at;
};

static void tick(void *arg)
{
	struct counter *k = arg;

	k->n++;
	k->at = now_ms();
}

struct fdw {
	struct loop_watch w;
	int n;
};

static void readable(void *arg)
{
	struct fdw *x = arg;
	char b[16];

	if (read(x->w.fd, b, sizeof(b)) > 0)
		x->n++;
}

int main(void)
{
	struct check c = { "loop", 0 };
	struct loop l;
	struct counter a = { 0, 0 }, b = { 0, 0 };
	struct fdw x = { { -1, NULL, NULL }, 0 };
	struct loop_timer ta = { 0, tick, &a }, tb = { 0, tick, &b };
	uint64_t t0;
	int p[2];

	CHECK(&c, "init", loop_init(&l) == 0);
	loop_add_timer(&l, &ta);
	loop_add_timer(&l, &tb);
	CHECK(&c, "no timer armed: wait forever", loop_timeout(&l, 100) == -1);
	ta.when = 150;
	tb.when = 130;
	CHECK(&c, "timeout = earliest timer", loop_timeout(&l, 100) == 30);
	CHECK(&c, "due timer: no wait", loop_timeout(&l, 200) == 0);

	t0 = now_ms();
	ta.when = t0 + 20;
	tb.when = 0;
	while (!a.n && now_ms() < t0 + 1000)
		loop_once(&l);
	CHECK(&c, "timer fires once, not early", a.n == 1 && a.at >= t0 + 20 && ta.when == 0);
	CHECK(&c, "disarmed timer never fires", b.n == 0);

	if (pipe(p) != 0)
		return 1;
	x.w.fd = p[0];
	x.w.fn = readable;
	x.w.arg = &x;
	CHECK(&c, "fd registered", loop_add_fd(&l, &x.w) == 0);
	if (write(p[1], "x", 1) != 1)
		return 1;
	ta.when = now_ms() + 500; /* bounds the wait if the fd were not dispatched */
	loop_once(&l);
	CHECK(&c, "readable fd dispatched without waiting for the timer", x.n == 1 && ta.when != 0);
	CHECK(&c, "bad fd refused", loop_add_fd(&l, &(struct loop_watch){ -1, readable, &x }) != 0);
	return CHECK_DONE(&c);
}
