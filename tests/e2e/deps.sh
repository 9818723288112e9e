#!/usr/bin/env bash
# The launcher on a minimal Debian system plus the packages tools/lib/needs.sh names, and
# nothing else: each command runs with a PATH that holds only those packages' programs, so a
# program the launcher calls without listing it fails here, not on a user's machine; and
# without arping, up refuses at once in one line instead of running without its probes.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
# shellcheck source=tools/lib/needs.sh
source "$TOP/tools/lib/needs.sh"
VM=$(printf 't%05dd' $(($$ % 100000)))
VM2=$(printf 't%05de' $(($$ % 100000)))
EXIT=$(printf 'x%05dd' $(($$ % 100000)))
LAUNCHER=$MPSOCKS
UPLINKS=(--uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1)

# The packages of a minimal Debian system that this host has: debootstrap --variant=minbase
# installs those of priority required.
minbase_packages() {
	dpkg-query -W -f '${Package} ${Priority} ${Essential}\n' | awk '$2 == "required" || $3 == "yes" { print $1 }'
}

# minimal_path DIR [COMMAND]: DIR gets a link to every program on this host whose file belongs
# to a minbase package (through alternatives too: awk is mawk's), and to each command that
# needs.sh names; less COMMAND. Commands, not their packages: the launcher may call only
# what the list names (whether a package brings its command, tools/deps --check tells).
minimal_path() {
	local dir=$1 except=${2:-} f real c
	local -A own=()
	mkdir -p "$dir"
	while read -r f; do own[$f]=1; done < <(minbase_packages | xargs dpkg -L 2>/dev/null |
		grep -E '/s?bin/' | xargs realpath -q -m | sort -u)
	for f in /usr/sbin/* /usr/bin/* /sbin/* /bin/*; do
		real=$(realpath -q -m "$f") || continue
		if [ -n "${own[$real]:-}" ] && [ -x "$real" ]; then
			ln -sf "$real" "$dir/${f##*/}"
		fi
	done
	for c in "${NEEDS_UP[@]%%:*}" "${NEEDS_PROBES[@]%%:*}" "${NEEDS_DOWN[@]%%:*}" "${NEEDS_STATUS[@]%%:*}" \
		"${NEEDS_CHECK[@]%%:*}" "${NEEDS_CAPTURE[@]%%:*}" "${NEEDS_EXIT[@]%%:*}"; do
		f=$(command -v "$c") || fail "$c, named in tools/lib/needs.sh, is not installed here (tools/deps installs it)"
		ln -sf "$(realpath "$f")" "$dir/$c"
	done
	[ -z "$except" ] || rm -f "$dir/$except"
}

# launcher_with DIR: a launcher that runs with PATH=DIR alone (the real one's path is kept).
launcher_with() {
	local dir=$1
	minimal_path "$dir/bin" "${2:-}"
	printf '#!/bin/bash\nexec env PATH=%q %q "$@"\n' "$dir/bin" "$LAUNCHER" >"$dir/mpsocks"
	chmod +x "$dir/mpsocks"
	echo "$dir/mpsocks"
}

# no_missing FILE...: nothing the launcher printed says a program was not found.
no_missing() {
	local line
	if line=$(grep -hE 'command not found|No such file or directory|not found on PATH' "$@" | head -n 1) && [ -n "$line" ]; then
		fail "a program is missing: $line"
	fi
}

path_holds_the_basics() {
	local d=$BED_DIR/minpath
	local c
	for c in bash awk timeout setsid qemu-system-x86_64 nft ip socat arping ping python3 tshark gnuplot openssl; do
		[ -x "$d/bin/$c" ] || fail "the minimal PATH lacks $c"
	done
	for c in gcc curl dnsmasq sysctl iptables; do
		[ ! -e "$d/bin/$c" ] || fail "the minimal PATH holds $c: it is not minimal"
	done
}

booted() {
	need_vm
	no_missing "$BED_LOGS/$VM.up"
}

# The watcher's arping probes answer: after 4 probe intervals no uplink is blackholed.
probes_answer() {
	local state
	need_vm
	sleep 4
	state=$(cat "/run/mpsocks/$VM/uplinks")
	echo "$state"
	[ "$(grep -c ' up ' <<<"$state")" = 3 ] || fail "not every uplink is up after 4 s of probes: $(tr '\n' ';' <<<"$state")"
}

status_works() {
	local out json
	need_vm
	out=$(in_host "$MPSOCKS" status --name "$VM" 2>&1) || fail "status failed: $(tail -n 1 <<<"$out")"
	echo "$out"
	no_missing <(echo "$out")
	# QMP goes through socat: without it status would fall back to asking sockd.
	grep -q 'guest answers: yes (QMP: running)' <<<"$out" || fail "status: QMP does not answer: $(grep 'guest answers' <<<"$out")"
	json=$(in_host "$MPSOCKS" status --name "$VM" --json 2>&1) || fail "status --json failed: $(tail -n 1 <<<"$json")"
	python3 -c 'import json, sys; json.loads(sys.stdin.read())' <<<"$json" || fail "status --json is not JSON: ${json:0:120}"
}

check_works() {
	local out rc=0
	need_vm
	out=$(in_host "$MPSOCKS" check --name "$VM" "http://$BED_SERVER_ADDR/bytes/$MIB?tag=$(tag depcheck)" 2>&1) || rc=$?
	echo "$out"
	no_missing <(echo "$out")
	[ "$rc" = 0 ] || fail "check exited $rc: $(tail -n 1 <<<"$out")"
	grep -q '^result: multipath: 3 subflows over 3 uplinks$' <<<"$out" || fail "check saw no 3 subflows"
}

capture_works() {
	local out dir=$BED_DIR/depcap t
	need_vm
	t=$(tag depcap)
	(sleep 1 && in_host curl -sS --socks5 "$PROXY" -o /dev/null "http://$BED_SERVER_ADDR/bytes/$((4 * MIB))?tag=$t") &
	out=$(in_host "$MPSOCKS" capture --name "$VM" --seconds 3 --out "$dir" 2>&1) || fail "capture failed: $(tail -n 1 <<<"$out")"
	wait
	echo "$out"
	no_missing <(echo "$out")
	grep -q 'MPTCP, 3 subflows' "$dir/report.txt" || fail "the report shows no MPTCP connection with 3 subflows"
	ls "$dir"/*.png >/dev/null 2>&1 || fail "capture made no plot"
}

down_works() {
	local out
	need_vm
	out=$(timeout 60 ip netns exec "$BED_HOST" "$MPSOCKS" down --name "$VM" 2>&1) || fail "down failed: $(tail -n 1 <<<"$out")"
	echo "$out"
	no_missing <(echo "$out")
	[ ! -e "/run/mpsocks/$VM" ] || fail "down left /run/mpsocks/$VM"
	! in_host ip link show "$VM-0" >/dev/null 2>&1 || fail "down left the tap $VM-0"
}

exit_works() {
	exit_up "$EXIT" || fail "exit: $EXIT_ERR"
	no_missing "$BED_LOGS/$EXIT.exit.1"
	exit_down "$EXIT" >"$BED_DIR/exit-down.out" 2>&1 || fail "down of the exit failed: $(tail -n 1 "$BED_DIR/exit-down.out")"
	no_missing "$BED_DIR/exit-down.out"
	[ ! -e "/run/mpsocks/$EXIT" ] || fail "down left /run/mpsocks/$EXIT"
}

# Without arping: refused before anything is made, one line naming the package and the way
# to do without it.
no_arping_refused() {
	local out rc=0 args=()
	[ -z "${KERNEL:-}" ] || args+=(--kernel "$KERNEL")
	[ -z "${INITRD:-}" ] || args+=(--initrd "$INITRD")
	bed_register_instance "$VM2"
	out=$(timeout 60 ip netns exec "$BED_HOST" "$MPSOCKS" up --detach --name "$VM2" --accel tcg \
		"${args[@]}" "${UPLINKS[@]}" 2>&1 </dev/null) || rc=$?
	echo "$out"
	[ "$rc" = 2 ] || fail "up without arping exited $rc, want 2"
	[ "$(grep -c . <<<"$out")" = 1 ] || fail "not one line: $(tr '\n' '|' <<<"$out")"
	grep -q 'arping.*apt-get install iputils-arping.*--probe-interval 0' <<<"$out" ||
		fail "the line names neither iputils-arping nor --probe-interval 0: $out"
	[ ! -e "/run/mpsocks/$VM2" ] || fail "it left /run/mpsocks/$VM2"
	! in_host ip link show "$VM2-0" >/dev/null 2>&1 || fail "it left the tap $VM2-0"
}

no_arping_no_probes() {
	vm_up "$VM2" --probe-interval 0 "${UPLINKS[@]}" || fail "$VM_ERR"
	no_missing "$BED_LOGS/$VM2.up"
	vm_down "$VM2"
	[ ! -e "/run/mpsocks/$VM2" ] || fail "down left /run/mpsocks/$VM2"
}

main() {
	MPSOCKS=$(launcher_with "$BED_DIR/minpath")
	run_test "deps: the minimal PATH holds minbase's and needs.sh's programs, not the build's or the bed's" path_holds_the_basics
	vm_up "$VM" "${UPLINKS[@]}" || true
	run_test "deps: up --detach with the minimal PATH, 3 uplinks, probes on" booted
	run_test "deps: the watcher's arping probes answer (no uplink blackholed)" probes_answer
	run_test "deps: status and status --json with the minimal PATH" status_works
	run_test "deps: check with the minimal PATH: multipath over 3 uplinks" check_works
	run_test "deps: capture with the minimal PATH: report and plots" capture_works
	run_test "deps: down with the minimal PATH leaves nothing" down_works
	run_test "deps: exit --detach and its down with the minimal PATH" exit_works
	MPSOCKS=$(launcher_with "$BED_DIR/noarping" arping)
	run_test "deps: without arping, up is refused at once: exit 2, one line, nothing made" no_arping_refused
	run_test "deps: without arping, up --probe-interval 0 runs (no probes) and down cleans" no_arping_no_probes
}

main
