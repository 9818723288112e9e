/* Client side of a SOCKS5 CONNECT (RFC 1928) with optional username/password (RFC 1929). */
#ifndef MPSOCKS_SOCKS5_H
#define MPSOCKS_SOCKS5_H

/* On the connected socket fd, asks the proxy to CONNECT to host:port (host: an IPv4 literal
 * or a name the proxy resolves). user/pass may be NULL. Returns 0, or -1 with a message in
 * err. */
int socks5_connect(int fd, const char *host, unsigned port, const char *user, const char *pass,
		   char *err, unsigned errsize);
#endif
