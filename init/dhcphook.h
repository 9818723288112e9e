/* dhcphook: udhcpc's script. udhcpc runs /bin/mpsocks-dhcp (a link to /init) with the event as
 * argv[1] and the lease in its environment; init's main() hands that call to dhcphook_main,
 * which only reports: the event and the lease (lease.h's report line) go to
 * /run/mpsocks-dhcp/IF.lease (a temporary file renamed into place, so PID 1 never reads half
 * a report), then one byte into the fifo /run/mpsocks-dhcp/wake tells PID 1 to read it.
 * PID 1 applies it (dhcp.c, lease.c): it alone changes addresses, rules, routes, MPTCP
 * endpoints and files, as OpenWrt's netifd does for its DHCP script. A later report replaces
 * an unread one: the file holds the lease as it is now, which is all PID 1 needs. */
#ifndef MPSOCKS_DHCPHOOK_H
#define MPSOCKS_DHCPHOOK_H
#include <stdbool.h>

#define DHCPHOOK_NAME "mpsocks-dhcp"
#define DHCPHOOK_PATH "/bin/" DHCPHOOK_NAME

/* Is this process the hook (argv[0]'s last component)? */
bool dhcphook_is_hook(const char *argv0);
/* The hook's main: always exits 0 (udhcpc ignores the status; the console has the reason). */
int dhcphook_main(int argc, char **argv);

#endif
