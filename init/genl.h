/* genl: generic netlink family resolution (CTRL_CMD_GETFAMILY by name -> family id). */
#ifndef MPSOCKS_GENL_H
#define MPSOCKS_GENL_H
#include "netlink.h"

/* Returns the family id (> 0) or a negative errno (-ENOENT: the kernel has no such family),
 * reason in nl->err. nl must be a NETLINK_GENERIC socket. */
int genl_resolve(struct nl *nl, const char *family);

/* Starts a generic netlink request: header + genlmsghdr with cmd and version. */
void genl_init(struct nlb *b, void *buf, size_t cap, uint16_t family, uint16_t flags, uint8_t cmd,
	       uint8_t version);

#endif
