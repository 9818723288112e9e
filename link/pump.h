/* pump.h: a connection's bytes both ways between a plain socket and the link, each direction
 * closed on its own (a half-close crosses the link as close_notify). */
#ifndef LINK_PUMP_H
#define LINK_PUMP_H

#include "tls.h"

/* Until both directions are done: 0, or -EIO when the link broke (c->tls_error says how),
 * -EPIPE when the plain socket did (errno says how); then both are reset (net_abort). */
int link_pump(struct link_conn *c, int plain);

#endif
