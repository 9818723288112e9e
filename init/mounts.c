/* mounts: pseudo filesystems, console, hostname (see mounts.h). */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"

void mounts_setup(struct mount_errors *errs)
{
	static const struct {
		const char *src, *dir, *type;
		unsigned long flags;
		const char *data;
		mode_t mode;
	} m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755 },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755 },
		{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777 },
	};
	struct stat root, st;
	size_t i;

	errs->n = 0;
	if (stat("/", &root) != 0)
		root.st_dev = 0;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dir, m[i].mode); /* usually in the initramfs already */
		/* Already a mount point (a boot loader's initrd chain, or a test running init in
		 * namespaces with its own /proc/cmdline): keep it. */
		if (stat(m[i].dir, &st) == 0 && st.st_dev != root.st_dev)
			continue;
		if (mount(m[i].src, m[i].dir, m[i].type, m[i].flags, m[i].data) == 0 || errno == EBUSY)
			continue; /* EBUSY: the kernel mounted it (CONFIG_DEVTMPFS_MOUNT) */
		if (errs->n < MOUNTS_MAX_ERRORS)
			snprintf(errs->msg[errs->n++], sizeof(errs->msg[0]), "mount %s (%s): %s",
				 m[i].dir, m[i].type, strerror(errno));
	}
}

int console_setup(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

void console_tty(char *path, size_t size)
{
	char active[128];
	char *last, *p;

	snprintf(path, size, "/dev/console");
	if (read_file("/sys/class/tty/console/active", active, sizeof(active)) <= 0)
		return;
	/* "tty0 ttyS0\n": the last one is the kernel's preferred console. */
	for (p = active + strlen(active); p > active && (p[-1] == '\n' || p[-1] == ' '); p--)
		p[-1] = '\0';
	last = strrchr(active, ' ');
	last = last ? last + 1 : active;
	if (*last && !strchr(last, '/'))
		snprintf(path, size, "/dev/%s", last);
}
