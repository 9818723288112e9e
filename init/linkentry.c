/* linkentry: see linkentry.h. */
#include "linkentry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "textbuf.h"

int linkentry_keys_render(const struct config *cfg, char *buf, size_t size)
{
	struct textbuf o;
	int i;

	if (size == 0)
		return -1;
	textbuf_init(&o, buf, size);
	for (i = 0; i < cfg->n_links; i++)
		textbuf_put(&o, "%s\n", cfg->links[i].key);
	return o.full ? -1 : (int)o.len;
}

void linkentry_args(struct linkentry *le, const struct config *cfg)
{
	static char listen[] = "127.0.0.1:" "1081";
	char ip[INET_ADDRSTRLEN];
	int i, n = 0;

	_Static_assert(LINK_ENTRY_PORT == 1081, "listen[] spells the port");
	le->argv[n++] = "mpslink";
	le->argv[n++] = "entry";
	le->argv[n++] = "--listen";
	le->argv[n++] = listen;
	le->argv[n++] = "--state";
	le->argv[n++] = LINK_STATE;
	for (i = 0; i < cfg->n_links; i++) {
		inet_ntop(AF_INET, &cfg->links[i].addr, ip, sizeof(ip));
		snprintf(le->exits[i], sizeof(le->exits[i]), "%s:%u", ip, cfg->links[i].port);
		le->argv[n++] = "--exit";
		le->argv[n++] = le->exits[i];
	}
	le->argv[n] = NULL;
	le->child = (struct child){ .name = "mpslink", .path = LINK_ENTRY_PATH, .argv = le->argv, .stdin_path = LINK_KEYS };
}

int linkentry_prepare(struct linkentry *le, const struct config *cfg)
{
	char text[CFG_MAX_LINKS * (CFG_LINK_KEY_LEN + 1) + 1];
	int n = linkentry_keys_render(cfg, text, sizeof(text)), err = 0;

	if (n < 0 || write_file(LINK_KEYS, text, (size_t)n, 0600) != 0)
		err = n < 0 ? -ENOSPC : -errno;
	memset(text, 0, sizeof(text));
	if (err)
		return err;
	linkentry_args(le, cfg);
	return 0;
}

int linkentry_read_state(const char *path, struct link_exit_state *out, int max)
{
	char text[CFG_MAX_LINKS * 80 + 1], serving[16];
	char *line, *next;
	int n = 0;

	if (read_file(path, text, sizeof(text)) <= 0)
		return 0;
	for (line = text; line && *line && n < max; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		serving[0] = '\0';
		if (sscanf(line, "%63s %23s %15s", out[n].at, out[n].state, serving) < 2)
			continue;
		out[n++].serving = strcmp(serving, "serving") == 0;
	}
	return n;
}
