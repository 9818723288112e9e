/* socket()/setsockopt() wrappers that give a static program MPTCP for its TCP sockets.
 * Upstream Linux makes a socket MPTCP only when created with IPPROTO_MPTCP, and LD_PRELOAD
 * tools (mptcpize) cannot reach a static binary, so the link substitutes these with
 * -Wl,--wrap=socket -Wl,--wrap=setsockopt. */
#define _DEFAULT_SOURCE /* SO_PROTOCOL, SOCK_CLOEXEC under -std=c11 */
#include "mptcp_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

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
