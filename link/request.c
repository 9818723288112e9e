/* request.c: the link's request, parsed and written (pure: unit-tested and fuzzed). */
#include "request.h"

#include <errno.h>
#include <string.h>

/* ATYP ADDR PORT at BUF: its length, 0 for more, or -errno. */
static int parse_address(struct link_request *req, const uint8_t *buf, size_t len)
{
	size_t need;

	if (len < 1)
		return 0;
	req->atyp = buf[0];
	switch (buf[0]) {
	case LINK_ATYP_IPV4:
		req->addr_len = 4;
		need = 1 + 4 + 2;
		break;
	case LINK_ATYP_IPV6:
		req->addr_len = 16;
		need = 1 + 16 + 2;
		break;
	case LINK_ATYP_NAME:
		if (len < 2)
			return 0;
		if (buf[1] == 0)
			return -EINVAL;
		req->addr_len = buf[1];
		need = 2 + (size_t)buf[1] + 2;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (len < need)
		return 0;
	if (buf[0] == LINK_ATYP_NAME) {
		memcpy(req->addr, buf + 2, req->addr_len);
		if (memchr(req->addr, 0, req->addr_len))
			return -EINVAL;
		req->addr[req->addr_len] = 0;
	} else {
		memcpy(req->addr, buf + 1, req->addr_len);
	}
	req->port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
	return (int)need;
}

int link_request_parse(struct link_request *req, const uint8_t *buf, size_t len)
{
	int n;

	if (len < 2)
		return 0;
	if (buf[0] != LINK_VERSION)
		return -EPROTO;
	if (buf[1] != LINK_CMD_CONNECT)
		return -EOPNOTSUPP;
	req->cmd = buf[1];
	n = parse_address(req, buf + 2, len - 2);
	return n > 0 ? n + 2 : n;
}

int link_request_from_socks(struct link_request *req, const uint8_t *buf, size_t len)
{
	req->cmd = LINK_CMD_CONNECT;
	return parse_address(req, buf, len);
}

size_t link_request_write(const struct link_request *req, uint8_t *buf)
{
	size_t n = 0;

	buf[n++] = LINK_VERSION;
	buf[n++] = req->cmd;
	buf[n++] = req->atyp;
	if (req->atyp == LINK_ATYP_NAME)
		buf[n++] = req->addr_len;
	memcpy(buf + n, req->addr, req->addr_len);
	n += req->addr_len;
	buf[n++] = (uint8_t)(req->port >> 8);
	buf[n++] = (uint8_t)req->port;
	return n;
}
