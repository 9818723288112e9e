/* info: connection facts for the host on a virtio-serial port (see info.h). */
#include "info.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "diag.h"
#include "fileio.h"
#include "linkentry.h"
#include "log.h"
#include "netlink.h"
#include "textbuf.h"

#define RETRY_MS 100u
#define RETRY_TRIES 100u    /* 10 s: the port may come after init starts, never much later */
#define WRITE_WAIT_MS 500   /* a host that stops reading does not stall PID 1 longer */

static void msk_line(const struct diag_sock *s, void *arg)
{
	char l[DIAG_ENDPOINT_LEN], r[DIAG_ENDPOINT_LEN];

	textbuf_put(arg, "msk token=%08x state=%u local=%s remote=%s flags=%u subflows=%u sent=%llu received=%llu acked=%llu retrans=%llu\n",
	    s->token, s->state, diag_endpoint(l, sizeof(l), s, true), diag_endpoint(r, sizeof(r), s, false),
	    s->msk_flags, s->msk_subflows, (unsigned long long)s->bytes_sent,
	    (unsigned long long)s->bytes_received, (unsigned long long)s->bytes_acked,
	    (unsigned long long)s->bytes_retrans);
}

static void tcp_line(const struct diag_sock *s, void *arg)
{
	char l[DIAG_ENDPOINT_LEN], r[DIAG_ENDPOINT_LEN];

	diag_endpoint(l, sizeof(l), s, true);
	diag_endpoint(r, sizeof(r), s, false);
	if (s->subflow)
		textbuf_put(arg, "sf token=%08x id=%u local=%s remote=%s state=%u flags=%#x rtt_us=%u sent=%llu acked=%llu received=%llu retrans=%u\n",
		    s->token, s->sf_id, l, r, s->state, s->sf_flags, s->rtt_us,
		    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_acked,
		    (unsigned long long)s->bytes_received, s->total_retrans);
	else
		textbuf_put(arg, "tcp local=%s remote=%s state=%u rtt_us=%u sent=%llu received=%llu\n", l, r,
		    s->state, s->rtt_us, (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
}

/* The link's exits as its entry last wrote them (linkentry.h). */
static void exits_put(struct textbuf *o, const char *path)
{
	struct link_exit_state e[CFG_MAX_LINKS];
	int i, n = linkentry_read_state(path, e, CFG_MAX_LINKS);

	for (i = 0; i < n; i++)
		textbuf_put(o, "exit at=%s state=%s serving=%d\n", e[i].at, e[i].state, e[i].serving);
}

size_t info_answer(const char *req, char *buf, size_t cap)
{
	struct textbuf o;
	struct nl nl;

	textbuf_init(&o, buf, cap - sizeof("truncated\nend\n"));
	if (strcmp(req, "conns") != 0) {
		textbuf_put(&o, "error unknown request (try: conns)\n");
	} else if (nl_open(&nl, NETLINK_SOCK_DIAG, 0) != 0) {
		textbuf_put(&o, "error sock_diag: %s\n", strerror(errno));
	} else {
		if (diag_dump(&nl, IPPROTO_MPTCP, msk_line, &o) < 0)
			textbuf_put(&o, "error mptcp dump: %s\n", nl.err);
		if (diag_dump(&nl, IPPROTO_TCP, tcp_line, &o) < 0)
			textbuf_put(&o, "error tcp dump: %s\n", nl.err);
		nl_close(&nl);
		exits_put(&o, LINK_STATE);
	}
	/* The reserve kept above always has room for the last lines. */
	memcpy(buf + o.len, o.full ? "truncated\nend\n" : "end\n", o.full ? 15 : 5);
	return o.len + (o.full ? 14 : 4);
}

/* The status document and "end", or an error line when it does not fit. */
static size_t status_answer(struct status *st, char *out, size_t cap)
{
	size_t n = status_render(st, true, out, cap - sizeof("end\n"));

	if (n == 0)
		n = (size_t)snprintf(out, cap, "error the status does not fit %zu bytes\n", cap);
	memcpy(out + n, "end\n", 5);
	return n + 4;
}

/* Writes it all, waiting up to WRITE_WAIT_MS for a slow reader; the rest is dropped. */
static void send_all(int fd, const char *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t until = now_ms() + WRITE_WAIT_MS;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || now_ms() >= until)
			return; /* host gone, or not reading */
		poll(&pfd, 1, (int)(until - now_ms()));
	}
}

/* Edge-triggered: woken on data and on the host connecting or leaving (while no host is
 * connected the port always polls readable, so level-triggered would spin). */
static void on_port(void *arg)
{
	struct info *in = arg;
	char buf[256], *nl;
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(in->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* drained (EAGAIN), or no host connected (0) */
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n') {
				if (in->req_len < sizeof(in->req) - 1)
					in->req[in->req_len++] = buf[i];
				continue;
			}
			in->req[in->req_len] = '\0';
			if ((nl = strchr(in->req, '\r')))
				*nl = '\0';
			in->req_len = 0;
			if (strcmp(in->req, "status") == 0 && in->status)
				in->out_len = status_answer(in->status, in->out, sizeof(in->out));
			else
				in->out_len = info_answer(in->req, in->out, sizeof(in->out));
			send_all(in->fd, in->out, in->out_len);
		}
	}
}

/* /dev/NAME of the virtio-serial port called INFO_PORT_NAME, from sysfs (no udev here). */
static int find_port(char *dev, size_t n)
{
	char path[300], name[64];
	struct dirent *d;
	DIR *dir = opendir("/sys/class/virtio-ports");
	int fd, found = -ENOENT;
	ssize_t r;

	if (!dir)
		return -ENOENT;
	while (found != 0 && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (r <= 0)
			continue;
		name[r] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, INFO_PORT_NAME) == 0) {
			snprintf(dev, n, "/dev/%s", d->d_name);
			found = 0;
		}
	}
	closedir(dir);
	return found;
}

static int try_open(struct info *in)
{
	char dev[300];
	int r = find_port(dev, sizeof(dev));

	if (r < 0)
		return r;
	in->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (in->fd < 0)
		return -errno;
	in->watch = (struct loop_watch){ in->fd, on_port, in, EPOLLET };
	if (loop_add_fd(in->loop, &in->watch) != 0) {
		r = -errno;
		close(in->fd);
		in->fd = -1;
		return r;
	}
	log_line("info: answering on %s (%s)", dev, INFO_PORT_NAME);
	on_port(in); /* a request may have come before the watch */
	return 0;
}

static void on_retry(void *arg)
{
	struct info *in = arg;
	int r = try_open(in);

	if (r == 0)
		return;
	if (++in->tries < RETRY_TRIES && r == -ENOENT)
		in->retry.when = now_ms() + RETRY_MS;
	else if (r != -ENOENT || access("/sys/class/virtio-ports", F_OK) == 0)
		log_line("info: no port %s: %s; status shows no connections", INFO_PORT_NAME,
			 strerror(-r));
	/* No virtio-ports at all (the hardware image, or no such qemu device): nothing to say. */
}

int info_setup(struct info *in, struct loop *l)
{
	in->fd = -1;
	in->loop = l;
	in->retry = (struct loop_timer){ 0, on_retry, in };
	if (loop_add_timer(l, &in->retry) != 0)
		return -ENOSPC;
	in->retry.when = now_ms(); /* first look from the loop: never delays the boot stages */
	return 0;
}
