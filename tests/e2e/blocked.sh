#!/usr/bin/env bash
# Group blocked: networks that drop MPTCP, as mobile carriers' middleboxes, CGNAT and some
# firewalls do. One guest with three uplinks shaped to 20 Mbit/s. Uplink 1's network drops
# SYNs with MP_JOIN during a download: status (and --json) and check name it within seconds,
# the download goes on over the other two, and once the block lifts the running download gets
# its subflow over uplink 1 back (the guest retries with a backoff). Then uplink 0's network,
# the one new connections start from, drops MP_CAPABLE: one connection falls back to plain TCP
# (the kernel, after 3 s), status names the uplink, and the next connections start from
# another uplink, multipath over all three; lifted, the guest's retry finds it again.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
VM=$(printf 't%05db' $(($$ % 100000)))
FOUND_WITHIN=15 # s from the block to status naming it: the join's SYN waits 3 s, then one probe
BACK_WITHIN=40  # s from the lift to the subflow back: retries 5, 10, 20 s after the finding

status_json() { in_host "$MPSOCKS" status --name "$VM" --json 2>/dev/null || true; }

# blocked_as NIC WHAT: status --json names NIC with WHAT (or "ok": names it not).
blocked_as() {
	"$PY" -c '
import json, sys
d = json.loads(sys.stdin.read() or "{}")
b = {x["nic"]: x["what"] for x in d.get("mptcp_blocked") or []}
sys.exit(0 if b.get(sys.argv[1], "ok") == sys.argv[2] else 1)' "$1" "$2" <<<"$(status_json)"
}

# await_blocked NIC WHAT SECS: until status --json says so; prints the seconds it took.
await_blocked() {
	local t0=$SECONDS
	while ((SECONDS - t0 <= $3)); do
		blocked_as "$1" "$2" && { echo $((SECONDS - t0)); return 0; }
		sleep 1
	done
	fail "status --json did not say $1 $2 within $3 s: $(status_json)"
}

# subflow_nics TOKEN_REMOTE: the NICs of the established subflows of the newest connection to
# the server, sorted, from status --json.
subflow_nics() {
	"$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
c = [c for c in d["connections"] if c["remote"] == sys.argv[1]]
print(" ".join(sorted(s["nic"] for s in c[-1]["subflows"] if s["state"] == "established")) if c else "")' \
		"$BED_SERVER_ADDR:$BED_SERVER_PORT" <<<"$(status_json)"
}

# joins_download: the block on uplink 1, then a shaped 128 MiB download (DL_PID, DL_TAG) that
# the next two tests watch; started here, outside them, as both need it.
joins_download() {
	bed_shape 20mbit
	bed_block_mptcp 1 join
	DL_TAG=$(tag joins)
	in_host "$MPTCP_GET" --socks "$PROXY" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$((128 * MIB))?tag=$DL_TAG" \
		>"$BED_DIR/$DL_TAG.get" 2>&1 &
	DL_PID=$!
}

joins_dropped() {
	local out took
	need_vm
	took=$(await_blocked eth1 joins-dropped "$FOUND_WITHIN")
	echo "status named eth1 $took s after the download started" >&2
	[ "$(bed_mptcp_drops 1)" -ge 1 ] || fail "the bed dropped no join: the test did not block anything"
	out=$(in_host "$MPSOCKS" status --name "$VM" 2>&1) || true
	echo "$out"
	grep -q 'uplink eth1 (up1): the network drops MPTCP joins' <<<"$out" || fail "status prints no line for eth1"
	[ "$(subflow_nics)" = "eth0 eth2" ] || fail "the download's subflows: $(subflow_nics), want eth0 eth2"
	out=$(in_host "$MPSOCKS" check --name "$VM" "http://$BED_SERVER_ADDR/bytes/$((2 * MIB))?tag=$(tag check)" 2>&1) || true
	echo "$out"
	grep -q '^uplink eth1 (up1): the network drops MPTCP joins' <<<"$out" || fail "check names no blocked uplink"
}

joins_back() {
	local t0 nics=''
	need_vm
	[ -n "${DL_PID:-}" ] || fail "no download from the test before"
	bed_unblock_mptcp 1
	t0=$SECONDS
	while ((SECONDS - t0 <= BACK_WITHIN)); do
		nics=$(subflow_nics)
		[ "$nics" != "eth0 eth1 eth2" ] || break
		sleep 1
	done
	echo "subflows $((SECONDS - t0)) s after the lift: $nics" >&2
	[ "$nics" = "eth0 eth1 eth2" ] || fail "the running download has subflows on [$nics] $BACK_WITHIN s after the lift"
	blocked_as eth1 ok || fail "status still names eth1: $(status_json)"
	while kill -0 "$DL_PID" 2>/dev/null; do sleep 0.5; done # not this subshell's child: no wait
	grep -q 'sha256=' "$BED_DIR/$DL_TAG.get" || fail "the download failed: $(cat "$BED_DIR/$DL_TAG.get")"
	check_report_intact "$DL_TAG"
}

# check_report_intact TAG: the download finished and the server's sha256 is the client's.
check_report_intact() {
	local line
	line=$(wait_report "$1")
	[ "$(bed_field "$line" sha256_out)" = "$(bed_field "$(cat "$BED_DIR/$1.get")" sha256)" ] ||
		fail "download $1 not intact: $(cat "$BED_DIR/$1.get")"
	echo "server: $line" >&2
}

capable_dropped() {
	local t line took
	need_vm
	bed_unshape
	bed_block_mptcp 0 capable
	t=$(tag mpc)
	in_host "$MPTCP_GET" --socks "$PROXY" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$MIB?tag=$t" >"$BED_DIR/$t.get" 2>&1 ||
		fail "a download through a network that drops MP_CAPABLE failed: $(cat "$BED_DIR/$t.get")"
	line=$(wait_report "$t")
	[ "$(bed_field "$line" mptcp)" = 0 ] || fail "it was MPTCP: the block did not work ($line)"
	took=$(await_blocked eth0 mp-capable-dropped "$FOUND_WITHIN")
	echo "status named eth0 $took s after" >&2
	in_host "$MPSOCKS" status --name "$VM" 2>&1 | grep 'uplink eth0 (up0): the network drops new MPTCP connections' ||
		fail "status prints no line for eth0"
	t=$(tag mpc2)
	in_host "$MPTCP_GET" --socks "$PROXY" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$((4 * MIB))?tag=$t" >"$BED_DIR/$t.get" 2>&1 ||
		fail "the next download failed: $(cat "$BED_DIR/$t.get")"
	line=$(wait_report "$t")
	echo "next: $(cat "$BED_DIR/$t.get"); server: $line" >&2
	[ "$(bed_field "$line" mptcp)" = 1 ] || fail "the next connection was not MPTCP: $line"
	[ "$(bed_subflow_peers "$line" | wc -l)" = 3 ] || fail "the next connection has subflows from [$(bed_subflow_peers "$line" | tr '\n' ' ')], want 3"
	awk -v f="$(bed_field "$(cat "$BED_DIR/$t.get")" first_ms)" 'BEGIN { exit !(f < 1000) }' ||
		fail "the next connection took $(bed_field "$(cat "$BED_DIR/$t.get")" first_ms) ms to its first byte"
}

capable_back() {
	local took
	need_vm
	bed_unblock_mptcp 0
	took=$(await_blocked eth0 ok "$BACK_WITHIN")
	echo "status cleared eth0 $took s after the lift" >&2
	grep -aq 'mptcp: uplink 0 passes MP_CAPABLE (new MPTCP connections) again' "$(console_log "$VM")" ||
		fail "no console line for it"
}

main() {
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1 || true
	[ -z "$PROXY" ] || joins_download
	run_test "blocked: uplink 1's network drops MPTCP joins: status, --json and check name it within ${FOUND_WITHIN} s; the download goes on over the other two" joins_dropped
	run_test "blocked: the block lifts: the running download gets its uplink 1 subflow back within ${BACK_WITHIN} s, intact" joins_back
	run_test "blocked: uplink 0's network drops MP_CAPABLE: status names it; the next connection starts elsewhere, MPTCP over 3 uplinks, first byte < 1 s" capable_dropped
	run_test "blocked: that block lifts: the guest's own retry finds it within ${BACK_WITHIN} s" capable_back
	bed_unblock_mptcp 0
	bed_unblock_mptcp 1
	bed_unshape
	vm_down "$VM"
}

main
