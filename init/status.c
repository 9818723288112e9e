/* status: the JSON status document (see status.h). */
#include "status.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include "fileio.h"
#include "linkentry.h"
#include "log.h"
#include "textbuf.h"

#define VERSION_FILE "/mpsocks-version" /* appended by release/mkdist: MPSOCKS_IMAGE_VERSION=V */
#define SF_BACKUP_LOC 0x20                /* MPTCP_SUBFLOW_FLAG_BKUP_LOC */
#define MSK_FALLBACK 1                    /* MPTCP_INFO_FLAG_FALLBACK */

static const char *tcp_state(unsigned s)
{
	static const char *const names[] = { "?", "established", "syn-sent", "syn-recv", "fin-wait1",
		"fin-wait2", "time-wait", "close", "close-wait", "last-ack", "listen", "closing" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* A JSON string of text we did not write ourselves: quotes, backslashes and controls escaped. */
static void put_str(struct textbuf *o, const char *s)
{
	char tmp[256];
	size_t n = 0;

	for (; *s && n < sizeof(tmp) - 7; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\u%04x", c);
		else
			tmp[n++] = (char)c;
	}
	tmp[n] = '\0';
	textbuf_put(o, "\"%s\"", tmp);
}

static bool is_client(const struct status *st, const struct diag_sock *s)
{
	return s->family == AF_INET && s->src[0] == st->listen->s_addr && s->sport == st->cfg->port;
}

static void client_cb(const struct diag_sock *s, void *arg)
{
	struct textbuf *o = ((void **)arg)[0];
	struct status *st = ((void **)arg)[1];
	char r[DIAG_ENDPOINT_LEN];

	if (s->subflow || !is_client(st, s) || s->state != 1)
		return;
	textbuf_put(o, "%s\"%s\"", st->used++ ? "," : "", diag_endpoint(r, sizeof(r), s, false));
}

static void subflow_cb(const struct diag_sock *s, void *arg)
{
	struct status *st = arg;

	if (!s->subflow)
		return;
	if (st->n_sf < STATUS_SUBFLOWS)
		st->sf[st->n_sf++] = *s;
	else
		st->sf_left_out++;
}

static int nic_of(const struct status *st, const struct diag_sock *s)
{
	const struct rates *r = st->rates;
	int i;

	for (i = 0; i < r->n; i++)
		if ((s->family == AF_INET && r->addr[i].s_addr && s->src[0] == r->addr[i].s_addr) ||
		    (s->family == AF_INET6 && memcmp(s->src, &r->addr6[i], 16) == 0 &&
		     !IN6_IS_ADDR_UNSPECIFIED(&r->addr6[i])))
			return i;
	return -1;
}

static void put_subflows(struct textbuf *o, const struct status *st, uint32_t token)
{
	char l[DIAG_ENDPOINT_LEN], r[DIAG_ENDPOINT_LEN];
	const struct diag_sock *s;
	unsigned i, n = 0;
	int k;

	for (i = 0; i < st->n_sf; i++) {
		s = &st->sf[i];
		if (s->token != token)
			continue;
		k = nic_of(st, s);
		textbuf_put(o, "%s{\"id\":%u,\"local\":\"%s\",\"remote\":\"%s\",\"nic\":\"%s\",\"state\":\"%s\","
			    "\"backup\":%s,\"rtt_ms\":%.1f,\"bytes_sent\":%llu,\"bytes_acked\":%llu,"
			    "\"bytes_received\":%llu,\"retransmits\":%u}",
			    n++ ? "," : "", s->sf_id, diag_endpoint(l, sizeof(l), s, true),
			    diag_endpoint(r, sizeof(r), s, false), k < 0 ? "?" : st->up->u[k].cfg->ifname, tcp_state(s->state),
			    s->sf_flags & SF_BACKUP_LOC ? "true" : "false", s->rtt_us / 1000.0,
			    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_acked,
			    (unsigned long long)s->bytes_received, s->total_retrans);
	}
}

static void connection_cb(const struct diag_sock *s, void *arg)
{
	struct textbuf *o = ((void **)arg)[0];
	struct status *st = ((void **)arg)[1];
	char l[DIAG_ENDPOINT_LEN], r[DIAG_ENDPOINT_LEN];

	if (is_client(st, s))
		return; /* a client that speaks MPTCP to the proxy */
	textbuf_put(o, "%s{\"token\":\"%08x\",\"local\":\"%s\",\"remote\":\"%s\",\"state\":\"%s\","
		    "\"fallback\":%s,\"bytes_sent\":%llu,\"bytes_received\":%llu,"
		    "\"bytes_retransmitted\":%llu,\"subflows\":[",
		    st->first ? "" : ",", s->token, diag_endpoint(l, sizeof(l), s, true),
		    diag_endpoint(r, sizeof(r), s, false), tcp_state(s->state),
		    s->msk_flags & MSK_FALLBACK ? "true" : "false", (unsigned long long)s->bytes_sent,
		    (unsigned long long)s->bytes_received, (unsigned long long)s->bytes_retrans);
	put_subflows(o, st, s->token);
	textbuf_put(o, "]}");
	st->first = false;
}

static const char *nic_state(const struct status *st, int i)
{
	const struct uplink *u = &st->up->u[i];

	if (!u->ifindex)
		return "missing";
	if (!u->ok && !st->rates->addr[i].s_addr)
		return "no-address";
	if (!(*st->live & (1u << i)) || st->nics->lower_up[i] == 0)
		return "down";
	return "up";
}

static void put_nics(struct textbuf *o, const struct status *st)
{
	const struct rates *r = st->rates;
	const struct mpblock *mb = st->mpblock;
	char a[INET_ADDRSTRLEN];
	const struct nic_cfg *c;
	int i, n = 0;

	for (i = 0; i < st->up->n && i < r->n; i++) {
		c = st->up->u[i].cfg;
		if (st->up->u[i].lan)
			continue;
		textbuf_put(o, "%s{\"nic\":\"%s\",\"guest\":", n++ ? "," : "", c->ifname);
		if (r->addr[i].s_addr)
			textbuf_put(o, "\"%s\"", inet_ntop(AF_INET, &r->addr[i], a, sizeof(a)));
		else
			textbuf_put(o, "null");
		textbuf_put(o, ",\"gateway\":");
		if (c->has_gw && !c->dhcp)
			textbuf_put(o, "\"%s\"", inet_ntop(AF_INET, &c->gw, a, sizeof(a)));
		else
			textbuf_put(o, "null");
		textbuf_put(o, ",\"state\":\"%s\",\"backup\":%s,\"to_net_bytes\":%llu,\"from_net_bytes\":%llu,"
			    "\"to_net_rate\":%u,\"from_net_rate\":%u",
			    nic_state(st, i), c->backup ? "true" : "false", (unsigned long long)r->to_net[i],
			    (unsigned long long)r->from_net[i], rates_last(r, i, true, 0), rates_last(r, i, false, 0));
		if (mb && i < mb->n && mb->u[i].state != MPBLOCK_OK)
			textbuf_put(o, ",\"mptcp\":\"%s\",\"mptcp_since_s\":%llu}", mpblock_name(mb->u[i].state),
				    (unsigned long long)((now_ms() - mb->u[i].since_ms) / 1000));
		else
			textbuf_put(o, ",\"mptcp\":\"ok\",\"mptcp_since_s\":null}");
	}
}

/* Per uplink in the order of "nics", oldest second first. */
static void put_history(struct textbuf *o, const struct status *st, bool to_net)
{
	const struct rates *r = st->rates;
	unsigned back;
	int i, n = 0;

	textbuf_put(o, "\"%s\":[", to_net ? "to_net" : "from_net");
	for (i = 0; i < st->up->n && i < r->n; i++) {
		if (st->up->u[i].lan)
			continue;
		textbuf_put(o, "%s[", n++ ? "," : "");
		for (back = r->count; back-- > 0;)
			textbuf_put(o, "%u%s", rates_last(r, i, to_net, back), back ? "," : "");
		textbuf_put(o, "]");
	}
	textbuf_put(o, "]");
}

static void put_exits(struct textbuf *o, const char *path)
{
	struct link_exit_state e[CFG_MAX_LINKS];
	int i, n = linkentry_read_state(path, e, CFG_MAX_LINKS);

	for (i = 0; i < n; i++) {
		textbuf_put(o, "%s{\"at\":", i ? "," : "");
		put_str(o, e[i].at);
		textbuf_put(o, ",\"state\":");
		put_str(o, e[i].state);
		textbuf_put(o, ",\"serving\":%s}", e[i].serving ? "true" : "false");
	}
}

/* How many processes are named name (/proc/PID/comm): sockd's and mpslink's children. */
static unsigned count_procs(const char *name)
{
	char path[64], comm[32];
	struct dirent *d;
	DIR *dir = opendir("/proc");
	unsigned n = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9') {
			snprintf(path, sizeof(path), "/proc/%.20s/comm", d->d_name);
			if (read_file(path, comm, sizeof(comm)) > 0 && strncmp(comm, name, strlen(name)) == 0 &&
			    comm[strlen(name)] == '\n')
				n++;
		}
	closedir(dir);
	return n;
}

static void put_head(struct textbuf *o)
{
	char v[128] = "", m[4096];
	unsigned long total = 0, avail = 0;
	struct sysinfo si = { 0 };
	const char *p;

	/* Past "NAME=", not by its name: spelled out here, it would be in init's bytes, and the
	 * launcher finds the image's version by that name in the archive (vm.sh). */
	if (read_file(VERSION_FILE, m, sizeof(m)) > 0 && (p = strchr(m, '=')) && sscanf(p + 1, "%127s", v) != 1)
		v[0] = '\0';
	if (read_file("/proc/meminfo", m, sizeof(m)) > 0) {
		if ((p = strstr(m, "MemTotal:")))
			sscanf(p, "MemTotal: %lu", &total);
		if ((p = strstr(m, "MemAvailable:")))
			sscanf(p, "MemAvailable: %lu", &avail);
	}
	sysinfo(&si);
	textbuf_put(o, "{\"version\":");
	put_str(o, v[0] ? v : "development build");
	textbuf_put(o, ",\"uptime_s\":%ld,\"memory\":{\"total_kib\":%lu,\"available_kib\":%lu}", si.uptime,
		    total, avail);
	textbuf_put(o, ",\"processes\":{\"sockd\":%u,\"mpslink\":%u}", count_procs("sockd"), count_procs("mpslink"));
}

size_t status_render(struct status *st, bool history, char *out, size_t cap)
{
	struct textbuf o;
	struct nl nl;
	void *ctx[2] = { &o, st };
	int ok;

	textbuf_init(&o, out, cap);
	put_head(&o);
	ok = nl_open(&nl, NETLINK_SOCK_DIAG, 0) == 0;
	st->used = st->n_sf = st->sf_left_out = 0;
	textbuf_put(&o, ",\"clients\":[");
	if (ok)
		diag_dump(&nl, IPPROTO_TCP, client_cb, ctx);
	textbuf_put(&o, "],\"sessions\":{\"max\":%u,\"used\":%u},\"nics\":[", *st->sessions_max, st->used);
	put_nics(&o, st);
	textbuf_put(&o, "]");
	if (history) {
		textbuf_put(&o, ",\"history\":{\"seconds\":%u,", st->rates->count);
		put_history(&o, st, true);
		textbuf_put(&o, ",");
		put_history(&o, st, false);
		textbuf_put(&o, "}");
	}
	textbuf_put(&o, ",\"connections\":[");
	st->first = true;
	if (ok) {
		diag_dump(&nl, IPPROTO_TCP, subflow_cb, st);
		diag_dump(&nl, IPPROTO_MPTCP, connection_cb, ctx);
		nl_close(&nl);
	}
	textbuf_put(&o, "],\"subflows_left_out\":%u,\"exits\":[", st->sf_left_out);
	put_exits(&o, st->exits_path);
	textbuf_put(&o, "]}\n");
	return o.full ? 0 : o.len;
}
