/* exitd.c: see exitd.h. */
#include "exitd.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dest.h"
#include "net.h"
#include "pump.h"
#include "request.h"

#define EXIT_UNPROVEN 3 /* a child's status: the peer did not prove the key */

/* In a connection's child: whether its peer proved the key (tls.h), and the time it then
 * gets, for the deadline's handler (a signal handler sees only globals). */
static volatile sig_atomic_t child_proven;
static volatile sig_atomic_t child_grace;

/* The deadline: a peer that did not prove the key by then is a failure of its address. One
 * that did is no stranger, merely slow (an appliance setting up 200 connections at once under
 * TCG took over 5 s for some): it gets its grace once, then it too is ended. */
static void on_deadline(int sig)
{
	(void)sig;
	if (child_proven && child_grace > 0) {
		alarm((unsigned)child_grace);
		child_grace = 0;
		return;
	}
	_exit(child_proven ? 1 : EXIT_UNPROVEN);
}
#define PENALTY_SLOTS 1024

struct penalty {
	struct sockaddr_storage who;
	int failures;
	time_t last; /* its latest failure, or the latest time it was turned away */
};

struct penalties {
	struct penalty slot[PENALTY_SLOTS];
	time_t said; /* the last "turned away" line: at most one per penalty_seconds */
};

struct child {
	pid_t pid;
	struct sockaddr_storage who;
};

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static struct penalty *slot_of(struct penalties *tab, const struct sockaddr_storage *who)
{
	unsigned h = 2166136261u;
	const unsigned char *p;
	size_t n, i;

	if (who->ss_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)who)->sin_addr;
		n = 4;
	} else {
		p = (const unsigned char *)&((const struct sockaddr_in6 *)who)->sin6_addr;
		n = 8; /* a /64: one host's many addresses count as one */
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return &tab->slot[h % PENALTY_SLOTS];
}

/* Turned away while it keeps knocking: each try renews the penalty. */
static bool turned_away(struct penalties *tab, const struct sockaddr_storage *who, const struct exitd_limits *lim)
{
	struct penalty *s = slot_of(tab, who);
	time_t now = time(NULL);

	if (!same_host(&s->who, who) || now - s->last > lim->penalty_seconds || s->failures < lim->max_failures)
		return false;
	s->last = now;
	return true;
}

/* One more failure of WHO's; the one that turns it away is said on stderr, for the exit's
 * operator, at most once per penalty_seconds (a flood from many addresses says one line). */
static void count_failure(struct penalties *tab, const struct sockaddr_storage *who, const struct exitd_limits *lim)
{
	struct penalty *s = slot_of(tab, who);
	time_t now = time(NULL);

	if (!same_host(&s->who, who) || now - s->last > lim->penalty_seconds) {
		s->who = *who;
		s->failures = 0;
	}
	s->failures++;
	s->last = now;
	if (s->failures == lim->max_failures && now - tab->said >= lim->penalty_seconds) {
		char host[NI_MAXHOST] = "?";

		tab->said = now;
		getnameinfo((const struct sockaddr *)who, sizeof(*who), host, sizeof(host), NULL, 0, NI_NUMERICHOST);
		fprintf(stderr, "mpslink: %s failed to prove the key %d times within %d s: turned away while it keeps trying\n",
			host, lim->max_failures, lim->penalty_seconds);
	}
}

/* A: connected in plain TCP within SECONDS: the fd, or -EPERM where the exit never goes
 * (dest.h), or -errno. */
static int connect_allowed(const struct net_addr *a, int seconds)
{
	if (!link_dest_public((const struct sockaddr *)&a->ss) || link_dest_is_own((const struct sockaddr *)&a->ss))
		return -EPERM;
	return net_connect(a, IPPROTO_TCP, seconds);
}

/* The request's server, connected in plain TCP: the fd, or -(a SOCKS5 reply code). */
static int connect_target(const struct link_request *req, int seconds)
{
	struct net_addr a = { 0 };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char port[8];
	int fd = -ECONNREFUSED;

	if (req->atyp != LINK_ATYP_NAME) {
		if (req->atyp == LINK_ATYP_IPV4) {
			struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, req->addr, 4);
			in->sin_port = htons(req->port);
			a.len = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.ss;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, req->addr, 16);
			in6->sin6_port = htons(req->port);
			a.len = sizeof(*in6);
		}
		fd = connect_allowed(&a, seconds);
	} else {
		snprintf(port, sizeof(port), "%u", req->port);
		if (getaddrinfo((const char *)req->addr, port, &hints, &res) != 0)
			return -4; /* host unreachable */
		for (ai = res; ai; ai = ai->ai_next) {
			memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
			a.len = ai->ai_addrlen;
			fd = connect_allowed(&a, seconds);
			if (fd >= 0)
				break;
		}
		freeaddrinfo(res);
	}
	if (fd >= 0)
		return fd;
	switch (fd) {
	case -EPERM:
		return -2; /* not allowed by the ruleset */
	case -ENETUNREACH:
		return -3;
	case -EHOSTUNREACH:
	case -ETIMEDOUT:
		return -4;
	case -ECONNREFUSED:
		return -5;
	default:
		return -1;
	}
}

/* One connection, in its own process: the exit status. */
static int serve_one(int fd, struct link_tls *t, const struct exitd_limits *lim)
{
	struct link_conn c;
	struct link_request req;
	unsigned char buf[LINK_REQUEST_MAX];
	size_t have = 0;
	int n, target;
	unsigned char status = 0;

	child_grace = lim->proven_seconds;
	signal(SIGALRM, on_deadline);
	alarm((unsigned)lim->handshake_seconds);
	c.proven = &child_proven;
	if (link_conn_handshake(&c, t, fd) < 0)
		return child_proven ? 1 : EXIT_UNPROVEN;
	for (;;) {
		n = link_request_parse(&req, buf, have);
		if (n > 0)
			break;
		if (n < 0 || have == sizeof(buf))
			return 1;
		n = link_conn_read(&c, buf + have, sizeof(buf) - have);
		if (n <= 0)
			return 1;
		have += (size_t)n;
	}
	alarm(0);
	target = connect_target(&req, lim->connect_seconds);
	if (target < 0)
		status = (unsigned char)-target;
	if (link_conn_write(&c, &status, 1) < 0 || target < 0)
		return 1;
	/* Bytes the entry sent after the request, in the same records, go first. */
	if (have > (size_t)n && send(target, buf + n, have - (size_t)n, MSG_NOSIGNAL) < 0)
		return 1;
	n = link_pump(&c, target);
	if (n == -EIO)
		fprintf(stderr, "mpslink: a connection broke on the link: TLS error -0x%04x\n", -c.tls_error);
	else if (n < 0)
		fprintf(stderr, "mpslink: a connection's server side broke: %s\n", strerror(errno));
	link_conn_free(&c);
	return n < 0;
}

/* Collects ended children (waiting for one first when BLOCK); counts the unproven ones. */
static void reap(struct child *kids, int *nkids, struct penalties *tab, const struct exitd_limits *lim, bool block)
{
	int st, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, block ? 0 : WNOHANG)) > 0) {
		block = false;
		for (i = 0; i < *nkids; i++) {
			if (kids[i].pid != pid)
				continue;
			/* Unproven, by a failed handshake or the deadline: a failure of that address. */
			if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_UNPROVEN)
				count_failure(tab, &kids[i].who, lim);
			kids[i] = kids[--*nkids];
			break;
		}
	}
}

int exitd_serve(int listen_fd, struct link_tls *t, const struct exitd_limits *lim)
{
	struct penalties tab;
	struct child kids[lim->max_children];
	int nkids = 0, fd;
	struct sockaddr_storage who;
	socklen_t wlen;
	pid_t pid;

	memset(&tab, 0, sizeof(tab));
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		/* Full: wait for a child rather than accept (the listen queue holds the rest). */
		reap(kids, &nkids, &tab, lim, nkids >= lim->max_children);
		if (nkids >= lim->max_children)
			continue;
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		wlen = sizeof(who);
		fd = accept4(listen_fd, (struct sockaddr *)&who, &wlen, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (turned_away(&tab, &who, lim)) {
			close(fd);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(listen_fd);
			_exit(serve_one(fd, t, lim));
		}
		close(fd);
		if (pid > 0)
			kids[nkids++] = (struct child){ .pid = pid, .who = who };
	}
	return 0;
}
