/* entry.c: see entry.h. */
#include "entry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pump.h"
#include "request.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* At most this many of the entry's connections between their connect to an exit and their
 * finished handshake. The exit gives a peer 5 s from its accept to prove the key (exitd.h)
 * and counts one that does not as a stranger. A burst of 200 on a TCG guest queues ~6 s of
 * X25519 work, so the last hellos came late, were dropped and, ten of them, could get the
 * appliance's own address turned away (make test's exit group lost a connection once). The
 * rest wait here, before they connect, where no deadline of the exit runs. 16: each hello
 * leaves within ~0.5 s of its connect under TCG, and a link of 50 ms round trips still opens
 * ~300 connections a second. */
#define OPENING_AT_ONCE 16

/* Shared by the entry and its children (MAP_SHARED): single-word stores, a race only ever
 * delays what the state file shows by one change. */
struct shared {
	struct exit_seen seen[LINK_KEYS_MAX];
	int serving;           /* the exit of the latest connection carried; -1: none yet */
	unsigned generation;   /* bumped on every change, for the state file's writer */
	sem_t opening;         /* OPENING_AT_ONCE tokens (process-shared) */
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

const char *exit_state_word(enum exit_state s)
{
	switch (s) {
	case EXIT_UP:
		return "up";
	case EXIT_NO_ANSWER:
		return "no-answer";
	case EXIT_REFUSED_KEY:
		return "refused-key";
	case EXIT_PLAIN_SOCKS:
		return "plain-socks";
	default:
		return "untried";
	}
}

static void note(struct shared *sh, int i, enum exit_state s)
{
	if (sh->seen[i].state != s)
		sh->generation++;
	sh->seen[i].state = s;
	if (s != EXIT_UP)
		sh->seen[i].failed_at = now_s();
}

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

/* Connect within SECONDS and handshake within HS_SECONDS to A into C: the link's fd, or -(the
 * exit's state). */
static int open_link(struct link_conn *c, const struct net_addr *a, const struct net_addr *from,
		     struct link_tls *t, int seconds, int hs_seconds)
{
	struct timeval tv = { .tv_sec = hs_seconds };
	int fd, err;

	c->proven = NULL;
	fd = net_connect_from(a, from, IPPROTO_MPTCP, seconds);
	if (fd < 0)
		return -EXIT_NO_ANSWER;
	/* A deadline on the handshake's reads: a silent exit is given up after HS_SECONDS. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	err = link_conn_handshake(c, t, fd);
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (err == 0)
		return fd;
	link_conn_free(c);
	close(fd);
	/* Dropped during the handshake: it is there, but the key is not its key. */
	return err == -EACCES ? -EXIT_REFUSED_KEY : -EXIT_NO_ANSWER;
}

enum exit_state entry_probe(const struct net_addr *a, const struct net_addr *from, struct link_tls *t, int seconds)
{
	struct link_conn c;
	struct timeval tv = { .tv_sec = seconds };
	unsigned char answer[2];
	int fd = open_link(&c, a, from, t, seconds, seconds);

	if (fd == -EXIT_REFUSED_KEY) {
		/* A plain SOCKS5 server answers a greeting (no authentication offered); ours never. */
		fd = net_connect_from(a, from, IPPROTO_TCP, seconds);
		if (fd < 0)
			return EXIT_REFUSED_KEY;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(fd, "\x05\x01\x00", 3, MSG_NOSIGNAL) == 3 && read_exact(fd, answer, 2) == 0 && answer[0] == 5) {
			close(fd);
			return EXIT_PLAIN_SOCKS;
		}
		close(fd);
		return EXIT_REFUSED_KEY;
	}
	if (fd < 0)
		return (enum exit_state)-fd;
	link_conn_close_write(&c);
	link_conn_free(&c);
	close(fd);
	return EXIT_UP;
}

/* A token of sh->opening, waiting at most SECONDS (a child that died holding one must not
 * stop the others for good): true when one was taken, to be given back. */
static bool opening_take(struct shared *sh, int seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	while (sem_timedwait(&sh->opening, &until) != 0)
		if (errno != EINTR)
			return false;
	return true;
}

/* The first exit to answer, those that failed lately last: its index with C open, or -1.
 * When none answered within seconds, each that did not answer gets patient_seconds: a burst
 * of connections that fills the guest's queues loses a SYN or its answer now and then, and a
 * lost SYN is sent again only after a second. */
static int pick_exit(struct link_conn *c, struct entry_exits *ex, struct shared *sh, int *link)
{
	enum exit_state got[LINK_KEYS_MAX];
	time_t now = now_s();
	int pass, i, fd;

	for (pass = 0; pass < 3; pass++) {
		for (i = 0; i < ex->n; i++) {
			struct exit_seen *s = &sh->seen[i];
			bool lately = s->state != EXIT_UP && s->failed_at && now - s->failed_at < ex->retry_seconds;
			if (pass < 2 ? lately != (pass == 1) : got[i] != EXIT_NO_ANSWER)
				continue;
			bool token = opening_take(sh, ex->handshake_seconds);
			fd = open_link(c, &ex->addr[i], NULL, &ex->tls[i], pass < 2 ? ex->seconds : ex->patient_seconds,
				       ex->handshake_seconds);
			if (token)
				sem_post(&sh->opening);
			if (fd >= 0) {
				note(sh, i, EXIT_UP);
				*link = fd;
				return i;
			}
			got[i] = (enum exit_state)-fd;
			note(sh, i, got[i]);
		}
	}
	return -1;
}

/* One client connection, in its own process: the exit status. */
static int serve_one(int fd, struct entry_exits *ex, struct shared *sh)
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
	i = pick_exit(&c, ex, sh, &link);
	if (i < 0) {
		fprintf(stderr, "mpslink: no exit answered a connection (the first: %s, of %d)\n",
			exit_state_word(sh->seen[0].state), ex->n);
		socks_reply(fd, 1);
		return 1;
	}
	if (sh->serving != i) {
		sh->serving = i;
		sh->generation++;
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
	if (code == -EIO)
		fprintf(stderr, "mpslink: a connection through exit %d broke: TLS error -0x%04x\n", i + 1, -c.tls_error);
	else if (code < 0)
		fprintf(stderr, "mpslink: a connection through exit %d: its client side broke: %s\n", i + 1, strerror(errno));
	link_conn_free(&c);
	return code < 0;
}

/* A line per exit: "ADDR:PORT STATE" and " serving" on the one in use, padded to a fixed
 * width so that a rewrite in place never leaves a longer old line's tail. */
#define STATE_LINE 72
static void write_state(const struct entry_exits *ex, const struct shared *sh)
{
	char text[LINK_KEYS_MAX * STATE_LINE], addr[INET6_ADDRSTRLEN];
	int i, n;

	if (ex->state_fd < 0)
		return;
	for (i = 0; i < ex->n; i++) {
		const struct sockaddr_storage *ss = &ex->addr[i].ss;
		net_peer_text(ss, addr, sizeof(addr));
		n = snprintf(text + i * STATE_LINE, STATE_LINE, "%s%s%s:%u %s%s", ss->ss_family == AF_INET6 ? "[" : "", addr,
			     ss->ss_family == AF_INET6 ? "]" : "",
			     ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
							     : ((const struct sockaddr_in *)ss)->sin_port),
			     exit_state_word(sh->seen[i].state), sh->serving == i ? " serving" : "");
		memset(text + i * STATE_LINE + n, ' ', (size_t)(STATE_LINE - 1 - n));
		text[(i + 1) * STATE_LINE - 1] = '\n';
	}
	if (pwrite(ex->state_fd, text, (size_t)(ex->n * STATE_LINE), 0) < 0)
		fprintf(stderr, "mpslink: writing the state file failed: %s\n", strerror(errno));
}

/* Probes, in a child each, the exits that failed more than retry_seconds ago. */
static void probe_failed(struct entry_exits *ex, struct shared *sh)
{
	time_t now = now_s();
	int i;

	for (i = 0; i < ex->n; i++) {
		struct exit_seen *s = &sh->seen[i];
		if (s->state == EXIT_UP || s->state == EXIT_UNTRIED || now - s->failed_at < ex->retry_seconds)
			continue;
		s->failed_at = now; /* the next probe after another retry_seconds */
		if (fork() == 0)
			_exit((note(sh, i, entry_probe(&ex->addr[i], NULL, &ex->tls[i], ex->seconds)), 0));
	}
}

int entry_serve(int listen_fd, struct entry_exits *ex)
{
	struct shared *sh;
	unsigned written = ~0u;
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };
	int fd;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	memset(sh, 0, sizeof(*sh));
	sh->serving = -1;
	if (sem_init(&sh->opening, 1, OPENING_AT_ONCE) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	/* Children are not waited for one by one: none of their statuses matters here. */
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		if (written != sh->generation) {
			written = sh->generation;
			write_state(ex, sh);
		}
		probe_failed(ex, sh);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (fork() == 0) {
			close(listen_fd);
			_exit(serve_one(fd, ex, sh));
		}
		close(fd);
	}
}
