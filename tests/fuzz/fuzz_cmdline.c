/* libFuzzer harness for init/cmdline.c: any bytes as a kernel command line. Checks, beyond
 * ASan/UBSan's memory and UB checks, the parser's promises: every string it returns is
 * terminated and bounded, console-safe (printable ASCII), counts stay within their arrays. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

static void check_str(const char *s, size_t size, int printable)
{
	size_t n = strnlen(s, size);

	if (n == size)
		abort(); /* not terminated inside its array */
	for (size_t i = 0; printable && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
}

/* The first byte picks a prefix, so the fuzzer reaches every value parser without having to
 * guess the parameter names first (the runner passes no dictionary). */
static const char *const prefixes[] = {
	"", "mpsocks.nic=", "mpsocks.nic=eth0,10.0.0.2/24,", "mpsocks.lan=", "mpsocks.port=",
	"mpsocks.user=", "mpsocks.allow=", "mpsocks.dns=", "mpsocks.debug=",
	"mpsocks.nic=eth0,10.66.6.2/24,gw=10.66.6.1 mpsocks.nic=",
	"mpsocks.exit_user=mp:pw mpsocks.exit=", "mpsocks.exit=192.0.2.1:1080 mpsocks.exit_user=",
	"mpsocks.nic=eth0,10.0.0.2/24,v6=", "mpsocks.nic=eth0,10.0.0.2/24,v6=fd00::2/64,gw6=",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static struct cmdline_errors errs;
	const char *prefix = "";
	size_t plen;
	char *line;
	int i;

	if (size > 0) {
		prefix = prefixes[data[0] % (sizeof(prefixes) / sizeof(prefixes[0]))];
		data++;
		size--;
	}
	plen = strlen(prefix);
	line = malloc(plen + size + 1);
	if (!line)
		return 0;
	memcpy(line, prefix, plen);
	memcpy(line + plen, data, size);
	line[plen + size] = '\0';
	cmdline_parse(line, &cfg, &errs);
	free(line);

	if (cfg.n_nics < 0 || cfg.n_nics > CFG_MAX_NICS || cfg.n_allow < 0 || cfg.n_allow > CFG_MAX_ALLOW ||
	    cfg.n_dns < 0 || cfg.n_dns > CFG_MAX_DNS || errs.n < 0 || errs.n > CFG_MAX_ERRORS ||
	    cfg.port < 1 || cfg.port > 65535)
		abort();
	for (i = 0; i < errs.n; i++)
		check_str(errs.msg[i], CFG_ERROR_LEN, 1);
	for (i = 0; i < cfg.n_nics; i++) {
		check_str(cfg.nics[i].ifname, CFG_IFNAMSIZ, 1);
		if (!cfg.nics[i].ifname[0] || (!cfg.nics[i].dhcp && (cfg.nics[i].prefix < 1 || cfg.nics[i].prefix > 32)))
			abort();
		/* IPv6 only beside a static IPv4 address, its gateway and v6only only with it. */
		if ((cfg.nics[i].has_v6 && (cfg.nics[i].dhcp || cfg.nics[i].prefix6 < 1 || cfg.nics[i].prefix6 > 128)) ||
		    ((cfg.nics[i].has_gw6 || cfg.nics[i].v6only) && !cfg.nics[i].has_v6))
			abort();
	}
	for (i = 0; i < cfg.n_allow; i++)
		if (cfg.allow[i].prefix < 0 || cfg.allow[i].prefix > 32)
			abort();
	if (cfg.has_user) {
		check_str(cfg.user, sizeof(cfg.user), 1);
		check_str(cfg.pass, sizeof(cfg.pass), 0);
		if (!cfg.user[0] || !cfg.pass[0] || strchr(cfg.user, ':'))
			abort();
	}
	/* The exit never runs without its login; both are whole or absent. */
	if (cfg.has_exit != cfg.has_exit_user)
		abort();
	if (cfg.has_exit) {
		check_str(cfg.exit_user, sizeof(cfg.exit_user), 1);
		check_str(cfg.exit_pass, sizeof(cfg.exit_pass), 0);
		if (!cfg.exit_user[0] || !cfg.exit_pass[0] || strchr(cfg.exit_user, ':') ||
		    cfg.exit_port < 1 || cfg.exit_port > 65535 || (ntohl(cfg.exit_addr.s_addr) >> 24) == 127)
			abort();
	}
	return 0;
}
