/* mptcp_server: the test bed's "internet" server. An MPTCP listener (plain TCP clients fall
 * back transparently) speaking a tiny HTTP subset (request.h), one forked child per connection.
 * For every connection it prints one line on stdout:
 *   conn tag=T peer=IP:PORT req=download|upload|bad in=N out=N sha256_in=H sha256_out=H
 *        secs=S complete=0|1 [rx_full=RMEM/RCVBUF] mptcp=0|1 subflows=N sf=LOCAL>REMOTE,tx=N,rx=N ...
 * rx_full: an upload that stopped with this side's receive buffer full and nothing to read:
 * out-of-order data behind a hole, the receiving kernel's MPTCP deadlock (kernel/patches/
 * mptcp-rx-hole-under-full-rcvbuf.patch; this server runs on the host's kernel).
 * rx_unstuck=N: how often an upload had that deadlock and got out of it by the exit's own cure,
 * net_rx_unstick() (link/net.h), tried after each second with nothing to read: the bed stands
 * in for a server whose kernel we cannot patch, and the soak counts these apart.
 * in/out count body bytes only; the subflow list is every subflow seen during the transfer.
 * Usage: mptcp_server [--tcp] ADDR PORT   (stdout should be a file opened for appending;
 *                                       --tcp: a plain IPPROTO_TCP listener, which no client
 *                                       can make MPTCP: the exit's far server, mptcp=0)
 *        mptcp_server --pattern TAG N  (writes what GET /bytes/N?tag=TAG sends: tests compute
 *                                       the expected sha256 without asking the server) */
#include "../../link/net.h"
#include "pattern.h"
#include "request.h"
#include "sha256.h"
#include "subflows.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define CHUNK (64 * 1024)
#define HEAD_MAX (16 * 1024)
/* Subflows are sampled at least this often (bytes) so short-lived ones are still seen. */
#define SAMPLE_EVERY (512 * 1024)
/* A client that sends or reads nothing for this long is given up on. */
#define IDLE_SECS 30

struct conn {
	int fd;
	char peer[64];
	struct request req;
	uint64_t in, out;
	struct sha256 hin, hout;
	struct subflows sf;
	int complete;
	struct timespec start;
	uint32_t rx_full[2]; /* SO_MEMINFO's rmem_alloc and rcvbuf, when the upload stopped so */
	unsigned rx_unstuck;
};

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w, n -= (size_t)w;
	}
	return 0;
}

/* Reads the request head; leftover body bytes stay in buf[*head_len .. *got). */
static int read_head(int fd, char *buf, size_t size, size_t *got, size_t *head_len)
{
	char *end;

	*got = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + *got, size - 1 - *got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		*got += (size_t)r;
		buf[*got] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			*head_len = (size_t)(end - buf) + 4;
			end[2] = 0; /* keep the last header's CRLF for request_parse's line walk */
			return 0;
		}
		if (*got == size - 1)
			return -1;
	}
}

static void do_download(struct conn *c)
{
	static const char fmt[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				  "Content-Length: %llu\r\nConnection: close\r\n\r\n";
	char head[256];
	static unsigned char buf[CHUNK];
	struct pattern p;
	uint64_t next_sample = 0;
	int i;

	snprintf(head, sizeof(head), fmt, (unsigned long long)c->req.length);
	if (send_all(c->fd, head, strlen(head)) < 0)
		return;
	pattern_init(&p, c->req.tag);
	while (c->out < c->req.length) {
		size_t n = c->req.length - c->out < CHUNK ? (size_t)(c->req.length - c->out) : CHUNK;
		pattern_fill(&p, buf, CHUNK);
		if (send_all(c->fd, buf, n) < 0)
			return;
		sha256_update(&c->hout, buf, n);
		c->out += n;
		if (c->out >= next_sample) {
			subflows_sample(c->fd, &c->sf);
			next_sample = c->out + SAMPLE_EVERY;
		}
	}
	/* Wait (bounded) for the peer to ack everything so per-subflow tx counters are final. */
	for (i = 0; i < 1000 && !subflows_all_acked(c->fd); i++) {
		subflows_sample(c->fd, &c->sf);
		usleep(10000);
	}
	subflows_sample(c->fd, &c->sf);
	c->complete = 1;
}

/* The upload stopped (the idle timeout): was the buffer full with nothing to read? */
static void rx_state(struct conn *c)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	int inq = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 && len == sizeof(mem) &&
	    ioctl(c->fd, FIONREAD, &inq) == 0 && inq == 0 &&
	    mem[SK_MEMINFO_RMEM_ALLOC] >= mem[SK_MEMINFO_RCVBUF]) {
		c->rx_full[0] = mem[SK_MEMINFO_RMEM_ALLOC];
		c->rx_full[1] = mem[SK_MEMINFO_RCVBUF];
	}
}

static void do_upload(struct conn *c, const char *body, size_t nbody)
{
	static char buf[CHUNK];
	struct timeval second = { .tv_sec = 1 };
	uint64_t next_sample = 0;
	int idle = 0; /* seconds in a row with nothing to read */

	if (c->req.expect_continue && !nbody &&
	    send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
		return;
	if (nbody > c->req.length)
		nbody = (size_t)c->req.length;
	sha256_update(&c->hin, body, nbody);
	c->in = nbody;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof(second));
	while (c->in < c->req.length) {
		size_t want = c->req.length - c->in < CHUNK ? (size_t)(c->req.length - c->in) : CHUNK;
		ssize_t r = recv(c->fd, buf, want, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ++idle < IDLE_SECS) {
			c->rx_unstuck += net_rx_unstick(c->fd) > 0;
			continue;
		}
		if (r < 0)
			rx_state(c);
		if (r <= 0)
			return;
		idle = 0;
		sha256_update(&c->hin, buf, (size_t)r);
		c->in += (uint64_t)r;
		if (c->in >= next_sample) {
			subflows_sample(c->fd, &c->sf);
			next_sample = c->in + SAMPLE_EVERY;
		}
	}
	subflows_sample(c->fd, &c->sf);
	c->complete = 1;
}

/* The report line, without the trailing newline. */
static void report(struct conn *c, char *line, size_t size)
{
	static const char *kinds[] = { "bad", "download", "upload" };
	char hin[65], hout[65];

	sha256_hex(&c->hin, hin);
	sha256_hex(&c->hout, hout);
	snprintf(line, size,
		 "conn tag=%s peer=%s req=%s in=%llu out=%llu sha256_in=%s sha256_out=%s secs=%.3f "
		 "complete=%d",
		 c->req.tag, c->peer, kinds[c->req.kind], (unsigned long long)c->in,
		 (unsigned long long)c->out, hin, hout, since(&c->start), c->complete);
	if (c->rx_full[1])
		snprintf(line + strlen(line), size - strlen(line), " rx_full=%u/%u", c->rx_full[0],
			 c->rx_full[1]);
	if (c->rx_unstuck)
		snprintf(line + strlen(line), size - strlen(line), " rx_unstuck=%u", c->rx_unstuck);
	subflows_format(&c->sf, line, size);
}

static void serve(int fd, const struct sockaddr_storage *peer)
{
	struct timeval idle = { .tv_sec = IDLE_SECS };
	static char buf[HEAD_MAX];
	char line[4096], ip[INET6_ADDRSTRLEN];
	const struct sockaddr_in *p4 = (const void *)peer;
	const struct sockaddr_in6 *p6 = (const void *)peer;
	size_t got = 0, head_len = 0;
	struct conn c = { .fd = fd };

	clock_gettime(CLOCK_MONOTONIC, &c.start);
	sha256_init(&c.hin);
	sha256_init(&c.hout);
	if (peer->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &p6->sin6_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET, &p4->sin_addr, ip, sizeof(ip));
	snprintf(c.peer, sizeof(c.peer), "%s:%u", ip,
		 ntohs(peer->ss_family == AF_INET6 ? p6->sin6_port : p4->sin_port));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle));
	subflows_sample(fd, &c.sf);

	if (read_head(fd, buf, sizeof(buf), &got, &head_len) < 0) {
		c.req.kind = REQ_BAD;
	} else {
		request_parse(buf, &c.req);
		if (c.req.kind == REQ_DOWNLOAD)
			do_download(&c);
		else if (c.req.kind == REQ_UPLOAD)
			do_upload(&c, buf + head_len, got - head_len);
	}
	report(&c, line, sizeof(line));
	if (c.req.kind == REQ_UPLOAD && c.complete) {
		char head[128];
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 strlen(line) + 1);
		strcat(line, "\n");
		if (send_all(fd, head, strlen(head)) == 0)
			send_all(fd, line, strlen(line));
		line[strlen(line) - 1] = 0;
	} else if (c.req.kind == REQ_BAD) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "HTTP/1.1 400 Bad Request\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			 strlen(c.req.error ? c.req.error : "unreadable request") + 1,
			 c.req.error ? c.req.error : "unreadable request");
		send_all(fd, msg, strlen(msg));
	}
	/* Let the client read everything before the FIN; then wait for its close. */
	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	strcat(line, "\n");
	/* One write per line: the log file is O_APPEND and shared by all children. */
	if (write(STDOUT_FILENO, line, strlen(line)) < 0)
		_exit(1);
}

/* ADDR: an IPv4 or an IPv6 address. */
static int listen_on(const char *addr, int port, int proto)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int one = 1, fd, v6 = inet_pton(AF_INET6, addr, &sa6.sin6_addr) == 1;

	if (!v6 && inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "mptcp_server: bad address %s\n", addr);
		return -1;
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, proto);
	if (fd < 0) {
		perror(proto == IPPROTO_TCP ? "mptcp_server: socket(IPPROTO_TCP)"
					    : "mptcp_server: socket(IPPROTO_MPTCP)");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) : bind(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 ||
	    listen(fd, 1024) < 0) {
		perror("mptcp_server: bind/listen");
		close(fd);
		return -1;
	}
	return fd;
}

static int print_pattern(const char *tag, const char *count)
{
	static unsigned char buf[CHUNK];
	unsigned long long left = strtoull(count, NULL, 10);
	struct pattern p;

	pattern_init(&p, tag);
	while (left) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		pattern_fill(&p, buf, CHUNK);
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
		left -= n;
	}
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int lfd, port, proto = IPPROTO_MPTCP;

	if (argc == 4 && !strcmp(argv[1], "--pattern"))
		return print_pattern(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "--tcp"))
		proto = IPPROTO_TCP, argv++, argc--;
	if (argc != 3 || (port = atoi(argv[2])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: mptcp_server [--tcp] ADDR PORT | mptcp_server --pattern TAG N\n");
		return 2;
	}
	lfd = listen_on(argv[1], port, proto);
	if (lfd < 0)
		return 1;
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	fprintf(stderr, "mptcp_server: listening on %s:%d (%s)\n", argv[1], port,
		proto == IPPROTO_TCP ? "plain TCP" : "MPTCP");
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept(lfd, (struct sockaddr *)&peer, &len);
		pid_t pid;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("mptcp_server: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(fd, &peer);
			_exit(0);
		}
		if (pid < 0)
			perror("mptcp_server: fork");
		close(fd);
	}
}
