/* cmdline: the kernel command line (/proc/cmdline) -> struct config, plus one error line per
 * malformed or unknown mpsocks.* parameter. Pure: no I/O, no allocation, so it is
 * unit-tested (tests/unit/test_cmdline.c) and fuzzed (tests/fuzz/fuzz_cmdline.c).
 * Parameters (names fixed by the team contract):
 *   mpsocks.nic=IF,ADDR/PREFIX[,gw=GW][,v6=ADDR6/PREFIX6[,gw6=GW6][,v6only]][,backup]
 *   mpsocks.nic=IF,dhcp[,backup]
 *   mpsocks.lan=IF,ADDR/PREFIX   mpsocks.port=N   mpsocks.user=NAME:PASS
 *   mpsocks.allow=CIDR[,CIDR...]  mpsocks.dns=IP[,IP...]  mpsocks.debug=0|1
 *   mpsocks.exit=mpsocks://KEY@ADDR:PORT   (repeatable: the encrypted link, exits in order)
 *   mpsocks.exit=ADDR:PORT  mpsocks.exit_user=NAME:PASS   (the plain exit, for measurements)
 * A bad parameter is dropped as a whole (never half-applied); everything else still applies. */
#ifndef MPSOCKS_CMDLINE_H
#define MPSOCKS_CMDLINE_H
#include <netinet/in.h>

#define CFG_MAX_NICS 8 /* the kernel's MPTCP limits stop at 8 subflows */
#define CFG_MAX_ALLOW 8
#define CFG_MAX_DNS 3 /* resolv.conf readers use at most 3 */
#define CFG_IFNAMSIZ 16
#define CFG_USER_MAX 32
#define CFG_PASS_MAX 128
#define CFG_MAX_ERRORS 16
#define CFG_ERROR_LEN 160
#define CFG_DEFAULT_PORT 1080
#define CFG_MAX_LINKS 8
#define CFG_LINK_KEY_LEN 43 /* base64url of 32 bytes (link/key.h) */

struct cidr {
	struct in_addr addr; /* network address (host bits cleared) */
	int prefix;
};

struct nic_cfg {
	char ifname[CFG_IFNAMSIZ];
	int dhcp;
	struct in_addr addr; /* host address, when !dhcp */
	int prefix;
	int has_gw;
	struct in_addr gw;
	int backup;
	/* IPv6 beside the IPv4 address (static NICs only): its own table and rule as for IPv4,
	 * and an MPTCP endpoint of its own. */
	int has_v6;
	struct in6_addr addr6;
	int prefix6;
	int has_gw6;
	struct in6_addr gw6;
	/* The uplink behind carries IPv6 only: no IPv4 endpoint or default route through it
	 * (its IPv4 address stays: the host reaches the guest by it). */
	int v6only;
};

/* One exit of the encrypted link (link/, exit/README.md). */
struct link_exit {
	struct in_addr addr;
	unsigned port;
	char key[CFG_LINK_KEY_LEN + 1];
};

struct config {
	struct nic_cfg nics[CFG_MAX_NICS];
	int n_nics;
	int has_lan;
	struct nic_cfg lan;
	unsigned port;
	int has_user;
	char user[CFG_USER_MAX + 1];
	char pass[CFG_PASS_MAX + 1];
	struct cidr allow[CFG_MAX_ALLOW];
	int n_allow;
	struct in_addr dns[CFG_MAX_DNS];
	int n_dns;
	int debug;
	/* The exit (a sockd on the user's VPS) every CONNECT is chained through, and the login
	 * the appliance gives it; the exit never runs without one, so has_exit implies
	 * has_exit_user. ADDR is an IPv4 address: the launcher resolves names. */
	int has_exit;
	struct in_addr exit_addr;
	unsigned exit_port;
	int has_exit_user;
	char exit_user[CFG_USER_MAX + 1];
	char exit_pass[CFG_PASS_MAX + 1];
	/* The exits of the encrypted link, in the order they are tried; never beside the plain
	 * exit above. The keys never reach the console. */
	struct link_exit links[CFG_MAX_LINKS];
	int n_links;
};

struct cmdline_errors {
	int n;       /* messages kept */
	int dropped; /* messages beyond CFG_MAX_ERRORS */
	char msg[CFG_MAX_ERRORS][CFG_ERROR_LEN];
};

/* Parses a NUL-terminated command line; cfg is reset to the defaults first. */
void cmdline_parse(const char *cmdline, struct config *cfg, struct cmdline_errors *errs);

/* The subnet of a NIC: addr & mask. */
struct cidr nic_subnet(const struct nic_cfg *nic);

#endif
