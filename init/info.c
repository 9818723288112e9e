/* info: connection facts for the host on a virtio-serial port (see info.h). */
#include "info.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h> /* struct tcp_info with the byte counters (glibc's lacks them) */
#include <linux/inet_diag.h>
#if __has_include(<linux/mptcp_pm.h>)
#include <linux/mptcp_pm.h> /* 6.7+: MPTCP_SUBFLOW_ATTR_* moved here */
#else
#include <linux/mptcp.h> /* an older host's uapi (unit tests, glibc copes with its linux/in.h) */
#endif
#include <linux/sock_diag.h>
#include "fileio.h"
#include "linkentry.h"
#include "log.h"
#include "netlink.h"
#include "textbuf.h"

#define RETRY_MS 100u
#define RETRY_TRIES 100u    /* 10 s: the port may come after init starts, never much later */
#define WRITE_WAIT_MS 500   /* a host that stops reading does not stall PID 1 longer */
#define NOT_LISTEN (0xfffu & ~(1u << 10)) /* every TCP state but LISTEN (10) */

/* The head of the kernel's struct mptcp_info (linux/mptcp.h, a stable uapi layout). That
 * header cannot be included here: it pulls linux/in.h, which clashes with musl's netinet/in.h. */
struct msk_info {
	uint8_t subflows, add_addr_signal, add_addr_accepted, subflows_max;
	uint8_t add_addr_signal_max, add_addr_accepted_max;
	uint32_t flags, token;
	uint64_t write_seq, snd_una, rcv_nxt;
	uint8_t local_addr_used, local_addr_max, csum_enabled;
	uint32_t retransmits;
	uint64_t bytes_retrans, bytes_sent, bytes_received, bytes_acked;
};

#define ENDPOINT_LEN (INET6_ADDRSTRLEN + 8)

/* "A.B.C.D:PORT" or "[IPV6]:PORT" of a diag socket id end (network order). */
static const char *endpoint(char *s, size_t n, int family, const uint32_t addr[4], uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(s, n, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, ntohs(port));
	return s;
}

static bool inet_family(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Attributes after the inet_diag_msg header. */
static int diag_attrs(const struct nlmsghdr *nlh, const struct nlattr *tb[])
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg));

	if (nlh->nlmsg_len < off)
		return -1;
	return nla_parse(tb, INET_DIAG_MAX, (const unsigned char *)nlh + off, nlh->nlmsg_len - off);
}

static int msk_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	struct msk_info mi = { 0 };
	char l[ENDPOINT_LEN], r[ENDPOINT_LEN];
	size_t n;

	if (!inet_family(m->idiag_family) || diag_attrs(nlh, tb) != 0)
		return 0;
	if (tb[INET_DIAG_INFO]) {
		n = nla_len(tb[INET_DIAG_INFO]);
		memcpy(&mi, nla_data(tb[INET_DIAG_INFO]), n < sizeof(mi) ? n : sizeof(mi));
	}
	textbuf_put(arg, "msk token=%08x state=%u local=%s remote=%s flags=%u subflows=%u sent=%llu received=%llu acked=%llu retrans=%llu\n",
	    mi.token, m->idiag_state,
	    endpoint(l, sizeof(l), m->idiag_family, m->id.idiag_src, m->id.idiag_sport),
	    endpoint(r, sizeof(r), m->idiag_family, m->id.idiag_dst, m->id.idiag_dport), mi.flags, mi.subflows,
	    (unsigned long long)mi.bytes_sent, (unsigned long long)mi.bytes_received,
	    (unsigned long long)mi.bytes_acked, (unsigned long long)mi.bytes_retrans);
	return 0;
}

/* The subflow facts in INET_DIAG_ULP_INFO when the ULP is "mptcp"; 0 when it is not one. */
static int subflow_of(const struct nlattr *ulp, uint32_t *token, uint8_t *id, uint32_t *flags)
{
	const struct nlattr *tu[INET_ULP_INFO_MAX + 1], *ts[MPTCP_SUBFLOW_ATTR_MAX + 1];
	const char *name;

	if (!ulp || nla_parse(tu, INET_ULP_INFO_MAX, nla_data(ulp), nla_len(ulp)) != 0)
		return 0;
	name = nla_get_str(tu[INET_ULP_INFO_NAME]);
	if (!name || strcmp(name, "mptcp") != 0 || !tu[INET_ULP_INFO_MPTCP] ||
	    nla_parse(ts, MPTCP_SUBFLOW_ATTR_MAX, nla_data(tu[INET_ULP_INFO_MPTCP]),
		      nla_len(tu[INET_ULP_INFO_MPTCP])) != 0)
		return 0;
	*token = *id = *flags = 0;
	nla_get_u32(ts[MPTCP_SUBFLOW_ATTR_TOKEN_LOC], token);
	nla_get_u8(ts[MPTCP_SUBFLOW_ATTR_ID_LOC], id);
	nla_get_u32(ts[MPTCP_SUBFLOW_ATTR_FLAGS], flags);
	return 1;
}

static int tcp_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	struct tcp_info ti = { 0 };
	char l[ENDPOINT_LEN], r[ENDPOINT_LEN];
	uint32_t token, flags;
	uint8_t id;
	size_t n;

	if (!inet_family(m->idiag_family) || diag_attrs(nlh, tb) != 0)
		return 0;
	if (tb[INET_DIAG_INFO]) {
		n = nla_len(tb[INET_DIAG_INFO]);
		memcpy(&ti, nla_data(tb[INET_DIAG_INFO]), n < sizeof(ti) ? n : sizeof(ti));
	}
	endpoint(l, sizeof(l), m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	endpoint(r, sizeof(r), m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	if (subflow_of(tb[INET_DIAG_ULP_INFO], &token, &id, &flags))
		textbuf_put(arg, "sf token=%08x id=%u local=%s remote=%s state=%u flags=%#x rtt_us=%u sent=%llu acked=%llu received=%llu retrans=%u\n",
		    token, id, l, r, m->idiag_state, flags, ti.tcpi_rtt,
		    (unsigned long long)ti.tcpi_bytes_sent, (unsigned long long)ti.tcpi_bytes_acked,
		    (unsigned long long)ti.tcpi_bytes_received, ti.tcpi_total_retrans);
	else
		textbuf_put(arg, "tcp local=%s remote=%s state=%u rtt_us=%u sent=%llu received=%llu\n", l, r,
		    m->idiag_state, ti.tcpi_rtt, (unsigned long long)ti.tcpi_bytes_sent,
		    (unsigned long long)ti.tcpi_bytes_received);
	return 0;
}

/* One sock_diag dump of protocol (IPPROTO_MPTCP or IPPROTO_TCP) in family, all but listeners. */
static int dump(struct nl *nl, int family, unsigned protocol, nl_cb cb, struct textbuf *o)
{
	unsigned char buf[128] __attribute__((aligned(8)));
	struct inet_diag_req_v2 *req;
	struct nlb b;

	nlb_init(&b, buf, sizeof(buf), SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
	req = nlb_put_header(&b, sizeof(*req));
	if (!req)
		return -EMSGSIZE;
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = protocol > 255 ? IPPROTO_TCP : (uint8_t)protocol;
	req->idiag_states = NOT_LISTEN;
	req->idiag_ext = 1u << (INET_DIAG_INFO - 1);
	if (protocol > 255) /* IPPROTO_MPTCP does not fit the u8 field: an attribute carries it */
		nla_put_u32(&b, INET_DIAG_REQ_PROTOCOL, protocol);
	return nl_request(nl, &b, cb, o);
}

/* The link's exits as its entry last wrote them (linkentry.h): "ADDR:PORT STATE [serving]"
 * lines, padded with spaces, into "exit at=ADDR:PORT state=STATE serving=0|1". */
static void exits_put(struct textbuf *o, const char *path)
{
	char text[CFG_MAX_LINKS * 80 + 1], at[64], state[24], serving[16];
	char *line, *next;
	int n;

	if (read_file(path, text, sizeof(text)) <= 0)
		return;
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		serving[0] = '\0';
		n = sscanf(line, "%63s %23s %15s", at, state, serving);
		if (n >= 2)
			textbuf_put(o, "exit at=%s state=%s serving=%d\n", at, state, strcmp(serving, "serving") == 0);
	}
}

size_t info_answer(const char *req, char *buf, size_t cap)
{
	struct textbuf o;
	struct nl nl;
	int r;

	textbuf_init(&o, buf, cap - sizeof("truncated\nend\n"));
	if (strcmp(req, "conns") != 0) {
		textbuf_put(&o, "error unknown request (try: conns)\n");
	} else if (nl_open(&nl, NETLINK_SOCK_DIAG, 0) != 0) {
		textbuf_put(&o, "error sock_diag: %s\n", strerror(errno));
	} else {
		/* IPv6 only where the guest has it: without, the family has no diag handler. */
		int v6 = access("/proc/sys/net/ipv6", F_OK) == 0;

		r = dump(&nl, AF_INET, IPPROTO_MPTCP, msk_cb, &o);
		if (r == 0 && v6)
			r = dump(&nl, AF_INET6, IPPROTO_MPTCP, msk_cb, &o);
		if (r < 0)
			textbuf_put(&o, "error mptcp dump: %s\n", nl.err);
		r = dump(&nl, AF_INET, IPPROTO_TCP, tcp_cb, &o);
		if (r == 0 && v6)
			r = dump(&nl, AF_INET6, IPPROTO_TCP, tcp_cb, &o);
		if (r < 0)
			textbuf_put(&o, "error tcp dump: %s\n", nl.err);
		nl_close(&nl);
		exits_put(&o, LINK_STATE);
	}
	/* The reserve kept above always has room for the last lines. */
	memcpy(buf + o.len, o.full ? "truncated\nend\n" : "end\n", o.full ? 15 : 5);
	return o.len + (o.full ? 14 : 4);
}

/* Writes it all, waiting up to WRITE_WAIT_MS for a slow reader; the rest is dropped. */
static void send_all(int fd, const char *p, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t until = now_ms() + WRITE_WAIT_MS;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || now_ms() >= until)
			return; /* host gone, or not reading */
		poll(&pfd, 1, (int)(until - now_ms()));
	}
}

/* Edge-triggered: woken on data and on the host connecting or leaving (while no host is
 * connected the port always polls readable, so level-triggered would spin). */
static void on_port(void *arg)
{
	struct info *in = arg;
	char buf[256], *nl;
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(in->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* drained (EAGAIN), or no host connected (0) */
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != '\n') {
				if (in->req_len < sizeof(in->req) - 1)
					in->req[in->req_len++] = buf[i];
				continue;
			}
			in->req[in->req_len] = '\0';
			if ((nl = strchr(in->req, '\r')))
				*nl = '\0';
			in->req_len = 0;
			in->out_len = info_answer(in->req, in->out, sizeof(in->out));
			send_all(in->fd, in->out, in->out_len);
		}
	}
}

/* /dev/NAME of the virtio-serial port called INFO_PORT_NAME, from sysfs (no udev here). */
static int find_port(char *dev, size_t n)
{
	char path[300], name[64];
	struct dirent *d;
	DIR *dir = opendir("/sys/class/virtio-ports");
	int fd, found = -ENOENT;
	ssize_t r;

	if (!dir)
		return -ENOENT;
	while (found != 0 && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (r <= 0)
			continue;
		name[r] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, INFO_PORT_NAME) == 0) {
			snprintf(dev, n, "/dev/%s", d->d_name);
			found = 0;
		}
	}
	closedir(dir);
	return found;
}

static int try_open(struct info *in)
{
	char dev[300];
	int r = find_port(dev, sizeof(dev));

	if (r < 0)
		return r;
	in->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (in->fd < 0)
		return -errno;
	in->watch = (struct loop_watch){ in->fd, on_port, in, EPOLLET };
	if (loop_add_fd(in->loop, &in->watch) != 0) {
		r = -errno;
		close(in->fd);
		in->fd = -1;
		return r;
	}
	log_line("info: answering on %s (%s)", dev, INFO_PORT_NAME);
	on_port(in); /* a request may have come before the watch */
	return 0;
}

static void on_retry(void *arg)
{
	struct info *in = arg;
	int r = try_open(in);

	if (r == 0)
		return;
	if (++in->tries < RETRY_TRIES && r == -ENOENT)
		in->retry.when = now_ms() + RETRY_MS;
	else if (r != -ENOENT || access("/sys/class/virtio-ports", F_OK) == 0)
		log_line("info: no port %s: %s; status shows no connections", INFO_PORT_NAME,
			 strerror(-r));
	/* No virtio-ports at all (the hardware image, or no such qemu device): nothing to say. */
}

int info_setup(struct info *in, struct loop *l)
{
	in->fd = -1;
	in->loop = l;
	in->retry = (struct loop_timer){ 0, on_retry, in };
	if (loop_add_timer(l, &in->retry) != 0)
		return -ENOSPC;
	in->retry.when = now_ms(); /* first look from the loop: never delays the boot stages */
	return 0;
}
