/* mpslink: the encrypted link between the appliance and its exit (exit/README.md, "The link").
 *   mpslink exit  --listen ADDR:PORT [--key-fd N]
 *   mpslink entry --listen ADDR:PORT --exit ADDR:PORT [--exit ADDR:PORT]... [--state FILE] [--key-fd N]
 *   mpslink probe --exit ADDR:PORT [--bind ADDR] [--key-fd N]
 *   mpslink speed      (the AEADs' speed here: speed.h)
 * Keys are read from file descriptor N (default 0), one line of 43 characters of base64url per
 * exit (or one for all): never from the command line. Started as root, it binds, then runs as
 * nobody (65534). probe prints one word (entry.h's) and exits 0 only for "up". */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "exitd.h"
#include "key.h"
#include "net.h"
#include "speed.h"

#define NOBODY 65534

enum mode { MODE_EXIT, MODE_ENTRY, MODE_PROBE };

static int usage(const char *why)
{
	fprintf(stderr, "mpslink: %s\nusage: mpslink exit --listen ADDR:PORT [--key-fd N]\n"
			"       mpslink entry --listen ADDR:PORT --exit ADDR:PORT... [--state FILE] [--key-fd N]\n"
			"       mpslink probe --exit ADDR:PORT [--bind ADDR] [--key-fd N]\n", why);
	return 2;
}

/* Nothing of root is needed once the socket is bound and the files are open. */
static int drop_root(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	struct net_addr listen_at, from;
	struct entry_exits ex = { .seconds = 2, .patient_seconds = 8, .handshake_seconds = 10, .retry_seconds = 10,
				  .state_fd = -1 };
	struct exitd_limits lim = { .handshake_seconds = 5, .proven_seconds = 20, .connect_seconds = 10, .max_children = 512,
				    .max_failures = 10, .penalty_seconds = 30 };
	struct link_key keys[LINK_KEYS_MAX];
	int i, fd, err, key_fd = 0, have_listen = 0, have_from = 0, nkeys;
	const char *listen_text = NULL, *state = NULL;
	enum mode mode;
	char *end;

	if (argc == 2 && strcmp(argv[1], "speed") == 0)
		return link_speed(1.0) == 0 ? 0 : 1;
	if (argc < 2)
		return usage("the first word is exit, entry or probe");
	if (strcmp(argv[1], "exit") == 0)
		mode = MODE_EXIT;
	else if (strcmp(argv[1], "entry") == 0)
		mode = MODE_ENTRY;
	else if (strcmp(argv[1], "probe") == 0)
		mode = MODE_PROBE;
	else
		return usage("the first word is exit, entry or probe");
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return usage("an option without its value");
		if (strcmp(argv[i], "--listen") == 0 && mode != MODE_PROBE) {
			listen_text = argv[++i];
			if (net_parse(&listen_at, listen_text) < 0)
				return usage("--listen: not ADDR:PORT");
			have_listen = 1;
		} else if (strcmp(argv[i], "--exit") == 0 && mode != MODE_EXIT) {
			if (ex.n == (mode == MODE_PROBE ? 1 : LINK_KEYS_MAX))
				return usage(mode == MODE_PROBE ? "--exit: one to probe" : "--exit: at most 8");
			if (net_parse(&ex.addr[ex.n++], argv[++i]) < 0)
				return usage("--exit: not ADDR:PORT");
		} else if (strcmp(argv[i], "--bind") == 0 && mode == MODE_PROBE) {
			const char *text = argv[++i];
			char at[80];
			/* An address without a port: any port of it. */
			snprintf(at, sizeof(at), strchr(text, ':') ? "[%s]:1" : "%s:1", text);
			if (net_parse(&from, at) < 0)
				return usage("--bind: not an address");
			((struct sockaddr_in *)&from.ss)->sin_port = 0; /* (sin6_port: the same place) */
			have_from = 1;
		} else if (strcmp(argv[i], "--state") == 0 && mode == MODE_ENTRY) {
			state = argv[++i];
		} else if (strcmp(argv[i], "--key-fd") == 0) {
			errno = 0;
			key_fd = (int)strtol(argv[++i], &end, 10);
			if (errno || *end || key_fd < 0)
				return usage("--key-fd: not a file descriptor");
		} else {
			return usage("unknown option");
		}
	}
	if ((mode != MODE_PROBE && !have_listen) || (mode != MODE_EXIT && ex.n == 0))
		return usage(mode == MODE_EXIT ? "--listen is needed" : mode == MODE_ENTRY ? "--listen and --exit are needed" : "--exit is needed");
	nkeys = mode == MODE_EXIT ? 1 : ex.n;
	if (link_keys_read(keys, nkeys, key_fd) < 0) {
		fprintf(stderr, "mpslink: descriptor %d does not hold %s of 43 characters of base64url\n", key_fd,
			nkeys == 1 ? "a key" : "a key per exit (or one for all)");
		return 2;
	}
	if (key_fd > 2)
		close(key_fd);
	for (i = 0; i < nkeys; i++)
		if (link_tls_init(&ex.tls[i], mode == MODE_EXIT ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT, &keys[i]) < 0) {
			fprintf(stderr, "mpslink: TLS setup failed\n");
			return 1;
		}
	memset(keys, 0, sizeof(keys));
	if (mode == MODE_PROBE) {
		enum exit_state s = entry_probe(&ex.addr[0], have_from ? &from : NULL, &ex.tls[0], 5);
		printf("%s\n", exit_state_word(s));
		return s == EXIT_UP ? 0 : 1;
	}
	/* The entry's clients are local (sockd on loopback): plain TCP, whose close answers later
	 * bytes with a reset (sockd/mptcp_socket.c says why that matters). The exit's are the
	 * uplinks: MPTCP. */
	fd = net_listen(&listen_at, mode == MODE_EXIT ? IPPROTO_MPTCP : IPPROTO_TCP);
	if (fd < 0) {
		fprintf(stderr, "mpslink: cannot listen on %s: %s\n", listen_text, strerror(-fd));
		return 1;
	}
	if (state) {
		ex.state_fd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (ex.state_fd < 0) {
			fprintf(stderr, "mpslink: cannot write %s: %s\n", state, strerror(errno));
			return 1;
		}
	}
	err = drop_root();
	if (err < 0) {
		fprintf(stderr, "mpslink: cannot drop root: %s\n", strerror(-err));
		return 1;
	}
	fprintf(stderr, "mpslink: %s listening on %s\n", argv[1], listen_text);
	err = mode == MODE_EXIT ? exitd_serve(fd, &ex.tls[0], &lim) : entry_serve(fd, &ex);
	fprintf(stderr, "mpslink: stopped: %s\n", strerror(-err));
	return 1;
}
