/* linkentry: the appliance's end of the encrypted link to its exits: mpslink entry (link/)
 * on 127.0.0.1:LINK_ENTRY_PORT, which sockd routes every CONNECT to. init writes the exits'
 * keys to LINK_KEYS (0600, a line per exit) and hands that file to it as standard input;
 * the entry writes each exit's state to LINK_STATE for status (info.c). */
#ifndef MPSOCKS_LINKENTRY_H
#define MPSOCKS_LINKENTRY_H
#include <stddef.h>

#include "cmdline.h"
#include "supervise.h"

#define LINK_ENTRY_PATH "/bin/mpslink"
#define LINK_ENTRY_PORT 1081
#define LINK_KEYS "/etc/mpslink.keys"
#define LINK_STATE "/run/mpslink.state"

/* One exit's line of LINK_STATE: "ADDR:PORT STATE [serving]" (padded with spaces). */
struct link_exit_state {
	char at[64], state[24];
	int serving;
};

struct linkentry {
	char exits[CFG_MAX_LINKS][24]; /* "ADDR:PORT" */
	char *argv[8 + 2 * CFG_MAX_LINKS];
	struct child child;
};

/* The keys file's text, a line per exit in cfg's order: its length, or -1 (too small). */
int linkentry_keys_render(const struct config *cfg, char *buf, size_t size);
/* Fills LE's argv and child from cfg (cfg->n_links > 0). */
void linkentry_args(struct linkentry *le, const struct config *cfg);
/* The exits as the entry last wrote them to path (LINK_STATE), at most max: how many. */
int linkentry_read_state(const char *path, struct link_exit_state *out, int max);
/* Writes LINK_KEYS and sets up LE for child_start: 0 or -errno. */
int linkentry_prepare(struct linkentry *le, const struct config *cfg);

#endif
