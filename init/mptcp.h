/* mptcp: the in-kernel MPTCP path manager over generic netlink (family "mptcp_pm"):
 * limits, endpoints and the endpoint dump, as `ip mptcp` does. Addresses are in network
 * byte order, as bytes (this header stays free of netinet/in.h: linux/mptcp.h pulls
 * linux/in.h, which clashes with musl's netinet/in.h). */
#ifndef MPSOCKS_MPTCP_H
#define MPSOCKS_MPTCP_H
#include <stddef.h>
#include <stdint.h>
#include "netlink.h"

#define MPTCP_LIMIT_MAX 8 /* the kernel's MPTCP_PM_ADDR_MAX */
#define MPTCP_EP_MAX 32   /* endpoints read back at most */

struct mptcp_pm {
	struct nl nl;
	int family; /* generic netlink id of mptcp_pm */
};

struct mptcp_endpoint {
	uint8_t id;     /* 0: the kernel picks one */
	uint16_t family; /* AF_INET: addr4; AF_INET6: addr6 */
	uint32_t addr4;
	uint8_t addr6[16];
	uint16_t port;
	uint32_t flags; /* MPTCP_PM_ADDR_FLAG_* */
	int32_t ifindex; /* 0: not bound to a device */
};

/* Opens a generic netlink socket and resolves the family; -ENOENT when the kernel has no
 * MPTCP. Reason in pm->nl.err. */
int mptcp_pm_open(struct mptcp_pm *pm);
void mptcp_pm_close(struct mptcp_pm *pm);

/* Message builders (exposed so tests can compare them byte for byte). */
void mptcp_msg_set_limits(struct nlb *b, void *buf, size_t cap, uint16_t family,
			  uint32_t subflows, uint32_t add_addr_accepted);
void mptcp_msg_add_endpoint(struct nlb *b, void *buf, size_t cap, uint16_t family,
			    const struct mptcp_endpoint *e);
/* Decodes one GET_ADDR reply into e; -1 when it is malformed. */
int mptcp_parse_endpoint(const struct nlmsghdr *nlh, struct mptcp_endpoint *e);

int mptcp_set_limits(struct mptcp_pm *pm, uint32_t subflows, uint32_t add_addr_accepted);
int mptcp_get_limits(struct mptcp_pm *pm, uint32_t *subflows, uint32_t *add_addr_accepted);
int mptcp_add_endpoint(struct mptcp_pm *pm, const struct mptcp_endpoint *e);
int mptcp_flush_endpoints(struct mptcp_pm *pm);
/* `ip mptcp endpoint delete id ID` */
int mptcp_del_endpoint(struct mptcp_pm *pm, uint8_t id);
/* GET_ADDR dump: fills out[0..max-1], *n = endpoints the kernel holds (may exceed max). */
int mptcp_dump_endpoints(struct mptcp_pm *pm, struct mptcp_endpoint *out, int max, int *n);

/* "subflow,backup" etc.; "none" when no flag is set. */
void mptcp_flags_str(uint32_t flags, char *buf, size_t size);

#endif
