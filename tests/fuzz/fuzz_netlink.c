/* libFuzzer harness for init/netlink.c and mptcp.c's reply parsing: any bytes as a datagram
 * from the kernel, walked as a reply to sequence 1, each message also decoded as an MPTCP
 * endpoint and as an error. Nothing may read outside the buffer (ASan), and the error text
 * must stay a bounded string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mptcp.h"
#include "netlink.h"

static int each(const struct nlmsghdr *nlh, void *arg)
{
	struct mptcp_endpoint e;

	(void)arg;
	mptcp_parse_endpoint(nlh, &e);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[NL_ERR_LEN];
	void *buf;
	const char *msg;
	int error;

	if (size > 65536)
		return 0;
	/* An exact-size heap copy, aligned as the kernel's datagrams are, so ASan sees overreads. */
	buf = aligned_alloc(8, (size + 7) & ~(size_t)7);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	err[0] = '\0';
	nl_walk(buf, size, 1, each, NULL, err, sizeof(err));
	if (strnlen(err, sizeof(err)) == sizeof(err))
		abort();
	if (size >= NLMSG_HDRLEN && ((struct nlmsghdr *)buf)->nlmsg_len <= size &&
	    nl_parse_error(buf, &error, &msg) == 0 && msg && strnlen(msg, size) == size)
		abort();
	free(buf);
	return 0;
}
