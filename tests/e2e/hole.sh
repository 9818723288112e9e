#!/usr/bin/env bash
# Group hole (issue 23): a fast uplink and a slow one with a deep queue, as Wi-Fi beside a
# phone's tethering. The slow uplink is cut mid-download: what its queue held never arrives,
# a hole in the MPTCP sequence, while the fast uplink fills the guest's receive buffer with
# what follows. The server reinjects the hole's data on the fast subflow, behind that data.
# Before kernel/patches/mptcp-rx-hole-under-full-rcvbuf.patch the guest stopped taking data
# from the subflow once the buffer was full, the reinjected data never reached the receive
# queue, and the download stopped for good. Each download must finish intact with no receive
# gap over GAP_MS, the server on bbr (the host's default) and on reno. Then uploads through an
# exit, whose kernel (the host's here, a VPS's in use) has no such patch: its link must see the
# state and grow the buffer (link/net.c net_rx_unstick).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05dh' $(($$ % 100000)))
EXIT=$(printf 't%05dk' $(($$ % 100000)))
GAP_MS=5000
UPLOAD_S=60
TOTAL=$((96 * MIB))

# shape_unequal: uplink 0 at 100 Mbit/s, uplink 1 at 10 Mbit/s with a 400 ms queue (~500 KB,
# a phone's), both directions; uplink 2 down.
shape_unequal() {
	bed_shape 100mbit
	ip netns exec "$BED_HOST" tc qdisc replace dev up1 root tbf rate 10mbit burst 32kb latency 400ms
	ip netns exec "$BED_INET" tc qdisc replace dev dn1 root tbf rate 10mbit burst 32kb latency 400ms
}

# cut_slow CC RUN: a download from the server on CC; uplink 1 goes down once 8 MiB arrived.
cut_slow() {
	local cc=$1 t out mark pid line gap
	need_vm
	t=$(tag "hole-$cc-$2") out=$BED_DIR/get-$t mark=$BED_DIR/mark-$t
	trap 'bed_link 1 up' EXIT
	ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$cc"
	in_host timeout 120 "$MPTCP_GET" --socks "$PROXY" --mark $((8 * MIB)) "$mark" "$BED_SERVER_ADDR" \
		"$BED_SERVER_PORT" "/bytes/$TOTAL?tag=$t" >"$out" &
	pid=$!
	await_mark "$pid" "$mark" 8
	bed_link 1 down
	wait "$pid" || fail "the download did not finish (120 s): $(cat "$out")"
	bed_link 1 up
	line=$(wait_report "$t")
	echo "client: $(cat "$out"); server: $line" >&2
	bed_subflow_peers "$line" | grep -x 198.18.1.2 >/dev/null || fail "no subflow over the slow uplink: nothing tested"
	[ "$(bed_field "$(cat "$out")" sha256)" = "$(bed_field "$line" sha256_out)" ] || fail "the download is not intact"
	gap=$(bed_field "$(cat "$out")" max_gap_ms)
	[ "${gap%.*}" -le "$GAP_MS" ] || fail "the download stopped for $gap ms (limit $GAP_MS)"
	echo "longest gap ${gap} ms" >&2
}

# upload_cut CC RUN: the same the other way, through the exit (its kernel, the host's, is the
# receiver: a VPS's that has no such patch), to the plain server behind it: a 96 MiB upload,
# the slow uplink down 2 s in. The exit's link must get it moving again (link/net.c
# net_rx_unstick) and the upload must arrive intact within UPLOAD_S.
upload_cut() {
	local cc=$1 t out pid file resp i
	need_vm
	t=$(tag "holeup-$cc-$2") out=$BED_DIR/put-$t
	file=$(random_file "$BED_DIR/upload-96m" 96)
	trap 'bed_link 1 up' EXIT
	ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$cc"
	in_host curl -sS --max-time "$UPLOAD_S" --socks5 "$PROXY" -H 'Expect:' -T "$file" \
		"http://$BED_FAR_ADDR/upload?tag=$t" >"$out" 2>&1 &
	pid=$!
	sleep 2
	kill -0 "$pid" 2>/dev/null || fail "the upload ended before the cut: nothing tested ($(cat "$out"))"
	bed_link 1 down
	for ((i = 0; i < UPLOAD_S * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" || fail "the upload did not arrive within $UPLOAD_S s: $(cat "$out")"
	bed_link 1 up
	resp=$(cat "$out")
	check_upload "$t" "$file" "$resp"
	echo "upload done in $((i / 10)).$((i % 10)) s after the cut" >&2
}

main() {
	local cc r saved
	saved=$(ip netns exec "$BED_INET" sysctl -n net.ipv4.tcp_congestion_control)
	trap 'ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$saved"; bed_unshape; vm_down "$VM" || true; exit_down "$EXIT" || true' EXIT
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	shape_unequal
	for r in 1 2 3; do
		for cc in bbr reno; do
			run_test "$cc, run $r: the slow uplink (10 Mbit/s, deep queue) cut mid-download beside a fast one: intact, no gap over $((GAP_MS / 1000)) s" \
				cut_slow "$cc" "$r"
		done
	done
	vm_down "$VM"
	exit_up "$EXIT" || true
	(umask 077 && printf '%s\n' "${EXIT_LINE:-}" >"$BED_DIR/hole-exit.line")
	VM=$(printf 't%05dj' $(($$ % 100000)))
	vm_up "$VM" --exit "$BED_DIR/hole-exit.line" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	for r in 1 2 3; do
		run_test "run $r: the slow uplink cut 2 s into a 96 MiB upload through the exit (the host's kernel receives): it arrives intact within $UPLOAD_S s" \
			upload_cut bbr "$r"
	done
	exit_down "$EXIT" || true
	grep -h 'receive buffer was full' "$BED_LOGS/$EXIT".*.log 2>/dev/null | sort | uniq -c >&2 || true
}
main
