/* Tests of sockd/own_users.c, sockd's own credentials file for the exit. Linked without --wrap:
 * this file supplies __real_getspnam, which counts its calls (the host's database must never be
 * asked while MPSOCKS_CREDENTIALS is set) and answers with a fixed host user. The hashes are
 * checked with the real crypt(), as sockd does. */
#define _GNU_SOURCE /* crypt(), mkdtemp() */
#include "check.h"
#include "own_users.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* `openssl passwd -6 -salt saltsaltsalt secret` */
#define HASH_SECRET "$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts."

static int real_calls;
static struct spwd host_user = { .sp_namp = "root", .sp_pwdp = "$6$host$hostshadowhash" };

struct spwd *__real_getspnam(const char *name)
{
	real_calls++;
	return strcmp(name, "root") == 0 ? &host_user : NULL;
}

static int find(const char *text, const char *name, char *hash, size_t size)
{
	return own_users_find(text, strlen(text), name, hash, size);
}

static void test_find(struct check *c)
{
	const char *text = "# exit users\n\nbob:$6$s$bobhash\nalice:$6$s$alicehash\r\n"
			   "locked:!$6$s$x\nempty:\ndes:abJnggxhB/yWI\nnocolon\ncarol:$5$s$c";
	char hash[64];

	CHECK(c, "find: a user", find(text, "bob", hash, sizeof(hash)) == 0 &&
				       strcmp(hash, "$6$s$bobhash") == 0);
	CHECK(c, "find: CRLF line", find(text, "alice", hash, sizeof(hash)) == 0 &&
					    strcmp(hash, "$6$s$alicehash") == 0);
	CHECK(c, "find: last line without newline", find(text, "carol", hash, sizeof(hash)) == 0 &&
							    strcmp(hash, "$5$s$c") == 0);
	CHECK(c, "find: a prefix of a name does not match", find(text, "bo", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: a longer name does not match", find(text, "bobby", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: absent", find(text, "mallory", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: locked entry never matches", find(text, "locked", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: empty hash never matches", find(text, "empty", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: DES hash refused", find(text, "des", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: a line without ':'", find(text, "nocolon", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: empty name", find(text, "", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: comment is no user", find(text, "# exit users", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: hash too long for the buffer", find(text, "bob", hash, 8) == -ENAMETOOLONG);
	CHECK(c, "find: empty file", find("", "bob", hash, sizeof(hash)) == -ENOENT);
	/* The length bounds the search: text beyond it is not looked at. */
	CHECK(c, "find: stops at len", own_users_find("bob:$6$x\n", 3, "bob", hash, sizeof(hash)) == -ENOENT);
	CHECK(c, "find: a NUL inside a hash", own_users_find("x:$6$a\0b\n", 9, "x", hash, sizeof(hash)) == -ENOENT);
}

static void test_file_safe(struct check *c)
{
	struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = 0 };

	CHECK(c, "safe: root 0600", own_users_file_safe(&st, 0));
	st.st_mode = S_IFREG | 0400;
	CHECK(c, "safe: root 0400", own_users_file_safe(&st, 0));
	st.st_mode = S_IFREG | 0640;
	CHECK(c, "safe: group-readable refused", !own_users_file_safe(&st, 0));
	st.st_mode = S_IFREG | 0604;
	CHECK(c, "safe: world-readable refused", !own_users_file_safe(&st, 0));
	st.st_mode = S_IFREG | 0620;
	CHECK(c, "safe: group-writable refused", !own_users_file_safe(&st, 0));
	st.st_mode = S_IFDIR | 0700;
	CHECK(c, "safe: directory refused", !own_users_file_safe(&st, 0));
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 1000;
	CHECK(c, "safe: owned by the reader", own_users_file_safe(&st, 1000));
	CHECK(c, "safe: owned by someone else refused", !own_users_file_safe(&st, 0));
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) && chmod(path, mode) == 0 ? 0 : -1;
}

/* What dante's sockd_getpasswordhash + passwordcheck do with the answer. */
static int login(const char *name, const char *pass)
{
	struct spwd *sp = __wrap_getspnam(name);
	char hash[OWN_USERS_HASH_MAX];
	const char *crypted;

	if (!sp)
		return -1;
	snprintf(hash, sizeof(hash), "%s", sp->sp_pwdp);
	crypted = crypt(pass, hash);
	return crypted && strcmp(crypted, hash) == 0 ? 0 : -1;
}

static void test_wrapper(struct check *c, const char *dir)
{
	char path[512], big[OWN_USERS_FILE_MAX + 64];
	char hash[OWN_USERS_HASH_MAX];
	struct spwd *sp;

	snprintf(path, sizeof(path), "%s/credentials", dir);
	CHECK(c, "setup: file written",
	      write_file(path, "# mpsocks exit\nexit:" HASH_SECRET "\n", 0600) == 0);

	unsetenv(OWN_USERS_ENV);
	real_calls = 0;
	sp = __wrap_getspnam("root");
	CHECK(c, "unset: the host's database answers", sp == &host_user && real_calls == 1);
	CHECK(c, "unset: unknown user from the host", __wrap_getspnam("exit") == NULL && real_calls == 2);

	setenv(OWN_USERS_ENV, path, 1);
	real_calls = 0;
	sp = __wrap_getspnam("exit");
	CHECK(c, "set: user from the file", sp && strcmp(sp->sp_namp, "exit") == 0 &&
						   strcmp(sp->sp_pwdp, HASH_SECRET) == 0);
	CHECK(c, "set: right password accepted by crypt()", login("exit", "secret") == 0);
	CHECK(c, "set: wrong password refused", login("exit", "Secret") != 0);
	CHECK(c, "set: empty password refused", login("exit", "") != 0);
	errno = 0;
	CHECK(c, "set: a host user is unknown", __wrap_getspnam("root") == NULL && errno == ENOENT);
	CHECK(c, "set: the host's database never asked", real_calls == 0);

	CHECK(c, "setup: chmod 0644", chmod(path, 0644) == 0);
	errno = 0;
	CHECK(c, "unsafe mode: refused with EPERM", __wrap_getspnam("exit") == NULL && errno == EPERM);
	CHECK(c, "unsafe mode: lookup says -EPERM",
	      own_users_lookup(path, "exit", hash, sizeof(hash)) == -EPERM);
	CHECK(c, "setup: chmod 0600", chmod(path, 0600) == 0);

	setenv(OWN_USERS_ENV, "/nonexistent/mpsocks-credentials", 1);
	errno = 0;
	CHECK(c, "missing file: refused, no fallback",
	      __wrap_getspnam("root") == NULL && errno == ENOENT && real_calls == 0);
	setenv(OWN_USERS_ENV, "", 1);
	CHECK(c, "empty variable: refuses everyone, no fallback",
	      __wrap_getspnam("root") == NULL && real_calls == 0);
	setenv(OWN_USERS_ENV, dir, 1);
	CHECK(c, "a directory: refused", __wrap_getspnam("exit") == NULL && real_calls == 0);

	memset(big, '#', sizeof(big));
	memcpy(big + sizeof(big) - 40, "\nexit:$6$x$y\n", 14);
	CHECK(c, "setup: big file", write_file(path, big, 0600) == 0);
	setenv(OWN_USERS_ENV, path, 1);
	errno = 0;
	CHECK(c, "too big: refused with EFBIG", __wrap_getspnam("exit") == NULL && errno == EFBIG);
	unlink(path);
	unsetenv(OWN_USERS_ENV);
}

int main(void)
{
	struct check c = { "own_users", 0 };
	char dir[] = "/tmp/test_own_users.XXXXXX";

	test_find(&c);
	test_file_safe(&c);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_wrapper(&c, dir);
	rmdir(dir);
	return CHECK_DONE(&c);
}
