#!/usr/bin/env bash
# A quiet console: a guest started (with the launcher's readiness probe), used for one proxied
# download and taken down again prints no `error:` line and no sockd child death from its
# first line to `power off` (init stops sockd by its main process, which ends its helpers).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05dq' $(($$ % 100000)))
CONSOLE=$BED_LOGS/$VM.whole.console.log

download() {
	local t
	need_vm
	t=$(tag console)
	curl_socks ip -o "$BED_DIR/$t" "$(server_url ip "/bytes/$MIB?tag=$t")"
	check_download "$t" "$BED_DIR/$t" "$MIB"
	rm -f "$BED_DIR/$t"
}

# The whole log: boot, the probe, the download and the shutdown until power off.
whole_log() {
	need_vm
	[ -s "$CONSOLE" ] || fail "no console log was kept"
	grep -aq 'sockd listening on' "$CONSOLE" || fail "the log has no 'sockd listening' line"
	grep -aq 'mpsocks: .*power off' "$CONSOLE" || fail "the log ends before init's 'power off' line"
}

# no_lines WHAT REGEX: fail naming the first console line that matches.
no_lines() {
	local line
	need_vm
	[ -s "$CONSOLE" ] || fail "no console log was kept"
	if line=$(grep -aE -m1 -- "$2" "$CONSOLE"); then
		fail "$(grep -acE -- "$2" "$CONSOLE") $1 line(s), the first: $(tr -d '\r' <<<"$line" | cut -c1-160)"
	fi
}

main() {
	local fd
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 || true
	run_test "console: a proxied download (1 MiB intact)" download
	# Held open across down, which removes the file: what the guest printed while powering
	# off is read from this descriptor afterwards.
	if [ -n "${PROXY:-}" ] && exec {fd}<"$(console_log "$VM")"; then
		vm_down "$VM"
		cat <&"$fd" >"$CONSOLE"
		exec {fd}<&-
	else
		vm_down "$VM"
	fi
	run_test "console: the log runs from boot to power off" whole_log
	run_test "console: no 'error:' line (readiness probe, download, shutdown)" no_lines "error:" 'error:'
	run_test "console: the readiness probe leaves no line in sockd's log" no_lines "probe" 'eof from local client'
	run_test "console: sockd stopped without child deaths" no_lines "child death" 'exited unexpectedly|child deaths'
	run_test "console: every process ended before the KILL deadline" no_lines "KILL" 'processes left after'
}

main
