#!/usr/bin/env bash
# tools/mpsocks down leaves nothing behind: after a normal up --detach, and after the
# foreground up was killed with SIGKILL. "Nothing" = the host namespace's links, addresses,
# rules, routes, nftables ruleset and MPTCP endpoints are as before, no process of the
# instance is left and its state directory is gone.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05dc' $(($$ % 100000)))
STATE=/run/mpsocks/$VM

# snapshot: the host namespace's network state, in a comparable form.
snapshot() {
	echo "# links"
	ip -n "$BED_HOST" -br link show | awk '{print $1, $3}' | sed 's/@[^ ]*//'
	echo "# addresses"
	ip -n "$BED_HOST" -br addr show
	echo "# rules"
	ip -n "$BED_HOST" rule show
	ip -n "$BED_HOST" -6 rule show
	echo "# routes"
	ip -n "$BED_HOST" route show table all
	echo "# nft"
	ip netns exec "$BED_HOST" nft list ruleset
	echo "# mptcp"
	ip -n "$BED_HOST" mptcp endpoint show
	echo "# processes in the namespace"
	ip netns pids "$BED_HOST" | wc -l
}

# same_as BEFORE_FILE WHEN: the state matches BEFORE_FILE and nothing of the instance is left.
same_as() {
	local d
	snapshot >"$BED_DIR/after"
	if ! d=$(diff "$1" "$BED_DIR/after"); then
		echo "$d" >&2
		fail "$2: left behind: $(grep '^>' <<<"$d" | head -n 3 | tr '\n' ' ')"
	fi
	[ ! -e "$STATE" ] || fail "$2: state directory $STATE is left: $(find "$STATE" -mindepth 1 -printf '%f ')"
	! pgrep -f "$STATE/|mpsocks-$VM( |$)" >/dev/null ||
		fail "$2: processes of the instance are left: $(pgrep -af "$STATE/|mpsocks-$VM( |$)" | head -n 2)"
}

# wait_ready UP_OUTPUT: until the console says sockd listens (the foreground up prints it too).
wait_ready() {
	local i
	for ((i = 0; i < 900; i++)); do
		grep -q 'sockd listening' "$STATE/console.log" 2>/dev/null && return 0
		grep -q 'socks5h://' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no 'sockd listening' within 90 s"
}

down_after_detach() {
	snapshot >"$BED_DIR/before"
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || fail "$VM_ERR"
	# Only a guest that really came up, seen by the snapshot, makes the comparison worth anything.
	[ -e "$STATE/qemu.pid" ] || fail "no $STATE/qemu.pid while the guest runs"
	snapshot >"$BED_DIR/during"
	! diff -q "$BED_DIR/before" "$BED_DIR/during" >/dev/null || fail "the snapshot does not see the running instance"
	ip netns exec "$BED_HOST" "$MPSOCKS" down --name "$VM" >&2
	same_as "$BED_DIR/before" "after down"
	ip netns exec "$BED_HOST" "$MPSOCKS" down --name "$VM" >&2 || fail "a second down failed"
}

down_after_kill9() {
	local pid qemu out=$BED_LOGS/$VM.fg
	[ -x "$MPSOCKS" ] || fail "launcher $MPSOCKS missing"
	snapshot >"$BED_DIR/before"
	local args=()
	[ -z "${KERNEL:-}" ] || args+=(--kernel "$KERNEL")
	[ -z "${INITRD:-}" ] || args+=(--initrd "$INITRD")
	bed_register_instance "$VM"
	ip netns exec "$BED_HOST" "$MPSOCKS" up --name "$VM" --accel tcg --dns "$BED_SERVER_ADDR" \
		"${args[@]}" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 </dev/null >"$out" 2>&1 &
	pid=$!
	wait_ready "$out"
	qemu=$(cat "$STATE/qemu.pid")
	kill -0 "$qemu" || fail "qemu ($qemu) is not running"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	ip netns exec "$BED_HOST" "$MPSOCKS" down --name "$VM" >&2
	same_as "$BED_DIR/before" "after kill -9 of up and down"
	! kill -0 "$qemu" 2>/dev/null || fail "qemu ($qemu) still runs"
}

main() {
	run_test "down leaves nothing behind (taps, nft, rules, routes, processes, state); twice is fine" down_after_detach
	run_test "down after kill -9 of a foreground up leaves nothing behind" down_after_kill9
}

main
