/* Tests of sockd/route_credentials.c, the upstream login of a chaining route: the parser, the
 * path next to the config file, and reading a real file with own_users_read's checks. */
#define _GNU_SOURCE /* mkdtemp() */
#include "check.h"
#include "own_users.h"
#include "route_credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* own_users.c, linked for own_users_read, wraps the libc's getspnam(); nothing here calls it. */
struct spwd *__real_getspnam(const char *name)
{
	(void)name;
	return NULL;
}

static int parse(const char *text, char *name, size_t nsize, char *pass, size_t psize)
{
	return route_credentials_parse(text, strlen(text), name, nsize, pass, psize);
}

static void test_parse(struct check *c)
{
	char name[64], pass[64], big[600];

	CHECK(c, "parse: NAME:PASS", parse("exit:s3cret\n", name, sizeof(name), pass, sizeof(pass)) == 0 &&
					     strcmp(name, "exit") == 0 && strcmp(pass, "s3cret") == 0);
	CHECK(c, "parse: no newline at the end", parse("a:b", name, sizeof(name), pass, sizeof(pass)) == 0 &&
							 strcmp(name, "a") == 0 && strcmp(pass, "b") == 0);
	CHECK(c, "parse: ':' inside the password kept",
	      parse("u:p:q: r\n", name, sizeof(name), pass, sizeof(pass)) == 0 && strcmp(pass, "p:q: r") == 0);
	CHECK(c, "parse: CRLF", parse("u:p\r\n", name, sizeof(name), pass, sizeof(pass)) == 0 &&
					strcmp(pass, "p") == 0);
	CHECK(c, "parse: only the first line", parse("u:p\nv:q\n", name, sizeof(name), pass, sizeof(pass)) == 0 &&
						       strcmp(name, "u") == 0 && strcmp(pass, "p") == 0);
	CHECK(c, "parse: name only", parse("u:p\n", name, sizeof(name), NULL, 0) == 0 && strcmp(name, "u") == 0);
	CHECK(c, "parse: password only", parse("u:p\n", NULL, 0, pass, sizeof(pass)) == 0 && strcmp(pass, "p") == 0);
	CHECK(c, "parse: no ':'", parse("exit\n", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: ':' only on line 2", parse("exit\nu:p\n", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: empty name", parse(":p\n", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: empty password", parse("u:\n", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: empty password, name only wanted", parse("u:\n", name, sizeof(name), NULL, 0) == -EINVAL);
	CHECK(c, "parse: control character", parse("u:p\tq\n", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: empty file", parse("", name, sizeof(name), pass, sizeof(pass)) == -EINVAL);
	CHECK(c, "parse: buffer too small", parse("u:password\n", name, sizeof(name), pass, 4) == -ENAMETOOLONG);
	memset(big, 'x', sizeof(big));
	big[0] = 'u', big[1] = ':', big[2 + 256] = '\0';
	CHECK(c, "parse: 256-byte password (RFC 1929 allows 255)",
	      parse(big, name, sizeof(name), NULL, 0) == -EINVAL);
	big[2 + 255] = '\0';
	CHECK(c, "parse: 255-byte password", parse(big, NULL, 0, NULL, 0) == 0);
}

static void test_file(struct check *c, const char *dir)
{
	char conf[512], path[600], name[64], pass[64], small[8];
	int fd;

	snprintf(conf, sizeof(conf), "%s/sockd.conf", dir);
	CHECK(c, "path: next to the config", route_credentials_path(conf, path, sizeof(path)) == 0 &&
						     strcmp(path + strlen(dir), "/sockd.conf.route") == 0);
	CHECK(c, "path: too long", route_credentials_path(conf, small, sizeof(small)) == -ENAMETOOLONG);
	CHECK(c, "read: missing file", route_credentials_read(conf, name, sizeof(name), pass, sizeof(pass)) == -ENOENT);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(c, "setup: file", fd >= 0 && write(fd, "exit:pw\n", 8) == 8);
	if (fd >= 0)
		close(fd);
	CHECK(c, "read: 0600 file", route_credentials_read(conf, name, sizeof(name), pass, sizeof(pass)) == 0 &&
					    strcmp(name, "exit") == 0 && strcmp(pass, "pw") == 0);
	CHECK(c, "setup: chmod 0644", chmod(path, 0644) == 0);
	CHECK(c, "read: readable by others refused",
	      route_credentials_read(conf, name, sizeof(name), pass, sizeof(pass)) == -EPERM);
	unlink(path);
}

int main(void)
{
	struct check c = { "route_credentials", 0 };
	char dir[] = "/tmp/test_route_credentials.XXXXXX";

	test_parse(&c);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_file(&c, dir);
	rmdir(dir);
	return CHECK_DONE(&c);
}
