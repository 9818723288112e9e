/* Unit tests of init/sockdconf.c: sockd.conf and resolv.conf text. */
#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "sockdconf.h"

static char out[4096];

static struct sockd_params base(void)
{
	static const char *const ext[] = { "eth0", "eth1", "eth2" };
	static struct cidr allow[2];
	struct sockd_params p = { 0 };

	inet_pton(AF_INET, "10.66.6.2", &p.listen);
	p.port = 1080;
	p.externals = ext;
	p.n_externals = 3;
	inet_pton(AF_INET, "10.66.6.0", &allow[0].addr);
	allow[0].prefix = 24;
	inet_pton(AF_INET, "192.168.0.0", &allow[1].addr);
	allow[1].prefix = 16;
	p.allow = allow;
	p.n_allow = 1;
	p.unprivileged = "sockd";
	return p;
}

int main(void)
{
	struct check c = { "sockdconf", 0 };
	struct sockd_params p = base();
	struct in_addr dns[3];
	int n;

	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "renders", n > 0 && (size_t)n == strlen(out));
	CHECK(&c, "logs to stderr (the console)", strstr(out, "\nlogoutput: stderr\n") != NULL);
	CHECK(&c, "listens on ADDR port = PORT", strstr(out, "\ninternal: 10.66.6.2 port = 1080\n") != NULL);
	CHECK(&c, "every uplink is an external, in order",
	      strstr(out, "\nexternal: eth0\nexternal: eth1\nexternal: eth2\n") != NULL);
	CHECK(&c, "outgoing address chosen by route", strstr(out, "\nexternal.rotation: route\n") != NULL);
	CHECK(&c, "no auth: socksmethod none", strstr(out, "\nsocksmethod: none\n") && !strstr(out, "username"));
	CHECK(&c, "clientmethod none", strstr(out, "\nclientmethod: none\n") != NULL);
	CHECK(&c, "unprivileged user", strstr(out, "\nuser.unprivileged: sockd\n") != NULL);
	CHECK(&c, "client and socks pass rules for the allowed subnet only",
	      strstr(out, "client pass {\n\tfrom: 10.66.6.0/24 to: 0/0\n") &&
		      strstr(out, "socks pass {\n\tfrom: 10.66.6.0/24 to: 0/0\n\tcommand: connect\n") &&
		      !strstr(out, "pass {\n\tfrom: 0/0"));
	CHECK(&c, "everyone else blocked, loopback (v4 and v6) blocked before the pass",
	      strstr(out, "client block {\n\tfrom: 0/0 to: 0/0\n") &&
		      strstr(out, "socks block {\n\tfrom: 0/0 to: 127.0.0.0/8\n") &&
		      strstr(out, "socks block {\n\tfrom: 0/0 to: 127.0.0.0/8\n") < strstr(out, "socks pass") &&
		      strstr(out, "socks block {\n\tfrom: 0/0 to: ::1/128\n") &&
		      strstr(out, "socks block {\n\tfrom: 0/0 to: ::1/128\n") < strstr(out, "socks pass") &&
		      strstr(out, "socks block {\n\tfrom: 0/0 to: 0/0\n") > strstr(out, "socks pass"));

	p.auth = 1;
	p.n_allow = 2;
	p.port = 9050;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "auth: socksmethod username", n > 0 && strstr(out, "\nsocksmethod: username\n") != NULL);
	CHECK(&c, "port given", strstr(out, "\ninternal: 10.66.6.2 port = 9050\n") != NULL);
	CHECK(&c, "two allowed subnets: a rule pair each",
	      strstr(out, "from: 192.168.0.0/16 to: 0/0\n\tlog") &&
		      strstr(out, "from: 192.168.0.0/16 to: 0/0\n\tcommand: connect"));

	CHECK(&c, "no session limit given: none written", !strstr(out, "session.max"));
	p.sessions_max = 301;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "session limit over two subnets: half each, in the socks pass rules",
	      n > 0 && strstr(out, "from: 192.168.0.0/16 to: 0/0\n\tcommand: connect\n\tsession.max: 150\n") &&
		      strstr(out, "from: 10.66.6.0/24 to: 0/0\n\tcommand: connect\n\tsession.max: 150\n"));
	p.n_allow = 1;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "session limit, one subnet: all of it",
	      n > 0 && strstr(out, "\tcommand: connect\n\tsession.max: 301\n\tlog: error\n}\n"));
	p.n_allow = 2;
	CHECK(&c, "sessions for 128 MiB (109 MiB free at boot): at least 500 (issue 12)",
	      sockd_sessions_for(109 * 1024) >= 500 && sockd_sessions_for(109 * 1024) <= 600);
	CHECK(&c, "sessions grow with memory", sockd_sessions_for(230 * 1024) > 2 * sockd_sessions_for(106 * 1024));
	CHECK(&c, "sessions with almost nothing free: a floor, not 0 or a wrap",
	      sockd_sessions_for(0) == 16 && sockd_sessions_for(20 * 1024) == 16);

	CHECK(&c, "too small a buffer: -1, not a cut file", sockdconf_render(&p, out, 100) == -1);
	p.n_externals = 0;
	CHECK(&c, "no external interface: -1", sockdconf_render(&p, out, sizeof(out)) == -1);
	p = base();
	p.n_allow = 0;
	CHECK(&c, "no allowed client: -1", sockdconf_render(&p, out, sizeof(out)) == -1);

	p = base();
	p.has_exit = 1;
	inet_pton(AF_INET, "203.0.113.7", &p.exit_addr);
	p.exit_port = 1081;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "exit: renders", n > 0 && (size_t)n == strlen(out));
	CHECK(&c, "exit: one route for every CONNECT, names unresolved (0/0), username login",
	      strstr(out, "\nroute {\n\tfrom: 0/0 to: 0/0 via: 203.0.113.7 port = 1081\n"
			  "\tproxyprotocol: socks_v5\n\tcommand: connect\n\tmethod: username\n}\n") != NULL);
	CHECK(&c, "exit: the route never taken out of use after a failure",
	      strstr(out, "\nroute.maxfail: 0\nroute.badexpire: 0\n") != NULL &&
		      strstr(out, "route.maxfail") < strstr(out, "client pass"));
	CHECK(&c, "exit: no loopback rule (it would resolve names here)",
	      !strstr(out, "127.0.0.0/8") && !strstr(out, "::1/128"));
	CHECK(&c, "exit: the clients' own method unchanged", strstr(out, "\nsocksmethod: none\n") != NULL);
	CHECK(&c, "exit: no credentials in sockd.conf", !strstr(out, "pass:") && !strstr(out, "SOCKS_"));
	p.has_exit = 0;
	p.link_port = 1081;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "link: every CONNECT to the entry on loopback, no login",
	      n > 0 && strstr(out, "\nroute {\n\tfrom: 0/0 to: 0/0 via: 127.0.0.1 port = 1081\n"
				   "\tproxyprotocol: socks_v5\n\tcommand: connect\n\tmethod: none\n}\n") != NULL);
	CHECK(&c, "link: sockd may connect from loopback", strstr(out, "\nexternal: lo\n") != NULL);
	CHECK(&c, "link: the route never taken out of use, no loopback rule",
	      strstr(out, "\nroute.maxfail: 0\n") != NULL && !strstr(out, "127.0.0.0/8"));
	p.link_port = 0;
	n = sockdconf_render(&p, out, sizeof(out));
	CHECK(&c, "no exit: no route", n > 0 && !strstr(out, "route {") && !strstr(out, "route."));

	n = sockdroute_render("mp", "s3:cr et", out, sizeof(out));
	CHECK(&c, "route credentials: NAME:PASS line", n > 0 && strcmp(out, "mp:s3:cr et\n") == 0);
	CHECK(&c, "route credentials: empty or bad refused",
	      sockdroute_render("", "x", out, sizeof(out)) == -1 &&
		      sockdroute_render("m", "", out, sizeof(out)) == -1 &&
		      sockdroute_render("a:b", "x", out, sizeof(out)) == -1 &&
		      sockdroute_render("m", "x\ny", out, sizeof(out)) == -1);
	CHECK(&c, "route credentials: too small a buffer", sockdroute_render("mp", "pw", out, 4) == -1);

	inet_pton(AF_INET, "9.9.9.9", &dns[0]);
	inet_pton(AF_INET, "1.1.1.1", &dns[1]);
	n = resolvconf_render(dns, 2, out, sizeof(out));
	CHECK(&c, "resolv.conf", n > 0 && strcmp(out, "nameserver 9.9.9.9\nnameserver 1.1.1.1\n") == 0);
	CHECK(&c, "resolv.conf empty list", resolvconf_render(dns, 0, out, sizeof(out)) == 0 && out[0] == '\0');
	CHECK(&c, "resolv.conf too small: -1", resolvconf_render(dns, 2, out, 10) == -1);
	return CHECK_DONE(&c);
}
