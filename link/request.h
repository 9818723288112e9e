/* request.h: what the entry asks of the exit, sent as the first record after the handshake
 * (in the same flight as the client's Finished):
 *   VER(1) = 1, CMD(1) = 1 CONNECT (3 is kept for UDP later), then SOCKS5's address form:
 *   ATYP(1) = 1 IPv4 | 3 name | 4 IPv6, ADDR (4, 1 + n, or 16 bytes), PORT(2, big-endian).
 * The exit answers one byte: 0 connected, else a SOCKS5 reply code (1 failure, 2 not allowed,
 * 3 network unreachable, 4 host unreachable, 5 refused, 8 address type not supported); after
 * a 0 the link carries the connection's bytes both ways. */
#ifndef LINK_REQUEST_H
#define LINK_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define LINK_VERSION 1
#define LINK_CMD_CONNECT 1
#define LINK_ATYP_IPV4 1
#define LINK_ATYP_NAME 3
#define LINK_ATYP_IPV6 4
#define LINK_REQUEST_MAX (3 + 1 + 255 + 2)

struct link_request {
	uint8_t cmd;
	uint8_t atyp;
	uint8_t addr[256]; /* 4 or 16 bytes, or a name (NUL-terminated) */
	uint8_t addr_len;
	uint16_t port;
};

/* Parses BUF (LEN bytes): the request's length, 0 when more bytes are needed, or -EINVAL
 * (-EPROTO: another version; -EOPNOTSUPP: a command or address type it does not know). */
int link_request_parse(struct link_request *req, const uint8_t *buf, size_t len);
/* Writes REQ into BUF (at least LINK_REQUEST_MAX bytes): its length. */
size_t link_request_write(const struct link_request *req, uint8_t *buf);
/* SOCKS5's ATYP/ADDR/PORT at BUF (LEN bytes) into REQ as a CONNECT: as link_request_parse. */
int link_request_from_socks(struct link_request *req, const uint8_t *buf, size_t len);

#endif
