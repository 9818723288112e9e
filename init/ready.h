/* ready: is a TCP (or MPTCP) socket listening on ADDR:PORT? Read from /proc/net/tcp, which
 * lists MPTCP listeners too (through their TCP subflow listener), so sockd's log sees no
 * probe connections. */
#ifndef MPSOCKS_READY_H
#define MPSOCKS_READY_H
#include <stdint.h>

/* Pure: does the /proc/net/tcp text hold a LISTEN entry for addr (network order; 0.0.0.0
 * matches too) and port? */
int tcp_listening_in(const char *proc_net_tcp, uint32_t addr, unsigned port);
/* The same against the live /proc/net/tcp; 0 when it cannot be read. */
int tcp_listening(uint32_t addr, unsigned port);

#endif
