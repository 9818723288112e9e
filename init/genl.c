/* genl: generic netlink family resolution (see genl.h). */
#include "genl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/genetlink.h>

void genl_init(struct nlb *b, void *buf, size_t cap, uint16_t family, uint16_t flags, uint8_t cmd,
	       uint8_t version)
{
	struct genlmsghdr *g;

	nlb_init(b, buf, cap, family, flags);
	g = nlb_put_header(b, sizeof(*g));
	if (g) {
		g->cmd = cmd;
		g->version = version;
	}
}

static int family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	uint16_t id;

	if (nlh->nlmsg_len < off ||
	    nla_parse(tb, CTRL_ATTR_MAX, (const unsigned char *)nlh + off, nlh->nlmsg_len - off) != 0)
		return -EBADMSG;
	if (nla_get_u16(tb[CTRL_ATTR_FAMILY_ID], &id) != 0 || id == 0)
		return -EBADMSG;
	*(int *)arg = id;
	return 0;
}

int genl_resolve(struct nl *nl, const char *family)
{
	unsigned char buf[256] __attribute__((aligned(8)));
	struct nlb b;
	int id = 0, r;

	genl_init(&b, buf, sizeof(buf), GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	nla_put_str(&b, CTRL_ATTR_FAMILY_NAME, family);
	r = nl_request(nl, &b, family_cb, &id);
	if (r < 0) {
		char why[NL_ERR_LEN];

		snprintf(why, sizeof(why), "%s", nl->err);
		snprintf(nl->err, sizeof(nl->err), "generic netlink family %.24s: %.140s", family,
			 r == -ENOENT ? "not in this kernel" : why);
		return r;
	}
	if (id <= 0) {
		snprintf(nl->err, sizeof(nl->err), "generic netlink family %s: no id in reply", family);
		return -EBADMSG;
	}
	return id;
}
