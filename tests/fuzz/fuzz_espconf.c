/* libFuzzer harness for init/espconf.c's pure part. The input is a command line, a NUL byte,
 * then the text of mpsocks/cmdline.txt. Invariants: the results stay NUL-terminated inside
 * their buffers; take leaves no mpsocks.conf= word and its name fits; a failed merge leaves the
 * line unchanged; a merged line keeps no word of the old line that starts with mpsocks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espconf.h"

#define LINE 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[LINE], before[LINE], name[64], file[4096];
	const uint8_t *nul = memchr(data, 0, size);
	size_t n1 = nul ? (size_t)(nul - data) : size, n2 = nul ? size - n1 - 1 : 0;
	size_t room = 1 + (size ? data[0] % LINE : LINE - 1);

	if (n1 >= LINE || n2 >= sizeof(file))
		return 0;
	memcpy(line, data, n1);
	line[n1] = '\0';
	memcpy(file, nul ? (const char *)nul + 1 : "", n2);
	file[n2] = '\0';

	espconf_take(line, name, sizeof(name));
	if (strlen(line) >= LINE || strlen(name) >= sizeof(name))
		abort();
	if (!strchr(line, '"') && (strncmp(line, ESPCONF_PARAM, strlen(ESPCONF_PARAM)) == 0 ||
				   strstr(line, " " ESPCONF_PARAM) || strstr(line, "\t" ESPCONF_PARAM)))
		abort(); /* without quotes, every such word must be gone */

	if (strlen(line) >= room)
		return 0; /* merge is given a line that fits its buffer */
	memcpy(before, line, strlen(line) + 1);
	if (espconf_merge(line, room, file) != 0) {
		if (strcmp(line, before) != 0)
			abort();
	} else if (strlen(line) >= room) {
		abort();
	}
	return 0;
}
