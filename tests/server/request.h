/* The test server's tiny HTTP/1.1 subset, enough for curl:
 *   GET /bytes/N[?tag=T]          -> N pseudo-random bytes (a stream seeded by T)
 *   PUT|POST /upload[?tag=T]      -> reads Content-Length bytes, answers with the report line
 * T names the transfer in the server's log so a test can find its connection. */
#ifndef MPSOCKS_REQUEST_H
#define MPSOCKS_REQUEST_H
#include <stdint.h>

enum request_kind { REQ_BAD, REQ_DOWNLOAD, REQ_UPLOAD };

struct request {
	enum request_kind kind;
	char tag[64];             /* [A-Za-z0-9._-], "-" when absent */
	uint64_t length;          /* bytes to send (download) or Content-Length (upload) */
	int expect_continue;      /* "Expect: 100-continue": curl waits for a 100 before the body */
	const char *error;        /* why REQ_BAD */
};

/* Parses the head of a request (everything before the blank line, NUL-terminated). */
void request_parse(const char *head, struct request *r);
#endif
