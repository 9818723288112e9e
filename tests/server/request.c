/* Parsing of the request head; no allocation, bounded, anything unexpected is REQ_BAD. */
#include "request.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Largest transfer the server agrees to: far above any test, below overflow trouble. */
#define MAX_LENGTH (1ULL << 40)

static int parse_length(const char *s, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > MAX_LENGTH)
			return -1;
	}
	*out = v;
	return 0;
}

/* Copies the value of "tag=" from the query string [q, end) into r->tag. */
static int parse_query(const char *q, const char *end, struct request *r)
{
	size_t n = 0;

	strcpy(r->tag, "-");
	if (q == end)
		return 0;
	if (end - q < 5 || strncmp(q, "?tag=", 5))
		return -1;
	for (q += 5; q < end; q++) {
		if (!isalnum((unsigned char)*q) && !strchr("._-", *q))
			return -1;
		if (n + 1 >= sizeof(r->tag))
			return -1;
		r->tag[n++] = *q;
	}
	r->tag[n] = 0;
	return n ? 0 : -1;
}

/* Finds header NAME (case-insensitive) in the lines after the request line. */
static const char *header(const char *head, const char *name)
{
	size_t len = strlen(name);
	const char *line = strstr(head, "\r\n");

	for (; line; line = strstr(line + 2, "\r\n"))
		if (!strncasecmp(line + 2, name, len) && line[2 + len] == ':') {
			const char *v = line + 3 + len;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	return NULL;
}

static void bad(struct request *r, const char *why)
{
	r->kind = REQ_BAD;
	r->error = why;
}

void request_parse(const char *head, struct request *r)
{
	const char *sp1, *sp2, *path, *q, *v;

	memset(r, 0, sizeof(*r));
	strcpy(r->tag, "-");
	sp1 = strchr(head, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp2 || strncmp(sp2, " HTTP/1.", 8))
		return bad(r, "not an HTTP/1.x request line");
	path = sp1 + 1;
	q = memchr(path, '?', (size_t)(sp2 - path));
	if (!q)
		q = sp2;
	if (parse_query(q, sp2, r) < 0)
		return bad(r, "bad query (only ?tag=[A-Za-z0-9._-]{1,63})");
	if ((size_t)(sp1 - head) == 3 && !strncmp(head, "GET", 3) && !strncmp(path, "/bytes/", 7)) {
		if (parse_length(path + 7, q, &r->length) < 0)
			return bad(r, "bad length in /bytes/N");
		r->kind = REQ_DOWNLOAD;
		return;
	}
	if ((!strncmp(head, "PUT ", 4) || !strncmp(head, "POST ", 5)) &&
	    q - path == 7 && !strncmp(path, "/upload", 7)) {
		if (header(head, "Transfer-Encoding"))
			return bad(r, "chunked uploads are not supported; send Content-Length");
		v = header(head, "Content-Length");
		if (!v || parse_length(v, v + strcspn(v, " \t\r"), &r->length) < 0)
			return bad(r, "upload without a valid Content-Length");
		v = header(head, "Expect");
		r->expect_continue = v && !strncasecmp(v, "100-continue", 12);
		r->kind = REQ_UPLOAD;
		return;
	}
	bad(r, "unknown request (GET /bytes/N or PUT /upload)");
}
