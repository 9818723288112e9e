/* netlink: message building, parsing and request/reply handling (see netlink.h). */
#include "netlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

int nl_open(struct nl *nl, int protocol, uint32_t groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	struct timeval limit = { .tv_sec = 2 };
	socklen_t salen = sizeof(sa);
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (nl->fd < 0)
		goto fail;
	/* Extended acks give the kernel's own reason ("limit greater than maximum"); capped
	 * acks keep error replies small. Both are optional: old kernels ignore them. */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* The kernel always answers, but PID 1 must not hang if it ever did not: a request
	 * then fails with EAGAIN ("netlink receive: Resource temporarily unavailable"). */
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &salen) != 0)
		goto fail;
	nl->portid = sa.nl_pid;
	nl->seq = 1;
	return 0;
fail:
	snprintf(nl->err, sizeof(nl->err), "netlink socket: %s", strerror(errno));
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
	return -errno;
}

void nl_close(struct nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

struct nlmsghdr *nlb_init(struct nlb *b, void *buf, size_t cap, uint16_t type, uint16_t flags)
{
	b->nlh = buf;
	b->cap = cap;
	b->overflow = cap < NLMSG_HDRLEN;
	if (b->overflow)
		return NULL;
	memset(buf, 0, NLMSG_HDRLEN);
	b->nlh->nlmsg_len = NLMSG_HDRLEN;
	b->nlh->nlmsg_type = type;
	b->nlh->nlmsg_flags = flags;
	return b->nlh;
}

/* Reserves len bytes (plus alignment padding, zeroed) at the end of the message. */
static void *reserve(struct nlb *b, size_t len)
{
	size_t at = NLMSG_ALIGN(b->nlh->nlmsg_len), padded = NLMSG_ALIGN(len);
	unsigned char *p;

	if (b->overflow || at + padded > b->cap || at + padded > UINT32_MAX) {
		b->overflow = 1;
		return NULL;
	}
	p = (unsigned char *)b->nlh + at;
	memset(p, 0, padded);
	b->nlh->nlmsg_len = (uint32_t)(at + padded);
	return p;
}

void *nlb_put_header(struct nlb *b, size_t len)
{
	return reserve(b, len);
}

int nla_put(struct nlb *b, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a;

	if (NLA_HDRLEN + len > UINT16_MAX) {
		b->overflow = 1;
		return -1;
	}
	a = reserve(b, NLA_HDRLEN + len);
	if (!a)
		return -1;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
	return 0;
}

int nla_put_u8(struct nlb *b, uint16_t type, uint8_t v)
{
	return nla_put(b, type, &v, sizeof(v));
}

int nla_put_u16(struct nlb *b, uint16_t type, uint16_t v)
{
	return nla_put(b, type, &v, sizeof(v));
}

int nla_put_u32(struct nlb *b, uint16_t type, uint32_t v)
{
	return nla_put(b, type, &v, sizeof(v));
}

int nla_put_str(struct nlb *b, uint16_t type, const char *s)
{
	return nla_put(b, type, s, strlen(s) + 1);
}

struct nlattr *nla_nest_start(struct nlb *b, uint16_t type)
{
	struct nlattr *a = reserve(b, NLA_HDRLEN);

	if (!a)
		return NULL;
	a->nla_type = type | NLA_F_NESTED;
	return a;
}

void nla_nest_end(struct nlb *b, struct nlattr *nest)
{
	size_t len;

	if (!nest || b->overflow)
		return;
	len = (size_t)((unsigned char *)b->nlh + b->nlh->nlmsg_len - (unsigned char *)nest);
	if (len > UINT16_MAX) {
		b->overflow = 1;
		return;
	}
	nest->nla_len = (uint16_t)len;
}

int nla_parse(const struct nlattr *tb[], int max, const void *data, size_t len)
{
	const unsigned char *p = data;
	int i;

	for (i = 0; i <= max; i++)
		tb[i] = NULL;
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;
		int type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -1;
		if (type <= max)
			tb[type] = a;
		step = NLA_ALIGN(a->nla_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

const void *nla_data(const struct nlattr *a)
{
	return (const unsigned char *)a + NLA_HDRLEN;
}

size_t nla_len(const struct nlattr *a)
{
	return (size_t)a->nla_len - NLA_HDRLEN;
}

static int get_fixed(const struct nlattr *a, void *v, size_t len)
{
	if (!a || nla_len(a) < len)
		return -1;
	memcpy(v, nla_data(a), len);
	return 0;
}

int nla_get_u8(const struct nlattr *a, uint8_t *v)
{
	return get_fixed(a, v, sizeof(*v));
}

int nla_get_u16(const struct nlattr *a, uint16_t *v)
{
	return get_fixed(a, v, sizeof(*v));
}

int nla_get_u32(const struct nlattr *a, uint32_t *v)
{
	return get_fixed(a, v, sizeof(*v));
}

const char *nla_get_str(const struct nlattr *a)
{
	if (!a || nla_len(a) == 0 || memchr(nla_data(a), '\0', nla_len(a)) == NULL)
		return NULL;
	return nla_data(a);
}

int nl_parse_error(const struct nlmsghdr *nlh, int *error, const char **msg)
{
	const struct nlmsgerr *e;
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off;

	*msg = NULL;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return -1;
	e = NLMSG_DATA(nlh);
	*error = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	/* The TLVs follow the echoed request: only its header when the ack is capped
	 * (always so for a successful ACK), else the whole request. */
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(e->msg);
	if (off > nlh->nlmsg_len)
		return -1;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (const unsigned char *)nlh + off,
		      nlh->nlmsg_len - off) != 0)
		return -1;
	*msg = nla_get_str(tb[NLMSGERR_ATTR_MSG]);
	return 0;
}

static void set_err(char *err, size_t errlen, int error, const char *msg)
{
	if (msg && *msg)
		snprintf(err, errlen, "%s: %s", strerror(-error), msg);
	else
		snprintf(err, errlen, "%s", strerror(-error));
}

int nl_walk(const void *buf, size_t len, uint32_t seq, nl_cb cb, void *arg, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	while (len >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step;

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len) {
			snprintf(err, errlen, "malformed netlink reply");
			return -EBADMSG;
		}
		if (nlh->nlmsg_seq == seq) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int error;
				const char *msg;

				if (nl_parse_error(nlh, &error, &msg) != 0) {
					snprintf(err, errlen, "malformed netlink error");
					return -EBADMSG;
				}
				if (error > 0 || error < -4095)
					error = -EBADMSG;
				if (error)
					set_err(err, errlen, error, msg);
				return error ? error : 1;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int error = 0;

				/* A dump may end with an error code (and extack) in DONE. */
				if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
					memcpy(&error, NLMSG_DATA(nlh), sizeof(int));
				if (error > 0 || error < -4095)
					error = -EBADMSG;
				if (error)
					set_err(err, errlen, error, NULL);
				return error ? error : 1;
			}
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb) {
				int r = cb(nlh, arg);

				if (r < 0) {
					if (!err[0])
						set_err(err, errlen, r, NULL);
					return r;
				}
			}
		}
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

int nl_request(struct nl *nl, struct nlb *b, nl_cb cb, void *arg)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	/* The kernel sizes dump parts to at most 32 KiB; a reply never exceeds that. */
	unsigned char rbuf[32768] __attribute__((aligned(8)));
	uint32_t seq;
	ssize_t n;
	int r;

	nl->err[0] = '\0';
	if (nl->fd < 0) {
		snprintf(nl->err, sizeof(nl->err), "netlink socket not open");
		return -EBADF;
	}
	if (b->overflow) {
		snprintf(nl->err, sizeof(nl->err), "netlink message too large");
		return -EMSGSIZE;
	}
	seq = nl->seq++;
	b->nlh->nlmsg_seq = seq;
	b->nlh->nlmsg_pid = 0;
	/* Always ask for an ACK: a dump ignores it and ends with NLMSG_DONE. (Testing for
	 * NLM_F_DUMP instead would be wrong: its bits alias NLM_F_REPLACE|NLM_F_EXCL.) */
	b->nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	do
		n = sendto(nl->fd, b->nlh, b->nlh->nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		snprintf(nl->err, sizeof(nl->err), "netlink send: %s", strerror(errno));
		return r;
	}
	for (;;) {
		struct sockaddr_nl from = { .nl_family = AF_NETLINK };
		socklen_t fromlen = sizeof(from);

		n = recvfrom(nl->fd, rbuf, sizeof(rbuf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			snprintf(nl->err, sizeof(nl->err), "netlink receive: %s", strerror(errno));
			return r;
		}
		if ((size_t)n > sizeof(rbuf)) {
			snprintf(nl->err, sizeof(nl->err), "netlink reply truncated");
			return -EMSGSIZE;
		}
		if (from.nl_pid != 0)
			continue; /* only the kernel talks to us */
		r = nl_walk(rbuf, (size_t)n, seq, cb, arg, nl->err, sizeof(nl->err));
		if (r != 0)
			return r < 0 ? r : 0;
	}
}
