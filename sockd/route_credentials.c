/* route_credentials: the upstream login of a chaining route (see route_credentials.h). */
#include "route_credentials.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "own_users.h"

/* The file is tiny; anything near this size is not one. */
#define ROUTE_FILE_MAX (2 * ROUTE_CREDENTIALS_FIELD_MAX + 64)

static int copy_field(const char *s, size_t len, char *out, size_t size)
{
	size_t i;

	if (len == 0 || len > ROUTE_CREDENTIALS_FIELD_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -EINVAL;
	if (!out)
		return 0;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int route_credentials_parse(const char *text, size_t len, char *name, size_t nsize, char *pass,
			    size_t psize)
{
	const char *nl = memchr(text, '\n', len), *colon;
	int rc;

	if (nl)
		len = (size_t)(nl - text);
	if (len && text[len - 1] == '\r')
		len--;
	colon = memchr(text, ':', len);
	if (!colon)
		return -EINVAL;
	rc = copy_field(text, (size_t)(colon - text), name, nsize);
	if (rc == 0)
		rc = copy_field(colon + 1, len - (size_t)(colon - text) - 1, pass, psize);
	return rc;
}

int route_credentials_path(const char *conf, char *path, size_t size)
{
	int n = snprintf(path, size, "%s%s", conf, ROUTE_CREDENTIALS_SUFFIX);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int route_credentials_read(const char *conf, char *name, size_t nsize, char *pass, size_t psize)
{
	char path[4096], text[ROUTE_FILE_MAX];
	long n;
	int rc = route_credentials_path(conf, path, sizeof(path));

	if (rc != 0)
		return rc;
	n = own_users_read(path, text, sizeof(text));
	rc = n < 0 ? (int)n : route_credentials_parse(text, (size_t)n, name, nsize, pass, psize);
	memset(text, 0, sizeof(text)); /* no stray copy of the password */
	return rc;
}
