/* mpslink: the encrypted link between the appliance and its exit (exit/README.md, "The link").
 *   mpslink exit  --listen ADDR:PORT [--key-fd N]
 *   mpslink entry --listen ADDR:PORT --exit ADDR:PORT [--exit ADDR:PORT]... [--key-fd N]
 * The key's one line of text (43 characters of base64url) is read from file descriptor N
 * (default 0): never from the command line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "exitd.h"
#include "key.h"
#include "net.h"

static int usage(const char *why)
{
	fprintf(stderr, "mpslink: %s\nusage: mpslink exit --listen ADDR:PORT [--key-fd N]\n"
			"       mpslink entry --listen ADDR:PORT --exit ADDR:PORT... [--key-fd N]\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	struct net_addr listen_at;
	struct entry_exits ex = { .seconds = 2 };
	struct exitd_limits lim = { .handshake_seconds = 5, .connect_seconds = 10, .max_children = 512,
				    .max_failures = 10, .penalty_seconds = 30 };
	struct link_key key;
	struct link_tls tls;
	int i, fd, err, key_fd = 0, have_listen = 0, exit_mode;
	const char *listen_text = NULL;
	char *end;

	if (argc < 2 || (strcmp(argv[1], "exit") && strcmp(argv[1], "entry")))
		return usage("the first word is exit or entry");
	exit_mode = strcmp(argv[1], "exit") == 0;
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return usage("an option without its value");
		if (strcmp(argv[i], "--listen") == 0) {
			listen_text = argv[++i];
			if (net_parse(&listen_at, listen_text) < 0)
				return usage("--listen: not ADDR:PORT");
			have_listen = 1;
		} else if (strcmp(argv[i], "--exit") == 0 && !exit_mode) {
			if (ex.n == (int)(sizeof(ex.addr) / sizeof(ex.addr[0])))
				return usage("--exit: at most 8");
			if (net_parse(&ex.addr[ex.n++], argv[++i]) < 0)
				return usage("--exit: not ADDR:PORT");
		} else if (strcmp(argv[i], "--key-fd") == 0) {
			errno = 0;
			key_fd = (int)strtol(argv[++i], &end, 10);
			if (errno || *end || key_fd < 0)
				return usage("--key-fd: not a file descriptor");
		} else {
			return usage("unknown option");
		}
	}
	if (!have_listen || (!exit_mode && ex.n == 0))
		return usage(exit_mode ? "--listen is needed" : "--listen and --exit are needed");
	err = link_key_read(&key, key_fd);
	if (err < 0) {
		fprintf(stderr, "mpslink: the key read from descriptor %d is not 43 characters of base64url\n", key_fd);
		return 2;
	}
	if (key_fd > 2)
		close(key_fd);
	if (link_tls_init(&tls, exit_mode ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT, &key) < 0) {
		fprintf(stderr, "mpslink: TLS setup failed\n");
		return 1;
	}
	memset(&key, 0, sizeof(key));
	fd = net_listen(&listen_at);
	if (fd < 0) {
		fprintf(stderr, "mpslink: cannot listen on %s: %s\n", listen_text, strerror(-fd));
		return 1;
	}
	fprintf(stderr, "mpslink: %s listening\n", argv[1]);
	err = exit_mode ? exitd_serve(fd, &tls, &lim) : entry_serve(fd, &tls, &ex);
	fprintf(stderr, "mpslink: stopped: %s\n", strerror(-err));
	return 1;
}
