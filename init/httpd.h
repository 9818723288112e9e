/* httpd: the status page, served by PID 1's event loop on the proxy's address, port
 * HTTPD_PORT: GET / (the page, page.html built in) and GET /status.json[?history=1] (status.h).
 * Only clients of a network the proxy allows get an answer (others are closed without a
 * byte); with a SOCKS user, only with that login (HTTP Basic). A stranger costs bounded work:
 * HTTPD_CLIENTS at once (more are closed at once), a request of at most HTTPD_REQ_MAX bytes,
 * HTTPD_TIMEOUT_MS for the whole exchange, one answer per connection. */
#ifndef MPSOCKS_HTTPD_H
#define MPSOCKS_HTTPD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "cmdline.h"
#include "loop.h"
#include "status.h"

#define HTTPD_PORT 80
#define HTTPD_CLIENTS 4
#define HTTPD_REQ_MAX 2048
#define HTTPD_OUT_MAX (128 * 1024)
#define HTTPD_TIMEOUT_MS 5000u

struct httpd;

struct httpd_client {
	struct httpd *h;
	int fd; /* -1: free */
	struct loop_watch watch;
	uint64_t deadline;
	char req[HTTPD_REQ_MAX];
	size_t req_len;
	const char *out; /* the answer: head (in buf) then body */
	size_t out_len, out_off;
	const char *body;
	size_t body_len, body_off;
	char buf[HTTPD_OUT_MAX];
};

struct httpd {
	int fd; /* the listener; -1: off */
	struct loop *loop;
	struct loop_watch watch;
	const struct config *cfg;
	struct cidr allow[CFG_MAX_ALLOW]; /* whom to answer */
	int n_allow;
	struct status *status;
	struct httpd_client c[HTTPD_CLIENTS];
};

/* Listens on addr:HTTPD_PORT and watches in l. allow/n_allow: the proxy's clients. 0 or -errno. */
int httpd_start(struct httpd *h, struct loop *l, const struct config *cfg, struct in_addr addr,
		const struct cidr *allow, int n_allow, struct status *st);
/* Closes exchanges past their deadline; main calls it once a second. */
void httpd_sweep(struct httpd *h, uint64_t now);

/* Pure parts, unit-tested: is peer in one of the n networks; does the request carry the
 * Basic login user:pass. */
bool httpd_allowed(const struct cidr *allow, int n, struct in_addr peer);
bool httpd_login_ok(const char *req, const char *user, const char *pass);

#endif
