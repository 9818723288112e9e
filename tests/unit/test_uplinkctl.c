/* Unit tests of init/uplinkctl.c: the host's word on its uplinks, parsed (every refusal), and
 * read from a real UDP socket on loopback: changes as masks, senders other than the host's
 * address and a privileged port ignored (needs root, as make test runs it). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "uplinkctl.h"

/* Sends text to 127.0.0.1:UPLINKCTL_PORT from 127.0.0.1:sport (0: any). */
static int send_word(const char *text, unsigned short sport)
{
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(UPLINKCTL_PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, r;

	from.sin_addr.s_addr = to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r = fd >= 0 && bind(fd, (struct sockaddr *)&from, sizeof(from)) == 0 &&
	    sendto(fd, text, strlen(text), 0, (struct sockaddr *)&to, sizeof(to)) > 0;
	if (fd >= 0)
		close(fd);
	usleep(20000); /* loopback delivers at once; a margin for a busy machine */
	return r;
}

int main(void)
{
	struct check c = { "uplinkctl", 0 };
	struct uplinkctl u;
	bool up[NICS_MAX];
	unsigned gen[NICS_MAX], down, back;

	CHECK(&c, "three uplinks", uplinkctl_parse("uplinks up/0 down/3 up/12\n", up, gen, NICS_MAX) == 3 &&
				      up[0] && !up[1] && up[2] && gen[1] == 3 && gen[2] == 12);
	CHECK(&c, "one, no newline", uplinkctl_parse("uplinks down/0", up, gen, NICS_MAX) == 1 && !up[0]);
	CHECK(&c, "no uplink", uplinkctl_parse("uplinks", up, gen, NICS_MAX) < 0);
	CHECK(&c, "other word", uplinkctl_parse("uplink up/0", up, gen, NICS_MAX) < 0);
	CHECK(&c, "unknown state", uplinkctl_parse("uplinks gone/0", up, gen, NICS_MAX) < 0);
	CHECK(&c, "no generation", uplinkctl_parse("uplinks up/", up, gen, NICS_MAX) < 0);
	CHECK(&c, "junk after generation", uplinkctl_parse("uplinks up/1x", up, gen, NICS_MAX) < 0);
	CHECK(&c, "generation too big", uplinkctl_parse("uplinks up/99999999999", up, gen, NICS_MAX) < 0);
	CHECK(&c, "more than max", uplinkctl_parse("uplinks up/0 up/0 up/0", up, gen, 2) < 0);

	if (uplinkctl_open(&u, htonl(INADDR_LOOPBACK), htonl(INADDR_LOOPBACK)) != 0) {
		CHECK(&c, "socket on 127.0.0.1", 0);
		return CHECK_DONE(&c);
	}
	send_word("uplinks up/0 down/0 up/0", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "first word: uplink 1 down (all were up at boot)", down == 2 && back == 0);
	send_word("uplinks up/0 up/1 up/0", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "uplink 1 back", down == 0 && back == 2);
	send_word("uplinks up/1 up/1 up/0", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "new generation while up: back (new subflows)", down == 0 && back == 1);
	send_word("uplinks up/1 up/1 up/0", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "the same word again: nothing", down == 0 && back == 0);
	send_word("uplinks down/1 up/1 up/0", 40000);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "from an unprivileged port: ignored", down == 0 && back == 0);
	send_word("uplinks down/1 up/1 up/0", 1023);
	send_word("uplinks up/2 up/1 up/0", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "down and up in one read: both", down == 1 && back == 1);
	send_word("uplinks up/2 up/1 up/1", 1023);
	send_word("uplinks up/2 up/1 down/1", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "renumbered then down in one read: down only", down == 4 && back == 0);
	send_word("uplinks junk", 1023);
	uplinkctl_read(&u, 3, &down, &back);
	CHECK(&c, "malformed: nothing changes", down == 0 && back == 0);
	close(u.fd);
	return CHECK_DONE(&c);
}
