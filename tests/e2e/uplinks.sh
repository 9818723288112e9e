#!/usr/bin/env bash
# Uplinks that come and go (issue 11), on one guest with three uplinks, once with the bed's
# server on reno and once on bbr: up0 and up1 (gateways
# from the host's routes, so they may change) and up3@198.18.3.1, absent at up. Each test runs
# a download shaped to 20 Mbit/s per uplink, does something to an uplink while it runs and
# undoes it; the download must arrive intact, the uplink must carry it again afterwards (the
# host side's byte counter), and a new connection must then have a subflow from every live
# uplink's address (the server's report).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05du' $(($$ % 100000)))
RATE=20mbit

in_inet() { ip netns exec "$BED_INET" "$@"; }

# watch_log: the launcher's uplink lines so far.
watch_log() { cat "/run/mpsocks/$VM/watch.log" 2>/dev/null || true; }

# await_log PATTERN SECS: until the watcher logged PATTERN (a line after those seen before).
await_log() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		! watch_log | tail -n +$((${SEEN:-0} + 1)) | grep -- "$1" >/dev/null || return 0
		sleep 0.05
	done
	fail "the watcher logged no '$1' within $2 s (log: $(watch_log | tail -n 2 | tr '\n' '|'))"
}

# rx_of I: bytes the host side of uplink I received (0 when it does not exist).
rx_of() { ip netns exec "$BED_HOST" cat "/sys/class/net/up$1/statistics/rx_bytes" 2>/dev/null || echo 0; }

# live_addrs: the host-side address of each uplink (up0 up1 up3) that exists with a carrier,
# as the server sees it; none of them is blackholed when this is asked.
live_addrs() {
	local i
	for i in 0 1 3; do
		[ "$(ip netns exec "$BED_HOST" cat "/sys/class/net/up$i/carrier" 2>/dev/null)" = 1 ] || continue
		ip -n "$BED_HOST" -4 -o addr show dev "up$i" | awk '{sub("/.*", "", $4); print $4}'
	done | sort -u
}

# every_live_uplink: a new 4 MiB download has a subflow from each live uplink's address.
every_live_uplink() {
	local t line peers want
	t=$(tag live)
	curl_socks ip -o /dev/null "$(server_url ip "/bytes/$((4 * MIB))?tag=$t")"
	line=$(wait_report "$t")
	peers=$(bed_subflow_peers "$line" | tr '\n' ' ')
	want=$(live_addrs | tr '\n' ' ')
	echo "new connection's subflows: [$peers]" >&2
	[ "$peers" = "$want" ] || fail "a new connection's subflows came from [${peers% }], want [${want% }]"
}

# with_download NAME UPLINK ACTION UNDO [HOLD]: a 48 MiB download; at 4 MiB ACTION, HOLD s
# (default 3) later UNDO, both functions; then the download must complete intact and UPLINK
# carry more than 1 MiB of it after UNDO.
with_download() {
	local name=$1 upl=$2 action=$3 undo=$4 hold=${5:-3} t out mark pid line rx0 rx1 total=$((48 * MIB))
	need_vm
	t=$(tag "$name") out=$BED_DIR/get-$t mark=$BED_DIR/mark-$t
	in_host "$MPTCP_GET" --socks "$PROXY" --mark $((4 * MIB)) "$mark" --trace "$BED_DIR/trace-$t" \
		"$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$total?tag=$t" >"$out" &
	pid=$!
	await_mark "$pid" "$mark" 4
	SEEN=$(watch_log | grep -c -- "uplink " || true)
	echo "$name: action at $(date +%T.%N)" >&2
	"$action"
	sleep "$hold"
	echo "$name: undo at $(date +%T.%N)" >&2
	"$undo"
	rx0=$(rx_of "$upl")
	kill -0 "$pid" 2>/dev/null || fail "the download ended before the uplink was back: nothing tested"
	wait "$pid" || { ct_invalid; fail "the download failed: $(cat "$out")"; }
	rx1=$(rx_of "$upl")
	line=$(wait_report "$t")
	echo "client: $(cat "$out")" >&2
	echo "server: $line" >&2
	[ "$(bed_field "$(cat "$out")" bytes)" = "$total" ] || fail "got $(cat "$out")"
	[ "$(bed_field "$(cat "$out")" sha256)" = "$(bed_field "$line" sha256_out)" ] || fail "sha256 differs"
	echo "uplink $upl received $((rx1 - rx0)) bytes after it was back" >&2
	ct_invalid
	((rx1 - rx0 > MIB)) || fail "uplink $upl carried only $((rx1 - rx0)) bytes of the running download after it was back"
	echo "watcher: $(watch_log | tail -n 4 | tr '\n' '|')" >&2
	every_live_uplink
}

# ct_invalid: packets the host's conntrack found invalid so far (the forward chain drops them).
ct_invalid() {
	local n=0 inv
	while read -r _ _ _ _ inv _; do
		[[ $inv =~ ^[0-9a-f]+$ ]] && n=$((n + 16#$inv))
	done < <(ip netns exec "$BED_HOST" cat /proc/net/stat/nf_conntrack)
	echo "host conntrack invalid: $n" >&2
}

# The actions: inet's side of a veth down = the host's uplink loses its carrier.
cut1() { in_inet ip link set dn1 down; }
back1() { in_inet ip link set dn1 up; await_log "uplink 1 (up1): down -> up" 5; }
cut0() { in_inet ip link set dn0 down; }
back0() { in_inet ip link set dn0 up; await_log "uplink 0 (up0): down -> up" 5; }

renumber1() { bed_renumber1 "$@"; }
back1_new() { renumber1 1 11; in_inet ip link set dn1 up; await_log "uplink 1 (up1): down -> up" 5; }
move1() { renumber1 11 1; }
moved1() { await_log 'uplink 1 (up1): .*\(renumbered\|-> up\)' 5; }

# hole I: a blackhole: the internet side drops everything of dnI both ways (ARP too); the
# carrier stays. heal I ends it.
hole() {
	in_inet nft -f - <<-EOF
		table netdev mps_hole$1 {
			chain in { type filter hook ingress device dn$1 priority 0; policy drop; }
			chain out { type filter hook egress device dn$1 priority 0; policy drop; }
		}
	EOF
}
heal() { in_inet nft delete table netdev "mps_hole$1"; }
hole1() { hole 1 && await_log "uplink 1 (up1): up -> blackholed" 6; }
heal1() { heal 1 && await_log "uplink 1 (up1): blackholed -> up" 5; }

# connect_in_hole: the first uplink, the main route, is blackholed just as a client connects:
# the SYN leaves from it before the watcher sees the hole (two probes, 0.5 s apart). When the
# guest then withdraws the uplink's endpoint, the kernel fails that connect and sockd connects
# again from the next uplink, so the download arrives intact, over MPTCP, with no subflow from
# the blackholed uplink. (Before, the connect went on there and fell back to plain TCP after
# two lost SYNs: it hung until the hole healed.)
connect_in_hole() {
	local t out line peers rc=0 dead again
	need_vm
	t=$(tag inhole) out=$BED_DIR/get-$t again=$(count_lines 'connecting again from' "$(console_log "$VM")")
	dead=$(ip -n "$BED_HOST" -4 -o addr show dev up0 | awk '{sub("/.*", "", $4); print $4}')
	SEEN=$(watch_log | grep -c -- "uplink " || true)
	hole 0
	in_host timeout 20 "$MPTCP_GET" --socks "$PROXY" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" \
		"/bytes/$((4 * MIB))?tag=$t" >"$out" 2>&1 || rc=$?
	await_log "uplink 0 (up0): up -> blackholed" 6
	heal 0
	await_log "uplink 0 (up0): blackholed -> up" 5
	echo "client: $(cat "$out")" >&2
	[ "$rc" = 0 ] || fail "the connection set up in the hole failed (rc $rc): $(head -c 200 "$out")"
	line=$(wait_report "$t")
	echo "server: $line" >&2
	echo "sockd: $(grep -o 'connecting again from [^ ]*' "$(console_log "$VM")" | tail -n 1)" >&2
	[ "$(bed_field "$(cat "$out")" sha256)" = "$(bed_field "$line" sha256_out)" ] || fail "sha256 differs"
	[ "$(bed_field "$line" mptcp)" = 1 ] || fail "the connection fell back to plain TCP"
	peers=$(bed_subflow_peers "$line" | tr '\n' ' ')
	[[ " $peers" != *" $dead "* ]] || fail "a subflow came from the blackholed uplink ($dead): [$peers]"
	(($(count_lines 'connecting again from' "$(console_log "$VM")") > again)) ||
		fail "sockd did not connect again: the connect did not start in the hole, nothing tested"
}

# up3 appears: a new veth pair, as a USB modem plugged in.
plug3() {
	ip -n "$BED_HOST" link add name up3 type veth peer name dn3 netns "$BED_INET"
	ip -n "$BED_INET" addr add 198.18.3.1/24 dev dn3
	ip -n "$BED_INET" link set dn3 up
	ip netns exec "$BED_INET" tc qdisc replace dev dn3 root tbf rate "$RATE" burst 32kb latency 50ms
	ip -n "$BED_HOST" addr add 198.18.3.2/24 dev up3
	ip -n "$BED_HOST" link set up3 up
	await_log "uplink 2 (up3): down -> up" 8
}
nothing() { :; }

# The guest's last word on eth2's endpoint: "withdrawn" or "back" (its id changes when the
# carrier shows up for a moment at boot, before the launcher's set_link reaches it).
eth2_endpoint() { grep -oE "endpoint id=[0-9]+ eth2 (withdrawn|back)" "$(console_log "$VM")" | tail -n 1 | awk '{print $NF}'; }

absent_at_up() {
	local i
	need_vm
	for ((i = 0; i < 100; i++)); do
		[ "$(eth2_endpoint)" != withdrawn ] || break
		sleep 0.05
	done
	[ "$(eth2_endpoint)" = withdrawn ] || fail "the guest kept the endpoint of the absent uplink"
	watch_log | grep "uplink 2 (up3): up -> down (interface absent)" >/dev/null || fail "the launcher logged no absent uplink 2"
	every_live_uplink
}

status_shows() {
	local out
	need_vm
	out=$(ip netns exec "$BED_HOST" "$MPSOCKS" status --name "$VM" 2>&1) || true
	echo "$out" >&2
	grep -qE "eth2 .*(down|up) since [0-9:]{8}" <<<"$out" || fail "status shows no state with its time for eth2"
	ip netns exec "$BED_HOST" "$MPSOCKS" status --json --name "$VM" | grep '"state":"up","since":[0-9]' >/dev/null ||
		fail "status --json has no state and since"
}

# reset_uplinks: the bed's uplinks as at the start: unshaped, up3 absent, every link up, up1
# at its first address.
reset_uplinks() {
	bed_unshape
	in_inet nft delete table netdev mps_hole0 2>/dev/null || true
	in_inet nft delete table netdev mps_hole1 2>/dev/null || true
	ip -n "$BED_HOST" link del up3 2>/dev/null || true
	in_inet ip link set dn0 up || true
	in_inet ip link set dn1 up || true
	if ! ip -n "$BED_HOST" -4 addr show dev up1 | grep -q 198.18.1.2/; then
		renumber1 11 1 || true
	fi
}

cleanup() {
	reset_uplinks
	[ -z "${CC:-}" ] || ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$CC"
	ip -n "$BED_HOST" route del default dev up0 2>/dev/null || true
	ip -n "$BED_HOST" route del default dev up1 2>/dev/null || true
}

# scenarios CC: every test on a guest of its own, with the bed's server sending on CC.
scenarios() {
	local cc=$1
	ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$cc"
	vm_up "$VM" --uplink up0 --uplink up1 --uplink up3@198.18.3.1 --probe-interval 0.5 || true
	bed_shape "$RATE"
	SEEN=0
	run_test "$cc: an uplink absent at up has no endpoint in the guest; new connections use the others" absent_at_up
	run_test "$cc: an uplink absent at up appears during a download: the download gains its subflow, intact" \
		with_download plug 3 nothing plug3 0.1
	run_test "$cc: status shows each uplink's state and since when" status_shows
	run_test "$cc: uplink cut and back with the same address during a download: intact, new connections use it again" \
		with_download same 1 cut1 back1
	run_test "$cc: uplink cut and back with a new address during a download: subflow from it, intact" \
		with_download newaddr 1 cut1 back1_new
	run_test "$cc: uplink's address changes without a cut during a download: subflow from the new one, intact" \
		with_download moved 1 move1 moved1 0.1
	run_test "$cc: uplink blackholed (carrier up, nothing passes) and healed during a download: intact, back" \
		with_download hole 1 hole1 heal1
	run_test "$cc: the first uplink cut and restored during a download: intact, new connections use it again" \
		with_download first 0 cut0 back0
	run_test "$cc: a connection set up as the first uplink is blackholed starts over from another once the guest sees it: intact, MPTCP, no subflow from the hole" \
		connect_in_hole
	vm_down "$VM"
	reset_uplinks
}

main() {
	trap cleanup EXIT
	CC=$(ip netns exec "$BED_INET" sysctl -n net.ipv4.tcp_congestion_control)
	# The host's default routes name the uplinks' gateways (no @GW): the launcher follows them.
	ip -n "$BED_HOST" route replace default via 198.18.0.1 dev up0 metric 10
	ip -n "$BED_HOST" route replace default via 198.18.1.1 dev up1 metric 11
	# The server loss-based (reno: a namespace may only pick an allowed one, and cubic is not
	# allowed here), then on bbr, the host's default and most VPS tunings' (issue 23).
	scenarios reno
	VM=$(printf 't%05dw' $(($$ % 100000)))
	scenarios bbr
}
main
