#!/usr/bin/env bash
# Group visibility: seeing the multipath. One guest with three uplinks: check against the bed's
# MPTCP server (exit 0, 3 subflows over 3 uplinks) and against a plain-TCP server (exit 1,
# fallback); status and status --json during a download (the connection, its 3 subflows,
# growing byte counts); capture during a download (pcaps per uplink, the report, the PNGs);
# capture started during a download (its subflows tied by the guest's token) and with the
# guest not answering; bad usage.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
VM=$(printf 't%05dv' $(($$ % 100000)))
# A plain-TCP server the guest reaches through every uplink: mptcp_server --tcp on another
# address of the internet side's lo (the far one is reachable only through an exit).
PLAIN_ADDR=198.51.100.3

plain_up() {
	ip -n "$BED_INET" addr add "$PLAIN_ADDR/32" dev lo 2>/dev/null || true
	ip netns exec "$BED_INET" "$MPTCP_SERVER" --tcp "$PLAIN_ADDR" 80 >>"$BED_DIR/plain.log" 2>"$BED_DIR/plain.err" &
	PLAIN_PID=$!
	for _ in $(seq 50); do grep -q listening "$BED_DIR/plain.err" 2>/dev/null && return 0; sleep 0.1; done
	echo "plain server did not start: $(cat "$BED_DIR/plain.err")" >&2
}

plain_down() {
	[ -z "${PLAIN_PID:-}" ] || kill "$PLAIN_PID" 2>/dev/null || true
	ip -n "$BED_INET" addr del "$PLAIN_ADDR/32" dev lo 2>/dev/null || true
}

# check_multipath: exit 0, MPTCP with 3 subflows over the 3 uplinks, and the server agrees.
check_multipath() {
	local t out rc=0 line peers
	need_vm
	t=$(tag check)
	out=$(in_host "$MPSOCKS" check --name "$VM" "http://$BED_SERVER_ADDR/bytes/$((4 * MIB))?tag=$t" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "check exited $rc, want 0: $(tail -n 1 <<<"$out")"
	grep -q '^result: multipath: 3 subflows over 3 uplinks$' <<<"$out" || fail "no 'multipath: 3 subflows over 3 uplinks' line"
	for i in 0 1 2; do
		grep -qE "^  subflow 10\.66\.[0-9]+\.2:[0-9]+ +via eth$i +up$i +rtt +[0-9.]+ ms" <<<"$out" ||
			fail "no subflow via eth$i (up$i) with its RTT"
	done
	line=$(wait_report "$t")
	peers=$(bed_subflow_peers "$line" | wc -l)
	[ "$peers" = 3 ] || fail "the server saw $peers subflow addresses, check said 3"
}

# check_fallback: a plain-TCP server: exit 1, reported as fallback.
check_fallback() {
	local out rc=0
	need_vm
	[ -n "${PLAIN_PID:-}" ] || fail "no plain server"
	out=$(in_host "$MPSOCKS" check --name "$VM" "$PLAIN_ADDR:80" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "check exited $rc, want 1"
	grep -q '^result: fallback to plain TCP' <<<"$out" || fail "no 'fallback to plain TCP' result line"
	grep -q 'fallback to TCP' <<<"$out" || fail "the connection line does not say fallback"
}

# check_bad_usage: exit 2 and one line for each.
check_bad_usage() {
	local args out rc
	need_vm
	for args in "--bogus" "a.test b.test" "--name" "--name 9x server.test" "ftp://x.test/" "--name nosuch$$ x.test"; do
		rc=0
		# shellcheck disable=SC2086 # the words of the case
		out=$(in_host "$MPSOCKS" check $args 2>&1) || rc=$?
		echo "check $args -> $rc: $out"
		case $args in
		"--name nosuch"*) [ "$rc" = 1 ] || fail "check $args: exit $rc, want 1 (not running)" ;;
		*) [ "$rc" = 2 ] || fail "check $args: exit $rc, want 2" ;;
		esac
		[ "$(grep -c . <<<"$out")" = 1 ] || fail "check $args: $(grep -c . <<<"$out") lines, want 1"
	done
	for args in "--seconds 0" "--seconds x" "--bogus" "extra"; do
		rc=0
		# shellcheck disable=SC2086
		out=$(in_host "$MPSOCKS" capture --name "$VM" $args 2>&1) || rc=$?
		echo "capture $args -> $rc: $out"
		{ [ "$rc" = 2 ] && [ "$(grep -c . <<<"$out")" = 1 ]; } || fail "capture $args: exit $rc, $(grep -c . <<<"$out") lines"
	done
	rc=0
	out=$(in_host "$MPSOCKS" capture --name "$VM" --out /proc/nonexistent 2>&1) || rc=$?
	echo "capture --out /proc/nonexistent -> $rc: $out"
	{ [ "$rc" = 1 ] && [ "$(grep -c . <<<"$out")" = 1 ]; } || fail "an unwritable --out: exit $rc, $(grep -c . <<<"$out") lines"
	! pgrep -f "dumpcap.*$VM-" >/dev/null || fail "a dumpcap is left running"
}

# slow_download TAG MIB: a shaped download in the background (sets DL_PID).
slow_download() {
	bed_shape 20mbit
	in_host curl -sS --max-time 120 --socks5 "$PROXY" -o "$BED_DIR/$1" "http://$BED_SERVER_ADDR/bytes/$(($2 * MIB))?tag=$1" &
	DL_PID=$!
}

# status_live: status and status --json during a download show it with 3 subflows, growing.
status_live() {
	local t out j1 j2 line
	need_vm
	t=$(tag status)
	trap 'bed_unshape' EXIT
	slow_download "$t" 80
	sleep 2
	out=$(in_host "$MPSOCKS" status --name "$VM" 2>&1) || true
	echo "$out"
	grep -q "connection 10\.66\.[0-9.]*:[0-9]* -> $BED_SERVER_ADDR:80 (MPTCP, 3 subflows" <<<"$out" ||
		fail "status lists no MPTCP connection to the server with 3 subflows"
	[ "$(grep -c '^    subflow ' <<<"$out")" -ge 3 ] || fail "status lists fewer than 3 subflow lines"
	grep -q 'SOCKS clients connected: [1-9]' <<<"$out" || fail "status shows no SOCKS client"
	j1=$(in_host "$MPSOCKS" status --name "$VM" --json) || true
	sleep 1
	j2=$(in_host "$MPSOCKS" status --name "$VM" --json) || true
	echo "$j2"
	"$PY" -m json.tool <<<"$j1" >/dev/null || fail "status --json does not parse"
	"$PY" - "$j1" "$j2" "$BED_SERVER_ADDR:80" <<-'EOF' || fail "status --json: see the log"
		import json, sys
		a, b, dst = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
		def conn(d):
		    cs = [c for c in d["connections"] if c["remote"] == dst and not c["fallback"]]
		    assert cs, "no MPTCP connection to %s" % dst
		    return cs[-1]
		c1, c2 = conn(a), conn(b)
		ups = {s["uplink"] for s in c2["subflows"]}
		assert len(c2["subflows"]) == 3 and ups == {"up0", "up1", "up2"}, "subflows %s" % c2["subflows"]
		assert c2["bytes_received"] > c1["bytes_received"], "bytes did not grow: %d -> %d" % (c1["bytes_received"], c2["bytes_received"])
		assert sum(s["bytes_received"] for s in c2["subflows"]) > 0
		assert a["clients"], "no clients"
		print("json ok: %d subflows, %d -> %d bytes" % (len(c2["subflows"]), c1["bytes_received"], c2["bytes_received"]))
	EOF
	# --watch --json: one object a line, each parsing, until stopped.
	in_host timeout 4 "$MPSOCKS" status --name "$VM" --watch --json >"$BED_DIR/watch.out" 2>&1 || true
	[ "$(grep -c '^{' "$BED_DIR/watch.out")" -ge 2 ] || fail "status --watch --json gave $(grep -c '^{' "$BED_DIR/watch.out") objects in 4 s"
	while read -r line; do "$PY" -m json.tool <<<"$line" >/dev/null || fail "a --watch line does not parse"; done < <(grep '^{' "$BED_DIR/watch.out")
	wait "$DL_PID" || fail "the download failed"
	check_download "$t" "$BED_DIR/$t" $((80 * MIB))
	rm -f "$BED_DIR/$t"
}

# capture_download: capture (ended early by TERM, as Ctrl-C would) during a 12 MiB download
# over uplinks shaped to 20 Mbit/s (a few seconds: plots worth looking at).
capture_download() {
	local t dir=$BED_DIR/capture pid i n line down png
	need_vm
	t=$(tag capture)
	rm -rf "$dir"
	trap 'bed_unshape' EXIT
	bed_shape 20mbit
	# Not through in_host: $! must be the launcher itself (ip netns exec execs it).
	ip netns exec "$BED_HOST" "$MPSOCKS" capture --name "$VM" --seconds 60 --out "$dir" >"$BED_DIR/capture.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 300; i++)); do grep -q recording "$BED_DIR/capture.out" && break; sleep 0.1; done
	grep -q recording "$BED_DIR/capture.out" || { kill "$pid"; fail "capture did not start: $(tail -n1 "$BED_DIR/capture.out")"; }
	sleep 1
	curl_socks ip -o "$BED_DIR/$t" "$(server_url ip "/bytes/$((12 * MIB))?tag=$t")"
	check_download "$t" "$BED_DIR/$t" $((12 * MIB))
	sleep 1
	kill -TERM "$pid"
	wait "$pid" || fail "capture failed: $(tail -n 1 "$BED_DIR/capture.out")"
	cat "$BED_DIR/capture.out"
	! pgrep -f "dumpcap.*$VM-" >/dev/null || fail "a dumpcap is left running"
	[ -s "$dir/merged.pcapng" ] || fail "no merged.pcapng"
	for i in 0 1 2; do
		n=$(tshark -n -r "$dir/uplink$i-up$i.pcapng" -Y "mptcp and tcp.port == 80" 2>/dev/null | wc -l)
		echo "uplink $i: $n MPTCP packets of port 80"
		[ "$n" -gt 0 ] || fail "uplink$i-up$i.pcapng holds no MPTCP packets of the download"
	done
	line=$(grep -E "^connection [0-9]+: .* -> $BED_SERVER_ADDR:80, MPTCP, 3 subflows, down [0-9]+ B" "$dir/report.txt" | tail -n 1)
	[ -n "$line" ] || fail "report.txt names no MPTCP connection to the server with 3 subflows"
	down=$(sed -n 's/.*, down \([0-9]*\) B .*/\1/p' <<<"$line")
	echo "report: $line"
	[ "$(echo "d = $down - $((12 * MIB)); if (d < 0) d = -d; d * 50 <= $((12 * MIB))" | bc)" = 1 ] ||
		fail "the subflows' bytes add up to $down, not 12 MiB within 2%"
	n=$(sed -n 's/^connection \([0-9]*\): .*/\1/p' <<<"$line")
	for png in "$dir/conn$n-goodput.png" "$dir/conn$n-dsn.png"; do
		file "$png" | grep -q 'PNG image data, 900 x 500' || fail "$png is not a 900x500 PNG: $(file "$png")"
		[ "$(stat -c %s "$png")" -gt 10000 ] || fail "$png is suspiciously small"
	done
	rm -f "$BED_DIR/$t"
	[ -z "${VIS_KEEP:-}" ] || cp -r "$dir" "$VIS_KEEP"
}

# capture_running: the user's case. A download over 3 uplinks runs; capture starts 3 s into it,
# for 4 s: its handshakes are not in the recording, yet the report shows it as 1 MPTCP
# connection with 3 subflows over the 3 uplinks, tied by the token the guest names for them,
# with its plots.
capture_running() {
	local t dir=$BED_DIR/capture-running out n line i sf png dat
	need_vm
	t=$(tag running)
	rm -rf "$dir"
	trap 'bed_unshape; [ -z "${DL_PID:-}" ] || kill "$DL_PID" 2>/dev/null || true' EXIT
	slow_download "$t" 100
	sleep 3
	kill -0 "$DL_PID" 2>/dev/null || fail "the download ended within 3 s: nothing was running when capture started"
	out=$(in_host "$MPSOCKS" capture --name "$VM" --seconds 4 --out "$dir" 2>&1) || fail "capture failed: $(tail -n 1 <<<"$out")"
	echo "$out"
	[ -z "${VIS_KEEP:-}" ] || cp -r "$dir" "$VIS_KEEP-running"
	kill -0 "$DL_PID" 2>/dev/null || fail "the download ended before the capture did"
	# The scenario holds: no SYN of port 80 in the recording (the handshakes came before it).
	n=$(tshark -n -r "$dir/merged.pcapng" -Y "tcp.port == 80 && tcp.flags.syn == 1" 2>/dev/null | wc -l)
	[ "$n" = 0 ] || fail "the recording holds $n SYNs of port 80: the download's handshakes were captured"
	grep -q '^MPTCP connections: 1; plain TCP connections: 0,' "$dir/report.txt" || fail "the report does not count 1 MPTCP connection and no plain one: $(grep '^MPTCP connections' "$dir/report.txt")"
	line=$(grep -E "^connection [0-9]+: 10\.66\.[0-9]+\.2:[0-9]+ -> $BED_SERVER_ADDR:80, MPTCP, 3 subflows, down [0-9]+ B .*, joined by the guest's token [0-9a-f]{8}, handshake not captured$" "$dir/report.txt") ||
		fail "report.txt names no MPTCP connection to the server with 3 subflows joined by the guest's token"
	echo "report: $line"
	n=$(sed -n 's/^connection \([0-9]*\): .*/\1/p' <<<"$line")
	for i in 0 1 2; do
		sf=$(grep -E "^  subflow [1-3] .* via eth$i up$i \(" "$dir/report.txt") || fail "no subflow via eth$i (up$i)"
		[[ $sf =~ down\ [1-9][0-9]*\ B ]] || fail "the subflow via eth$i carried nothing down: $sf"
	done
	grep -q "^  joined by the guest's token, handshake not captured: connection $n\b" "$dir/report.txt" || fail "the summary does not say connection $n was joined by the guest's token"
	{ [ -s "$dir/guest-start.txt" ] && [ -s "$dir/guest-end.txt" ]; } || fail "the guest's answers are not in $dir"
	for png in "$dir/conn$n-goodput.png" "$dir/conn$n-dsn.png"; do
		file "$png" | grep -q 'PNG image data, 900 x 500' || fail "$png is not a 900x500 PNG: $(file "$png")"
		[ "$(stat -c %s "$png")" -gt 10000 ] || fail "$png is suspiciously small"
	done
	for i in 1 2 3; do
		dat=$dir/conn$n-dsn-sf$i.dat
		[ "$(count_lines . "$dat")" -gt 10 ] || fail "$dat holds $(count_lines . "$dat") data sequence numbers"
	done
	awk '{ for (i = 2; i <= NF; i++) if ($i > 0) nz = 1 } END { exit !nz }' "$dir/conn$n-goodput.dat" || fail "conn$n-goodput.dat is all zero"
	wait "$DL_PID" || fail "the download failed"
	DL_PID=
	check_download "$t" "$BED_DIR/$t" $((100 * MIB))
	rm -f "$BED_DIR/$t"
}

# capture_no_guest: the same case while the guest cannot be asked (its info socket moved
# away): the report shows what the packets alone show, and one line says why no more.
capture_no_guest() {
	local t dir=$BED_DIR/capture-noguest out
	NOGUEST_SOCK=/run/mpsocks/$VM/info.sock # not local: the EXIT trap reads it
	need_vm
	t=$(tag noguest)
	rm -rf "$dir"
	trap 'bed_unshape; [ -z "${DL_PID:-}" ] || kill "$DL_PID" 2>/dev/null || true; [ ! -e "$NOGUEST_SOCK.away" ] || mv "$NOGUEST_SOCK.away" "$NOGUEST_SOCK"' EXIT
	slow_download "$t" 40
	sleep 2
	mv "$NOGUEST_SOCK" "$NOGUEST_SOCK.away"
	out=$(in_host "$MPSOCKS" capture --name "$VM" --seconds 2 --out "$dir" 2>&1) || fail "capture failed: $(tail -n 1 <<<"$out")"
	mv "$NOGUEST_SOCK.away" "$NOGUEST_SOCK"
	echo "$out"
	[ -z "${VIS_KEEP:-}" ] || cp -r "$dir" "$VIS_KEEP-noguest"
	grep -q "^guest's view: not available (" "$dir/report.txt" || fail "the report does not say the guest's view was not available"
	[ "$(grep -c "^guest's view" "$dir/report.txt")" = 1 ] || fail "more than one guest's view line"
	grep -q '^MPTCP connections: 0; plain TCP connections: 3,' "$dir/report.txt" || fail "without the guest, the report should show the 3 subflows as 3 TCP connections: $(grep '^MPTCP connections' "$dir/report.txt")"
	grep -q '^  of which carry MPTCP options, handshake not captured: 3$' "$dir/report.txt" || fail "the report does not say 3 of them carry MPTCP options"
	wait "$DL_PID" || fail "the download failed"
	DL_PID=
	check_download "$t" "$BED_DIR/$t" $((40 * MIB))
	rm -f "$BED_DIR/$t"
}

main() {
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1 || true
	plain_up || true
	run_test "check against the MPTCP server: exit 0, 3 subflows over 3 uplinks" check_multipath
	run_test "check against a plain-TCP server: exit 1, fallback" check_fallback
	run_test "check and capture: bad usage exits 2 with one line, a bad --out 1" check_bad_usage
	run_test "status, status --json and --watch during a download: the connection, 3 subflows, growing bytes" status_live
	run_test "capture during a shaped download: pcaps per uplink, report with 3 subflows adding up within 2%, PNG plots" capture_download
	run_test "capture started 3 s into a download: 1 MPTCP connection, 3 subflows over 3 uplinks joined by the guest's token, plots" capture_running
	run_test "capture while the guest cannot be asked: what the packets show, one line saying why" capture_no_guest
	plain_down
	vm_down "$VM"
}

main
