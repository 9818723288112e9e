/* Unit tests of init/httpd.c: who may ask (the allowed networks), the Basic login, and the
 * server itself on loopback in a private network namespace (needs root, as make test runs
 * it): the page, /status.json, 404, 405, 401 without the login, a stranger closed without a
 * byte, a fifth client at once closed, a client that never finishes its request cut at the
 * deadline. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "httpd.h"
#include "log.h"

static struct config cfg;
static struct uplinks up;
static struct nic_watch nics;
static struct rates rates;
static unsigned live = ~0u, sessions_max = 77;
static struct in_addr listen_addr;
static struct status st;
static struct httpd h;
static struct loop loop;
static struct loop_timer nudge;

static void on_nudge(void *arg)
{
	(void)arg;
}

static void spin(int rounds)
{
	while (rounds-- > 0) {
		nudge.when = now_ms() + 10;
		loop_once(&loop);
	}
}

/* Connects from src (127.0.0.X), sends req (may be NULL), runs the loop, returns what came. */
static int ask(const char *src, const char *req, char *out, size_t cap)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(HTTPD_PORT) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	ssize_t n;

	inet_pton(AF_INET, src, &from.sin_addr);
	to.sin_addr = listen_addr;
	if (fd < 0 || bind(fd, (void *)&from, sizeof(from)) != 0 || connect(fd, (void *)&to, sizeof(to)) != 0)
		return -1;
	if (req)
		(void)!write(fd, req, strlen(req));
	spin(5);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < cap - 1 && (n = read(fd, out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return (int)got;
}

int main(void)
{
	struct check c = { "httpd", 0 };
	struct cidr allow[2] = { { .prefix = 24 }, { .prefix = 32 } };
	static char out[256 * 1024];
	int fds[HTTPD_CLIENTS + 1], i;

	inet_pton(AF_INET, "10.1.2.0", &allow[0].addr);
	inet_pton(AF_INET, "127.0.0.1", &allow[1].addr);
	CHECK(&c, "a peer in an allowed /24 is allowed", httpd_allowed(allow, 2, (struct in_addr){ htonl(0x0a0102fe) }));
	CHECK(&c, "a peer just outside it is not", !httpd_allowed(allow, 2, (struct in_addr){ htonl(0x0a0103fe) }));
	CHECK(&c, "a /32 allows that address only", httpd_allowed(allow, 2, (struct in_addr){ htonl(0x7f000001) }) &&
	      !httpd_allowed(allow, 2, (struct in_addr){ htonl(0x7f000002) }));
	CHECK(&c, "no networks: nobody", !httpd_allowed(allow, 0, (struct in_addr){ htonl(0x7f000001) }));
	/* "u:p w" in base64 is dTpwIHc= */
	CHECK(&c, "the right Basic login passes", httpd_login_ok("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpwIHc=\r\n\r\n", "u", "p w"));
	CHECK(&c, "the header's name is case-blind", httpd_login_ok("GET / HTTP/1.1\r\nauthorization: basic dTpwIHc=\r\n\r\n", "u", "p w"));
	CHECK(&c, "another password fails", !httpd_login_ok("GET / HTTP/1.1\r\nAuthorization: Basic dTpwIHg=\r\n\r\n", "u", "p w"));
	CHECK(&c, "a prefix of the right token fails", !httpd_login_ok("GET / HTTP/1.1\r\nAuthorization: Basic dTpwIH\r\n\r\n", "u", "p w"));
	CHECK(&c, "a longer token fails", !httpd_login_ok("GET / HTTP/1.1\r\nAuthorization: Basic dTpwIHc=AAAA\r\n\r\n", "u", "p w"));
	CHECK(&c, "no Authorization header fails", !httpd_login_ok("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "u", "p w"));
	CHECK(&c, "a header in the body does not count", !httpd_login_ok("GET / HTTP/1.1\r\n\r\nAuthorization: Basic dTpwIHc=\r\n", "u", "p w"));

	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0 || system("ip link set lo up") != 0) {
		printf("FAIL: httpd: needs root and a private network namespace\n");
		return 1;
	}
	inet_pton(AF_INET, "127.0.0.1", &listen_addr);
	cfg.port = 1080;
	st = (struct status){ .cfg = &cfg, .up = &up, .nics = &nics, .rates = &rates, .live = &live,
		.sessions_max = &sessions_max, .listen = &listen_addr, .exits_path = "/nonexistent" };
	loop_init(&loop);
	nudge = (struct loop_timer){ 0, on_nudge, NULL };
	loop_add_timer(&loop, &nudge);
	CHECK(&c, "the server starts", httpd_start(&h, &loop, &cfg, listen_addr, &allow[1], 1, &st) == 0);

	ask("127.0.0.1", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof(out));
	CHECK(&c, "GET / answers 200 with the page", strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	      strstr(out, "Content-Type: text/html") && strstr(out, "<title>mpsocks</title>") && strstr(out, "</html>"));
	CHECK(&c, "the page comes with a content security policy", strstr(out, "Content-Security-Policy: default-src 'none'"));
	ask("127.0.0.1", "GET /status.json HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "GET /status.json answers the document", strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	      strstr(out, "application/json") && strstr(out, "\r\n\r\n{\"version\":") && strstr(out, "\"sessions\":{\"max\":77,"));
	CHECK(&c, "without ?history=1 no history", !strstr(out, "\"history\""));
	ask("127.0.0.1", "GET /status.json?history=1 HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "with ?history=1 the history", strstr(out, "\"history\":{\"seconds\":"));
	ask("127.0.0.1", "HEAD / HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "HEAD gets the head only", strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 && !strstr(out, "<html"));
	ask("127.0.0.1", "GET /etc/passwd HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "another path: 404", strncmp(out, "HTTP/1.1 404 ", 13) == 0);
	ask("127.0.0.1", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", out, sizeof(out));
	CHECK(&c, "POST: 405", strncmp(out, "HTTP/1.1 405 ", 13) == 0);
	ask("127.0.0.1", "\x16\x03\x01\x02\x05\r\n\r\n", out, sizeof(out)); /* a TLS hello's first bytes */
	CHECK(&c, "bytes that are no request: 400", strncmp(out, "HTTP/1.1 400 ", 13) == 0);
	CHECK(&c, "a stranger is closed without a byte", ask("127.0.0.2", "GET / HTTP/1.1\r\n\r\n", out, sizeof(out)) == 0);

	cfg.has_user = 1;
	strcpy(cfg.user, "u");
	strcpy(cfg.pass, "p w");
	ask("127.0.0.1", "GET /status.json HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "with a SOCKS user: 401 and a Basic challenge without the login",
	      strncmp(out, "HTTP/1.1 401 ", 13) == 0 && strstr(out, "WWW-Authenticate: Basic realm=\"mpsocks\"") &&
	      !strstr(out, "\"sessions\""));
	ask("127.0.0.1", "GET /status.json HTTP/1.1\r\nAuthorization: Basic dTpwIHc=\r\n\r\n", out, sizeof(out));
	CHECK(&c, "with the login: the document", strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(out, "\"sessions\""));
	cfg.has_user = 0;

	/* HTTPD_CLIENTS that say nothing hold every place; one more is closed at once. */
	for (i = 0; i <= HTTPD_CLIENTS; i++) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(HTTPD_PORT), .sin_addr = listen_addr };

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(fds[i], (void *)&to, sizeof(to));
		spin(2);
	}
	CHECK(&c, "past HTTPD_CLIENTS at once, a client is closed", read(fds[HTTPD_CLIENTS], out, 1) == 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	CHECK(&c, "one that says nothing is held ...", read(fds[0], out, 1) < 0);
	httpd_sweep(&h, now_ms() + HTTPD_TIMEOUT_MS + 1);
	CHECK(&c, "... until its deadline", read(fds[0], out, 1) == 0);
	for (i = 0; i <= HTTPD_CLIENTS; i++)
		close(fds[i]);
	ask("127.0.0.1", "GET / HTTP/1.1\r\n\r\n", out, sizeof(out));
	CHECK(&c, "after the sweep the places are free again", strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
	return CHECK_DONE(&c);
}
