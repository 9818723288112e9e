/* httpd: the status page on PID 1's event loop (see httpd.h). */
#include "httpd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"

/* page.html, built in by page.c (.incbin) */
extern const char status_page[], status_page_end[];

#define HEAD_SECURE "Cache-Control: no-store\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n" \
	"Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; " \
	"style-src 'unsafe-inline'; connect-src 'self'; img-src data:\r\n"

bool httpd_allowed(const struct cidr *allow, int n, struct in_addr peer)
{
	uint32_t mask;
	int i;

	for (i = 0; i < n; i++) {
		mask = allow[i].prefix ? htonl(~0u << (32 - allow[i].prefix)) : 0;
		if ((peer.s_addr & mask) == allow[i].addr.s_addr)
			return true;
	}
	return false;
}

static size_t base64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3, o += 4) {
		out[o] = a[in[i] >> 2];
		out[o + 1] = a[(in[i] & 3) << 4 | in[i + 1] >> 4];
		out[o + 2] = a[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
		out[o + 3] = a[in[i + 2] & 63];
	}
	if (i < n) {
		out[o] = a[in[i] >> 2];
		out[o + 1] = a[(in[i] & 3) << 4 | (i + 1 < n ? in[i + 1] >> 4 : 0)];
		out[o + 2] = i + 1 < n ? a[(in[i + 1] & 15) << 2] : '=';
		out[o + 3] = '=';
		o += 4;
	}
	out[o] = '\0';
	return o;
}

/* The request's "Authorization: Basic X" against user:pass, compared in constant time. */
bool httpd_login_ok(const char *req, const char *user, const char *pass)
{
	char plain[CFG_USER_MAX + CFG_PASS_MAX + 2], want[((sizeof(plain) + 2) / 3) * 4 + 1];
	const char *p = req, *v;
	size_t n, i;
	unsigned diff = 0;

	for (;;) {
		p = strstr(p, "\r\n");
		if (!p || p[2] == '\r')
			return false;
		p += 2;
		if (strncasecmp(p, "Authorization:", 14) == 0)
			break;
	}
	for (v = p + 14; *v == ' '; v++)
		;
	if (strncasecmp(v, "Basic ", 6) != 0)
		return false;
	for (v += 6; *v == ' '; v++)
		;
	n = (size_t)snprintf(plain, sizeof(plain), "%s:%s", user, pass);
	n = base64((const unsigned char *)plain, n < sizeof(plain) ? n : sizeof(plain) - 1, want);
	for (i = 0; i < n; i++) {
		diff |= (unsigned)(unsigned char)want[i] ^ (unsigned char)v[i];
		if (!v[i])
			return false; /* shorter: no read past its end */
	}
	memset(plain, 0, sizeof(plain));
	return !diff && (v[n] == '\r' || v[n] == ' ');
}

static void finish(struct httpd_client *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
}

/* The head (into c->buf, after any body already there) and the body to send. */
static void answer(struct httpd_client *c, int code, const char *type, const char *body, size_t len,
		   const char *extra, bool head_only)
{
	static const char *const reasons[] = { [0] = "OK", [1] = "Unauthorized", [2] = "Not Found",
		[3] = "Method Not Allowed", [4] = "Bad Request", [5] = "Service Unavailable" };
	const char *reason = code == 200 ? reasons[0] : code == 401 ? reasons[1] : code == 404 ? reasons[2] :
			     code == 405 ? reasons[3] : code == 503 ? reasons[5] : reasons[4];
	char *h = c->buf + (body >= c->buf && body < c->buf + sizeof(c->buf) ? len : 0);
	size_t cap = sizeof(c->buf) - (size_t)(h - c->buf);
	int n = snprintf(h, cap, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", code,
			 reason, type, len, HEAD_SECURE, extra ? extra : "");

	c->out = h;
	c->out_len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	c->out_off = 0;
	c->body = body;
	c->body_len = head_only ? 0 : len;
	c->body_off = 0;
}

static void respond(struct httpd_client *c)
{
	struct httpd *h = c->h;
	char method[8] = "", path[64] = "";
	bool head;
	size_t n;

	if (sscanf(c->req, "%7s %63s HTTP/1.", method, path) != 2) {
		answer(c, 400, "text/plain", "bad request\n", 12, NULL, false);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		answer(c, 405, "text/plain", "GET only\n", 9, "Allow: GET, HEAD\r\n", false);
		return;
	}
	if (h->cfg->has_user && !httpd_login_ok(c->req, h->cfg->user, h->cfg->pass)) {
		answer(c, 401, "text/plain", "the proxy's login, please\n", 26,
		       "WWW-Authenticate: Basic realm=\"mpsocks\", charset=\"UTF-8\"\r\n", head);
		return;
	}
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		answer(c, 200, "text/html; charset=utf-8", status_page, (size_t)(status_page_end - status_page), NULL,
		       head);
	} else if (strcmp(path, "/status.json") == 0 || strcmp(path, "/status.json?history=1") == 0) {
		/* the document first, at the start of buf; the head after it */
		n = status_render(h->status, path[12] == '?', c->buf, sizeof(c->buf) - 1024);
		if (n == 0)
			answer(c, 503, "text/plain", "too many connections to list\n", 29, NULL, head);
		else
			answer(c, 200, "application/json", c->buf, n, NULL, head);
	} else {
		answer(c, 404, "text/plain", "not found\n", 10, NULL, head);
	}
}

/* Sends what the socket takes; true when all is sent. */
static bool send_some(int fd, const char *p, size_t len, size_t *off)
{
	ssize_t w;

	while (*off < len) {
		w = send(fd, p + *off, len - *off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		*off += (size_t)w;
	}
	return true;
}

static void on_client(void *arg)
{
	struct httpd_client *c = arg;
	ssize_t n;

	while (!c->out && c->fd >= 0) {
		n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			finish(c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		if (strstr(c->req, "\r\n\r\n"))
			respond(c);
		else if (c->req_len == sizeof(c->req) - 1)
			finish(c); /* a request this long is no browser's */
	}
	if (c->fd < 0 || !c->out)
		return;
	if (c->out_len == 0) { /* the head did not fit: cannot happen with our sizes */
		finish(c);
		return;
	}
	if (send_some(c->fd, c->out, c->out_len, &c->out_off) &&
	    send_some(c->fd, c->body, c->body_len, &c->body_off)) {
		shutdown(c->fd, SHUT_WR);
		finish(c);
	}
}

static void on_listen(void *arg)
{
	struct httpd *h = arg;
	struct sockaddr_in peer;
	socklen_t len;
	int fd, i;

	for (;;) {
		len = sizeof(peer);
		fd = accept4(h->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or an error the next connection will show again */
		if (peer.sin_family != AF_INET || !httpd_allowed(h->allow, h->n_allow, peer.sin_addr)) {
			close(fd); /* nothing for strangers, not even an error */
			continue;
		}
		for (i = 0; i < HTTPD_CLIENTS && h->c[i].fd >= 0; i++)
			;
		if (i == HTTPD_CLIENTS) {
			close(fd);
			continue;
		}
		h->c[i].fd = fd;
		h->c[i].req_len = 0;
		h->c[i].out = NULL;
		h->c[i].deadline = now_ms() + HTTPD_TIMEOUT_MS;
		h->c[i].watch = (struct loop_watch){ fd, on_client, &h->c[i], EPOLLOUT | EPOLLET };
		if (loop_add_fd(h->loop, &h->c[i].watch) != 0) {
			finish(&h->c[i]);
			continue;
		}
		on_client(&h->c[i]);
	}
}

void httpd_sweep(struct httpd *h, uint64_t now)
{
	int i;

	for (i = 0; i < HTTPD_CLIENTS; i++)
		if (h->c[i].fd >= 0 && now >= h->c[i].deadline)
			finish(&h->c[i]);
}

int httpd_start(struct httpd *h, struct loop *l, const struct config *cfg, struct in_addr addr,
		const struct cidr *allow, int n_allow, struct status *st)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(HTTPD_PORT), .sin_addr = addr };
	int one = 1, i, err;

	h->loop = l;
	h->cfg = cfg;
	h->status = st;
	h->n_allow = n_allow < CFG_MAX_ALLOW ? n_allow : CFG_MAX_ALLOW;
	memcpy(h->allow, allow, (size_t)h->n_allow * sizeof(*allow));
	for (i = 0; i < HTTPD_CLIENTS; i++) {
		h->c[i].fd = -1;
		h->c[i].h = h;
	}
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -errno;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(h->fd, 16) != 0) {
		err = -errno;
		close(h->fd);
		h->fd = -1;
		return err;
	}
	h->watch = (struct loop_watch){ h->fd, on_listen, h, 0 };
	if (loop_add_fd(l, &h->watch) != 0) {
		err = -errno;
		close(h->fd);
		h->fd = -1;
		return err;
	}
	return 0;
}
