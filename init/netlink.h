/* netlink: a small libmnl-like layer on the kernel's uapi headers: a message builder with
 * attributes and nested attributes, a bounds-checked attribute parser, and request/reply
 * handling (ACK, dump, NLMSG_ERROR with the extended ack message NLMSGERR_ATTR_MSG). */
#ifndef MPSOCKS_NETLINK_H
#define MPSOCKS_NETLINK_H
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define NL_ERR_LEN 200

/* One netlink socket; err holds the last failure as text ("strerror: extack message"). */
struct nl {
	int fd;
	uint32_t seq;
	uint32_t portid;
	char err[NL_ERR_LEN];
};

/* Builder over a caller-provided buffer (aligned for struct nlmsghdr). A put that does not
 * fit sets overflow and is dropped; nl_request refuses overflowed messages. */
struct nlb {
	struct nlmsghdr *nlh;
	size_t cap;
	int overflow;
};

/* Called for each reply message of a request (dump parts or a single answer);
 * a negative return stops the request with that value. */
typedef int (*nl_cb)(const struct nlmsghdr *nlh, void *arg);

int nl_open(struct nl *nl, int protocol, uint32_t groups);
void nl_close(struct nl *nl);

struct nlmsghdr *nlb_init(struct nlb *b, void *buf, size_t cap, uint16_t type, uint16_t flags);
void *nlb_put_header(struct nlb *b, size_t len); /* zeroed family header (ifaddrmsg, genlmsghdr) */
int nla_put(struct nlb *b, uint16_t type, const void *data, size_t len);
int nla_put_u8(struct nlb *b, uint16_t type, uint8_t v);
int nla_put_u16(struct nlb *b, uint16_t type, uint16_t v);
int nla_put_u32(struct nlb *b, uint16_t type, uint32_t v);
int nla_put_str(struct nlb *b, uint16_t type, const char *s);
struct nlattr *nla_nest_start(struct nlb *b, uint16_t type); /* NULL when full */
void nla_nest_end(struct nlb *b, struct nlattr *nest);

/* Fills tb[0..max] with the attributes in data/len (later duplicates win, types above max and
 * the NLA_F_* bits ignored). Returns -1 when an attribute overruns the buffer. */
int nla_parse(const struct nlattr *tb[], int max, const void *data, size_t len);
const void *nla_data(const struct nlattr *a);
size_t nla_len(const struct nlattr *a);
/* Typed getters: -1 when the attribute is missing or too short. */
int nla_get_u8(const struct nlattr *a, uint8_t *v);
int nla_get_u16(const struct nlattr *a, uint16_t *v);
int nla_get_u32(const struct nlattr *a, uint32_t *v);
/* The string, or NULL when missing or not NUL-terminated inside the attribute. */
const char *nla_get_str(const struct nlattr *a);

/* Decodes an NLMSG_ERROR message: *error = the (negative) errno or 0 for an ACK, *msg = the
 * extended ack text or NULL. Returns -1 when the message is malformed. */
int nl_parse_error(const struct nlmsghdr *nlh, int *error, const char **msg);

/* Walks one received datagram: calls cb for each message of sequence seq, handles
 * NLMSG_ERROR / NLMSG_DONE. Returns 1 when the request is finished, 0 when more datagrams
 * must follow, or a negative errno (text in err). Exposed for tests and the fuzzer. */
int nl_walk(const void *buf, size_t len, uint32_t seq, nl_cb cb, void *arg, char *err, size_t errlen);

/* Sends the message (NLM_F_REQUEST | NLM_F_ACK added), then receives until its ACK,
 * error or NLMSG_DONE. Returns 0 or a negative errno, with the reason in nl->err. */
int nl_request(struct nl *nl, struct nlb *b, nl_cb cb, void *arg);

#endif
