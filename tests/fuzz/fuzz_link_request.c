/* libFuzzer harness for link/request.c, the first bytes an exit parses from a proven entry.
 * Invariants: a parsed length never exceeds the input; a name stays NUL-terminated inside its
 * buffer; what parses writes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_request r;
	uint8_t out[LINK_REQUEST_MAX];
	int n = link_request_parse(&r, data, size);

	if (n <= 0)
		return 0;
	if ((size_t)n > size || (size_t)n > LINK_REQUEST_MAX)
		abort();
	if (r.atyp == LINK_ATYP_NAME && strlen((const char *)r.addr) != r.addr_len)
		abort();
	if (link_request_write(&r, out) != (size_t)n || memcmp(out, data, (size_t)n) != 0)
		abort();
	return 0;
}
