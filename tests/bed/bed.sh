# shellcheck shell=bash
# The offline multipath test bed, as functions for tests/run and tests/bench/run (source it).
#
#   namespace BED_HOST (mps-h-PID)            namespace BED_INET (mps-i-PID)
#     upI 198.18.I.2/24  <---- veth ---->  dnI 198.18.I.1/24      (I = 0 .. BED_UPLINKS-1)
#                                          lo 198.51.100.1: mptcp_server :80,
#                                                           dnsmasq server.test, plain.test
#                                          lo 198.51.100.2: where a test runs the exit (:1080)
#                                          far 203.0.113.1/24 <---- veth ---->  inet 203.0.113.2/24
#                                                               namespace BED_FAR (mps-f-PID):
#                                                               mptcp_server --tcp :80, no MPTCP
# tools/mpsocks runs inside BED_HOST with --uplink upI@198.18.I.1. BED_HOST has no route to
# 203.0.113.0/24 and BED_INET does not forward (ip_forward 0), and BED_FAR has no route beyond
# its link: only a program in BED_INET itself (the exit) reaches the plain-TCP server. Programs
# run in BED_INET resolve names through dnsmasq (/etc/netns/BED_INET/resolv.conf).
# Everything a bed creates is named after the creating shell's PID and listed under BED_DIR, so
# bed_destroy (also called from a trap) removes exactly it, and bed_sweep removes beds whose
# creator died by SIGKILL.

BED_SERVER_ADDR=198.51.100.1
BED_SERVER_NAME=server.test
BED_SERVER_PORT=80
# The plain-TCP server behind the internet side, and where tests run the exit.
BED_FAR_ADDR=203.0.113.2
BED_FAR_GW=203.0.113.1
BED_FAR_NAME=plain.test
BED_FAR_PORT=80
BED_EXIT_ADDR=198.51.100.2
BED_EXIT_PORT=1080
# The dual-stack part (bed_ipv6_on): the server's IPv6 address, and a resolver that answers
# as badly as real ones do (tests/e2e/dns_fake.py), both on BED_INET's lo.
BED_SERVER_ADDR6=2001:db8:ff::1
BED_DNS_FAKE=198.51.100.53
BED_V6ONLY_NAME=v6only.test
BED_REFUSED_NAME=refused.test
# An uplink with IPv6 only (as many mobile networks): up6 2001:db8:6::2/64 <-> dn6 ::1.
BED_V6ONLY_UPLINK=up6

# bed_log TEXT: progress on stderr, so stdout stays PASS/FAIL lines.
bed_log() { printf 'bed: %s\n' "$*" >&2; }

# bed_create UPLINKS SERVER_BIN: namespaces, veths, servers, dnsmasq. Sets BED_HOST, BED_INET,
# BED_FAR, BED_DIR, BED_UPLINKS, BED_SERVER_LOG, BED_FAR_LOG.
bed_create() {
	local n=$1 server=$2 i
	BED_UPLINKS=$n
	BED_HOST=mps-h-$$ BED_INET=mps-i-$$ BED_FAR=mps-f-$$
	BED_DIR=$(mktemp -d "/tmp/mps-bed-$$.XXXX") || return 1
	BED_SERVER_LOG=$BED_DIR/server.log BED_FAR_LOG=$BED_DIR/far.log
	export BED_UPLINKS BED_HOST BED_INET BED_FAR BED_DIR BED_SERVER_LOG BED_SERVER_ADDR BED_SERVER_NAME \
		BED_SERVER_PORT BED_FAR_LOG BED_FAR_ADDR BED_FAR_GW BED_FAR_NAME BED_FAR_PORT BED_EXIT_ADDR BED_EXIT_PORT
	# Every step checks itself: callers run this in an if, where errexit does not apply.
	ip netns add "$BED_HOST" && ip netns add "$BED_INET" &&
		ip -n "$BED_HOST" link set lo up && ip -n "$BED_INET" link set lo up || return 1
	for ((i = 0; i < n; i++)); do
		ip -n "$BED_HOST" link add name "up$i" type veth peer name "dn$i" netns "$BED_INET" &&
			ip -n "$BED_HOST" addr add "198.18.$i.2/24" dev "up$i" &&
			ip -n "$BED_INET" addr add "198.18.$i.1/24" dev "dn$i" &&
			ip -n "$BED_HOST" link set "up$i" up &&
			ip -n "$BED_INET" link set "dn$i" up || return 1
	done
	# On lo: reachable through every uplink, and no dummy driver is needed. The server
	# accepts the joins of every uplink; the default limits (2 subflows) would cap it.
	ip -n "$BED_INET" addr add "$BED_SERVER_ADDR/32" dev lo &&
		ip -n "$BED_INET" addr add "$BED_EXIT_ADDR/32" dev lo &&
		ip -n "$BED_INET" mptcp limits set subflows 8 add_addr_accepted 8 || return 1
	# The far side: a link to BED_INET only, MPTCP off, and BED_INET forwards nothing to it.
	ip netns add "$BED_FAR" && ip -n "$BED_FAR" link set lo up &&
		ip -n "$BED_INET" link add name far type veth peer name inet netns "$BED_FAR" &&
		ip -n "$BED_INET" addr add "$BED_FAR_GW/24" dev far &&
		ip -n "$BED_FAR" addr add "$BED_FAR_ADDR/24" dev inet &&
		ip -n "$BED_INET" link set far up && ip -n "$BED_FAR" link set inet up &&
		ip netns exec "$BED_FAR" sysctl -qw net.mptcp.enabled=0 &&
		ip netns exec "$BED_INET" sysctl -qw net.ipv4.ip_forward=0 || return 1
	# ip netns exec bind-mounts this over /etc/resolv.conf: the launcher's default --dns.
	# dnsmasq owns .test (--local): AAAA gets NODATA, not REFUSED, which musl takes for "try
	# again". Queries are logged so tests can tell who resolved a name.
	mkdir -p "/etc/netns/$BED_HOST" &&
		echo "nameserver $BED_SERVER_ADDR" >"/etc/netns/$BED_HOST/resolv.conf" &&
		mkdir -p "/etc/netns/$BED_INET" &&
		echo "nameserver $BED_SERVER_ADDR" >"/etc/netns/$BED_INET/resolv.conf" || return 1
	ip netns exec "$BED_INET" "$server" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" \
		>>"$BED_SERVER_LOG" 2>"$BED_DIR/server.err" &
	echo $! >"$BED_DIR/server.pid"
	ip netns exec "$BED_FAR" "$server" --tcp "$BED_FAR_ADDR" "$BED_FAR_PORT" \
		>>"$BED_FAR_LOG" 2>"$BED_DIR/far.err" &
	echo $! >"$BED_DIR/far.pid"
	ip netns exec "$BED_INET" dnsmasq --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address="$BED_SERVER_ADDR" --local=/test/ \
		--host-record="$BED_SERVER_NAME,$BED_SERVER_ADDR" --host-record="$BED_FAR_NAME,$BED_FAR_ADDR" \
		--pid-file="$BED_DIR/dnsmasq.pid" --log-queries --log-facility="$BED_DIR/dnsmasq.log" ||
		return 1
	bed_wait_server server && bed_wait_server far || return 1
	bed_log "up: $BED_HOST <-> $BED_INET <-> $BED_FAR, $n uplinks, work dir $BED_DIR"
}

# bed_wait_server server|far: until that server accepts (it is started in the background).
bed_wait_server() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q listening "$BED_DIR/$1.err" 2>/dev/null && return 0
		kill -0 "$(cat "$BED_DIR/$1.pid")" 2>/dev/null || break
		sleep 0.1
	done
	bed_log "mptcp_server ($1) did not start: $(cat "$BED_DIR/$1.err" 2>/dev/null)"
	return 1
}

# bed_register_instance NAME: a tools/mpsocks instance bed_destroy must take down.
bed_register_instance() { echo "$1" >>"$BED_DIR/instances"; }

# bed_register_exit NAME: a tools/mpsocks exit (run in BED_INET) bed_destroy must take down.
bed_register_exit() { echo "$1" >>"$BED_DIR/exits"; }

# bed_destroy: undo bed_create and every registered launcher instance; safe to call twice
# and on a half-created bed.
bed_destroy() {
	local name pid out
	[ -n "${BED_HOST:-}" ] || return 0
	if [ -f "${BED_DIR:-}/instances" ]; then
		while read -r name; do
			out=$(timeout 60 ip netns exec "$BED_HOST" "${MPSOCKS:-false}" down --name "$name" 2>&1 </dev/null) ||
				bed_log "mpsocks down --name $name failed: $out"
		done < <(sort -u "$BED_DIR/instances")
	fi
	if [ -f "${BED_DIR:-}/exits" ]; then
		while read -r name; do
			out=$(timeout 60 ip netns exec "$BED_INET" "${MPSOCKS:-false}" down --name "$name" 2>&1 </dev/null) ||
				bed_log "mpsocks down --name $name (exit) failed: $out"
		done < <(sort -u "$BED_DIR/exits")
	fi
	[ -z "${BED_LOGS:-}" ] ||
		cp "$BED_DIR/server.log" "$BED_DIR/far.log" "$BED_DIR/dnsmasq.log" "$BED_LOGS/" 2>/dev/null || true
	cat "$BED_DIR"/*.pid 2>/dev/null | while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done
	bed_destroy_netns "$BED_HOST"
	bed_destroy_netns "$BED_INET"
	bed_destroy_netns "${BED_FAR:-}"
	rm -rf "/etc/netns/$BED_HOST" "/etc/netns/$BED_INET"
	rmdir /etc/netns 2>/dev/null || true
	[ "${BED_KEEP_DIR:-0}" = 1 ] || rm -rf "$BED_DIR"
	BED_HOST=
}

# bed_destroy_netns NS: kill what still runs in NS (all of it is ours), then delete it.
bed_destroy_netns() {
	local ns=$1 pids i sig
	[ -n "$ns" ] || return 0
	ip netns list | grep -qw "^$ns" || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
		[ ${#pids[@]} -gt 0 ] || break
		sig=-TERM
		[ "$i" -le 5 ] || sig=-KILL
		kill "$sig" "${pids[@]}" 2>/dev/null || true
		sleep 0.2
	done
	ip netns del "$ns" 2>/dev/null || true
}

# bed_sweep: remove beds left by runs that were killed with SIGKILL (their PID is gone).
bed_sweep() {
	local ns pid
	for ns in $(ip netns list | awk '$1 ~ /^mps-[hif]-[0-9]+$/ {print $1}'); do
		pid=${ns##*-}
		kill -0 "$pid" 2>/dev/null && continue
		bed_log "removing stale $ns"
		bed_destroy_netns "$ns"
		rm -rf "/etc/netns/$ns" "/tmp/mps-bed-$pid".*
	done
}

# bed_shape RATE [RATE...]: tbf both ways on every uplink (host side: upload, inet side:
# download); uplink I takes the I-th RATE, the last one the rest. The queue holds
# BED_QUEUE (default 50ms) at RATE, like a modest real uplink.
bed_shape() {
	local -a rates=("$@")
	local rate i
	for ((i = 0; i < BED_UPLINKS; i++)); do
		rate=${rates[i]:-${rates[-1]}}
		ip netns exec "$BED_HOST" tc qdisc replace dev "up$i" root tbf rate "$rate" burst 32kb latency "${BED_QUEUE:-50ms}"
		ip netns exec "$BED_INET" tc qdisc replace dev "dn$i" root tbf rate "$rate" burst 32kb latency "${BED_QUEUE:-50ms}"
	done
}

bed_unshape() {
	local i
	for ((i = 0; i < BED_UPLINKS; i++)); do
		ip netns exec "$BED_HOST" tc qdisc del dev "up$i" root 2>/dev/null || true
		ip netns exec "$BED_INET" tc qdisc del dev "dn$i" root 2>/dev/null || true
	done
}

# bed_reset: every uplink up and unshaped, so one group's failure does not spill into the next.
bed_reset() {
	local i
	bed_unshape
	bed_ipv6_off
	for ((i = 0; i < BED_UPLINKS; i++)); do bed_unblock_mptcp "$i"; done
	# Saved launcher routes belong to an instance that is gone by now: drop them.
	rm -f "$BED_DIR"/routes-up*
	for ((i = 0; i < BED_UPLINKS; i++)); do
		bed_link "$i" up
		ip -n "$BED_INET" link set "dn$i" up
	done
}

# bed_link I up|down: the host side of uplink I (what a pulled cable looks like to the host).
# The kernel drops the routes through a link that goes down; those the launcher added (its
# per-uplink tables) are saved first and put back when the link comes up, so the bed serves
# the tests that follow a failover: bring the link up before that instance goes down.
bed_link() {
	local i=$1 saved=$BED_DIR/routes-up$1 route
	if [ "$2" = down ]; then
		[ -e "$saved" ] || ip -n "$BED_HOST" -4 -o route show table all |
			grep " dev up$i " | grep -v -e 'proto kernel' -e 'table local' >"$saved" || true
		ip -n "$BED_HOST" link set "up$i" down
	else
		ip -n "$BED_HOST" link set "up$i" up
		[ -e "$saved" ] || return 0
		while read -r route; do
			# shellcheck disable=SC2086 # a saved route: words on purpose
			ip -n "$BED_HOST" route replace $route || bed_log "could not restore route: $route"
		done <"$saved"
		rm -f "$saved"
	fi
}

# bed_block_mptcp I join|capable: uplink I's network drops the guest's SYNs that carry MP_JOIN
# (join) or MP_CAPABLE (capable), as carriers' middleboxes do; plain TCP still passes.
# bed_unblock_mptcp I lifts it.
bed_block_mptcp() {
	local subtype=1
	[ "$2" = join ] || subtype=0
	ip netns exec "$BED_INET" nft -f - <<-EOF
		table inet mps_mpblock$1 {
			chain in {
				type filter hook prerouting priority -300; policy accept;
				iifname "dn$1" tcp flags syn tcp option mptcp subtype $subtype counter drop
			}
		}
	EOF
}
bed_unblock_mptcp() { ip netns exec "$BED_INET" nft delete table inet "mps_mpblock$1" 2>/dev/null || true; }
# bed_mptcp_drops I: SYNs the block on uplink I dropped so far.
bed_mptcp_drops() {
	ip netns exec "$BED_INET" nft list table inet "mps_mpblock$1" 2>/dev/null | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

# bed_renumber1 FROM TO: uplink 1 moves from 198.18.FROM.0/24 to 198.18.TO.0/24 (both sides,
# and the host's default route through it at metric 11), as after a new DHCP lease.
bed_renumber1() {
	ip netns exec "$BED_INET" ip -batch - <<-EOF
		addr del 198.18.$1.1/24 dev dn1
		addr add 198.18.$2.1/24 dev dn1
	EOF
	ip netns exec "$BED_HOST" ip -batch - <<-EOF
		addr del 198.18.$1.2/24 dev up1
		addr add 198.18.$2.2/24 dev up1
		route replace default via 198.18.$2.1 dev up1 metric 11
	EOF
}

# bed_rx_bytes I: bytes the host side of uplink I received so far (download direction).
bed_rx_bytes() { ip netns exec "$BED_HOST" cat "/sys/class/net/up$1/statistics/rx_bytes"; }

# bed_host_mptcp on|off: let programs in BED_HOST itself use MPTCP over every uplink (the
# benchmarks' baseline): a route to the server, one routing table per uplink selected by
# source address, and a subflow endpoint per extra uplink.
bed_host_mptcp() {
	local i
	if [ "$1" = on ]; then
		ip -n "$BED_HOST" route replace "$BED_SERVER_ADDR/32" via 198.18.0.1 dev up0
		ip -n "$BED_HOST" mptcp limits set subflows 8 add_addr_accepted 8
		for ((i = 0; i < BED_UPLINKS; i++)); do
			ip -n "$BED_HOST" route replace default via "198.18.$i.1" dev "up$i" table $((100 + i))
			ip -n "$BED_HOST" rule add from "198.18.$i.2" table $((100 + i)) pref $((100 + i))
			[ "$i" = 0 ] || ip -n "$BED_HOST" mptcp endpoint add "198.18.$i.2" dev "up$i" subflow
		done
	else
		ip -n "$BED_HOST" mptcp endpoint flush
		for ((i = 0; i < BED_UPLINKS; i++)); do
			ip -n "$BED_HOST" rule del pref $((100 + i)) 2>/dev/null || true
			ip -n "$BED_HOST" route flush table $((100 + i)) 2>/dev/null || true
		done
		ip -n "$BED_HOST" route del "$BED_SERVER_ADDR/32" 2>/dev/null || true
	fi
}

# bed_report TAG: the line of either server (MPTCP or far) for the connection tagged TAG (the
# last one; empty if none). Tags are unique in a run, so one look covers both logs.
bed_report() { { cat "$BED_SERVER_LOG" "${BED_FAR_LOG:-/dev/null}" 2>/dev/null | grep " tag=$1 " || true; } | tail -n 1; }

# bed_field LINE KEY: the value of KEY=... in a report line.
bed_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n 1; }

# bed_subflow_peers LINE: the distinct remote addresses of the subflows in a report line.
bed_subflow_peers() { tr ' ' '\n' <<<"$1" | sed -n 's/^sf=[^>]*>\([0-9.]*\):.*/\1/p' | sort -u; }

# bed_ipv6_on: the uplinks dual-stack: 2001:db8:I::2/64 on upI, ::1 on dnI, and a default route
# through each in BED_HOST (what makes the launcher give an uplink IPv6); BED_V6ONLY_UPLINK, a
# fourth uplink with IPv6 alone (no IPv4 address or route); BED_INET's MPTCP announcing
# BED_SERVER_ADDR on its IPv6 connections (a dual-stack server); the MPTCP server also
# at [BED_SERVER_ADDR6]:80 (same log), and BED_DNS_FAKE serving BED_SERVER_NAME (A and AAAA),
# BED_V6ONLY_NAME (AAAA only) and BED_REFUSED_NAME (A; its AAAA query REFUSED).
bed_ipv6_on() {
	local i
	export BED_SERVER_ADDR6 BED_DNS_FAKE BED_V6ONLY_NAME BED_REFUSED_NAME BED_V6ONLY_UPLINK
	for ((i = 0; i < BED_UPLINKS; i++)); do
		ip -n "$BED_HOST" addr replace "2001:db8:$i::2/64" dev "up$i" nodad &&
			ip -n "$BED_INET" addr replace "2001:db8:$i::1/64" dev "dn$i" nodad &&
			ip -n "$BED_HOST" -6 route replace default via "2001:db8:$i::1" dev "up$i" metric $((1024 + i)) ||
			return 1
	done
	if ! ip -n "$BED_HOST" link show "$BED_V6ONLY_UPLINK" >/dev/null 2>&1; then
		ip -n "$BED_HOST" link add name "$BED_V6ONLY_UPLINK" type veth peer name dn6 netns "$BED_INET" &&
			ip -n "$BED_HOST" link set "$BED_V6ONLY_UPLINK" up && ip -n "$BED_INET" link set dn6 up || return 1
	fi
	ip -n "$BED_HOST" addr replace 2001:db8:6::2/64 dev "$BED_V6ONLY_UPLINK" nodad &&
		ip -n "$BED_INET" addr replace 2001:db8:6::1/64 dev dn6 nodad &&
		ip -n "$BED_HOST" -6 route replace default via 2001:db8:6::1 dev "$BED_V6ONLY_UPLINK" metric 1030 || return 1
	ip -n "$BED_INET" addr replace "$BED_SERVER_ADDR6/128" dev lo &&
		ip -n "$BED_INET" addr replace "$BED_DNS_FAKE/32" dev lo || return 1
	ip -n "$BED_INET" mptcp endpoint show | grep -q "$BED_SERVER_ADDR " ||
		ip -n "$BED_INET" mptcp endpoint add "$BED_SERVER_ADDR" signal || return 1
	if [ ! -e "$BED_DIR/server6.pid" ]; then
		ip netns exec "$BED_INET" "$MPTCP_SERVER" "$BED_SERVER_ADDR6" "$BED_SERVER_PORT" \
			>>"$BED_SERVER_LOG" 2>"$BED_DIR/server6.err" &
		echo $! >"$BED_DIR/server6.pid"
		bed_wait_server server6 || return 1
	fi
	if [ ! -e "$BED_DIR/dns_fake.pid" ]; then
		ip netns exec "$BED_INET" "$(command -v /usr/bin/python3 || command -v python3)" \
			"$TOP/tests/e2e/dns_fake.py" "$BED_DNS_FAKE" \
			--a "$BED_SERVER_NAME=$BED_SERVER_ADDR" --aaaa "$BED_SERVER_NAME=$BED_SERVER_ADDR6" \
			--aaaa "$BED_V6ONLY_NAME=$BED_SERVER_ADDR6" \
			--a "$BED_REFUSED_NAME=$BED_SERVER_ADDR" --refuse-aaaa "$BED_REFUSED_NAME" \
			>"$BED_DIR/dns_fake.log" 2>"$BED_DIR/dns_fake.err" &
		echo $! >"$BED_DIR/dns_fake.pid"
		for ((i = 0; i < 50; i++)); do
			! grep -q listening "$BED_DIR/dns_fake.err" 2>/dev/null || return 0
			sleep 0.1
		done
		bed_log "dns_fake did not start: $(cat "$BED_DIR/dns_fake.err" 2>/dev/null)"
		return 1
	fi
}

# bed_ipv6_off: the uplinks back to IPv4 only (no global IPv6 address or default route: other
# groups compare the bed's state across link flaps, which drop IPv6 addresses) and no IPv6-only
# uplink; the server's and the resolver's addresses on lo stay.
bed_ipv6_off() {
	local i
	for ((i = 0; i < BED_UPLINKS; i++)); do
		ip -n "$BED_HOST" -6 route del default dev "up$i" 2>/dev/null || true
		ip -n "$BED_HOST" -6 addr flush dev "up$i" scope global 2>/dev/null || true
		ip -n "$BED_INET" -6 addr flush dev "dn$i" scope global 2>/dev/null || true
	done
	ip -n "$BED_HOST" link del "$BED_V6ONLY_UPLINK" 2>/dev/null || true
	ip -n "$BED_INET" mptcp endpoint flush 2>/dev/null || true
}

# bed_dhcp_on I: a DHCP server on BED_INET's side of uplink I (198.18.I.100-199, router
# 198.18.I.1), for a guest on that link's network itself (--uplink upI:direct); log dhcp.log.
bed_dhcp_on() {
	ip netns exec "$BED_INET" dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
		--interface="dn$1" --bind-interfaces --dhcp-range="198.18.$1.100,198.18.$1.199,120s" \
		--dhcp-option=3,"198.18.$1.1" --dhcp-leasefile="$BED_DIR/dhcp.leases" \
		--pid-file="$BED_DIR/dhcp.pid" --log-dhcp --log-facility="$BED_DIR/dhcp.log"
}

bed_dhcp_off() {
	[ ! -e "$BED_DIR/dhcp.pid" ] || kill "$(cat "$BED_DIR/dhcp.pid")" 2>/dev/null || true
	rm -f "$BED_DIR/dhcp.pid"
}
