/* users: the SOCKS user from mpsocks.user, added to passwd, shadow and group under etc
 * (normally "/etc") with a SHA-512 crypt() hash and a random salt from getrandom(). */
#ifndef MPSOCKS_USERS_H
#define MPSOCKS_USERS_H
#include <stddef.h>
#include <sys/types.h>

#define USERS_HASH_MAX 128

/* "$6$rounds=1000$<16 salt chars>$<86 hash chars>"; 0 or -1 with the reason in err. */
int users_hash(const char *pass, char *hash, size_t size, char *err, size_t errlen);
/* Appends NAME (uid = gid = id, no login shell) to etc/passwd, etc/shadow (created mode 0600
 * when missing) and etc/group. Refuses a name that is already present in passwd. Every file is
 * written whole and renamed into place, so a failure leaves all three as they were or the
 * user complete. 0 or -1 with the reason in err. */
int users_add(const char *etc, const char *name, const char *pass, unsigned id, char *err,
	      size_t errlen);

#endif
