/* Unit tests of init/mpblock.c: the MIB line read, and the findings in a private network
 * namespace (root): a join SYN unanswered twice from uplink 0 while a plain TCP connect to the
 * same server gets through -> "joins dropped", retried after MPBLOCK_RETRY_MIN s with a doubling
 * backoff, cleared by an established join; a join with no server at all behind -> nothing; an
 * MP_CAPABLE drop (the MIB grew while its SYN waited) -> avoided for new connections. */
#include <arpa/inet.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "mpblock.h"

static struct mpblock mb;
static struct in_addr addr[2];

static void feed(uint8_t state, uint32_t flags, uint32_t retrans, uint16_t dport)
{
	struct diag_sock s = { .family = AF_INET, .state = state, .subflow = true, .sf_flags = flags,
			       .total_retrans = retrans, .dport = dport };

	s.src[0] = mb.addr[0].s_addr;
	inet_pton(AF_INET, "127.0.0.1", &s.dst[0]);
	mpblock_account(&s, &mb);
}

int main(void)
{
	struct check c = { "mpblock", 0 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5998) };
	uint64_t drops = 0, t = 100000;
	unsigned rejoin;
	int l, one = 1;
	bool changed;

	CHECK(&c, "the MIB counter is read by its name's position",
	      mpblock_read_mib("TcpExt: A B\nTcpExt: 1 2\nMPTcpExt: MPCapableSYNRX MPCapableSYNTXDrop X\nMPTcpExt: 4 17 9\n", &drops) &&
	      drops == 17);
	CHECK(&c, "no MPTcpExt: not read", !mpblock_read_mib("TcpExt: A\nTcpExt: 1\n", &drops));
	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0 || system("ip link set lo up") != 0) {
		printf("FAIL: mpblock: needs root and a private network namespace\n");
		return 1;
	}
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&a, sizeof(a)) != 0 || listen(l, 8) != 0) {
		printf("FAIL: mpblock: no listener on 127.0.0.1:5998\n");
		return 1;
	}
	mb.n = 2;
	mb.addr = addr;
	addr[0] = a.sin_addr;
	inet_pton(AF_INET, "127.0.0.2", &addr[1]);

	mpblock_commit(&mb, t, 0, 3, &rejoin); /* the first reading */
	feed(2, 0x8, 1, 5998); /* a join SYN retransmitted once: not yet */
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "one retransmission starts nothing", mb.u[0].probe == PROBE_NONE && mb.u[0].state == MPBLOCK_OK);
	feed(2, 0x8, 2, 5998);
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "two start a plain TCP probe to the same server", mb.u[0].probe == PROBE_TCP);
	usleep(50000);
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "it connects: the network drops MPTCP joins", mb.u[0].state == MPBLOCK_JOINS && mb.u[0].probe == PROBE_NONE);
	CHECK(&c, "no retry before MPBLOCK_RETRY_MIN s", (mpblock_commit(&mb, t += 1000, 0, 3, &rejoin), rejoin == 0));
	mpblock_commit(&mb, t += MPBLOCK_RETRY_MIN * 1000, 0, 3, &rejoin);
	CHECK(&c, "then its endpoint is re-added", rejoin == 1);
	mpblock_commit(&mb, t += MPBLOCK_RETRY_MIN * 1000, 0, 3, &rejoin);
	CHECK(&c, "the next retry waits twice as long", rejoin == 0 && mb.u[0].backoff_s == 2 * MPBLOCK_RETRY_MIN);
	mpblock_commit(&mb, t += MPBLOCK_RETRY_MIN * 1000, 0, 1 ^ 3, &rejoin);
	CHECK(&c, "an uplink the host calls down is not retried", rejoin == 0);
	feed(1, 0x1 | 0x2, 0, 5998); /* an established first subflow of a new connection ... */
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "a first subflow that began MPTCP says nothing of joins", mb.u[0].state == MPBLOCK_JOINS);
	feed(1, 0x4 | 0x8, 0, 5998); /* an established join */
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "an established join clears it", mb.u[0].state == MPBLOCK_OK && mb.u[0].retry_at == 0);

	feed(2, 0x8, 2, 5997); /* nothing listens there: the probe is refused */
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	usleep(50000);
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	CHECK(&c, "a server that answers nothing at all is no MPTCP block", mb.u[0].state == MPBLOCK_OK);

	feed(2, 0x2, 1, 5998); /* an MP_CAPABLE SYN waits ... */
	mpblock_commit(&mb, t += 1000, 0, 3, &rejoin);
	changed = mpblock_commit(&mb, t += 1000, 1, 3, &rejoin); /* ... and the kernel gave it up */
	CHECK(&c, "an MP_CAPABLE drop while its SYN waited: avoided for new connections",
	      changed && mb.u[0].state == MPBLOCK_CAPABLE && mpblock_avoid(&mb) == 1);
	CHECK(&c, "the other uplink is not blamed", mb.u[1].state == MPBLOCK_OK);
	CHECK(&c, "names", strcmp(mpblock_name(MPBLOCK_JOINS), "joins-dropped") == 0 &&
	      strcmp(mpblock_name(MPBLOCK_CAPABLE), "mp-capable-dropped") == 0);
	close(l);
	return CHECK_DONE(&c);
}
