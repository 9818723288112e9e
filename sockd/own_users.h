/* own_users: credentials of sockd's own, for the exit on a user's VPS. dante's `username`
 * method looks a SOCKS user up with getspnam() and checks the password with crypt(); on a host
 * that would accept the host's accounts and need one for every SOCKS user. Linked with
 * -Wl,--wrap=getspnam, sockd answers that lookup, when MPSOCKS_CREDENTIALS names a file, only
 * from that file and never from /etc/shadow. Unset, everything is as before (the appliance uses
 * init's /etc/passwd and /etc/shadow).
 *
 * The file: root-owned (or owned by the reading user), no group/other permission bits (0600,
 * 0400), at most OWN_USERS_FILE_MAX bytes; one user per line, `NAME:HASH`, HASH a crypt(3)
 * string starting with '$' ($6$... from `openssl passwd -6`, $5$, $2b$); blank lines and lines
 * starting with '#' are ignored; a line of any other form (no ':', empty or non-'$' hash, as in
 * a locked "!..." entry) never matches. */
#ifndef MPSOCKS_OWN_USERS_H
#define MPSOCKS_OWN_USERS_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define OWN_USERS_ENV "MPSOCKS_CREDENTIALS"
#define OWN_USERS_FILE_MAX 16384 /* plenty for a handful of users; read on the stack */
#define OWN_USERS_HASH_MAX 256 /* dante's own limit (MAXPWLEN) for a hash */

/* Copies NAME's hash from the file's text (len bytes, need not be NUL-terminated) into hash.
 * 0, -ENOENT when no usable line names NAME, -ENAMETOOLONG when the hash does not fit. */
int own_users_find(const char *text, size_t len, const char *name, char *hash, size_t size);

/* True when a file with this status may hold credentials: a regular file, no permission bits
 * for group or others, owned by root or by euid. */
bool own_users_file_safe(const struct stat *st, uid_t euid);

/* Reads the credentials file at path into buf (size bytes) after checking it with
 * own_users_file_safe on the opened file itself. Length read, or -errno: -EPERM when it is
 * not safe, -EFBIG when it fills size (it may hold more). */
long own_users_read(const char *path, char *buf, size_t size);

/* Looks NAME up in the file at path: 0 with its hash in hash, or -errno (own_users_read's,
 * own_users_find's). */
int own_users_lookup(const char *path, const char *name, char *hash, size_t size);

/* The wrapper the linker substitutes for getspnam(); __real_getspnam is the libc's. */
struct spwd;
struct spwd *__real_getspnam(const char *name);
struct spwd *__wrap_getspnam(const char *name);

#endif
