/* net.c: see net.h. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

int net_parse(struct net_addr *a, const char *text)
{
	char host[64];
	const char *colon, *h = text;
	size_t hlen;
	char *end;
	long port;

	memset(a, 0, sizeof(*a));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int net_listen(const struct net_addr *a, int proto)
{
	int one = 1, fd, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (fd < 0 && proto == IPPROTO_MPTCP && (errno == EPROTONOSUPPORT || errno == EINVAL || errno == ENOPROTOOPT))
		fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, 1024) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_connect(const struct net_addr *a, int proto, int seconds)
{
	return net_connect_from(a, NULL, proto, seconds);
}

int net_connect_from(const struct net_addr *a, const struct net_addr *from, int proto, int seconds)
{
	int one = 1, fd, err = 0, flags;
	socklen_t elen = sizeof(err);
	struct pollfd p;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (fd < 0 && proto == IPPROTO_MPTCP)
		fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (from && bind(fd, (const struct sockaddr *)&from->ss, from->len) < 0) {
		err = -errno;
		goto fail;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, seconds * 1000) != 1) {
			err = -ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
			err = err ? -err : -errno;
			goto fail;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
fail:
	close(fd);
	return err;
}

void net_peer_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)len);
}

int net_rx_unstick(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	int inq = 0, cur;

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len < sizeof(mem) ||
	    ioctl(fd, FIONREAD, &inq) < 0 || inq > 0 ||
	    mem[SK_MEMINFO_RMEM_ALLOC] < mem[SK_MEMINFO_RCVBUF] ||
	    mem[SK_MEMINFO_RCVBUF] >= NET_RCVBUF_MAX)
		return 0;
	/* The kernel doubles what it is given. FORCE passes net.core.rmem_max, which a buffer
	 * grown by autotuning is often past already; as root (the exit's service) it works. */
	cur = (int)mem[SK_MEMINFO_RCVBUF];
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &cur, sizeof(cur)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, sizeof(cur)) < 0)
		return 0;
	/* The next segment's arrival moves data in; so does this (MPTCP's SIOCINQ does). */
	ioctl(fd, FIONREAD, &inq);
	len = sizeof(mem);
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return 0;
	return (int)mem[SK_MEMINFO_RCVBUF];
}

void net_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };

	/* SO_LINGER 0 makes close() reset TCP, and MPTCP in our guest's kernel; connect(AF_UNSPEC)
	 * is the MPTCP fastclose that every kernel with it knows (a VPS's may not take the
	 * former for MPTCP, mptcp_net-next's maintainer found on 6.17). */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	connect(fd, &unspec, sizeof(unspec));
}
