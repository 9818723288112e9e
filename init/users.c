/* users: passwd/shadow/group entries for the SOCKS user (see users.h). */
#include "users.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "fileio.h"

#define FILE_MAX 16384
#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004 /* Linux 5.6; musl 1.2.3's headers predate it */
#endif

int users_hash(const char *pass, char *hash, size_t size, char *err, size_t errlen)
{
	static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[16];
	/* rounds=1000, the minimum: sockd runs crypt() again for every SOCKS login, and under
	 * TCG the default 5000 rounds take ~1 s each. The hash guards nothing the command line
	 * (/proc/cmdline holds the password in clear) does not already give away. */
	static const char prefix[] = "$6$rounds=1000$";
	char setting[sizeof(prefix) - 1 + 16 + 2];
	const char *h;
	size_t got = 0;
	int i;

	/* A salt must be unique, not secret: GRND_INSECURE does not wait for the CRNG, which early
	 * in a VM's boot takes ~1 s of jitter-entropy gathering. */
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, GRND_INSECURE);

		if (r < 0 && errno == EINVAL) /* a kernel before 5.6 */
			r = getrandom(rnd + got, sizeof(rnd) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)r;
	}
	memcpy(setting, prefix, sizeof(prefix) - 1);
	for (i = 0; i < 16; i++)
		setting[sizeof(prefix) - 1 + i] = b64[rnd[i] & 63];
	setting[sizeof(prefix) - 1 + 16] = '$';
	setting[sizeof(prefix) - 1 + 17] = '\0';
	h = crypt(pass, setting);
	if (!h || strncmp(h, setting, strlen(setting)) != 0 || strlen(h) >= size) {
		snprintf(err, errlen, "crypt() cannot make a SHA-512 hash");
		return -1;
	}
	memcpy(hash, h, strlen(h) + 1);
	return 0;
}

/* Does the colon-separated database text hold an entry named name? */
static int has_entry(const char *text, const char *name)
{
	size_t len = strlen(name);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			return 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

/* Reads etc/file (empty when missing) and appends entry, ensuring a newline between. */
static int append_entry(const char *etc, const char *file, const char *entry, char *text,
			size_t size, char *path, size_t psize)
{
	ssize_t n;
	size_t len, elen = strlen(entry);

	snprintf(path, psize, "%s/%s", etc, file);
	n = read_file(path, text, size);
	if (n < 0 && errno != ENOENT)
		return -1;
	len = n < 0 ? 0 : (size_t)n;
	if (len && text[len - 1] != '\n')
		text[len++] = '\n';
	if (len + elen + 1 > size) {
		errno = EFBIG;
		return -1;
	}
	memcpy(text + len, entry, elen + 1);
	return (int)(len + elen);
}

int users_add(const char *etc, const char *name, const char *pass, unsigned id, char *err,
	      size_t errlen)
{
	char passwd[FILE_MAX], shadow[FILE_MAX], group[FILE_MAX];
	char hash[USERS_HASH_MAX], entry[256], ppath[256], spath[256], gpath[256];
	int plen, slen, glen;

	if (users_hash(pass, hash, sizeof(hash), err, errlen) != 0)
		return -1;
	snprintf(ppath, sizeof(ppath), "%s/passwd", etc);
	if (read_file(ppath, passwd, sizeof(passwd)) >= 0 && has_entry(passwd, name)) {
		snprintf(err, errlen, "user %s already exists in %s", name, ppath);
		return -1;
	}
	snprintf(entry, sizeof(entry), "%s:x:%u:%u:SOCKS user:/nonexistent:/bin/false\n", name, id, id);
	plen = append_entry(etc, "passwd", entry, passwd, sizeof(passwd), ppath, sizeof(ppath));
	if (plen < 0)
		goto io_error;
	snprintf(entry, sizeof(entry), "%s:%s::0:99999:7:::\n", name, hash);
	slen = append_entry(etc, "shadow", entry, shadow, sizeof(shadow), spath, sizeof(spath));
	if (slen < 0) {
		snprintf(ppath, sizeof(ppath), "%s", spath);
		goto io_error;
	}
	snprintf(entry, sizeof(entry), "%s:x:%u:\n", name, id);
	glen = append_entry(etc, "group", entry, group, sizeof(group), gpath, sizeof(gpath));
	if (glen < 0) {
		snprintf(ppath, sizeof(ppath), "%s", gpath);
		goto io_error;
	}
	/* shadow first: a passwd entry without its hash would be a user without password. */
	if (write_file(spath, shadow, (size_t)slen, 0600) != 0) {
		snprintf(ppath, sizeof(ppath), "%s", spath);
		goto io_error;
	}
	if (write_file(gpath, group, (size_t)glen, 0644) != 0) {
		snprintf(ppath, sizeof(ppath), "%s", gpath);
		goto io_error;
	}
	if (write_file(ppath, passwd, (size_t)plen, 0644) != 0)
		goto io_error;
	memset(shadow, 0, sizeof(shadow)); /* no hash copies left behind in memory */
	return 0;
io_error:
	snprintf(err, errlen, "%s: %s", ppath, strerror(errno));
	memset(shadow, 0, sizeof(shadow));
	return -1;
}
