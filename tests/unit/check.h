/* Minimal unit-test reporting shared by tests/unit/test_*.c: every case prints one
 * "PASS: suite: case" or "FAIL: suite: case (file:line)" line, which tests/run counts;
 * the program exits 1 when any case failed. */
#ifndef MPSOCKS_CHECK_H
#define MPSOCKS_CHECK_H
#include <stdio.h>

struct check {
	const char *suite;
	int failed;
};

#define CHECK(c, name, cond)                                                          \
	do {                                                                          \
		if (cond) {                                                           \
			printf("PASS: %s: %s\n", (c)->suite, (name));                 \
		} else {                                                              \
			printf("FAIL: %s: %s (%s:%d: %s)\n", (c)->suite, (name),      \
			       __FILE__, __LINE__, #cond);                            \
			(c)->failed++;                                                \
		}                                                                     \
	} while (0)

#define CHECK_DONE(c) ((c)->failed ? 1 : 0)
#endif
