/* Unit tests of init/users.c: SHA-512 hashes with random salts, and the passwd/shadow/group
 * entries in a scratch directory. */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fileio.h"
#include "users.h"

static char text[8192];

static const char *slurp(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_file(path, text, sizeof(text)) < 0)
		text[0] = '\0';
	return text;
}

int main(void)
{
	struct check c = { "users", 0 };
	char dir[] = "/tmp/mpsocks-users-XXXXXX", h1[USERS_HASH_MAX], h2[USERS_HASH_MAX], err[160];
	char path[256], hash[USERS_HASH_MAX];
	const char *s, *colon;
	struct stat st;

	CHECK(&c, "hash made", users_hash("secret", h1, sizeof(h1), err, sizeof(err)) == 0);
	CHECK(&c, "hash is SHA-512 crypt, 1000 rounds, 16-char salt",
	      strncmp(h1, "$6$rounds=1000$", 15) == 0 && h1[31] == '$' && strlen(h1) == 118);
	CHECK(&c, "hash verifies with crypt()", strcmp(crypt("secret", h1), h1) == 0);
	CHECK(&c, "wrong password does not verify", strcmp(crypt("Secret", h1), h1) != 0);
	users_hash("secret", h2, sizeof(h2), err, sizeof(err));
	CHECK(&c, "salts differ between calls", strncmp(h1, h2, 32) != 0);
	CHECK(&c, "too small a buffer refused", users_hash("secret", h2, 50, err, sizeof(err)) != 0);

	if (!mkdtemp(dir)) {
		CHECK(&c, "scratch directory", 0);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/passwd", dir);
	{
		static const char old[] = "root:x:0:0:root:/root:/bin/sh\nsockd:x:100:100::/:/bin/false";
		write_file(path, old, strlen(old), 0644); /* no final newline: users_add adds one */
	}
	CHECK(&c, "user added", users_add(dir, "alice", "pa:ss word", 1000, err, sizeof(err)) == 0);
	s = slurp(dir, "passwd");
	CHECK(&c, "passwd: old lines kept, newline fixed, entry appended",
	      strcmp(s, "root:x:0:0:root:/root:/bin/sh\nsockd:x:100:100::/:/bin/false\n"
			"alice:x:1000:1000:SOCKS user:/nonexistent:/bin/false\n") == 0);
	s = slurp(dir, "shadow");
	colon = strchr(s + 6, ':');
	CHECK(&c, "shadow: created with the entry", strncmp(s, "alice:$6$rounds=1000$", 21) == 0 && colon);
	if (colon) {
		size_t n = (size_t)(colon - (s + 6));
		memcpy(hash, s + 6, n);
		hash[n] = '\0';
		CHECK(&c, "shadow: hash verifies the password", strcmp(crypt("pa:ss word", hash), hash) == 0);
	}
	snprintf(path, sizeof(path), "%s/shadow", dir);
	CHECK(&c, "shadow: mode 0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(&c, "group entry", strcmp(slurp(dir, "group"), "alice:x:1000:\n") == 0);
	CHECK(&c, "existing user refused", users_add(dir, "sockd", "x", 1001, err, sizeof(err)) != 0 &&
	      strstr(err, "already exists"));
	CHECK(&c, "refusal left passwd alone", strstr(slurp(dir, "passwd"), "1001") == NULL);
	CHECK(&c, "missing directory: error with the path",
	      users_add("/nonexistent-dir", "bob", "x", 1000, err, sizeof(err)) != 0 && strstr(err, "/nonexistent-dir/"));

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return CHECK_DONE(&c);
}
