/* Unit tests of init/linkentry.c: the keys file and the entry's command line, from the
 * exits of the kernel command line. */
#include <string.h>

#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "cmdline.h"
#include "linkentry.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define KEY2 "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

int main(void)
{
	struct check c = { .suite = "linkentry", .failed = 0 };
	static struct config cfg;
	static struct linkentry le;
	struct cmdline_errors errs;
	char text[256];
	int n, i;

	cmdline_parse("mpsocks.exit=mpsocks://" KEY1 "@203.0.113.7:443 mpsocks.exit=mpsocks://" KEY2 "@198.51.100.9:8443",
		      &cfg, &errs);
	n = linkentry_keys_render(&cfg, text, sizeof(text));
	CHECK(&c, "keys file: a line per exit, in their order", n > 0 && strcmp(text, KEY1 "\n" KEY2 "\n") == 0);
	CHECK(&c, "keys file: too small a buffer: -1", linkentry_keys_render(&cfg, text, 50) == -1);
	linkentry_args(&le, &cfg);
	CHECK(&c, "entry: listens on loopback, writes its state for status",
	      strcmp(le.argv[1], "entry") == 0 && strcmp(le.argv[3], "127.0.0.1:1081") == 0 &&
		      strcmp(le.argv[4], "--state") == 0 && strcmp(le.argv[5], LINK_STATE) == 0);
	CHECK(&c, "entry: the exits in their order", strcmp(le.argv[7], "203.0.113.7:443") == 0 &&
							       strcmp(le.argv[9], "198.51.100.9:8443") == 0 && le.argv[10] == NULL);
	for (i = 0; le.argv[i]; i++)
		if (strstr(le.argv[i], "AAEC") || strstr(le.argv[i], "AQEC"))
			break;
	CHECK(&c, "entry: no key on its command line; the keys file is its standard input",
	      le.argv[i] == NULL && strcmp(le.child.stdin_path, LINK_KEYS) == 0);
	{
		struct link_exit_state e[CFG_MAX_LINKS];
		char path[] = "/tmp/test_linkentry.XXXXXX";
		int fd = mkstemp(path), n;
		static const char text[] = "198.51.100.2:1080 up serving   \n203.0.113.9:443 no-answer      \nbroken\n";

		if (fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1)) {
			n = linkentry_read_state(path, e, CFG_MAX_LINKS);
			CHECK(&c, "the entry's state file: each exit, its state, which one serves; a broken line skipped",
			      n == 2 && strcmp(e[0].at, "198.51.100.2:1080") == 0 && strcmp(e[0].state, "up") == 0 &&
			      e[0].serving && strcmp(e[1].state, "no-answer") == 0 && !e[1].serving);
			CHECK(&c, "no more than asked for", linkentry_read_state(path, e, 1) == 1);
		} else {
			CHECK(&c, "a state file to read", 0);
		}
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		CHECK(&c, "no state file: no exits", linkentry_read_state("/nonexistent", e, CFG_MAX_LINKS) == 0);
	}
	return CHECK_DONE(&c);
}
