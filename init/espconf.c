/* espconf: parameters from mpsocks/cmdline.txt on the boot partition (see espconf.h). */
#include "espconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include "fileio.h"
#include "log.h"

#define MOUNT_POINT "/run/mpsocks-esp"
#define POLL_MS 20

/* Finds the next word at or after *pos: sets *start and returns its length (0 at the end). */
static size_t next_word(const char *s, size_t *pos, size_t *start)
{
	size_t i = *pos, len;
	int quoted = 0;

	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	*start = i;
	while (s[i] && (quoted || !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))) {
		if (s[i] == '"')
			quoted = !quoted;
		i++;
	}
	len = i - *start;
	*pos = i;
	return len;
}

/* Appends word (len bytes) to out with a separating space; -1 when it does not fit. */
static int append_word(char *out, size_t size, size_t *used, const char *word, size_t len)
{
	size_t need = len + (*used ? 1 : 0);

	if (*used + need + 1 > size)
		return -1;
	if (*used)
		out[(*used)++] = ' ';
	memcpy(out + *used, word, len);
	*used += len;
	out[*used] = '\0';
	return 0;
}

int espconf_take(char *cmdline, char *name, size_t name_size)
{
	size_t plen = strlen(ESPCONF_PARAM), pos = 0, start, len, used = 0;
	size_t size = strlen(cmdline) + 1;
	char out[4096];
	int found = 0;

	if (name_size)
		name[0] = '\0';
	if (size > sizeof(out))
		return 0; /* longer than any kernel command line: leave it alone */
	out[0] = '\0';
	while ((len = next_word(cmdline, &pos, &start)) != 0) {
		const char *w = cmdline + start;

		if (len >= plen && strncmp(w, ESPCONF_PARAM, plen) == 0) {
			found = 1;
			if (name_size && len - plen < name_size) {
				memcpy(name, w + plen, len - plen);
				name[len - plen] = '\0';
			} else if (name_size) {
				name[0] = '\0';
			}
			continue;
		}
		append_word(out, sizeof(out), &used, w, len); /* fits: out is as long as cmdline */
	}
	if (found)
		memcpy(cmdline, out, used + 1);
	return found;
}

int espconf_merge(char *cmdline, size_t size, const char *file)
{
	static const char prefix[] = "mpsocks.";
	char out[4096], line[1024];
	size_t pos = 0, start, len, used = 0;
	const char *p = file;

	if (size > sizeof(out))
		size = sizeof(out);
	out[0] = '\0';
	while ((len = next_word(cmdline, &pos, &start)) != 0) {
		if (len >= sizeof(prefix) - 1 && strncmp(cmdline + start, prefix, sizeof(prefix) - 1) == 0)
			continue;
		if (append_word(out, size, &used, cmdline + start, len) != 0)
			return -1;
	}
	while (*p) {
		const char *end = strchr(p, '\n'), *hash;
		size_t n = end ? (size_t)(end - p) : strlen(p);

		hash = memchr(p, '#', n);
		if (hash)
			n = (size_t)(hash - p);
		if (n >= sizeof(line))
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		for (pos = 0; (len = next_word(line, &pos, &start)) != 0;)
			if (append_word(out, size, &used, line + start, len) != 0)
				return -1;
		p = end ? end + 1 : p + strlen(p);
	}
	memcpy(cmdline, out, used + 1);
	return 0;
}

/* The device node (/dev/NAME) of the partition whose GPT name is partname, from sysfs. */
static int find_partition(const char *partname, char *dev, size_t size)
{
	char path[300], text[1024], want[96];
	struct dirent *e;
	DIR *d = opendir("/sys/class/block");
	int found = 0;

	if (!d)
		return 0;
	snprintf(want, sizeof(want), "\nPARTNAME=%s\n", partname);
	while (!found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", e->d_name);
		text[0] = '\n'; /* so that the first line matches "\nKEY=" too */
		if (read_file(path, text + 1, sizeof(text) - 1) < 0 || !strstr(text, want))
			continue;
		snprintf(dev, size, "/dev/%s", e->d_name);
		found = 1;
	}
	closedir(d);
	return found;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void espconf_apply(char *cmdline, size_t size)
{
	char name[64], dev[300], file[2048];
	uint64_t t0 = now_ms();
	ssize_t n;

	if (!espconf_take(cmdline, name, sizeof(name)))
		return;
	if (!name[0]) {
		log_line("conf: %s needs a partition name; built-in parameters only", ESPCONF_PARAM);
		return;
	}
	mkdir(MOUNT_POINT, 0755);
	/* Polled: USB and disk drivers probe asynchronously; this is bounded and only on hardware.
	 * The partition shows in sysfs a moment before its disk can be opened (ENXIO), and its
	 * node may not be in devtmpfs yet (ENOENT): both are retried until the deadline. */
	for (;;) {
		int err = ENODEV;

		if (find_partition(name, dev, sizeof(dev))) {
			if (mount(dev, MOUNT_POINT, "vfat", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "") == 0)
				break;
			err = errno;
			if (err != ENXIO && err != ENOENT) {
				log_line("conf: mounting %s (vfat) failed: %s; built-in parameters only", dev,
					 strerror(err));
				return;
			}
		}
		if (now_ms() - t0 >= ESPCONF_WAIT_MS) {
			if (err == ENODEV)
				log_line("conf: no partition named %s after %d ms; built-in parameters only",
					 name, ESPCONF_WAIT_MS);
			else
				log_line("conf: mounting %s (vfat) failed: %s after %d ms; built-in parameters only",
					 dev, strerror(err), ESPCONF_WAIT_MS);
			return;
		}
		sleep_ms(POLL_MS);
	}
	n = read_file(MOUNT_POINT "/" ESPCONF_FILE, file, sizeof(file));
	if (n < 0)
		log_line("conf: %s on %s: %s; built-in parameters only", ESPCONF_FILE, dev, strerror(errno));
	else if (espconf_merge(cmdline, size, file) != 0)
		log_line("conf: %s on %s is too long; built-in parameters only", ESPCONF_FILE, dev);
	else
		log_line("conf: %s on %s (%zd bytes) after %llu ms replaces the built-in mpsocks.* parameters",
			 ESPCONF_FILE, dev, n, (unsigned long long)(now_ms() - t0));
	if (umount(MOUNT_POINT) != 0)
		log_line("conf: unmounting %s: %s", dev, strerror(errno));
}
