/* Unit tests of init/ready.c: LISTEN lookup in /proc/net/tcp text, and against a real
 * listening socket on loopback. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "ready.h"

static const char sample[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0206420A:0438 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0 100 0 0 10 0\n"
	"   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1235 1 0 100 0 0 10 0\n"
	"   2: 0206420A:0439 0106420A:D431 01 00000000:00000000 00:00000000 00000000     0        0 1236 1 0 20 4 30 10 -1\n";

int main(void)
{
	struct check c = { "ready", 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	uint32_t a, other;
	int fd;

	inet_pton(AF_INET, "10.66.6.2", &a);
	inet_pton(AF_INET, "10.66.7.2", &other);
	CHECK(&c, "listening address and port found", tcp_listening_in(sample, a, 1080));
	CHECK(&c, "another address on that port is not", !tcp_listening_in(sample, other, 1080));
	CHECK(&c, "0.0.0.0 listener matches any address", tcp_listening_in(sample, other, 8080));
	CHECK(&c, "an established socket is not a listener", !tcp_listening_in(sample, a, 1081));
	CHECK(&c, "header only", !tcp_listening_in("  sl  local_address\n", a, 1080));
	CHECK(&c, "garbage", !tcp_listening_in("x\n1: zz\n2:\n:::\n", a, 1080));
	CHECK(&c, "empty", !tcp_listening_in("", a, 1080));

	/* Live: a loopback listener shows up, and is gone once closed. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		CHECK(&c, "loopback socket", 0);
		return 1;
	}
	CHECK(&c, "bound but not listening: not ready", !tcp_listening(sa.sin_addr.s_addr, ntohs(sa.sin_port)));
	listen(fd, 1);
	CHECK(&c, "listening: ready", tcp_listening(sa.sin_addr.s_addr, ntohs(sa.sin_port)));
	close(fd);
	CHECK(&c, "closed: not ready", !tcp_listening(sa.sin_addr.s_addr, ntohs(sa.sin_port)));
	return CHECK_DONE(&c);
}
