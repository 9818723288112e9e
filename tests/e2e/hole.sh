#!/usr/bin/env bash
# Group hole (issue 23): a fast uplink and a slow one with a deep queue, as Wi-Fi beside a
# phone's tethering. The slow uplink is cut mid-download: what its queue held never arrives,
# a hole in the MPTCP sequence, while the fast uplink fills the guest's receive buffer with
# what follows. The server reinjects the hole's data on the fast subflow, behind that data.
# Before kernel/patches/mptcp-rx-hole-under-full-rcvbuf.patch the guest stopped taking data
# from the subflow once the buffer was full, the reinjected data never reached the receive
# queue, and the download stopped for good. Each download must finish intact with no receive
# gap over GAP_MS, the server on bbr (the host's default) and on reno.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05dh' $(($$ % 100000)))
GAP_MS=5000
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

main() {
	local cc r saved
	saved=$(ip netns exec "$BED_INET" sysctl -n net.ipv4.tcp_congestion_control)
	trap 'ip netns exec "$BED_INET" sysctl -qw net.ipv4.tcp_congestion_control="$saved"; bed_unshape; vm_down "$VM" || true' EXIT
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	shape_unequal
	for r in 1 2 3; do
		for cc in bbr reno; do
			run_test "$cc, run $r: the slow uplink (10 Mbit/s, deep queue) cut mid-download beside a fast one: intact, no gap over $((GAP_MS / 1000)) s" \
				cut_slow "$cc" "$r"
		done
	done
}
main
