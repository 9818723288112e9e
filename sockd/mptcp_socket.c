/* socket()/setsockopt()/connect() wrappers that give a static program MPTCP for its TCP
 * sockets. Upstream Linux makes a socket MPTCP only when created with IPPROTO_MPTCP, and
 * LD_PRELOAD tools (mptcpize) cannot reach a static binary, so the link substitutes these with
 * -Wl,--wrap=socket -Wl,--wrap=setsockopt -Wl,--wrap=connect. */
#define _DEFAULT_SOURCE /* SO_PROTOCOL, SOCK_CLOEXEC under -std=c11 */
#include "mptcp_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int mptcp_socket_wanted(int domain, int type, int protocol)
{
	/* The flag bits ride along in type; only the base type decides. */
	int base = type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK);

	return (domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

int mptcp_socket_refused(int err)
{
	return err == EPROTONOSUPPORT || err == EINVAL || err == ENOPROTOOPT;
}

int __wrap_socket(int domain, int type, int protocol)
{
	int fd, err;

	if (!mptcp_socket_wanted(domain, type, protocol))
		return __real_socket(domain, type, protocol);
	fd = __real_socket(domain, type, IPPROTO_MPTCP);
	if (fd >= 0)
		return fd;
	err = errno;
	if (!mptcp_socket_refused(err))
		return fd; /* e.g. EMFILE: TCP would fail alike; keep the real reason. */
	/* No cache of the refusal: net.mptcp.enabled can change while we run. */
	return __real_socket(domain, type, protocol);
}

/* SO_OOBINLINE, which sockd sets on every TCP socket, is refused by MPTCP (EOPNOTSUPP in
 * net/mptcp/sockopt.c): MPTCP carries no urgent data at all (MSG_OOB is refused, poll never
 * reports it), so there is nothing to keep inline and success is the truthful answer. Every
 * other option sockd sets on stream sockets (TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR,
 * SO_LINGER, SO_SNDBUF/SO_RCVBUF, IPV6_V6ONLY: below) is supported by MPTCP in 6.12. */
int mptcp_sockopt_ignorable(int level, int optname, int err)
{
	return level == SOL_SOCKET && optname == SO_OOBINLINE &&
	       (err == EOPNOTSUPP || err == ENOPROTOOPT);
}

/* IPV6_V6ONLY on, which sockd sets on every IPv6 socket, confines an MPTCP connection's
 * subflows to IPv6 (the kernel's path manager refuses an IPv4 one on a v6-only socket): the IPv4
 * address a dual-stack server announces would go unused. sockd's IPv6 sockets connect out (its
 * listeners are the IPv4 addresses init gives it), where the option changes nothing else, so
 * on MPTCP sockets it is left off. */
int mptcp_sockopt_skipped(int level, int optname, const void *optval, socklen_t optlen)
{
	return level == IPPROTO_IPV6 && optname == IPV6_V6ONLY && optval && optlen >= (socklen_t)sizeof(int) &&
	       *(const int *)optval != 0;
}

/* Non-zero when fd is an MPTCP socket (fallback to TCP included: the protocol stays MPTCP). */
static int is_mptcp(int fd)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_MPTCP;
}

bool mptcp_connect_plain(const struct sockaddr *addr, socklen_t len)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		return (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127;
	if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
		return memcmp(&((const struct sockaddr_in6 *)addr)->sin6_addr, v6_loopback, 16) == 0;
	return false;
}

/* Copies an int option from one socket to the other when the first one answers for it. */
static void copy_int_opt(int from, int to, int level, int optname)
{
	int v;
	socklen_t len = sizeof(v);

	if (getsockopt(from, level, optname, &v, &len) == 0)
		__real_setsockopt(to, level, optname, &v, len);
}

/* Puts a plain TCP socket under FD in place of its MPTCP one, with the options sockd sets on
 * outgoing sockets and its local address (its port left to the kernel): 0 or -errno. */
static int swap_to_tcp(int fd)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct linger lg;
	socklen_t lglen = sizeof(lg);
	int domain = 0, fl, fdfl, nfd, err;
	socklen_t dlen = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    (fdfl = fcntl(fd, F_GETFD)) < 0)
		return -errno;
	nfd = __real_socket(domain, SOCK_STREAM, IPPROTO_TCP);
	if (nfd < 0)
		return -errno;
	copy_int_opt(fd, nfd, SOL_SOCKET, SO_REUSEADDR);
	copy_int_opt(fd, nfd, SOL_SOCKET, SO_KEEPALIVE);
	copy_int_opt(fd, nfd, IPPROTO_TCP, TCP_NODELAY);
	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &lglen) == 0)
		__real_setsockopt(nfd, SOL_SOCKET, SO_LINGER, &lg, lglen);
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0) {
		/* Bound by sockd to its external address: the same address, any port (the old
		 * socket still holds its own until dup2 below closes it). */
		if (local.ss_family == AF_INET)
			((struct sockaddr_in *)&local)->sin_port = 0;
		else if (local.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&local)->sin6_port = 0;
		if (bind(nfd, (struct sockaddr *)&local, llen) != 0)
			goto fail;
	}
	if (fcntl(nfd, F_SETFL, fl) != 0 || dup2(nfd, fd) < 0 || fcntl(fd, F_SETFD, fdfl) != 0)
		goto fail;
	close(nfd);
	return 0;
fail:
	err = errno;
	close(nfd);
	return -err;
}

/* To loopback, where sockd reaches the link's entry, a plain TCP socket: MPTCP buys nothing
 * there, and its close differs from TCP's. An MPTCP socket closed with nothing unread sends a
 * DATA_FIN, and its orphan then takes the peer's further bytes without TCP's reset, until its
 * window closes for good (6.12, net/mptcp/protocol.c __mptcp_close). The entry never learned
 * that the client had left, the exit kept the server's download coming, and such zombies
 * held the guest's tcp_mem under pressure: goodput fell to a third for minutes. */
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int err;

	if (mptcp_connect_plain(addr, len) && is_mptcp(fd)) {
		err = swap_to_tcp(fd);
		if (err) {
			errno = -err;
			return -1;
		}
	}
	return __real_connect(fd, addr, len);
}

int __wrap_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	int rc, err;

	if (mptcp_sockopt_skipped(level, optname, optval, optlen) && is_mptcp(fd))
		return 0;
	rc = __real_setsockopt(fd, level, optname, optval, optlen);
	err = errno;

	if (rc != 0 && mptcp_sockopt_ignorable(level, optname, err) && is_mptcp(fd))
		return 0;
	errno = err;
	return rc;
}
