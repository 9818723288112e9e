/* route_credentials: the username and password sockd gives an upstream SOCKS server (the
 * mpsocks exit) on a `method: username` route. They are the route's own, never a client's: the
 * appliance's clients neither need nor see them. dante's SOCKS_USERNAME/SOCKS_PASSWORD
 * environment variables still come first; without them (init gives sockd a fixed environment)
 * sockd/patches/route-own-credentials.patch reads the file CONFIG.route next to its config file
 * (/etc/sockd.conf -> /etc/sockd.conf.route): root-owned, mode 0600 or 0400 (own_users_read's
 * checks), one line `NAME:PASS` (NAME without ':'; PASS taken as is up to the line's end). */
#ifndef MPSOCKS_ROUTE_CREDENTIALS_H
#define MPSOCKS_ROUTE_CREDENTIALS_H
#include <stddef.h>

#define ROUTE_CREDENTIALS_SUFFIX ".route"
#define ROUTE_CREDENTIALS_FIELD_MAX 255 /* RFC 1929: one length octet each */

/* Splits the first line of text (len bytes) at its first ':' into name and pass (either may
 * be NULL when not wanted). 0; -EINVAL when there is no ':', or name or pass is empty, longer
 * than ROUTE_CREDENTIALS_FIELD_MAX or holds a control character; -ENAMETOOLONG when a wanted
 * field does not fit its buffer. */
int route_credentials_parse(const char *text, size_t len, char *name, size_t nsize, char *pass,
			    size_t psize);

/* CONFIG.route into path; 0 or -ENAMETOOLONG. */
int route_credentials_path(const char *conf, char *path, size_t size);

/* Reads and parses the file next to conf; 0 or -errno (the file's, or the parser's). The
 * caller needs the rights to read a root-owned 0600 file. */
int route_credentials_read(const char *conf, char *name, size_t nsize, char *pass, size_t psize);

#endif
