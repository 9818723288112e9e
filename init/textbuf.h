/* textbuf: formatted text appended into a caller's fixed buffer, a line at a time. */
#ifndef MPSOCKS_TEXTBUF_H
#define MPSOCKS_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *buf;
	size_t cap, len;
	bool full; /* something did not fit: the text is incomplete */
};

/* An empty text in BUF (CAP > 0 bytes, NUL-terminated throughout). */
void textbuf_init(struct textbuf *t, char *buf, size_t cap);

/* Appends the formatted text; what does not fit whole is dropped and marks the text full, and
 * everything after that is dropped too (so a reader never sees half a line). */
void textbuf_put(struct textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
