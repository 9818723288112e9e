/* entry.c: see entry.h. */
#include "entry.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pump.h"
#include "request.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* Reads exactly LEN bytes: 0 or -EIO. */
static int read_exact(int fd, unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* SOCKS5 from sockd: greeting and CONNECT into REQ: 0, or a SOCKS5 reply code to refuse with
 * (-1: nothing to answer). */
static int socks_request(int fd, struct link_request *req)
{
	unsigned char buf[LINK_REQUEST_MAX + 8];
	size_t have;
	int n;

	if (read_exact(fd, buf, 2) < 0 || buf[0] != 5 || read_exact(fd, buf + 2, buf[1]) < 0 ||
	    !memchr(buf + 2, 0, buf[1]))
		return -1;
	if (send(fd, "\x05\x00", 2, MSG_NOSIGNAL) != 2 || read_exact(fd, buf, 5) < 0 || buf[0] != 5)
		return -1;
	if (buf[1] != 1)
		return 7; /* command not supported */
	have = 5;
	/* ATYP and the first byte of ADDR are in; read until the address is whole. */
	while ((n = link_request_from_socks(req, buf + 3, have - 3)) == 0) {
		size_t want = buf[3] == LINK_ATYP_IPV4 ? 3 + 1 + 4 + 2 : buf[3] == LINK_ATYP_IPV6 ? 3 + 1 + 16 + 2 : 3 + 2 + (size_t)buf[4] + 2;
		if (want <= have || read_exact(fd, buf + have, want - have) < 0)
			return -1;
		have = want;
	}
	return n < 0 ? 8 : 0;
}

static void socks_reply(int fd, unsigned char code)
{
	unsigned char r[10] = { 5, code, 0, 1 };

	send(fd, r, sizeof(r), MSG_NOSIGNAL);
}

/* One client connection, in its own process: the exit status. */
static int serve_one(int fd, struct link_tls *t, const struct entry_exits *ex)
{
	struct link_request req;
	struct link_conn c;
	unsigned char buf[LINK_REQUEST_MAX];
	unsigned char status;
	size_t len;
	int i, link = -1, code;

	code = socks_request(fd, &req);
	if (code) {
		if (code > 0)
			socks_reply(fd, (unsigned char)code);
		return 1;
	}
	for (i = 0; i < ex->n; i++) {
		link = net_connect(&ex->addr[i], IPPROTO_MPTCP, ex->seconds);
		if (link < 0)
			continue;
		/* A deadline on the handshake's reads: a silent exit (wrong key, not an exit) is
		 * given up after ex->seconds and the next one is tried. */
		struct timeval tv = { .tv_sec = ex->seconds };
		setsockopt(link, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		code = link_conn_handshake(&c, t, link);
		tv.tv_sec = 0;
		setsockopt(link, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (code == 0)
			break;
		link_conn_free(&c);
		close(link);
		link = -1;
	}
	if (link < 0) {
		socks_reply(fd, 1);
		return 1;
	}
	len = link_request_write(&req, buf);
	if (link_conn_write(&c, buf, len) < 0 || link_conn_read(&c, &status, 1) != 1) {
		socks_reply(fd, 1);
		return 1;
	}
	socks_reply(fd, status);
	if (status != 0)
		return 1;
	code = link_pump(&c, fd);
	link_conn_free(&c);
	return code < 0;
}

int entry_serve(int listen_fd, struct link_tls *t, const struct entry_exits *ex)
{
	int fd;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	/* Children are not waited for one by one: none of their statuses matters here. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
				continue;
			return -errno;
		}
		pid = fork();
		if (pid == 0) {
			close(listen_fd);
			_exit(serve_one(fd, t, ex));
		}
		close(fd);
	}
}
