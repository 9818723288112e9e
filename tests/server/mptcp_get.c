/* mptcp_get: downloads GET PATH from the test server and measures it, directly over MPTCP
 * (the host-side baseline of the benchmarks) or through a SOCKS5 proxy (the appliance).
 * Prints one line: bytes=N sha256=H secs=S mbit=G max_gap_ms=M first_ms=F
 * secs runs from the request to the last byte; max_gap_ms is the longest time without any
 * received byte once the body started (the failover stall); first_ms runs from the connect
 * (to the proxy, with --socks: it includes the SOCKS handshake and CONNECT) to the first
 * byte of the response (the setup time of one connection).
 *   mptcp_get [--socks ADDR:PORT] [--user NAME:PASS] [--tcp] [--mark BYTES FILE] [--for SECS]
 *             [--trace FILE] HOST PORT PATH
 * --mark creates FILE once BYTES of body arrived (lets a test cut a link mid-transfer);
 * --for stops after SECS seconds (a goodput measurement; the body is then incomplete);
 * --trace FILE writes "EPOCH_MS BYTES" per 100 ms of wall clock (bytes of body received in
 * that tenth of a second, zero ones included), for stalls and regains to be timed against
 * what a test did at a known time. */
#include "sha256.h"
#include "socks5.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

struct opts {
	const char *socks, *user, *host, *path, *mark_file, *trace_file;
	unsigned port;
	int tcp;
	unsigned long long mark;
	double seconds;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Tenths of a second since the epoch: the trace's bins, comparable with `date +%s%N`. */
static long long tenth_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (long long)t.tv_sec * 10 + t.tv_nsec / 100000000;
}

/* Adds n bytes at bin `at` to the trace: closes the bins before it (zeros for empty ones). */
static void trace_add(FILE *f, long long *bin, unsigned long long *bytes, long long at,
		      unsigned long long n)
{
	if (!f)
		return;
	if (*bin && at != *bin) {
		fprintf(f, "%lld %llu\n", *bin * 100, *bytes);
		for ((*bin)++; *bin < at; (*bin)++)
			fprintf(f, "%lld 0\n", *bin * 100);
		*bytes = 0;
	}
	*bin = at;
	*bytes += n;
}

static int usage(void)
{
	fprintf(stderr, "usage: mptcp_get [--socks ADDR:PORT] [--user NAME:PASS] [--tcp] "
			"[--mark BYTES FILE] [--for SECS] [--trace FILE] HOST PORT PATH\n");
	return 2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--socks") && i + 1 < argc)
			o->socks = argv[++i];
		else if (!strcmp(argv[i], "--user") && i + 1 < argc)
			o->user = argv[++i];
		else if (!strcmp(argv[i], "--tcp"))
			o->tcp = 1;
		else if (!strcmp(argv[i], "--mark") && i + 2 < argc)
			o->mark = strtoull(argv[++i], NULL, 10), o->mark_file = argv[++i];
		else if (!strcmp(argv[i], "--trace") && i + 1 < argc)
			o->trace_file = argv[++i];
		else if (!strcmp(argv[i], "--for") && i + 1 < argc)
			o->seconds = atof(argv[++i]);
		else
			return -1;
	}
	if (argc - i != 3)
		return -1;
	o->host = argv[i];
	o->port = (unsigned)atoi(argv[i + 1]);
	o->path = argv[i + 2];
	return o->port && o->port < 65536 ? 0 : -1;
}

/* Connects to ADDR:PORT (IPv4 literal); proto 0 or IPPROTO_MPTCP. */
static int dial(const char *addr, unsigned port, int proto)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tmo = { .tv_sec = 30 };
	int fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "mptcp_get: %s is not an IPv4 address\n", addr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0) {
		perror("mptcp_get: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "mptcp_get: connect %s:%u: %s\n", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_stream(const struct opts *o)
{
	char proxy[64], *colon, err[256];
	int fd;

	if (!o->socks)
		return dial(o->host, o->port, o->tcp ? 0 : IPPROTO_MPTCP);
	snprintf(proxy, sizeof(proxy), "%s", o->socks);
	colon = strchr(proxy, ':');
	if (!colon)
		return -1;
	*colon = 0;
	fd = dial(proxy, (unsigned)atoi(colon + 1), 0);
	if (fd < 0)
		return -1;
	if (o->user) {
		char user[256], *pass;
		snprintf(user, sizeof(user), "%s", o->user);
		pass = strchr(user, ':');
		if (!pass)
			return -1;
		*pass++ = 0;
		if (socks5_connect(fd, o->host, o->port, user, pass, err, sizeof(err)) == 0)
			return fd;
	} else if (socks5_connect(fd, o->host, o->port, NULL, NULL, err, sizeof(err)) == 0) {
		return fd;
	}
	fprintf(stderr, "mptcp_get: %s\n", err);
	close(fd);
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	static char buf[256 * 1024];
	char req[512], hex[65];
	struct sha256 h;
	size_t have = 0;
	unsigned long long body = 0, length = 0;
	double t0, t_open, first = 0, last = 0, gap = 0, t;
	int fd, marked = 0;
	char *end = NULL;
	FILE *trace = NULL;
	long long bin = 0;
	unsigned long long bin_bytes = 0;

	if (parse_args(argc, argv, &o) < 0)
		return usage();
	if (o.trace_file && !(trace = fopen(o.trace_file, "w"))) {
		perror("mptcp_get: --trace");
		return 1;
	}
	t_open = now();
	fd = open_stream(&o);
	if (fd < 0)
		return 1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
		 o.path, o.host);
	t0 = now();
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		perror("mptcp_get: send");
		return 1;
	}
	/* The head: status line and Content-Length, then the body from what is left. */
	while (!end) {
		ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (r <= 0) {
			fprintf(stderr, "mptcp_get: no response head\n");
			return 1;
		}
		if (!have)
			first = now();
		have += (size_t)r;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) || !strstr(buf, "Content-Length: ")) {
		fprintf(stderr, "mptcp_get: bad response: %.80s\n", buf);
		return 1;
	}
	length = strtoull(strstr(buf, "Content-Length: ") + 16, NULL, 10);
	sha256_init(&h);
	body = have - (size_t)(end + 4 - buf);
	sha256_update(&h, end + 4, (size_t)body);
	last = now();
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fprintf(stderr, "mptcp_get: recv after %llu bytes: %s\n", body, strerror(errno));
		if (r <= 0)
			break;
		t = now();
		if (t - last > gap)
			gap = t - last;
		last = t;
		sha256_update(&h, buf, (size_t)r);
		body += (unsigned long long)r;
		trace_add(trace, &bin, &bin_bytes, tenth_now(), (unsigned long long)r);
		if (o.mark_file && !marked && body >= o.mark) {
			close(open(o.mark_file, O_WRONLY | O_CREAT, 0644));
			marked = 1;
		}
		if (o.seconds > 0 && t - t0 >= o.seconds)
			break;
	}
	if (trace) {
		trace_add(trace, &bin, &bin_bytes, bin + 1, 0); /* the last bin */
		fclose(trace);
	}
	sha256_hex(&h, hex);
	printf("bytes=%llu sha256=%s secs=%.3f mbit=%.2f max_gap_ms=%.0f first_ms=%.2f\n", body, hex,
	       last - t0, (double)body * 8 / 1e6 / (last - t0), gap * 1000, (first - t_open) * 1000);
	if (body != length && !(o.seconds > 0 && last - t0 >= o.seconds)) {
		fprintf(stderr, "mptcp_get: got %llu of %llu bytes\n", body, length);
		return 1;
	}
	return 0;
}
