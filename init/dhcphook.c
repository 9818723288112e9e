/* dhcphook: udhcpc's script reports the lease to PID 1 (see dhcphook.h). */
#include "dhcphook.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fileio.h"
#include "lease.h"
#include "log.h"

bool dhcphook_is_hook(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	return base && strcmp(base, DHCPHOOK_NAME) == 0;
}

/* Log lines go to the console even if udhcpc's output does not. */
static void console_out(void)
{
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && fd != 1) {
		dup2(fd, 1);
		close(fd);
	}
}

/* One byte into PID 1's fifo. Non-blocking: a full fifo already holds a wake-up that PID 1
 * has yet to read, and it reads every report when it does. */
static int wake_init(void)
{
	int fd = open(LEASE_WAKE, O_WRONLY | O_NONBLOCK | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "\n", 1) != 1 && errno != EAGAIN)
		r = -errno;
	close(fd);
	return r;
}

int dhcphook_main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "", *ifname = getenv("interface");
	struct lease_report rep = { 0 };
	char path[64], text[LEASE_REPORT_MAX], why[96];
	int e, n, r;

	console_out();
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/')) {
		log_line("dhcp hook: no interface given; nothing reported");
		return 0;
	}
	if ((e = lease_event_parse(name)) < 0)
		return 0; /* nak: udhcpc follows it with deconfig when it held a lease */
	rep.event = (enum lease_event)e;
	if (lease_event_has_lease(rep.event) &&
	    lease_parse(getenv("ip"), getenv("subnet"), getenv("mask"), getenv("router"),
			getenv("dns"), getenv("lease"), &rep.l, why, sizeof(why)) != 0) {
		log_line("nic %s: dhcp %s: %s; ignored", ifname, name, why);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s%s", LEASE_DIR, ifname, LEASE_SUFFIX);
	n = lease_report_format(&rep, text, sizeof(text));
	if (n < 0 || write_file(path, text, (size_t)n, 0644) != 0) {
		log_line("nic %s: dhcp %s: writing %s failed: %s", ifname, name, path,
			 n < 0 ? strerror(-n) : strerror(errno));
		return 0;
	}
	if ((r = wake_init()) != 0)
		log_line("nic %s: dhcp %s: telling init: %s", ifname, name, strerror(-r));
	return 0;
}
