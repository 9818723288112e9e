/* pump.c: see pump.h. Blocking writes: each connection has a process of its own. */
#include "pump.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"

static int write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* How long the link may have nothing to read before net_rx_unstick() looks at it: in poll,
 * and as the socket's receive timeout inside a record (a record's rest can wait behind the
 * very hole that deadlocks the kernel's MPTCP receiver). */
#define LINK_QUIET_MS 1000

static void rx_quiet(struct link_conn *c)
{
	int grown = net_rx_unstick(c->fd);

	if (grown > 0)
		fprintf(stderr, "mpslink: the link's receive buffer was full of out-of-order data with "
			"nothing to read (the kernel's MPTCP receiver deadlock): raised to %d bytes\n", grown);
}

static int pump(struct link_conn *c, int plain)
{
	unsigned char buf[16384];
	bool from_link = true, from_plain = true;
	struct pollfd p[2];
	int n;

	while (from_link || from_plain) {
		bool link_ready = from_link && link_conn_pending(c) > 0;

		if (!link_ready) {
			p[0] = (struct pollfd){ .fd = from_link ? c->fd : -1, .events = POLLIN };
			p[1] = (struct pollfd){ .fd = from_plain ? plain : -1, .events = POLLIN };
			n = poll(p, 2, from_link ? LINK_QUIET_MS : -1);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -EIO;
			}
			if (n == 0) {
				rx_quiet(c);
				continue;
			}
			link_ready = from_link && (p[0].revents & (POLLIN | POLLHUP | POLLERR));
		}
		if (link_ready) {
			n = link_conn_read(c, buf, sizeof(buf));
			if (n == -EAGAIN) {
				rx_quiet(c);
				continue;
			}
			if (n < 0)
				return -EIO;
			if (n == 0) {
				shutdown(plain, SHUT_WR);
				from_link = false;
			} else if (write_all(plain, buf, (size_t)n) < 0) {
				return -EPIPE;
			}
			continue;
		}
		if (from_plain && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(plain, buf, sizeof(buf), 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -EPIPE;
			if (r == 0) {
				link_conn_close_write(c);
				from_plain = false;
			} else if (link_conn_write(c, buf, (size_t)r) < 0) {
				return -EIO;
			}
		}
	}
	return 0;
}

int link_pump(struct link_conn *c, int plain)
{
	struct timeval quiet = { .tv_sec = LINK_QUIET_MS / 1000, .tv_usec = LINK_QUIET_MS % 1000 * 1000 };
	int ret, err;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet));
	ret = pump(c, plain);
	err = errno;

	if (ret < 0) {
		/* A broken side ends both: the far end stops sending at once. */
		net_abort(c->fd);
		net_abort(plain);
		errno = err; /* what broke, for the caller's log */
	}
	return ret;
}
