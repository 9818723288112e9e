/* info: answers the host's questions about live connections on a virtio-serial port named
 * INFO_PORT_NAME (qemu: -device virtserialport,name=org.mpsocks.info), so the console stays
 * for logs. A request is one line; the answer is text lines ending with "end":
 *
 *   conns  ->  msk token=T state=S local=A:P remote=A:P flags=F subflows=N sent=B received=B
 *                  acked=B retrans=B                           (one per MPTCP socket)
 *              sf token=T id=I local=A:P remote=A:P state=S flags=F rtt_us=U sent=B acked=B
 *                  received=B retrans=N                        (one per MPTCP subflow)
 *              tcp local=A:P remote=A:P state=S rtt_us=U sent=B received=B (plain TCP)
 *              exit at=A:P state=up|no-answer|refused-key|plain-socks|untried serving=0|1
 *                                                 (one per exit of the link, in their order)
 *              end
 *   status ->  status.h's JSON document (with its history) on one line, then end
 *
 * Everything comes from sock_diag (the MPTCP and TCP dumps), never from sockd, whose sockets
 * init does not own. Listeners are left out. */
#ifndef MPSOCKS_INFO_H
#define MPSOCKS_INFO_H
#include <stddef.h>
#include <stdint.h>
#include "loop.h"
#include "status.h"

#define INFO_PORT_NAME "org.mpsocks.info"
#define INFO_OUT_MAX (128 * 1024) /* ~700 connections with 3 subflows each */

struct info {
	int fd;         /* the port; -1 until it appears */
	unsigned tries; /* looks for the port so far */
	struct loop *loop;
	struct status *status; /* for "status"; NULL: not answered */
	struct loop_watch watch;
	struct loop_timer retry;
	char req[128];
	size_t req_len;
	char out[INFO_OUT_MAX];
	size_t out_len;
	int truncated;
};

/* Opens the port and watches it in l; when it is not there yet (the virtio-serial ports come
 * a little after the device), looks again on a timer for a few seconds. 0 or -errno. */
int info_setup(struct info *in, struct loop *l);

/* The answer to one request line in out (at most cap bytes, always ending with "end\n";
 * "truncated" before it when it did not fit). Returns the length. */
size_t info_answer(const char *req, char *out, size_t cap);

#endif
