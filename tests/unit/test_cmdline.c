/* Unit tests of init/cmdline.c: the kernel command line parser. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"

static struct config cfg;
static struct cmdline_errors errs;

static int ip_is(struct in_addr a, const char *want)
{
	char s[INET_ADDRSTRLEN];

	return strcmp(inet_ntop(AF_INET, &a, s, sizeof(s)), want) == 0;
}

static int parse(const char *line)
{
	cmdline_parse(line, &cfg, &errs);
	return errs.n;
}

/* The single error's text contains every given fragment. */
static int error_says(const char *a, const char *b)
{
	return errs.n == 1 && strstr(errs.msg[0], a) && (!b || strstr(errs.msg[0], b));
}

static void test_defaults(struct check *c)
{
	CHECK(c, "empty line: no error", parse("") == 0);
	CHECK(c, "empty line: port 1080, nothing else",
	      cfg.port == 1080 && cfg.n_nics == 0 && !cfg.has_lan && !cfg.has_user && cfg.n_allow == 0 &&
		      cfg.n_dns == 0 && !cfg.debug);
	CHECK(c, "other parameters ignored",
	      parse("BOOT_IMAGE=/vmlinuz console=ttyS0,115200 quiet root=/dev/sda1 mpsocksx=1 nic=eth0") == 0 &&
		      cfg.n_nics == 0);
}

static void test_contract_example(struct check *c)
{
	int n = parse("console=ttyS0 mpsocks.nic=eth0,10.66.6.2/24,gw=10.66.6.1 "
		      "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.7.1 mpsocks.nic=eth2,10.66.8.2/24,gw=10.66.8.1\n");

	CHECK(c, "three NICs, no error", n == 0 && cfg.n_nics == 3);
	CHECK(c, "NIC 0 fields", strcmp(cfg.nics[0].ifname, "eth0") == 0 && ip_is(cfg.nics[0].addr, "10.66.6.2") &&
	      cfg.nics[0].prefix == 24 && cfg.nics[0].has_gw && ip_is(cfg.nics[0].gw, "10.66.6.1") &&
	      !cfg.nics[0].backup && !cfg.nics[0].dhcp);
	CHECK(c, "NIC 2 in order", strcmp(cfg.nics[2].ifname, "eth2") == 0 && ip_is(cfg.nics[2].gw, "10.66.8.1"));
	CHECK(c, "subnet of NIC 1", ip_is(nic_subnet(&cfg.nics[1]).addr, "10.66.7.0") &&
	      nic_subnet(&cfg.nics[1]).prefix == 24);
}

static void test_nic_forms(struct check *c)
{
	CHECK(c, "backup before gw, no gw, /32",
	      parse("mpsocks.nic=wlan0,192.168.1.5/24,backup,gw=192.168.1.1 mpsocks.nic=usb0,172.20.10.2/32") == 0 &&
		      cfg.nics[0].backup && cfg.nics[0].has_gw && !cfg.nics[1].has_gw && cfg.nics[1].prefix == 32);
	CHECK(c, "dhcp with backup", parse("mpsocks.nic=eth0,dhcp,backup") == 0 && cfg.nics[0].dhcp &&
	      cfg.nics[0].backup);
	CHECK(c, "two dhcp NICs (no address yet to clash)",
	      parse("mpsocks.nic=eth0,dhcp mpsocks.nic=eth1,dhcp") == 0 && cfg.n_nics == 2);
	CHECK(c, "lan NIC", parse("mpsocks.lan=eth3,192.168.50.1/24 mpsocks.nic=eth0,10.0.0.2/8") == 0 &&
	      cfg.has_lan && strcmp(cfg.lan.ifname, "eth3") == 0 && ip_is(cfg.lan.addr, "192.168.50.1") &&
	      cfg.n_nics == 1);
	CHECK(c, "quoted value", parse("\"mpsocks.nic=eth0,10.0.0.2/24\"") == 0 && cfg.n_nics == 1);
}

static void test_scalars(struct check *c)
{
	CHECK(c, "port, user, allow, dns, debug",
	      parse("mpsocks.port=1081 mpsocks.user=alice:s3cr:et mpsocks.allow=10.1.2.3/16,192.168.0.9 "
		    "mpsocks.dns=9.9.9.9,1.1.1.1 mpsocks.debug=1") == 0);
	CHECK(c, "port", cfg.port == 1081);
	CHECK(c, "user: name, password split at the first colon",
	      cfg.has_user && strcmp(cfg.user, "alice") == 0 && strcmp(cfg.pass, "s3cr:et") == 0);
	CHECK(c, "allow: host bits cleared, bare address is /32",
	      cfg.n_allow == 2 && ip_is(cfg.allow[0].addr, "10.1.0.0") && cfg.allow[0].prefix == 16 &&
		      ip_is(cfg.allow[1].addr, "192.168.0.9") && cfg.allow[1].prefix == 32);
	CHECK(c, "dns", cfg.n_dns == 2 && ip_is(cfg.dns[0], "9.9.9.9") && ip_is(cfg.dns[1], "1.1.1.1"));
	CHECK(c, "debug", cfg.debug == 1);
	CHECK(c, "bare mpsocks.debug means on; =0 off", parse("mpsocks.debug") == 0 && cfg.debug &&
	      parse("mpsocks.debug mpsocks.debug=0") == 0 && !cfg.debug);
	CHECK(c, "repeated scalar: last wins", parse("mpsocks.port=1 mpsocks.port=2") == 0 && cfg.port == 2);
	CHECK(c, "allow 0.0.0.0/0", parse("mpsocks.allow=0.0.0.0/0") == 0 && cfg.allow[0].prefix == 0);
	CHECK(c, "quoted password with a space", parse("\"mpsocks.user=bob:pa ss\"") == 0 &&
	      strcmp(cfg.pass, "pa ss") == 0);
}

/* Each bad parameter: exactly one error naming it, and the good ones around it still apply. */
static int ip6_is(const struct in6_addr *a, const char *want)
{
	struct in6_addr w;

	return inet_pton(AF_INET6, want, &w) == 1 && memcmp(a, &w, sizeof(w)) == 0;
}

/* What the launcher passes for a dual-stack uplink, and the forms around it. */
static void test_nic_v6(struct check *c)
{
	CHECK(c, "dual-stack NIC: IPv6 address, prefix and gateway beside IPv4",
	      parse("mpsocks.nic=eth0,10.66.6.2/24,gw=10.66.6.1,v6=fd6d:7073:6:0::2/64,gw6=fd6d:7073:6:0::1 "
		    "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.7.1") == 0 &&
		      cfg.nics[0].has_v6 && ip6_is(&cfg.nics[0].addr6, "fd6d:7073:6::2") &&
		      cfg.nics[0].prefix6 == 64 && cfg.nics[0].has_gw6 &&
		      ip6_is(&cfg.nics[0].gw6, "fd6d:7073:6::1") && !cfg.nics[1].has_v6);
	CHECK(c, "IPv6 without a gateway, a link-local gateway, backup after",
	      parse("mpsocks.nic=eth0,10.0.0.2/24,v6=2001:db8::5/128 "
		    "mpsocks.nic=eth1,10.0.1.2/24,v6=2001:db8:1::5/64,gw6=fe80::1,backup") == 0 &&
		      cfg.nics[0].has_v6 && !cfg.nics[0].has_gw6 && cfg.nics[0].prefix6 == 128 &&
		      cfg.nics[1].has_gw6 && ip6_is(&cfg.nics[1].gw6, "fe80::1") && cfg.nics[1].backup);
	CHECK(c, "an IPv6-only uplink: v6only after v6=",
	      parse("mpsocks.nic=eth0,10.0.0.2/24,v6=fd00::2/64,gw6=fd00::1,v6only") == 0 &&
		      cfg.nics[0].v6only && cfg.nics[0].has_v6);
	parse("mpsocks.nic=eth0,10.0.0.2/24,v6=fd00::2/64 mpsocks.nic=eth1,10.0.1.2/24,v6=fd00:0::2/64");
	CHECK(c, "one IPv6 address on two NICs: the second refused",
	      cfg.n_nics == 1 && error_says("mpsocks.nic=eth1", "address already used"));
}

static void bad(struct check *c, const char *param, const char *why_fragment)
{
	char line[1024], name[160];

	snprintf(line, sizeof(line), "mpsocks.nic=eth0,10.66.6.2/24 %s mpsocks.port=1090", param);
	parse(line);
	snprintf(name, sizeof(name), "refused: %s", param);
	CHECK(c, name, error_says(param, why_fragment) && cfg.n_nics >= 1 && cfg.port == 1090);
}

static void test_malformed(struct check *c)
{
	bad(c, "mpsocks.nic=eth1,10.66.7.2/33", "bad address");
	bad(c, "mpsocks.nic=eth1,10.66.7.256/24", "bad address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2", "bad address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/0", "bad address");
	bad(c, "mpsocks.nic=eth1", "IF,ADDR/PREFIX");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.7", "bad gateway");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.8.1", "gateway");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.7.2", "gateway");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,fast", "'fast'");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,backup,backup", "repeated");
	bad(c, "mpsocks.nic=eth1,dhcp,gw=1.2.3.4", "gw=1.2.3.4");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=fd00::2", "bad IPv6 address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=fd00::2/129", "bad IPv6 address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=10.66.7.3/24", "bad IPv6 address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=ff02::1/64", "bad IPv6 address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=::1/128", "bad IPv6 address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=fd00::2/64,gw6=fd00::zz", "bad IPv6 gateway");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=fd00::2/64,gw6=fd00::2", "own address");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,gw6=fd00::1", "gw6= without v6=");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6only", "v6only without v6=");
	bad(c, "mpsocks.nic=eth1,10.66.7.2/24,v6=fd00::2/64,v6=fd00::3/64", "repeated");
	bad(c, "mpsocks.nic=eth1,dhcp,v6=fd00::2/64", "v6=fd00::2/64");
	bad(c, "mpsocks.lan=eth3,192.168.50.1/24,v6=fd00::2/64", "v6=fd00::2/64");
	bad(c, "mpsocks.nic=eth0,10.66.9.2/24", "already configured");
	bad(c, "mpsocks.nic=eth1,10.66.6.2/24", "address already used");
	bad(c, "mpsocks.lan=eth5,10.66.6.2/24", "address already used");
	bad(c, "mpsocks.nic=averyveryverylongname,10.66.7.2/24", "interface name");
	bad(c, "mpsocks.nic=,10.66.7.2/24", "interface name");
	bad(c, "mpsocks.nic=a/b,10.66.7.2/24", "interface name");
	bad(c, "mpsocks.lan=eth3,dhcp", "bad address");
	bad(c, "mpsocks.lan=eth3,10.0.0.1/24,backup", "backup");
	bad(c, "mpsocks.port=0", "port number");
	bad(c, "mpsocks.port=65536", "port number");
	bad(c, "mpsocks.port=80x", "port number");
	bad(c, "mpsocks.port=", "port number");
	bad(c, "mpsocks.port", "missing");
	bad(c, "mpsocks.user=bob:", "1-128");
	bad(c, "mpsocks.allow=10.0.0.0/40", "bad CIDR");
	bad(c, "mpsocks.allow=10.0.0.0/8,", "bad CIDR");
	bad(c, "mpsocks.dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "at most 3");
	bad(c, "mpsocks.dns=one.one.one.one", "bad address");
	bad(c, "mpsocks.debug=2", "0 or 1");
	bad(c, "mpsocks.speed=fast", "unknown parameter");
	bad(c, "mpsocks.=1", "unknown parameter");
}

static void test_hostile(struct check *c)
{
	char line[4096];
	int i, n = 0;

	parse("mpsocks.user=b@d:topsecret");
	CHECK(c, "bad user: name shown, password never", errs.n == 1 && strstr(errs.msg[0], "b@d") &&
	      !strstr(errs.msg[0], "topsecret") && !cfg.has_user);
	parse("mpsocks.user=nocolonsecret");
	CHECK(c, "user without colon: refused, value not shown", errs.n == 1 &&
	      strstr(errs.msg[0], "mpsocks.user=***: expected NAME:PASS") && !strstr(errs.msg[0], "nocolonsecret"));
	parse("mpsocks.user=:pw");
	CHECK(c, "user with empty name refused", errs.n == 1 && strstr(errs.msg[0], "mpsocks.user=:***: name must be"));
	parse("mpsocks.foo=\x1b[2J\x07");
	CHECK(c, "control characters never reach the console",
	      errs.n == 1 && !strchr(errs.msg[0], '\x1b') && !strchr(errs.msg[0], '\x07'));

	for (i = 0; i < 9; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "mpsocks.nic=eth%d,10.0.%d.2/24 ", i, i);
	parse(line);
	CHECK(c, "ninth NIC refused, eight kept", cfg.n_nics == 8 && error_says("eth8", "at most 8"));

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "mpsocks.nic=", 12);
	parse(line);
	CHECK(c, "overlong word: one error, bounded message", errs.n == 1 && strstr(errs.msg[0], "too long") &&
	      strlen(errs.msg[0]) < CFG_ERROR_LEN);

	n = 0;
	for (i = 0; i < 40; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "mpsocks.x%d=1 ", i);
	parse(line);
	CHECK(c, "many errors: kept up to the cap, the rest counted",
	      errs.n == CFG_MAX_ERRORS && errs.dropped == 40 - CFG_MAX_ERRORS);

	CHECK(c, "words after -- are init's, not parameters",
	      parse("mpsocks.port=1 -- mpsocks.port=2 mpsocks.bogus") == 0 && cfg.port == 1);
	CHECK(c, "unterminated quote runs to the end",
	      parse("\"mpsocks.nic=eth0,10.0.0.2/24 mpsocks.port=5") == 1 && cfg.n_nics == 0);
	CHECK(c, "tabs and newlines separate words",
	      parse("mpsocks.port=7\tmpsocks.debug=1\nmpsocks.dns=8.8.8.8") == 0 && cfg.port == 7 && cfg.debug &&
		      cfg.n_dns == 1);
}

static void test_exit(struct check *c)
{
	CHECK(c, "exit: address, port and login",
	      parse("mpsocks.exit=203.0.113.7:1081 \"mpsocks.exit_user=mp:s3:cr et\"") == 0 && cfg.has_exit &&
		      ip_is(cfg.exit_addr, "203.0.113.7") && cfg.exit_port == 1081 && cfg.has_exit_user &&
		      strcmp(cfg.exit_user, "mp") == 0 && strcmp(cfg.exit_pass, "s3:cr et") == 0);
	CHECK(c, "exit: no SOCKS login of the appliance's own implied", !cfg.has_user);
	CHECK(c, "exit: the two logins kept apart",
	      parse("mpsocks.user=alice:a mpsocks.exit_user=mp:b mpsocks.exit=198.51.100.1:443") == 0 &&
		      strcmp(cfg.user, "alice") == 0 && strcmp(cfg.pass, "a") == 0 &&
		      strcmp(cfg.exit_user, "mp") == 0 && strcmp(cfg.exit_pass, "b") == 0);
	CHECK(c, "no exit by default", parse("mpsocks.port=1") == 0 && !cfg.has_exit && !cfg.has_exit_user);

	parse("mpsocks.exit=203.0.113.7:1081");
	CHECK(c, "exit without exit_user: refused, one error", errs.n == 1 && !cfg.has_exit &&
	      strstr(errs.msg[0], "needs mpsocks.exit_user"));
	parse("mpsocks.exit_user=mp:topsecret");
	CHECK(c, "exit_user without exit: refused, password never shown", errs.n == 1 && !cfg.has_exit_user &&
	      strstr(errs.msg[0], "without mpsocks.exit") && !strstr(errs.msg[0], "topsecret"));
	parse("mpsocks.exit=203.0.113.7:1081 mpsocks.exit_user=b@d:topsecret");
	CHECK(c, "bad exit_user: name shown, password never, exit dropped too",
	      errs.n == 2 && strstr(errs.msg[0], "mpsocks.exit_user=b@d:***") &&
		      !strstr(errs.msg[0], "topsecret") && !strstr(errs.msg[1], "topsecret") && !cfg.has_exit);
	parse("mpsocks.exit_user=nocolonsecret mpsocks.exit=203.0.113.7:1081");
	CHECK(c, "exit_user without colon: value not shown",
	      errs.n == 2 && strstr(errs.msg[0], "mpsocks.exit_user=***: expected NAME:PASS") &&
		      !strstr(errs.msg[0], "nocolonsecret"));
	parse("mpsocks.exit_user=mp:ctl\x01secret mpsocks.exit=203.0.113.7:1081");
	CHECK(c, "exit_user with a control character: refused, password not shown",
	      errs.n == 2 && strstr(errs.msg[0], "control character") && !strstr(errs.msg[0], "secret"));
}

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define KEY2 "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

static void test_link_exits(struct check *c)
{
	CHECK(c, "link exit: key, address and port; no login needed",
	      parse("mpsocks.exit=mpsocks://" KEY1 "@203.0.113.7:443") == 0 && cfg.n_links == 1 && !cfg.has_exit &&
		      ip_is(cfg.links[0].addr, "203.0.113.7") && cfg.links[0].port == 443 && strcmp(cfg.links[0].key, KEY1) == 0);
	CHECK(c, "two link exits, in their order, each its own key",
	      parse("mpsocks.exit=mpsocks://" KEY1 "@203.0.113.7:443 mpsocks.exit=mpsocks://" KEY2 "@198.51.100.9:8443") == 0 &&
		      cfg.n_links == 2 && cfg.links[1].port == 8443 && strcmp(cfg.links[1].key, KEY2) == 0);
	parse("mpsocks.exit=mpsocks://" KEY1 "@203.0.113.7:443 mpsocks.exit=mpsocks://" KEY2 "@203.0.113.7:443");
	CHECK(c, "the same exit twice: the second refused", cfg.n_links == 1 && errs.n == 1 && strstr(errs.msg[0], "given already"));
	parse("mpsocks.exit=mpsocks://" KEY1 "x@203.0.113.7:443");
	CHECK(c, "a key of 44 characters: refused, the key never shown",
	      cfg.n_links == 0 && errs.n == 1 && strstr(errs.msg[0], "mpsocks.exit=mpsocks://***@203.0.113.7:443") &&
		      !strstr(errs.msg[0], "AAEC"));
	parse("mpsocks.exit=mpsocks://AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8@203.0.113.7:443");
	CHECK(c, "a key with '+': refused, not shown", cfg.n_links == 0 && errs.n == 1 && strstr(errs.msg[0], "base64url") &&
							      !strstr(errs.msg[0], "AAEC"));
	parse("mpsocks.exit=mpsocks://" KEY1 "@127.0.0.1:443");
	CHECK(c, "a link exit on loopback: refused", cfg.n_links == 0 && errs.n == 1 && !strstr(errs.msg[0], "AAEC"));
	parse("mpsocks.exit=mpsocks://" KEY1 "@203.0.113.7:443 mpsocks.exit=198.51.100.1:1080 mpsocks.exit_user=a:b");
	CHECK(c, "a plain exit beside the link's: refused, the link's kept", cfg.n_links == 1 && !cfg.has_exit && errs.n >= 1);
	parse("mpsocks.exit=mpsocks://" KEY1);
	CHECK(c, "no @ADDR:PORT: refused", cfg.n_links == 0 && errs.n == 1 && !strstr(errs.msg[0], "AAEC"));
}

static void test_exit_malformed(struct check *c)
{
	/* Each with a good exit_user, so the only error is the exit's own. */
	static const char *const cases[][2] = {
		{ "mpsocks.exit=203.0.113.7", "ADDR:PORT" },
		{ "mpsocks.exit=203.0.113.7:", "port number" },
		{ "mpsocks.exit=203.0.113.7:0", "port number" },
		{ "mpsocks.exit=203.0.113.7:65536", "port number" },
		{ "mpsocks.exit=203.0.113.7:1x", "port number" },
		{ "mpsocks.exit=exit.example.com:1080", "IPv4 address" },
		{ "mpsocks.exit=:1080", "IPv4 address" },
		{ "mpsocks.exit=[2001:db8::1]:1080", "IPv4 address" },
		{ "mpsocks.exit=127.0.0.1:1080", "127/8" },
		{ "mpsocks.exit=0.0.0.0:1080", "127/8" },
		{ "mpsocks.exit=224.0.0.1:1080", "multicast" },
		{ "mpsocks.exit", "missing" },
	};
	char line[256], name[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "mpsocks.exit_user=mp:pw %s mpsocks.port=1090", cases[i][0]);
		parse(line);
		snprintf(name, sizeof(name), "refused: %s", cases[i][0]);
		/* The exit's own error, then the login left without an exit. */
		CHECK(c, name, errs.n == 2 && strstr(errs.msg[0], cases[i][0]) &&
				       strstr(errs.msg[0], cases[i][1]) && !cfg.has_exit && cfg.port == 1090);
	}
}

int main(void)
{
	struct check c = { "cmdline", 0 };

	test_defaults(&c);
	test_contract_example(&c);
	test_nic_forms(&c);
	test_nic_v6(&c);
	test_scalars(&c);
	test_malformed(&c);
	test_hostile(&c);
	test_exit(&c);
	test_link_exits(&c);
	test_exit_malformed(&c);
	return CHECK_DONE(&c);
}
