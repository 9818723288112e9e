/* End-to-end test of the built init (out/bin/init, static musl) as PID 1: each scenario runs
 * it in fresh PID, mount, network and UTS namespaces, chrooted into a scratch root holding
 * init, sockd and rootfs-overlay/etc, with a /proc/cmdline of the scenario's choosing (init
 * leaves an /proc that is already mounted alone). The NICs are veth pairs made in that
 * network namespace: some before init starts, one while it waits, one after it gave up
 * waiting. Checks the console lines of the contract, the kernel's state, SOCKS with
 * username/password through the real sockd, restart after a crash, a DHCP uplink whose leases
 * udhcpc's script reports and init applies, every CONNECT through an exit (a real sockd with
 * credentials of its own), and power off (in a PID namespace,
 * reboot(RB_POWER_OFF) ends init with SIGINT). Needs root. */
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "check.h"

#ifndef INIT_BIN
#error "build with -DINIT_BIN=\"out/bin/init\" -DSOCKD_BIN=... -DOVERLAY_ETC=..."
#endif

struct run {
	pid_t pid1;    /* host pid of init */
	int out;       /* its console */
	char log[65536];
	size_t len;
	char root[64];
	int hide_mptcp; /* an empty /proc/sys/net/mptcp: what a kernel without MPTCP shows */
};

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads console output until `needle` occurs `count` times or timeout_ms passed. */
static int wait_for(struct run *r, const char *needle, int count, int timeout_ms)
{
	uint64_t end = ms() + (uint64_t)timeout_ms;

	for (;;) {
		const char *p = r->log;
		int seen = 0;
		struct pollfd pfd = { .fd = r->out, .events = POLLIN };
		ssize_t n;

		while ((p = strstr(p, needle)) != NULL) {
			seen++;
			p++;
		}
		if (seen >= count)
			return 1;
		if (ms() >= end || r->len >= sizeof(r->log) - 1)
			return 0;
		if (poll(&pfd, 1, (int)(end - ms())) <= 0)
			continue;
		n = read(r->out, r->log + r->len, sizeof(r->log) - 1 - r->len);
		if (n <= 0)
			return 0;
		r->len += (size_t)n;
		r->log[r->len] = '\0';
	}
}

static int copy(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;
	int ok = in >= 0 && out >= 0;

	while (ok && (n = read(in, buf, sizeof(buf))) > 0)
		ok = write(out, buf, (size_t)n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok ? 0 : -1;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void veth(int i)
{
	sh("ip link add eth%d type veth peer name peer%d && ip addr add 10.66.%d.1/24 dev peer%d && "
	   "ip link set peer%d up", i, i, 6 + i, i, i);
}

/* The scratch root: init, optionally sockd, the overlay's /etc, the scenario's cmdline. */
static int make_root(struct run *r, int with_sockd, const char *cmdline)
{
	static const char *const dirs[] = { "proc", "sys", "dev", "run", "tmp", "etc", "bin" };
	static const char *const etc[] = { "passwd", "group", "shadow", "hosts" };
	char p[256], q[256];
	size_t i;
	int fd;

	snprintf(r->root, sizeof(r->root), "/tmp/mpsocks-pid1-XXXXXX");
	/* As in the image: / readable by all (mkdtemp makes it 0700), /tmp everyone's (dante's
	 * unprivileged processes create their shared-memory files there: session.max). */
	if (!mkdtemp(r->root) || chmod(r->root, 0755) != 0)
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", r->root, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/tmp", r->root);
	if (chmod(p, 01777) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/init", r->root);
	if (copy(INIT_BIN, p, 0755) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/bin/sockd", r->root);
	if (with_sockd && copy(SOCKD_BIN, p, 0755) != 0)
		return -1;
	for (i = 0; i < sizeof(etc) / sizeof(etc[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", OVERLAY_ETC, etc[i]);
		snprintf(q, sizeof(q), "%s/etc/%s", r->root, etc[i]);
		if (copy(p, q, strcmp(etc[i], "shadow") ? 0644 : 0600) != 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/cmdline", r->root);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, cmdline, strlen(cmdline)) < 0 || close(fd) != 0)
		return -1;
	return 0;
}

/* In the namespaces: the view init gets, then init itself. Never returns. */
static void exec_init(struct run *r, int out)
{
	char p[256], q[256];

	snprintf(p, sizeof(p), "%s/proc", r->root);
	if (mount("proc", p, "proc", 0, NULL) != 0)
		_exit(120);
	snprintf(q, sizeof(q), "%s/cmdline", r->root);
	snprintf(p, sizeof(p), "%s/proc/cmdline", r->root);
	if (mount(q, p, NULL, MS_BIND, NULL) != 0)
		_exit(121);
	snprintf(p, sizeof(p), "%s/proc/sys/net/mptcp", r->root);
	if (r->hide_mptcp && mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) != 0)
		_exit(127);
	snprintf(p, sizeof(p), "%s/sys", r->root);
	if (mount("sysfs", p, "sysfs", 0, NULL) != 0)
		_exit(122);
	/* A /dev without the host's console: init then keeps the pipe on fds 0-2. */
	snprintf(p, sizeof(p), "%s/dev", r->root);
	if (mount("tmpfs", p, "tmpfs", 0, "mode=0755") != 0)
		_exit(123);
	snprintf(p, sizeof(p), "%s/dev/null", r->root);
	close(open(p, O_CREAT | O_WRONLY, 0666));
	if (mount("/dev/null", p, NULL, MS_BIND, NULL) != 0)
		_exit(124);
	dup2(out, 1);
	dup2(out, 2);
	close(0);
	open("/dev/null", O_RDONLY);
	if (chroot(r->root) != 0 || chdir("/") != 0)
		_exit(125);
	/* A controller that dies on a failed check must not leave init (and its fds) running. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execl("/init", "/init", (char *)NULL);
	_exit(126);
}

/* Runs in the controller (own network, mount and UTS namespaces); init gets a new PID one. */
static pid_t start_init(struct run *r)
{
	int p[2];
	pid_t pid;

	/* The first fork after this is PID 1 of the new namespace: that must be init, so the
	 * controller's earlier helpers (ip) ran before it. */
	if (pipe(p) != 0 || unshare(CLONE_NEWPID) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		exec_init(r, p[1]);
	}
	close(p[1]);
	r->out = p[0];
	r->pid1 = pid;
	return pid;
}

/* The host pid of init's child named comm ("sockd"), or 0. */
static pid_t child_named(pid_t parent, const char *comm)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && (e = readdir(d)) != NULL && !found) {
		char path[300], stat[512], name[64];
		int ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(stat, sizeof(stat), f) && sscanf(stat, "%*d (%63[^)]) %*c %d", name, &ppid) == 2 &&
		    ppid == parent && strcmp(name, comm) == 0)
			found = atoi(e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* SOCKS5 greeting (and RFC 1929 login when user is given); returns the final status byte
 * (0 = accepted) or -1 when the exchange failed. */
static int socks_login_at(const char *addr, const char *user, const char *pass)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(1080) };
	unsigned char buf[600], reply[2];
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), r = -1;
	size_t n;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	buf[0] = 5;
	buf[1] = 1;
	buf[2] = user ? 2 : 0;
	if (write(fd, buf, 3) != 3 || read(fd, reply, 2) != 2 || reply[0] != 5)
		goto out;
	if (!user) {
		r = reply[1];
		goto out;
	}
	if (reply[1] != 2)
		goto out;
	n = 0;
	buf[n++] = 1;
	buf[n++] = (unsigned char)strlen(user);
	memcpy(buf + n, user, strlen(user));
	n += strlen(user);
	buf[n++] = (unsigned char)strlen(pass);
	memcpy(buf + n, pass, strlen(pass));
	n += strlen(pass);
	if (write(fd, buf, n) != (ssize_t)n || read(fd, reply, 2) != 2)
		goto out;
	r = reply[1];
out:
	close(fd);
	return r;
}

static int socks_login(const char *user, const char *pass)
{
	return socks_login_at("10.66.6.2", user, pass);
}

static int file_has(struct run *r, const char *file, const char *needle)
{
	char p[256], buf[8192];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", r->root, file);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

static int cmd_has(const char *cmd, const char *needle)
{
	char buf[4096];
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		pclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Ends init with sig and checks that it powered off: in a PID namespace that shows as death
 * by SIGINT. */
static int powers_off(struct run *r, int sig)
{
	int status = 0;
	uint64_t end = ms() + 10000;

	kill(r->pid1, sig);
	while (ms() < end) {
		pid_t p = waitpid(r->pid1, &status, WNOHANG);

		if (p == r->pid1) {
			/* Whatever it wrote last is still in the pipe: read up to EOF. */
			while (r->len < sizeof(r->log) - 1) {
				ssize_t n = read(r->out, r->log + r->len, sizeof(r->log) - 1 - r->len);
				if (n <= 0)
					break;
				r->len += (size_t)n;
				r->log[r->len] = '\0';
			}
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGINT;
		}
		wait_for(r, "\n\n\n", 1, 50); /* keep reading the console meanwhile */
	}
	kill(r->pid1, SIGKILL);
	return 0;
}

static void scenario_full(struct check *c)
{
	static struct run r;
	char shadow[512];
	pid_t sockd;

	if (make_root(&r, 1, "console=ttyS0 mpsocks.nic=eth0,10.66.6.2/24,gw=10.66.6.1 "
			  "mpsocks.nic=eth1,10.66.7.2/24,gw=10.66.7.1,backup mpsocks.nic=eth2,10.66.8.2/24,gw=10.66.8.1 "
			  "mpsocks.nic=eth3,10.66.9.2/24,gw=10.66.9.1 mpsocks.user=alice:pa:ss mpsocks.dns=10.66.6.1 "
			  "mpsocks.bogus=1\n") != 0) {
		CHECK(c, "full: scratch root", 0);
		return;
	}
	veth(0);
	veth(1);
	if (start_init(&r) < 0) {
		CHECK(c, "full: init started", 0);
		return;
	}
	usleep(500000);
	veth(2); /* while init waits: the wait must end when it comes, not at the timeout */
	CHECK(c, "full: unknown parameter named on the console, the rest goes on",
	      wait_for(&r, "cmdline: mpsocks.bogus=1: unknown parameter, ignored", 1, 5000));
	CHECK(c, "full: NIC that came during the wait is taken, missing one reported",
	      wait_for(&r, "nic eth3: not present after 5000 ms", 1, 8000) &&
		      wait_for(&r, "nics: 3 of 4 present", 1, 3000));
	CHECK(c, "full: NIC line with table, gateway and rule",
	      wait_for(&r, "nic eth0: 10.66.6.2/24, table 100 default via 10.66.6.1, rule from 10.66.6.2", 1, 3000));
	CHECK(c, "full: main default route via the first non-backup uplink",
	      wait_for(&r, "route: main default via 10.66.6.1 dev eth0", 1, 3000));
	CHECK(c, "full: limits sized to the NICs present",
	      wait_for(&r, "mptcp: limits subflows=3 add_addr_accepted=3", 1, 3000));
	CHECK(c, "full: endpoints read back, backup flag, bound to devices",
	      wait_for(&r, "endpoint id=3 10.66.8.2 dev eth2 flags=subflow", 1, 3000) &&
		      strstr(r.log, "endpoint id=1 10.66.6.2 dev eth0 flags=subflow\n") &&
		      strstr(r.log, "endpoint id=2 10.66.7.2 dev eth1 flags=subflow,backup\n"));
	CHECK(c, "full: sockd listening line", wait_for(&r, "sockd listening on 10.66.6.2:1080", 1, 10000));
	CHECK(c, "full: lines are timestamped", strstr(r.log, "mpsocks: [") == r.log);
	CHECK(c, "full: kernel agrees: rule and per-uplink table",
	      cmd_has("ip rule", "from 10.66.7.2 lookup 101") &&
		      cmd_has("ip route show table 102", "default via 10.66.8.1 dev eth2"));
	CHECK(c, "full: loose rp_filter", cmd_has("cat /proc/sys/net/ipv4/conf/all/rp_filter", "2"));
	CHECK(c, "full: resolv.conf", file_has(&r, "etc/resolv.conf", "nameserver 10.66.6.1\n"));
	CHECK(c, "full: sockd.conf asks for username, lists the externals",
	      file_has(&r, "etc/sockd.conf", "socksmethod: username\n") &&
		      file_has(&r, "etc/sockd.conf", "external: eth2\n") &&
		      file_has(&r, "etc/sockd.conf", "from: 10.66.6.0/24 to: 0/0"));
	{
		char p[256];
		FILE *f;
		snprintf(p, sizeof(p), "%s/etc/shadow", r.root);
		f = fopen(p, "r");
		shadow[0] = '\0';
		while (f && fgets(shadow, sizeof(shadow), f) && strncmp(shadow, "alice:", 6) != 0)
			shadow[0] = '\0';
		if (f)
			fclose(f);
		*strchrnul(shadow + 6, ':') = '\0';
		CHECK(c, "full: shadow holds a SHA-512 hash of the password",
		      strncmp(shadow, "alice:$6$", 9) == 0 && strcmp(crypt("pa:ss", shadow + 6), shadow + 6) == 0);
	}
	CHECK(c, "full: SOCKS login with the right password accepted", socks_login("alice", "pa:ss") == 0);
	CHECK(c, "full: SOCKS login with a wrong password refused", socks_login("alice", "nope") > 0);
	CHECK(c, "full: SOCKS without login refused", socks_login(NULL, NULL) != 0);

	veth(3); /* after the wait gave up: configured when it comes */
	CHECK(c, "full: late NIC configured with its endpoint",
	      wait_for(&r, "nic eth3: appeared late", 1, 5000) &&
		      wait_for(&r, "endpoint id=4 10.66.9.2 dev eth3 flags=subflow", 1, 5000) &&
		      strstr(r.log, "mptcp: limits subflows=4 add_addr_accepted=4"));
	kill(r.pid1, SIGHUP); /* uplink addresses changed: eth3 becomes an external */
	CHECK(c, "full: SIGHUP: sockd.conf rewritten with the new uplink, sockd restarted",
	      wait_for(&r, "sockd: /etc/sockd.conf written (listen 10.66.6.2:1080, 4 externals", 1, 5000) &&
		      wait_for(&r, "sockd: restarting with the new uplink set", 1, 5000) &&
		      wait_for(&r, "sockd listening on 10.66.6.2:1080", 2, 10000) &&
		      file_has(&r, "etc/sockd.conf", "external: eth3\n"));
	kill(r.pid1, SIGHUP);
	usleep(200000);
	wait_for(&r, "\n\n\n", 1, 100);
	CHECK(c, "full: SIGHUP without a change: sockd left alone",
	      !strstr(strstr(r.log, "restarting with the new uplink set") + 1, "restarting with the new uplink set"));
	sh("ip link set peer0 down");
	CHECK(c, "full: carrier loss reported", wait_for(&r, "nic eth0: carrier down", 1, 5000));

	sockd = child_named(r.pid1, "sockd");
	CHECK(c, "full: sockd is init's child", sockd > 0);
	if (sockd > 0)
		kill(sockd, SIGSEGV);
	CHECK(c, "full: crash logged with the reason and the restart delay",
	      wait_for(&r, "sockd exited (killed by signal 11 (Segmentation fault)); restart in ", 1, 5000));
	CHECK(c, "full: sockd back after the crash", wait_for(&r, "sockd listening on 10.66.6.2:1080", 3, 10000));
	CHECK(c, "full: SIGTERM: children stopped, power off", powers_off(&r, SIGTERM) &&
	      strstr(r.log, "shutdown (SIGTERM): stopping processes") && strstr(r.log, "power off"));
	/* TERM to sockd's main process alone: it ends its helpers; a TERM to each had it log
	 * their deaths as unexpected (~40 lines). */
	CHECK(c, "full: sockd stopped by its main process: no helper deaths logged, nothing KILLed",
	      !strstr(r.log, "exited unexpectedly") && !strstr(r.log, "child deaths") &&
		      !strstr(r.log, "processes left after"));
	if (c->failed)
		printf("# console of the full scenario:\n%s", r.log);
	sh("rm -rf '%s'", r.root);
}

static void scenario_broken(struct check *c)
{
	static struct run r;

	if (make_root(&r, 0, "mpsocks.nic=eth0,10.66.6.2/24 mpsocks.port=0 mpsocks.nic=eth1,10.1.1.1/40 "
			  "mpsocks.nic=eth2,10.66.8.2/24\n") != 0) {
		CHECK(c, "broken: scratch root", 0);
		return;
	}
	veth(0);
	r.hide_mptcp = 1;
	if (start_init(&r) < 0) {
		CHECK(c, "broken: init started", 0);
		return;
	}
	usleep(300000);
	veth(2);
	{
		const char *p;
		int waited = -1;

		wait_for(&r, "sysctl: ", 1, 8000); /* the line after, so the number is complete */
		p = strstr(r.log, "nics: 2 of 2 present after ");
		if (p)
			waited = atoi(p + strlen("nics: 2 of 2 present after "));
		CHECK(c, "broken: the wait ends when the last NIC comes, not at the timeout",
		      waited >= 200 && waited < 2500);
	}
	CHECK(c, "broken: bad port named, one line",
	      wait_for(&r, "cmdline: mpsocks.port=0: expected a port number 1-65535, ignored", 1, 5000));
	CHECK(c, "broken: bad NIC named, one line",
	      wait_for(&r, "cmdline: mpsocks.nic=eth1,10.1.1.1/40: bad address", 1, 5000));
	CHECK(c, "broken: good NIC still configured", wait_for(&r, "nic eth0: 10.66.6.2/24, table 100", 1, 5000));
	CHECK(c, "broken: no MPTCP: one line, no endpoints, the rest goes on",
	      wait_for(&r, "mptcp: this kernel has no MPTCP (net.mptcp.enabled: No such file or directory); "
			   "connections stay plain TCP", 1, 5000) &&
		      wait_for(&r, "sockd: /etc/sockd.conf written", 1, 5000) && !strstr(r.log, "endpoint id="));
	CHECK(c, "broken: missing sockd: reason and backoff, twice",
	      wait_for(&r, "sockd exited (exec /bin/sockd: No such file or directory); restart in 100 ms", 1, 5000) &&
		      wait_for(&r, "restart in 200 ms", 1, 5000));
	CHECK(c, "broken: init still alive", waitpid(r.pid1, NULL, WNOHANG) == 0);
	CHECK(c, "broken: SIGUSR2 powers off", powers_off(&r, SIGUSR2) && strstr(r.log, "shutdown (SIGUSR2"));
	if (c->failed)
		printf("# console of the broken scenario:\n%s", r.log);
	sh("rm -rf '%s'", r.root);
}

/* Runs udhcpc's script as udhcpc would: /bin/mpsocks-dhcp EVENT (a link to /init) in init's
 * root, with the lease's variables for eth1 when ip is given. True when it exited 0. */
static int hook(struct run *r, const char *event, const char *ip)
{
	char e_ip[64], *env[8];
	pid_t pid;
	int n = 0, st, fd;

	env[n++] = "interface=eth1";
	if (ip) {
		snprintf(e_ip, sizeof(e_ip), "ip=%s", ip);
		env[n++] = e_ip;
		env[n++] = "subnet=255.255.255.0";
		env[n++] = "router=10.66.7.1";
		env[n++] = "dns=10.66.7.1";
		env[n++] = "lease=60";
	}
	env[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chroot(r->root) != 0 || chdir("/") != 0)
			_exit(125);
		execle("/bin/mpsocks-dhcp", "/bin/mpsocks-dhcp", event, (char *)NULL, env);
		_exit(126);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int count(const char *log, const char *needle)
{
	int n = 0;

	while ((log = strstr(log, needle)) != NULL) {
		n++;
		log++;
	}
	return n;
}

/* A DHCP uplink (hardware image): the script only reports, PID 1 applies. udhcpc itself is
 * not in this root (its start fails and is retried); the test runs the script as udhcpc would. */
static void scenario_dhcp(struct check *c)
{
	static struct run r;
	char p[256];
	int fd, ok;

	if (make_root(&r, 1, "mpsocks.lan=eth0,10.66.6.2/24 mpsocks.nic=eth1,dhcp\n") != 0) {
		CHECK(c, "dhcp: scratch root", 0);
		return;
	}
	snprintf(p, sizeof(p), "%s/bin/mpsocks-dhcp", r.root);
	if (symlink("/init", p) != 0) {
		CHECK(c, "dhcp: the hook's link", 0);
		return;
	}
	veth(0);
	veth(1);
	if (start_init(&r) < 0) {
		CHECK(c, "dhcp: init started", 0);
		return;
	}
	CHECK(c, "dhcp: no sockd before a lease",
	      wait_for(&r, "nic eth1: dhcp, link up; address when a lease comes", 1, 8000) &&
		      wait_for(&r, "sockd: no uplink has an address yet", 1, 5000));
	CHECK(c, "dhcp: bound: the script reports, init applies it and starts sockd",
	      hook(&r, "bound", "10.66.7.2") &&
		      file_has(&r, "run/mpsocks-dhcp/eth1.lease",
			       "event=bound ip=10.66.7.2/24 router=10.66.7.1 dns=10.66.7.1 lease=60\n") &&
		      wait_for(&r, "nic eth1: 10.66.7.2/24, table 100 default via 10.66.7.1, rule from 10.66.7.2 "
				   "(dhcp bound, lease 60 s)", 1, 5000) &&
		      wait_for(&r, "endpoint id=1 10.66.7.2 dev eth1 flags=subflow", 1, 5000) &&
		      wait_for(&r, "sockd listening on 10.66.6.2:1080", 1, 10000));
	CHECK(c, "dhcp: the kernel holds what init applied, resolv.conf from the lease",
	      cmd_has("ip rule", "from 10.66.7.2 lookup 100") && cmd_has("ip rule", "40000:") &&
		      cmd_has("ip route show table 100", "default via 10.66.7.1 dev eth1") &&
		      file_has(&r, "etc/resolv.conf", "nameserver 10.66.7.1\n") &&
		      file_has(&r, "etc/sockd.conf", "external: eth1\n"));
	CHECK(c, "dhcp: renew of the same address: applied, sockd left alone",
	      hook(&r, "renew", "10.66.7.2") && wait_for(&r, "(dhcp renew, lease 60 s)", 1, 5000) &&
		      count(r.log, "sockd started") == 1);
	CHECK(c, "dhcp: deconfig: endpoint and address removed by init, sockd left alone",
	      hook(&r, "deconfig", NULL) &&
		      wait_for(&r, "nic eth1: dhcp lease gone: 1 address removed, endpoint removed", 1, 5000) &&
		      !cmd_has("ip -4 addr show dev eth1", "inet ") && !strstr(r.log, "restarting"));
	CHECK(c, "dhcp: bound again: applied again, sockd still left alone",
	      hook(&r, "bound", "10.66.7.2") && wait_for(&r, "endpoint id=1 10.66.7.2", 2, 5000) &&
		      count(r.log, "sockd started") == 1 && !strstr(r.log, "restarting"));
	CHECK(c, "dhcp: nak is not reported", hook(&r, "nak", NULL) &&
						     file_has(&r, "run/mpsocks-dhcp/eth1.lease", "event=bound"));
	/* A report without its prefix, then the wake-up byte, as the script would send them. */
	snprintf(p, sizeof(p), "%s/run/mpsocks-dhcp/eth1.lease", r.root);
	fd = open(p, O_WRONLY | O_TRUNC);
	ok = fd >= 0 && write(fd, "event=bound ip=10.66.7.2\n", 25) == 25;
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/run/mpsocks-dhcp/wake", r.root);
	CHECK(c, "dhcp: a malformed report is named and ignored",
	      ok && sh("printf x > '%s'", p) == 0 &&
		      wait_for(&r, "nic eth1: dhcp: malformed report in /run/mpsocks-dhcp/eth1.lease; ignored", 1, 5000) &&
		      cmd_has("ip -4 addr show dev eth1", "10.66.7.2/24"));
	CHECK(c, "dhcp: SIGTERM powers off", powers_off(&r, SIGTERM) && strstr(r.log, "power off"));
	if (c->failed)
		printf("# console of the dhcp scenario:\n%s", r.log);
	sh("rm -rf '%s'", r.root);
}

/* No mpsocks parameter at all: every stage says what it lacks, init idles until told to stop. */
static void scenario_empty(struct check *c)
{
	static struct run r;

	if (make_root(&r, 1, "console=ttyS0 quiet\n") != 0 || start_init(&r) < 0) {
		CHECK(c, "empty: init started", 0);
		return;
	}
	CHECK(c, "empty: no uplinks said once",
	      wait_for(&r, "cmdline: no mpsocks.nic=IF,ADDR/PREFIX[,gw=GW] given: no uplinks", 1, 5000));
	CHECK(c, "empty: no sockd without an address to listen on",
	      wait_for(&r, "sockd: no static address to listen on; not started", 1, 5000) &&
		      !strstr(r.log, "sockd started"));
	CHECK(c, "empty: SIGINT (Ctrl-Alt-Del) powers off", powers_off(&r, SIGINT) &&
	      strstr(r.log, "shutdown (SIGINT: Ctrl-Alt-Del or power button)"));
	if (c->failed)
		printf("# console of the empty scenario:\n%s", r.log);
	sh("rm -rf '%s'", r.root);
}

/* A one-shot TCP server in the network namespace of process ns_pid: accepts one connection,
 * writes text, exits. Returns once it listens: its pid, or -1. */
static pid_t serve_once(pid_t ns_pid, const char *addr, int port, const char *text)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	int one = 1, fd, c, up[2];
	char path[64], b;
	pid_t pid;

	if (pipe(up) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ns_pid);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			_exit(1);
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		inet_pton(AF_INET, addr, &sa.sin_addr);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
		    write(up[1], "", 1) != 1)
			_exit(1);
		alarm(20);
		c = accept(fd, NULL, NULL);
		if (c >= 0 && write(c, text, strlen(text)) < 0)
			_exit(1);
		_exit(0);
	}
	close(up[1]);
	c = pid > 0 && read(up[0], &b, 1) == 1;
	close(up[0]);
	return c ? pid : -1;
}

/* SOCKS5 CONNECT without login to name:port through the proxy at addr:1080; reads what the
 * target sends into got. The reply code (0 = granted), or -1. */
static int socks_connect_name(const char *addr, const char *name, int port, char *got, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(1080) };
	unsigned char buf[300], reply[10];
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), r = -1;
	size_t n = 0, len = strlen(name);
	ssize_t k;

	got[0] = '\0';
	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || write(fd, "\x05\x01\x00", 3) != 3 ||
	    read(fd, reply, 2) != 2 || reply[1] != 0)
		goto out;
	buf[n++] = 5, buf[n++] = 1, buf[n++] = 0, buf[n++] = 3, buf[n++] = (unsigned char)len;
	memcpy(buf + n, name, len);
	n += len;
	buf[n++] = (unsigned char)(port >> 8), buf[n++] = (unsigned char)port;
	if (write(fd, buf, n) != (ssize_t)n || read(fd, reply, 10) != 10)
		goto out;
	r = reply[1];
	k = r == 0 ? read(fd, got, size - 1) : 0;
	got[k > 0 ? k : 0] = '\0';
out:
	close(fd);
	return r;
}

/* mpsocks.exit: every CONNECT through an exit, here a real sockd with its own credentials
 * (MPSOCKS_CREDENTIALS) in a network namespace of its own behind peer0 (another host: in init's,
 * the route to it would be local), which alone knows the target's name. */
static void scenario_exit(struct check *c)
{
	static struct run r;
	char p[256], q[256], got[64], log[256];
	struct stat st;
	pid_t exit_pid, server;
	int fd, ready[2], unshared[2], tries;

	if (make_root(&r, 1, "console=ttyS0 mpsocks.nic=eth0,10.66.6.2/24,gw=10.66.6.1 "
			  "mpsocks.exit=10.66.6.1:1081 \"mpsocks.exit_user=mp:ex it:pw\"\n") != 0) {
		CHECK(c, "exit: scratch root", 0);
		return;
	}
	veth(0);
	/* The exit: allowed from the uplink's subnet, login mp only (not a host user). */
	snprintf(p, sizeof(p), "%s/exit.conf", r.root);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dprintf(fd, "logoutput: stderr\ninternal: 10.66.6.1 port = 1081\nexternal: peer0\n"
		    "socksmethod: username\nclientmethod: none\nuser.privileged: root\n"
		    "user.unprivileged: nobody\nclient pass {\n from: 10.66.6.0/24 to: 0/0\n}\n"
		    "socks pass {\n from: 10.66.6.0/24 to: 0/0\n command: connect\n}\n");
	close(fd);
	snprintf(q, sizeof(q), "%s/exit-users", r.root);
	fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dprintf(fd, "mp:%s\n", crypt("ex it:pw", "$6$exitsalt$"));
	close(fd);
	/* The name only the exit can resolve (the controller has its own mount namespace). */
	snprintf(log, sizeof(log), "%s/hosts", r.root);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dprintf(fd, "127.0.0.1 localhost\n10.66.6.1 target.exit.test\n");
	close(fd);
	sh("mount --bind '%s' /etc/hosts", log);
	snprintf(log, sizeof(log), "%s/exit.log", r.root);
	if (pipe(ready) != 0 || pipe(unshared) != 0)
		return;
	exit_pid = fork();
	if (exit_pid == 0) {
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		char b;

		close(ready[1]);
		close(unshared[0]);
		if (unshare(CLONE_NEWNET) != 0 || write(unshared[1], "", 1) != 1 || read(ready[0], &b, 1) != 1)
			_exit(126);
		dup2(out, 1);
		dup2(out, 2);
		setenv("MPSOCKS_CREDENTIALS", q, 1);
		execl(SOCKD_BIN, "sockd", "-f", p, "-N", "1", (char *)NULL);
		_exit(127);
	}
	close(ready[0]);
	close(unshared[1]);
	if (read(unshared[0], got, 1) != 1) /* its own network namespace now */
		return;
	close(unshared[0]);
	sh("ip link set peer0 netns %d && nsenter -t %d -n sh -c 'ip link set lo up && "
	   "ip addr add 10.66.6.1/24 dev peer0 && ip link set peer0 up'", (int)exit_pid, (int)exit_pid);
	server = serve_once(exit_pid, "10.66.6.1", 8081, "hello through the exit\n"); /* on the exit's host */
	if (write(ready[1], "", 1) != 1)
		return;
	close(ready[1]);
	/* The exit answers before init's sockd first tries it (seen late once on a busy host). */
	for (tries = 0; tries < 200 && !file_has(&r, "exit.log", " running"); tries++)
		usleep(50000);
	if (start_init(&r) < 0) {
		CHECK(c, "exit: init started", 0);
		return;
	}
	CHECK(c, "exit: sockd listening", wait_for(&r, "sockd listening on 10.66.6.2:1080", 1, 10000));
	CHECK(c, "exit: console names the exit and where its login went",
	      strstr(r.log, "sockd: every CONNECT through the exit 10.66.6.1:1081\n") &&
		      strstr(r.log, "exit: login mp in /etc/sockd.conf.route\n") &&
		      strstr(r.log, "dns: no mpsocks.dns given; the exit resolves names\n"));
	CHECK(c, "exit: the password never on the console", !strstr(r.log, "ex it:pw") && !strstr(r.log, "it:pw"));
	snprintf(p, sizeof(p), "%s/etc/sockd.conf.route", r.root);
	CHECK(c, "exit: login file NAME:PASS, root, mode 0600",
	      file_has(&r, "etc/sockd.conf.route", "mp:ex it:pw\n") && stat(p, &st) == 0 && st.st_uid == 0 &&
		      (st.st_mode & 0777) == 0600);
	CHECK(c, "exit: sockd.conf routes through the exit, no password in it",
	      file_has(&r, "etc/sockd.conf", "via: 10.66.6.1 port = 1081\n") &&
		      file_has(&r, "etc/sockd.conf", "route.maxfail: 0\n") && !file_has(&r, "etc/sockd.conf", "it:pw"));
	CHECK(c, "exit: a client without login reaches a name only the exit resolves",
	      socks_connect_name("10.66.6.2", "target.exit.test", 8081, got, sizeof(got)) == 0 &&
		      strcmp(got, "hello through the exit\n") == 0);
	CHECK(c, "exit: SIGTERM powers off", powers_off(&r, SIGTERM));
	if (exit_pid > 0) {
		kill(exit_pid, SIGTERM);
		waitpid(exit_pid, NULL, 0);
	}
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
	}
	if (c->failed) {
		printf("# console of the exit scenario:\n%s", r.log);
		sh("sed 's/^/# exit: /' '%s'", log);
	}
	sh("umount /etc/hosts; rm -rf '%s'", r.root);
}

/* Each scenario in a controller process with its own namespaces; init is its child. */
static int run_isolated(void (*scenario)(struct check *), struct check *c)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct check mine = { c->suite, 0 };

		if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
			CHECK(&mine, "namespaces (run as root)", 0);
			_exit(1);
		}
		sh("ip link set lo up");
		scenario(&mine);
		fflush(stdout);
		_exit(mine.failed ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		CHECK(c, "scenario controller ended normally", 0);
		return -1;
	}
	if (WEXITSTATUS(status))
		c->failed++; /* its FAIL lines are printed already */
	return 0;
}

int main(void)
{
	struct check c = { "pid1", 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	run_isolated(scenario_full, &c);
	run_isolated(scenario_broken, &c);
	run_isolated(scenario_dhcp, &c);
	run_isolated(scenario_empty, &c);
	run_isolated(scenario_exit, &c);
	return CHECK_DONE(&c);
}
