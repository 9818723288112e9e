/* Tests of sockd/mptcp_socket.c, the wrappers that make sockd's TCP sockets MPTCP.
 * Linked without --wrap: this file supplies __real_socket/__real_setsockopt/__real_connect, which either
 * replay a scripted answer (to test fallback and pass-through) or make the real system call
 * (to test against the host kernel, which must have MPTCP enabled). */
#define _GNU_SOURCE /* syscall(), SO_PROTOCOL, SOCK_CLOEXEC */
#include "check.h"
#include "mptcp_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

/* What the fake libc saw and will answer: real == 0 replays script[], else real syscalls. */
struct fake {
	int real;
	int calls;
	int domain[4], type[4], protocol[4];
	int ret[4], err[4]; /* scripted answer per call */
	int sockopt_ret, sockopt_err;
};

static struct fake fake;

static void script(int ret0, int err0, int ret1, int err1)
{
	memset(&fake, 0, sizeof(fake));
	fake.ret[0] = ret0, fake.err[0] = err0;
	fake.ret[1] = ret1, fake.err[1] = err1;
}

int __real_socket(int domain, int type, int protocol)
{
	int i = fake.calls++;

	if (fake.real)
		return (int)syscall(SYS_socket, domain, type, protocol);
	if (i >= 4)
		return errno = EMFILE, -1;
	fake.domain[i] = domain, fake.type[i] = type, fake.protocol[i] = protocol;
	if (fake.ret[i] < 0)
		errno = fake.err[i];
	return fake.ret[i];
}

int __real_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	if (fake.real)
		return (int)syscall(SYS_setsockopt, fd, level, optname, optval, optlen);
	if (fake.sockopt_ret < 0)
		errno = fake.sockopt_err;
	return fake.sockopt_ret;
}

int __real_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return (int)syscall(SYS_connect, fd, addr, len);
}

static void test_connect_plain(struct check *c)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	CHECK(c, "plain to loopback: 127.0.0.1", mptcp_connect_plain((struct sockaddr *)&v4, sizeof(v4)));
	v4.sin_addr.s_addr = htonl(0x7f010203);
	CHECK(c, "plain to loopback: 127.1.2.3", mptcp_connect_plain((struct sockaddr *)&v4, sizeof(v4)));
	CHECK(c, "plain to loopback: ::1", mptcp_connect_plain((struct sockaddr *)&v6, sizeof(v6)));
	v4.sin_addr.s_addr = htonl(0xc6336402);
	CHECK(c, "mptcp elsewhere: 198.51.100.2", !mptcp_connect_plain((struct sockaddr *)&v4, sizeof(v4)));
	v6.sin6_addr.s6_addr[0] = 0x20;
	CHECK(c, "mptcp elsewhere: 2000::1", !mptcp_connect_plain((struct sockaddr *)&v6, sizeof(v6)));
	CHECK(c, "mptcp elsewhere: a short address", !mptcp_connect_plain((struct sockaddr *)&v4, 4));
	CHECK(c, "mptcp elsewhere: none", !mptcp_connect_plain(NULL, 0));
}

static void test_wanted(struct check *c)
{
	CHECK(c, "wanted: inet stream 0", mptcp_socket_wanted(AF_INET, SOCK_STREAM, 0));
	CHECK(c, "wanted: inet6 stream tcp", mptcp_socket_wanted(AF_INET6, SOCK_STREAM, IPPROTO_TCP));
	CHECK(c, "wanted: stream with flags",
	      mptcp_socket_wanted(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	CHECK(c, "not wanted: udp", !mptcp_socket_wanted(AF_INET, SOCK_DGRAM, 0));
	CHECK(c, "not wanted: unix stream", !mptcp_socket_wanted(AF_UNIX, SOCK_STREAM, 0));
	CHECK(c, "not wanted: raw", !mptcp_socket_wanted(AF_INET, SOCK_RAW, IPPROTO_TCP));
	CHECK(c, "not wanted: seqpacket", !mptcp_socket_wanted(AF_INET, SOCK_SEQPACKET, 0));
	CHECK(c, "not wanted: sctp stream", !mptcp_socket_wanted(AF_INET, SOCK_STREAM, IPPROTO_SCTP));
	CHECK(c, "not wanted: already mptcp",
	      !mptcp_socket_wanted(AF_INET, SOCK_STREAM, IPPROTO_MPTCP));
}

static void test_mptcp_first(struct check *c)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK;

	script(7, 0, -1, EBADF);
	CHECK(c, "tcp: returns the mptcp fd", __wrap_socket(AF_INET6, type, IPPROTO_TCP) == 7);
	CHECK(c, "tcp: one call", fake.calls == 1);
	CHECK(c, "tcp: asks for IPPROTO_MPTCP", fake.protocol[0] == IPPROTO_MPTCP);
	CHECK(c, "tcp: keeps domain and flags", fake.domain[0] == AF_INET6 && fake.type[0] == type);
}

static void test_fallback(struct check *c, int err, const char *name)
{
	char what[64];
	int type = SOCK_STREAM | SOCK_NONBLOCK;
	int fd;

	script(-1, err, 9, 0);
	fd = __wrap_socket(AF_INET, type, 0);
	snprintf(what, sizeof(what), "fallback on %s: tcp fd", name);
	CHECK(c, what, fd == 9 && fake.calls == 2);
	snprintf(what, sizeof(what), "fallback on %s: original protocol, same flags", name);
	CHECK(c, what, fake.protocol[1] == 0 && fake.type[1] == type && fake.domain[1] == AF_INET);
}

static void test_no_fallback(struct check *c)
{
	int fd;

	script(-1, EMFILE, 9, 0);
	fd = __wrap_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c, "EMFILE: no tcp retry", fd == -1 && errno == EMFILE && fake.calls == 1);
	script(-1, EPROTONOSUPPORT, -1, EACCES);
	fd = __wrap_socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c, "fallback failing: its errno", fd == -1 && errno == EACCES && fake.calls == 2);
}

static void test_passthrough(struct check *c, int domain, int type, int protocol, const char *name)
{
	char what[64];

	script(5, 0, -1, EBADF);
	snprintf(what, sizeof(what), "pass-through: %s", name);
	CHECK(c, what, __wrap_socket(domain, type, protocol) == 5 && fake.calls == 1 &&
			       fake.domain[0] == domain && fake.type[0] == type &&
			       fake.protocol[0] == protocol);
}

static void test_sockopt_scripted(struct check *c)
{
	int one = 1, fd = socket(AF_UNIX, SOCK_STREAM, 0); /* any fd that is not MPTCP */

	script(0, 0, 0, 0);
	fake.sockopt_ret = -1, fake.sockopt_err = EOPNOTSUPP;
	CHECK(c, "setsockopt: oobinline refusal kept when not mptcp",
	      __wrap_setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)) == -1 &&
		      errno == EOPNOTSUPP);
	fake.sockopt_err = ENOPROTOOPT;
	CHECK(c, "setsockopt: other refusal kept",
	      __wrap_setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &one, sizeof(one)) == -1 &&
		      errno == ENOPROTOOPT);
	close(fd);
}

/* A listening MPTCP socket on 127.0.0.1; returns its fd and fills *port. */
static int mptcp_listener(unsigned short *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* IPV6_V6ONLY: left off on an MPTCP socket (its subflows may then be IPv4 too), honoured on a
 * plain one. */
static void v6only_case(struct check *c)
{
	int one = 1, v6only = -1, fd;
	socklen_t len = sizeof(v6only);

	fd = __wrap_socket(AF_INET6, SOCK_STREAM, 0);
	CHECK(c, "kernel: IPV6_V6ONLY on an MPTCP socket: success, left off",
	      fd >= 0 && __wrap_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0 &&
		      getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0 && v6only == 0);
	if (fd >= 0)
		close(fd);
	fd = (int)syscall(SYS_socket, AF_INET6, SOCK_STREAM, IPPROTO_TCP);
	v6only = -1;
	CHECK(c, "kernel: IPV6_V6ONLY on a plain TCP socket: set",
	      fd >= 0 && __wrap_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == 0 &&
		      getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0 && v6only == 1);
	if (fd >= 0)
		close(fd);
}

/* A listening plain TCP socket on 127.0.0.1; returns its fd and fills *sin. */
static int tcp_listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_TCP);

	*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* sockd's socket to the link's entry: made MPTCP, bound, options set, then connected to
 * loopback, where it must be plain TCP with all that kept; and once it is closed, the entry's
 * next bytes are answered with a reset, not taken in by an orphan. */
static void loopback_case(struct check *c)
{
	struct sockaddr_in sin, local = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, v = 0, proto = 0, fd, lfd, afd = -1, r;
	socklen_t len = sizeof(proto);
	struct pollfd p;

	lfd = tcp_listener(&sin);
	fd = __wrap_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CHECK(c, "loopback: made MPTCP, bound, TCP_NODELAY set",
	      lfd >= 0 && fd >= 0 && bind(fd, (struct sockaddr *)&local, sizeof(local)) == 0 &&
		      __wrap_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	r = __wrap_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	CHECK(c, "loopback: connect under way", r == 0 || errno == EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	CHECK(c, "loopback: connected", poll(&p, 1, 2000) == 1);
	CHECK(c, "loopback: now plain TCP",
	      getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_TCP);
	len = sizeof(v);
	CHECK(c, "loopback: TCP_NODELAY kept", getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v);
	CHECK(c, "loopback: O_NONBLOCK and FD_CLOEXEC kept",
	      (fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	len = sizeof(local);
	CHECK(c, "loopback: still from 127.0.0.1",
	      getsockname(fd, (struct sockaddr *)&local, &len) == 0 && local.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	if (lfd >= 0)
		afd = accept(lfd, NULL, NULL);
	close(fd);
	/* The first bytes reach the closed socket, which resets; the next send sees it. */
	r = afd >= 0 ? (int)send(afd, "x", 1, MSG_NOSIGNAL) : -1;
	usleep(200000);
	r = r == 1 ? (int)send(afd, "y", 1, MSG_NOSIGNAL) : 0;
	CHECK(c, "loopback: bytes after the close are refused (reset)", r < 0 && (errno == EPIPE || errno == ECONNRESET));
	if (afd >= 0)
		close(afd);
	if (lfd >= 0)
		close(lfd);
}

static void test_real_kernel(struct check *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int proto = 0, is_mptcp = 0, one = 1, fd, lfd, afd;
	socklen_t len = sizeof(proto);
	unsigned short port = 0;

	memset(&fake, 0, sizeof(fake));
	fake.real = 1;
	fd = __wrap_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(c, "kernel: socket created", fd >= 0);
	CHECK(c, "kernel: protocol is MPTCP",
	      getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_MPTCP);
	CHECK(c, "kernel: SOCK_CLOEXEC kept", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK(c, "kernel: raw SO_OOBINLINE refused on MPTCP",
	      __real_setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)) == -1);
	CHECK(c, "kernel: wrapped SO_OOBINLINE succeeds",
	      __wrap_setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)) == 0);
	CHECK(c, "kernel: TCP_NODELAY works",
	      __wrap_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	v6only_case(c);
	loopback_case(c);

	lfd = mptcp_listener(&port);
	CHECK(c, "kernel: MPTCP listener", lfd >= 0);
	sin.sin_port = htons(port);
	CHECK(c, "kernel: connect", lfd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	afd = lfd >= 0 ? accept(lfd, NULL, NULL) : -1;
	len = sizeof(is_mptcp);
	/* TCP_IS_MPTCP answers 1 only while the connection really runs MPTCP (no fallback). */
	CHECK(c, "kernel: connection is MPTCP, not fallback",
	      getsockopt(fd, IPPROTO_TCP, TCP_IS_MPTCP, &is_mptcp, &len) == 0 && is_mptcp == 1);
	if (afd >= 0)
		close(afd);
	if (lfd >= 0)
		close(lfd);
	close(fd);

	fd = __wrap_socket(AF_INET, SOCK_DGRAM, 0);
	len = sizeof(proto);
	CHECK(c, "kernel: udp stays udp",
	      fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 &&
		      proto == IPPROTO_UDP);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	struct check c = { .suite = "mptcp_socket" };

	test_connect_plain(&c);
	test_wanted(&c);
	test_mptcp_first(&c);
	test_fallback(&c, EPROTONOSUPPORT, "EPROTONOSUPPORT");
	test_fallback(&c, EINVAL, "EINVAL");
	test_fallback(&c, ENOPROTOOPT, "ENOPROTOOPT");
	test_no_fallback(&c);
	test_passthrough(&c, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, "udp");
	test_passthrough(&c, AF_UNIX, SOCK_STREAM, 0, "unix stream");
	test_passthrough(&c, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "raw icmpv6");
	test_passthrough(&c, AF_INET, SOCK_STREAM, IPPROTO_SCTP, "sctp stream");
	test_passthrough(&c, AF_NETLINK, SOCK_RAW, 0, "netlink");
	test_sockopt_scripted(&c);
	test_real_kernel(&c);
	return CHECK_DONE(&c);
}
