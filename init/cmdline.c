/* cmdline: kernel command line parser (see cmdline.h). Splitting follows the kernel's own
 * next_arg(): words split on whitespace, double quotes group words and are removed. */
#include "cmdline.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WORD_MAX 512 /* longer words are reported, not parsed */

static void add_error(struct cmdline_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_error(struct cmdline_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (errs->n >= CFG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n], CFG_ERROR_LEN, fmt, ap);
	va_end(ap);
	errs->n++;
}

/* A console-safe, bounded copy of user input for error messages. */
static const char *shown(const char *s, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; s[i] && n + 4 < size; i++)
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
	return out;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies the next word of *p into word (quotes removed); returns its length, -1 at the end,
 * or WORD_MAX when it did not fit (the word is still consumed). */
static int next_word(const char **p, char *word)
{
	const char *s = *p;
	int quoted = 0, n = 0, too_long = 0;

	while (is_space(*s))
		s++;
	if (!*s) {
		*p = s;
		return -1;
	}
	for (; *s && (quoted || !is_space(*s)); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (n < WORD_MAX - 1)
			word[n++] = *s;
		else
			too_long = 1;
	}
	word[n] = '\0';
	*p = s;
	return too_long ? WORD_MAX : n;
}

/* Strict unsigned decimal in [lo, hi]: digits only, no sign, no leading junk. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_ip(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

static in_addr_t prefix_mask(int prefix)
{
	return prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
}

struct cidr nic_subnet(const struct nic_cfg *nic)
{
	struct cidr c;

	c.prefix = nic->prefix;
	c.addr.s_addr = nic->addr.s_addr & prefix_mask(nic->prefix);
	return c;
}

/* "A.B.C.D/N" (N = min_prefix..32), or a bare address when bare_ok (= /32). */
static int parse_cidr(const char *s, int min_prefix, int bare_ok, struct in_addr *addr, int *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned p = 32;
	size_t len;

	if (!slash) {
		if (!bare_ok)
			return -1;
		len = strlen(s);
	} else {
		len = (size_t)(slash - s);
		if (parse_uint(slash + 1, (unsigned)min_prefix, 32, &p) != 0)
			return -1;
	}
	if (len == 0 || len >= sizeof(ip))
		return -1;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (parse_ip(ip, addr) != 0)
		return -1;
	*prefix = (int)p;
	return 0;
}

/* "ADDR6/N" (N = 1..128) into addr and prefix. */
static int parse_cidr6(const char *s, struct in6_addr *addr, int *prefix)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned p;
	size_t len;

	if (!slash || parse_uint(slash + 1, 1, 128, &p) != 0)
		return -1;
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(ip))
		return -1;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET6, ip, addr) != 1)
		return -1;
	*prefix = (int)p;
	return 0;
}

/* An address a host can have on a link: not unspecified, loopback, multicast or v4-mapped. */
static int usable6(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_MULTICAST(a) &&
	       !IN6_IS_ADDR_V4MAPPED(a);
}

/* Interface names as the kernel accepts them (dev_valid_name), minus ',' which we split on. */
static int valid_ifname(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CFG_IFNAMSIZ)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '/' || s[i] == ':' || s[i] == ',')
			return 0;
	return 1;
}

/* Splits value at commas into at most max fields of at most fsize bytes; -1 if it cannot. */
static int split_commas(const char *value, char fields[][64], int max)
{
	int n = 0;
	const char *s = value;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (n == max || len >= 64)
			return -1;
		memcpy(fields[n], s, len);
		fields[n][len] = '\0';
		n++;
		if (!comma)
			return n;
		s = comma + 1;
	}
}

/* IF,ADDR/PREFIX[,gw=GW][,v6=ADDR6/PREFIX6][,gw6=GW6][,backup] or IF,dhcp[,backup]; lan:
 * IF,ADDR/PREFIX only. Returns NULL or a reason. */
static const char *parse_nic(const char *value, int lan, struct nic_cfg *nic, char *why, size_t wsize)
{
	char f[8][64];
	char tmp[64];
	int n = split_commas(value, f, 8), i;

	memset(nic, 0, sizeof(*nic));
	if (n < 2)
		return "expected IF,ADDR/PREFIX";
	if (!valid_ifname(f[0], strlen(f[0])))
		return "bad interface name";
	memcpy(nic->ifname, f[0], strlen(f[0]) + 1);
	if (!lan && strcmp(f[1], "dhcp") == 0) {
		nic->dhcp = 1;
	} else if (parse_cidr(f[1], 1, 0, &nic->addr, &nic->prefix) != 0) {
		snprintf(why, wsize, "bad address '%s' (want A.B.C.D/PREFIX, PREFIX 1-32)",
			 shown(f[1], tmp, sizeof(tmp)));
		return why;
	}
	for (i = 2; i < n; i++) {
		if (!lan && strcmp(f[i], "backup") == 0 && !nic->backup) {
			nic->backup = 1;
		} else if (!lan && !nic->dhcp && strncmp(f[i], "gw=", 3) == 0 && !nic->has_gw) {
			if (parse_ip(f[i] + 3, &nic->gw) != 0) {
				snprintf(why, wsize, "bad gateway '%s'", shown(f[i] + 3, tmp, sizeof(tmp)));
				return why;
			}
			nic->has_gw = 1;
		} else if (!lan && !nic->dhcp && strncmp(f[i], "v6=", 3) == 0 && !nic->has_v6) {
			if (parse_cidr6(f[i] + 3, &nic->addr6, &nic->prefix6) != 0 || !usable6(&nic->addr6)) {
				snprintf(why, wsize, "bad IPv6 address '%s' (want ADDR6/PREFIX, PREFIX 1-128)",
					 shown(f[i] + 3, tmp, sizeof(tmp)));
				return why;
			}
			nic->has_v6 = 1;
		} else if (!lan && !nic->dhcp && strncmp(f[i], "gw6=", 4) == 0 && !nic->has_gw6) {
			if (inet_pton(AF_INET6, f[i] + 4, &nic->gw6) != 1 || !usable6(&nic->gw6)) {
				snprintf(why, wsize, "bad IPv6 gateway '%s'", shown(f[i] + 4, tmp, sizeof(tmp)));
				return why;
			}
			nic->has_gw6 = 1;
		} else if (!lan && !nic->dhcp && strcmp(f[i], "v6only") == 0 && !nic->v6only) {
			nic->v6only = 1;
		} else {
			snprintf(why, wsize, "unknown or repeated option '%s'", shown(f[i], tmp, sizeof(tmp)));
			return why;
		}
	}
	if (nic->has_gw && (nic->gw.s_addr == nic->addr.s_addr ||
			    (nic->gw.s_addr & prefix_mask(nic->prefix)) !=
				    (nic->addr.s_addr & prefix_mask(nic->prefix))))
		return "gateway is not another address inside the NIC's subnet";
	if (nic->has_gw6 && !nic->has_v6)
		return "gw6= without v6=";
	if (nic->v6only && !nic->has_v6)
		return "v6only without v6=";
	if (nic->has_gw6 && memcmp(&nic->gw6, &nic->addr6, sizeof(nic->gw6)) == 0)
		return "IPv6 gateway is the NIC's own address";
	return NULL;
}

static int nic_name_taken(const struct config *cfg, const char *ifname)
{
	int i;

	for (i = 0; i < cfg->n_nics; i++)
		if (strcmp(cfg->nics[i].ifname, ifname) == 0)
			return 1;
	return cfg->has_lan && strcmp(cfg->lan.ifname, ifname) == 0;
}

/* One address on two NICs would give two rules for one source and a refused endpoint. */
static int nic_addr_taken(const struct config *cfg, const struct nic_cfg *nic, int skip_lan)
{
	int i;

	if (nic->dhcp)
		return 0;
	for (i = 0; i < cfg->n_nics; i++) {
		const struct nic_cfg *o = &cfg->nics[i];

		if (!o->dhcp && o->addr.s_addr == nic->addr.s_addr)
			return 1;
		if (o->has_v6 && nic->has_v6 && memcmp(&o->addr6, &nic->addr6, sizeof(o->addr6)) == 0)
			return 1;
	}
	return !skip_lan && cfg->has_lan && cfg->lan.addr.s_addr == nic->addr.s_addr;
}

static const char *apply_nic(struct config *cfg, const char *value, int lan, char *why, size_t wsize)
{
	struct nic_cfg nic;
	const char *err = parse_nic(value, lan, &nic, why, wsize);

	if (err)
		return err;
	if (lan) {
		if (nic_addr_taken(cfg, &nic, 1))
			return "address already used by another NIC";
		if (cfg->has_lan && strcmp(cfg->lan.ifname, nic.ifname) == 0) {
			cfg->lan = nic; /* repeated: the last one wins, as for other scalars */
			return NULL;
		}
		if (nic_name_taken(cfg, nic.ifname))
			return "interface already configured";
		cfg->lan = nic;
		cfg->has_lan = 1;
		return NULL;
	}
	if (nic_name_taken(cfg, nic.ifname))
		return "interface already configured";
	if (nic_addr_taken(cfg, &nic, 0))
		return "address already used by another NIC";
	if (cfg->n_nics == CFG_MAX_NICS)
		return "too many NICs (MPTCP uses at most 8)";
	cfg->nics[cfg->n_nics++] = nic;
	return NULL;
}

/* NAME:PASS into name and pass (mpsocks.user, mpsocks.exit_user). */
static const char *parse_login(const char *value, char *user, char *pass)
{
	const char *colon = strchr(value, ':');
	size_t nlen, plen, i;

	if (!colon)
		return "expected NAME:PASS";
	nlen = (size_t)(colon - value);
	plen = strlen(colon + 1);
	if (nlen == 0 || nlen > CFG_USER_MAX)
		return "name must be 1-32 characters";
	if (value[0] == '-')
		return "name must not start with '-'";
	for (i = 0; i < nlen; i++) {
		char c = value[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return "name may only hold letters, digits, '_', '-', '.'";
	}
	if (plen == 0 || plen > CFG_PASS_MAX)
		return "password must be 1-128 characters"; /* RFC 1929: 255, crypt: sane */
	for (i = 0; i < plen; i++)
		if ((unsigned char)colon[1 + i] < 0x20 || colon[1 + i] == 0x7f)
			return "password holds a control character";
	memcpy(user, value, nlen);
	user[nlen] = '\0';
	memcpy(pass, colon + 1, plen + 1);
	return NULL;
}

static const char *apply_user(struct config *cfg, const char *value)
{
	const char *err = parse_login(value, cfg->user, cfg->pass);

	if (!err)
		cfg->has_user = 1;
	return err;
}

static const char *apply_exit_user(struct config *cfg, const char *value)
{
	const char *err = parse_login(value, cfg->exit_user, cfg->exit_pass);

	if (!err)
		cfg->has_exit_user = 1;
	return err;
}

/* ADDR:PORT, ADDR an IPv4 address (no name: the guest may have no DNS; the launcher resolves). */
static const char *parse_exit_at(const char *value, struct in_addr *addr, unsigned *port_out)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(value, ':');
	struct in_addr a;
	unsigned port;
	size_t len;

	if (!colon)
		return "expected ADDR:PORT";
	len = (size_t)(colon - value);
	if (len == 0 || len >= sizeof(ip))
		return "expected an IPv4 address before ':PORT'";
	memcpy(ip, value, len);
	ip[len] = '\0';
	if (parse_ip(ip, &a) != 0)
		return "expected an IPv4 address before ':PORT'";
	if (a.s_addr == htonl(INADDR_ANY) || a.s_addr == htonl(INADDR_BROADCAST) ||
	    (ntohl(a.s_addr) >> 24) == 127 || (ntohl(a.s_addr) >> 28) == 14)
		return "not an address an exit can have (0, 127/8, multicast, broadcast)";
	if (parse_uint(colon + 1, 1, 65535, &port) != 0)
		return "expected a port number 1-65535";
	*addr = a;
	*port_out = port;
	return NULL;
}

#define LINK_SCHEME "mpsocks://"

/* mpsocks://KEY@ADDR:PORT (an exit of the link), or ADDR:PORT (the plain exit). */
static const char *apply_exit(struct config *cfg, const char *value)
{
	struct link_exit l = { 0 };
	const char *at, *err;
	size_t i;

	if (strncmp(value, LINK_SCHEME, sizeof(LINK_SCHEME) - 1) != 0) {
		if (cfg->has_exit || cfg->n_links)
			return "a second exit: only exits of the link (mpsocks://KEY@ADDR:PORT) can be several";
		err = parse_exit_at(value, &cfg->exit_addr, &cfg->exit_port);
		if (!err)
			cfg->has_exit = 1;
		return err;
	}
	value += sizeof(LINK_SCHEME) - 1;
	at = strchr(value, '@');
	if (!at || at - value != CFG_LINK_KEY_LEN)
		return "expected mpsocks://KEY@ADDR:PORT, KEY 43 characters";
	for (i = 0; i < CFG_LINK_KEY_LEN; i++) {
		char c = value[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return "the key holds a character other than base64url's";
	}
	err = parse_exit_at(at + 1, &l.addr, &l.port);
	if (err)
		return err;
	if (cfg->has_exit)
		return "beside the plain exit: give exits of one kind";
	for (i = 0; i < (size_t)cfg->n_links; i++)
		if (cfg->links[i].addr.s_addr == l.addr.s_addr && cfg->links[i].port == l.port)
			return "this exit is given already";
	if (cfg->n_links == CFG_MAX_LINKS)
		return "too many exits (at most 8)";
	memcpy(l.key, value, CFG_LINK_KEY_LEN);
	cfg->links[cfg->n_links++] = l;
	return NULL;
}

static const char *apply_allow(struct config *cfg, const char *value, char *why, size_t wsize)
{
	char f[CFG_MAX_ALLOW][64], tmp[64];
	struct cidr c[CFG_MAX_ALLOW];
	int n = split_commas(value, f, CFG_MAX_ALLOW), i;

	if (n < 0)
		return "too many or too long entries (at most 8 CIDRs)";
	for (i = 0; i < n; i++) {
		if (parse_cidr(f[i], 0, 1, &c[i].addr, &c[i].prefix) != 0) {
			snprintf(why, wsize, "bad CIDR '%s'", shown(f[i], tmp, sizeof(tmp)));
			return why;
		}
		c[i].addr.s_addr &= prefix_mask(c[i].prefix);
	}
	memcpy(cfg->allow, c, sizeof(c[0]) * (size_t)n);
	cfg->n_allow = n;
	return NULL;
}

static const char *apply_dns(struct config *cfg, const char *value, char *why, size_t wsize)
{
	char f[CFG_MAX_DNS][64], tmp[64];
	struct in_addr a[CFG_MAX_DNS];
	int n = split_commas(value, f, CFG_MAX_DNS), i;

	if (n < 0)
		return "too many or too long entries (at most 3 servers)";
	for (i = 0; i < n; i++) {
		if (parse_ip(f[i], &a[i]) != 0) {
			snprintf(why, wsize, "bad address '%s'", shown(f[i], tmp, sizeof(tmp)));
			return why;
		}
	}
	memcpy(cfg->dns, a, sizeof(a[0]) * (size_t)n);
	cfg->n_dns = n;
	return NULL;
}

/* Applies one mpsocks.NAME[=VALUE] word; returns NULL or the reason it was refused. */
static const char *apply(struct config *cfg, const char *name, const char *value, char *why,
			 size_t wsize)
{
	unsigned v;

	if (strcmp(name, "debug") == 0) {
		if (!value) {
			cfg->debug = 1;
			return NULL;
		}
		if (parse_uint(value, 0, 1, &v) != 0)
			return "expected 0 or 1";
		cfg->debug = (int)v;
		return NULL;
	}
	if (!value)
		return "missing '=VALUE'";
	if (strcmp(name, "nic") == 0)
		return apply_nic(cfg, value, 0, why, wsize);
	if (strcmp(name, "lan") == 0)
		return apply_nic(cfg, value, 1, why, wsize);
	if (strcmp(name, "port") == 0) {
		if (parse_uint(value, 1, 65535, &v) != 0)
			return "expected a port number 1-65535";
		cfg->port = v;
		return NULL;
	}
	if (strcmp(name, "user") == 0)
		return apply_user(cfg, value);
	if (strcmp(name, "exit") == 0)
		return apply_exit(cfg, value);
	if (strcmp(name, "exit_user") == 0)
		return apply_exit_user(cfg, value);
	if (strcmp(name, "allow") == 0)
		return apply_allow(cfg, value, why, wsize);
	if (strcmp(name, "dns") == 0)
		return apply_dns(cfg, value, why, wsize);
	return "unknown parameter";
}

/* A link exit's word with its key masked: mpsocks.exit=mpsocks://(masked)@ADDR:PORT. */
static void shown_link(const char *word, char *out, size_t size)
{
	const char *at = strchr(word, '@');
	char rest[64];

	snprintf(out, size, "mpsocks.exit=" LINK_SCHEME "***%s", at ? shown(at, rest, sizeof(rest)) : "");
}

/* Length of the "mpsocks.NAME=" prefix of a word whose value is NAME:PASS, else 0. */
static size_t login_param(const char *word)
{
	static const char *const params[] = { "mpsocks.user=", "mpsocks.exit_user=" };
	size_t i, n;

	for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		n = strlen(params[i]);
		if (strncmp(word, params[i], n) == 0)
			return n;
	}
	return 0;
}

void cmdline_parse(const char *cmdline, struct config *cfg, struct cmdline_errors *errs)
{
	static const char prefix[] = "mpsocks.";
	char word[WORD_MAX], why[CFG_ERROR_LEN], shown_word[80];
	const char *p = cmdline;
	size_t plen;
	int len;

	memset(cfg, 0, sizeof(*cfg));
	memset(errs, 0, sizeof(*errs));
	cfg->port = CFG_DEFAULT_PORT;
	while ((len = next_word(&p, word)) >= 0) {
		char *eq, *name;
		const char *err;

		if (strcmp(word, "--") == 0)
			break; /* the rest is init's argv, not parameters */
		if (strncmp(word, prefix, sizeof(prefix) - 1) != 0)
			continue; /* the kernel's or another program's */
		/* Passwords and keys are the values that must not reach the console. */
		if (strncmp(word, "mpsocks.exit=" LINK_SCHEME, sizeof("mpsocks.exit=" LINK_SCHEME) - 1) == 0) {
			shown_link(word, shown_word, sizeof(shown_word));
		} else if ((plen = login_param(word)) > 0) {
			char name[CFG_USER_MAX + 1];
			const char *colon = strchr(word + plen, ':');
			size_t nlen = colon ? (size_t)(colon - word - plen) : 0;

			if (nlen > CFG_USER_MAX)
				nlen = CFG_USER_MAX;
			memcpy(name, word + plen, nlen);
			name[nlen] = '\0';
			snprintf(shown_word, sizeof(shown_word), "%.*s%.40s%s", (int)plen, word,
				 shown(name, why, sizeof(name) + 4), colon ? ":***" : "***");
		} else {
			shown(word, shown_word, sizeof(shown_word));
		}
		if (len == WORD_MAX) {
			add_error(errs, "%s: too long, ignored", shown_word);
			continue;
		}
		name = word + sizeof(prefix) - 1;
		eq = strchr(name, '=');
		if (eq)
			*eq = '\0';
		why[0] = '\0';
		err = apply(cfg, name, eq ? eq + 1 : NULL, why, sizeof(why));
		if (err)
			add_error(errs, "%s: %s, ignored", shown_word, err);
	}
	/* The exit is never an open proxy, so the appliance always needs its login. */
	if (cfg->has_exit && !cfg->has_exit_user) {
		add_error(errs, "mpsocks.exit: needs mpsocks.exit_user=NAME:PASS (an exit always wants a login), ignored");
		cfg->has_exit = 0;
	} else if (!cfg->has_exit && cfg->has_exit_user) {
		add_error(errs, "mpsocks.exit_user: given without mpsocks.exit=ADDR:PORT, ignored");
		cfg->has_exit_user = 0;
	}
}
