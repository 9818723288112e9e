/* own_users: sockd's own credentials file instead of the host's shadow database (see
 * own_users.h). dante's `username` method calls getspnam() alone for a password check
 * (sockd/auth_password.c: sockd_getpasswordhash, with file-read privileges raised); its other
 * getpwnam() calls (user.privileged/unprivileged at config load, group rules, rfc931) stay on
 * the host's database, so the exit can still run as root/nobody. */
#define _DEFAULT_SOURCE /* struct spwd, O_CLOEXEC under -std=c11 */
#include "own_users.h"

#include <errno.h>
#include <fcntl.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int own_users_find(const char *text, size_t len, const char *name, char *hash, size_t size)
{
	size_t nlen = strlen(name), pos = 0;

	if (nlen == 0)
		return -ENOENT;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos, hlen;
		const char *h;

		pos += llen + 1;
		if (llen && line[llen - 1] == '\r')
			llen--; /* a file edited elsewhere */
		if (llen <= nlen + 1 || line[nlen] != ':' || memcmp(line, name, nlen) != 0)
			continue;
		h = line + nlen + 1;
		hlen = llen - nlen - 1;
		/* Only a modern crypt string: no DES (two-character salt, 8-character passwords), and
		 * no empty hash, which crypt() might match against nothing at all. */
		if (h[0] != '$' || memchr(h, ':', hlen) || memchr(h, '\0', hlen))
			continue;
		if (hlen >= size)
			return -ENAMETOOLONG;
		memcpy(hash, h, hlen);
		hash[hlen] = '\0';
		return 0;
	}
	return -ENOENT;
}

bool own_users_file_safe(const struct stat *st, uid_t euid)
{
	return S_ISREG(st->st_mode) && (st->st_mode & (S_IRWXG | S_IRWXO)) == 0 &&
	       (st->st_uid == 0 || st->st_uid == euid);
}

long own_users_read(const char *path, char *buf, size_t size)
{
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* The opened file itself is checked, so a rename between check and read cannot slip an
	 * unsafe one in. */
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (!own_users_file_safe(&st, geteuid()))
		err = EPERM;
	while (!err) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = errno;
		else if (n == 0)
			break;
		else if ((got += (size_t)n) == size)
			err = EFBIG; /* full: there may be more, and a cut line must not match */
	}
	close(fd);
	return err ? -err : (long)got;
}

int own_users_lookup(const char *path, const char *name, char *hash, size_t size)
{
	char text[OWN_USERS_FILE_MAX];
	long n = own_users_read(path, text, sizeof(text));
	int rc = n < 0 ? (int)n : own_users_find(text, (size_t)n, name, hash, size);

	memset(text, 0, sizeof(text)); /* no copies of other users' hashes left behind */
	return rc;
}

/* getspnam() returns static storage, as the libc's does; dante copies the hash at once. */
struct spwd *__wrap_getspnam(const char *name)
{
	static struct spwd sp;
	static char hash[OWN_USERS_HASH_MAX];
	const char *path = getenv(OWN_USERS_ENV);
	int rc;

	if (!path)
		return __real_getspnam(name);
	memset(&sp, 0, sizeof(sp));
	/* Set but empty or unreadable: refuse everyone rather than fall back to the host. */
	rc = *path ? own_users_lookup(path, name, hash, sizeof(hash)) : -ENOENT;
	if (rc != 0) {
		memset(hash, 0, sizeof(hash));
		errno = -rc;
		return NULL;
	}
	sp.sp_namp = (char *)name;
	sp.sp_pwdp = hash;
	sp.sp_lstchg = sp.sp_min = sp.sp_max = sp.sp_warn = sp.sp_inact = sp.sp_expire = -1;
	sp.sp_flag = (unsigned long)-1;
	return &sp;
}
