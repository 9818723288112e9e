#!/usr/bin/env bash
# The proxy tests that share one guest with three uplinks (no authentication, debug shell):
# transfers by IP and by name, subflows per uplink, malformed SOCKS input, failover (the cut
# uplink comes back with its routes), 200 concurrent connections, overload past the session
# limit, and last sockd restart.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
VM=$(printf 't%05dp' $(($$ % 100000)))

# transfer_both_ways MODE: 20 MiB down then 20 MiB up through the proxy, both checked.
transfer_both_ways() {
	local mode=$1 down up file resp
	need_vm
	down=$(tag "down-$mode") up=$(tag "up-$mode")
	curl_socks "$mode" -o "$BED_DIR/$down" "$(server_url "$mode" "/bytes/$((20 * MIB))?tag=$down")"
	check_download "$down" "$BED_DIR/$down" $((20 * MIB))
	# By name, the guest must have asked the bed's DNS server (from an uplink address).
	[ "$mode" = ip ] || grep -q "query\[A\] $BED_SERVER_NAME from 198\.18\." "$BED_DIR/dnsmasq.log" ||
		fail "the bed's DNS server never saw the guest ask for $BED_SERVER_NAME"
	file=$(random_file "$BED_DIR/upload-20m" 20)
	resp=$(curl_socks "$mode" -T "$file" "$(server_url "$mode" "/upload?tag=$up")")
	check_upload "$up" "$file" "$resp"
	rm -f "$BED_DIR/$down"
}

# subflows_per_uplink: the server sees one subflow from each uplink's address.
subflows_per_uplink() {
	local t line peers want
	need_vm
	t=$(tag subflows)
	curl_socks ip -o /dev/null "$(server_url ip "/bytes/$((8 * MIB))?tag=$t")"
	line=$(wait_report "$t")
	echo "server: $line"
	[ "$(bed_field "$line" mptcp)" = 1 ] || fail "the server saw plain TCP, not MPTCP"
	peers=$(bed_subflow_peers "$line" | tr '\n' ' ')
	want="198.18.0.2 198.18.1.2 198.18.2.2 "
	[ "$peers" = "$want" ] || fail "subflows came from [${peers% }], want [${want% }]"
}

# garbage_case CASE: one malformed input, then the proxy must still work.
garbage_case() {
	need_vm
	in_host "$PY" "$TOP/tests/e2e/socks_garbage.py" "${PROXY%:*}" "${PROXY#*:}" \
		"$BED_SERVER_ADDR" "$BED_SERVER_PORT" "$1" || fail "see log: $1"
}

# sockd_not_restarted BEFORE: sockd never exited since the console had BEFORE exit lines.
sockd_not_restarted() {
	need_vm
	local now
	now=$(count_lines 'sockd exited' "$(console_log "$VM")")
	[ -s "$(console_log "$VM")" ] || fail "console log $(console_log "$VM") is empty"
	[ "$now" = "$1" ] || fail "sockd exited $((now - $1)) time(s) during the malformed input"
}

# guest_tuning: the guest's TCP buffer maxima, NAPI batching and MPTCP blackhole_timeout are
# what init sets (issue 12: the first two doubled the rate at 3 x 80 Mbit/s; nothing else would
# notice them gone).
guest_tuning() {
	local log sock line a i want="4096 131072 6291456 4096 16384 4194304 2 2 2 200000 200000 200000 0"
	need_vm
	log=$(console_log "$VM") sock=/run/mpsocks/$VM/console.sock
	[ -S "$sock" ] || fail "no console socket $sock"
	# Bracketed, and asked up to 3 times: once a stray console byte ran into the line's end
	# ("... 200000 00"). A wrong setting is wrong every time.
	for ((a = 1; a <= 3; a++)); do
		# shellcheck disable=SC2016 # expanded by the guest's shell
		{ printf '
echo tuning%s: [$(cat /proc/sys/net/ipv4/tcp_rmem /proc/sys/net/ipv4/tcp_wmem /sys/class/net/eth*/napi_defer_hard_irqs /sys/class/net/eth*/gro_flush_timeout /proc/sys/net/mptcp/blackhole_timeout)]
' "$a"; sleep 2; } |
			timeout 4 socat - "UNIX-CONNECT:$sock" >/dev/null || true
		for ((i = 0; i < 40; i++)); do
			line=$(grep -a "tuning$a: \[[0-9]" "$log" | tail -n 1 | tr -d '\r' | sed 's/.*\[\([^]]*\)\].*/\1/')
			[ -z "$line" ] || break
			sleep 0.1
		done
		echo "guest: $line"
		[ "$line" != "$want" ] || return 0
	done
	fail "the guest's tcp_rmem, tcp_wmem, napi_defer_hard_irqs, gro_flush_timeout (3 NICs), mptcp blackhole_timeout: '$line'"
}

# mpc_syns_dropped: on a path that drops SYNs carrying MPTCP (a middlebox; a busy server's SYN
# queue drops alike) the connection goes through as plain TCP after two lost SYNs; once the
# path carries MPTCP again, so does the next connection. The kernel would otherwise send every
# connection as plain TCP for an hour (net.mptcp.blackhole_timeout; init sets it to 0).
mpc_syns_dropped() {
	local t line secs
	need_vm
	ip netns exec "$BED_INET" nft -f - <<EOF || fail "cannot add the dropping rule in $BED_INET"
table inet mps_mpcdrop {
	chain input {
		type filter hook input priority 0;
		tcp dport $BED_SERVER_PORT tcp flags & (syn | ack) == syn tcp option mptcp exists drop
	}
}
EOF
	trap 'ip netns exec "$BED_INET" nft delete table inet mps_mpcdrop 2>/dev/null || true' EXIT
	t=$(tag mpcdrop)
	secs=$(curl_socks ip --max-time 20 -o /dev/null -w '%{time_total}' "$(server_url ip "/bytes/1000?tag=$t")") ||
		fail "no answer through the path that drops MPTCP SYNs"
	line=$(wait_report "$t")
	echo "through the dropping path: mptcp=$(bed_field "$line" mptcp) after $secs s" >&2
	[ "$(bed_field "$line" mptcp)" = 0 ] || fail "the server saw MPTCP through the dropping path: nothing tested"
	ip netns exec "$BED_INET" nft delete table inet mps_mpcdrop
	t=$(tag mpcback)
	# 8 MiB: long enough for the joins (a short one may end before its subflows come).
	curl_socks ip -o /dev/null "$(server_url ip "/bytes/$((8 * MIB))?tag=$t")" || fail "the next connection failed"
	line=$(wait_report "$t")
	[ "$(bed_field "$line" mptcp)/$(bed_field "$line" subflows)" = 1/3 ] ||
		fail "the next connection was not multipath: MPTCP stayed off after the lost SYNs ($(cut -c1-160 <<<"$line"))"
}

# sockd_restart: kill sockd from the guest's debug shell, time until the proxy answers again.
sockd_restart() {
	local log exits t0 t1 i sock probe
	need_vm
	log=$(console_log "$VM") sock=/run/mpsocks/$VM/console.sock
	[ -S "$sock" ] || fail "no console socket $sock"
	exits=$(count_lines 'sockd exited' "$log")
	t0=$(date +%s.%N)
	# qemu drops console input still unread when the client hangs up: stay connected a while,
	# and read the console meanwhile (an unread socket stalls the guest's console output).
	# shellcheck disable=SC2016 # expanded by the guest's shell
	{ printf '\nkill $(pidof sockd)\n'; sleep 3; } | timeout 5 socat - "UNIX-CONNECT:$sock" >/dev/null &
	for ((i = 0; i < 40; i++)); do
		[ "$(count_lines 'sockd exited' "$log")" -gt "$exits" ] && break
		sleep 0.05
	done
	[ "$(count_lines 'sockd exited' "$log")" -gt "$exits" ] ||
		fail "the console shows no 'sockd exited' line within 2 s of the kill"
	probe=$BED_DIR/probe
	for ((i = 0; i < 100; i++)); do
		if in_host curl -s --max-time 1 --socks5 "$PROXY" -o "$probe" \
			"$(server_url ip "/bytes/1024?tag=$(tag probe)")" && [ "$(stat -c %s "$probe")" = 1024 ]; then
			t1=$(date +%s.%N)
			echo "proxy answered again $(echo "$t1 - $t0" | bc) s after the kill" >&2
			[ "$(echo "$t1 - $t0 <= 2" | bc)" = 1 ] || fail "proxy answered only after $(echo "$t1 - $t0" | bc) s"
			return 0
		fi
		sleep 0.05
	done
	fail "the proxy did not answer again"
}

# failover UPLINK: cut uplink UPLINK (host side) once 6 MiB of a 30 MiB download (uplinks
# shaped to 20 Mbit/s) arrived; the download must complete intact.
failover() {
	local cut=$1 t out line total=$((30 * MIB)) mark pid tx
	need_vm
	t=$(tag "failover$cut") mark=$BED_DIR/mark-$t out=$BED_DIR/get-$t
	# This runs in run_test's subshell: undone however it ends. The cut uplink's routes went
	# with it; a later guest's launcher adds its own.
	# shellcheck disable=SC2064 # $cut now: the trap runs after this function's locals are gone
	trap "bed_unshape; bed_link $cut up" EXIT
	bed_shape 20mbit
	in_host "$MPTCP_GET" --socks "$PROXY" --mark $((6 * MIB)) "$mark" "$BED_SERVER_ADDR" \
		"$BED_SERVER_PORT" "/bytes/$total?tag=$t" >"$out" &
	pid=$!
	await_mark "$pid" "$mark" 6
	bed_link "$cut" down
	echo "uplink $cut down at $(date +%T.%N)" >&2
	wait "$pid" || fail "the download failed after uplink $cut went down: $(cat "$out")"
	line=$(wait_report "$t")
	echo "client: $(cat "$out")" >&2
	echo "server: $line" >&2
	[ "$(bed_field "$(cat "$out")" bytes)" = "$total" ] || fail "got $(cat "$out")"
	[ "$(bed_field "$(cat "$out")" sha256)" = "$(bed_field "$line" sha256_out)" ] ||
		fail "sha256 differs after the failover"
	# The cut uplink must have carried data, or the test proved nothing.
	tx=$(tr ' ' '\n' <<<"$line" | sed -n "s/^sf=[^>]*>198\.18\.$cut\.2:[0-9]*,tx=\([0-9]*\),.*/\1/p" | head -n 1)
	[ "${tx:-0}" -gt $MIB ] || fail "uplink $cut carried only ${tx:-0} bytes before the cut"
}

main() {
	local before
	vm_up "$VM" --debug --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1 || true
	run_test "the guest's TCP buffer maxima and NAPI batching on every NIC are what init sets" guest_tuning
	run_test "SOCKS5 CONNECT by IP carries 20 MiB down and 20 MiB up intact (sha256 both ways)" transfer_both_ways ip
	run_test "SOCKS5 CONNECT by name (socks5h, resolved in the guest) carries 20 MiB down and up intact" transfer_both_ways name
	run_test "3 uplinks give one connection 3 subflows from 3 distinct uplink addresses" subflows_per_uplink
	run_test "after MPTCP SYNs were dropped (plain TCP then), the next connection is multipath again" mpc_syns_dropped
	before=$(count_lines 'sockd exited' "$(console_log "$VM")")
	while read -r c; do
		run_test "proxy still serves after malformed SOCKS input: $c" garbage_case "$c"
	done < <("$PY" "$TOP/tests/e2e/socks_garbage.py" --list)
	run_test "malformed SOCKS input never made sockd exit" sockd_not_restarted "$before"
	run_test "download survives losing a joined subflow's uplink mid-transfer (sha256 intact)" failover 1
	run_test "download survives losing the initial subflow's uplink mid-transfer (sha256 intact)" failover 0
	run_test "200 concurrent SOCKS connections of 1 MiB each all arrive intact" concurrent 200
	run_test "past the session limit a CONNECT is refused at once with a SOCKS error; the rest arrive intact, no OOM kill" overload
	# Last: it disturbs sockd on purpose.
	run_test "sockd killed inside the guest is restarted and the proxy answers within 2 s" sockd_restart
	vm_down "$VM"
}

main
