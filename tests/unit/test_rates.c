/* Unit tests of init/rates.c: sockets of two uplinks over three samples: bytes counted once
 * per socket (a socket's growth, a new socket whole), the proxy's own client connection and
 * loopback left out, a closed socket's smaller counters never negative, the ring's order. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "rates.h"

static struct rates r;

static struct diag_sock sock(const char *src, unsigned sport, uint64_t cookie, uint64_t acked, uint64_t received)
{
	struct diag_sock s = { .family = AF_INET, .sport = (uint16_t)sport, .cookie = cookie,
			       .bytes_acked = acked, .bytes_received = received };

	inet_pton(AF_INET, src, &s.src[0]);
	return s;
}

static void feed(struct diag_sock s)
{
	rates_account(&s, &r);
}

int main(void)
{
	struct check c = { "rates", 0 };

	r.n = 2;
	inet_pton(AF_INET, "10.66.6.2", &r.addr[0]);
	inet_pton(AF_INET, "10.66.7.2", &r.addr[1]);
	r.listen = r.addr[0];
	r.port = 1080;

	feed(sock("10.66.6.2", 40000, 1, 100, 1000));  /* a subflow on eth0 */
	feed(sock("10.66.7.2", 40001, 2, 10, 500));    /* one on eth1 */
	feed(sock("10.66.6.2", 1080, 3, 9999, 9999));  /* a client of the proxy: not an uplink's */
	feed(sock("127.0.0.1", 40002, 4, 9999, 9999)); /* the link's entry on loopback */
	rates_commit(&r);
	CHECK(&c, "a new socket counts whole, on its uplink", rates_last(&r, 0, false, 0) == 1000 &&
	      rates_last(&r, 0, true, 0) == 100 && rates_last(&r, 1, false, 0) == 500);
	CHECK(&c, "the proxy's clients and loopback are left out", r.from_net[0] == 1000 && r.to_net[0] == 100);

	feed(sock("10.66.6.2", 40000, 1, 150, 4000));
	feed(sock("10.66.7.2", 40001, 2, 0, 0)); /* closed: time-wait shows no counters */
	feed(sock("10.66.7.2", 40003, 5, 7, 70)); /* new */
	rates_commit(&r);
	CHECK(&c, "a known socket counts its growth only", rates_last(&r, 0, false, 0) == 3000 &&
	      rates_last(&r, 0, true, 0) == 50);
	CHECK(&c, "smaller counters count nothing, a new one its bytes", rates_last(&r, 1, false, 0) == 70 &&
	      rates_last(&r, 1, true, 0) == 7);
	CHECK(&c, "the second before is one back", rates_last(&r, 0, false, 1) == 1000 && r.count == 2);
	CHECK(&c, "totals since boot", r.from_net[0] == 4000 && r.to_net[0] == 150 && r.from_net[1] == 570);

	rates_commit(&r); /* a second with nothing */
	CHECK(&c, "a quiet second is 0", rates_last(&r, 0, false, 0) == 0 && rates_last(&r, 0, false, 1) == 3000);
	CHECK(&c, "past what is kept: 0", rates_last(&r, 0, false, 3) == 0 && rates_last(&r, 5, false, 0) == 0);
	return CHECK_DONE(&c);
}
