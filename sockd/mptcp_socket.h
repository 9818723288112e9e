/* Static-binary equivalent of mptcpize: linked with -Wl,--wrap=socket,--wrap=setsockopt,--wrap=connect, every
 * TCP stream socket the program creates becomes an MPTCP socket (IPPROTO_MPTCP) when the kernel
 * allows it, and stays plain TCP when it does not. */
#ifndef MPSOCKS_MPTCP_SOCKET_H
#define MPSOCKS_MPTCP_SOCKET_H
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* Non-zero when socket(domain, type, protocol) asks for TCP: AF_INET/AF_INET6, SOCK_STREAM
 * (SOCK_CLOEXEC/SOCK_NONBLOCK allowed), protocol 0 or IPPROTO_TCP. */
int mptcp_socket_wanted(int domain, int type, int protocol);

/* Non-zero when errno from socket(..., IPPROTO_MPTCP) means "no MPTCP here, use TCP":
 * EPROTONOSUPPORT (kernel without MPTCP), EINVAL (old kernels), ENOPROTOOPT (MPTCP disabled
 * by the net.mptcp.enabled sysctl). */
int mptcp_socket_refused(int err);

/* Non-zero when setsockopt(level, optname) failing with err on an MPTCP socket is harmless
 * and should read as success; see mptcp_socket.c for the options and why. */
int mptcp_sockopt_ignorable(int level, int optname, int err);

/* Non-zero when setsockopt(level, optname, optval) on an MPTCP socket is left undone (IPV6_V6ONLY
 * on: see mptcp_socket.c). */
int mptcp_sockopt_skipped(int level, int optname, const void *optval, socklen_t optlen);

/* True when a connect() to addr gets a plain TCP socket in place of its MPTCP one: loopback
 * (127/8, ::1), where the link's entry listens (see mptcp_socket.c). */
bool mptcp_connect_plain(const struct sockaddr *addr, socklen_t len);

/* The wrappers the linker substitutes for socket(), setsockopt() and connect(); __real_* are
 * the libc's. */
int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol);
int __real_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
int __wrap_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
int __real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len);

#endif
