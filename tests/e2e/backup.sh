#!/usr/bin/env bash
# A guest with two regular uplinks and a third marked :backup: the backup uplink idles while
# the others work and takes the transfer over when they die.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05db' $(($$ % 100000)))

# backup_idle: a 20 MiB download leaves (almost) nothing on uplink 2, yet its subflow exists.
backup_idle() {
	local t rx0 rx1 line
	need_vm
	t=$(tag backup-idle)
	rx0=$(bed_rx_bytes 2)
	curl_socks ip -o "$BED_DIR/$t" "$(server_url ip "/bytes/$((20 * MIB))?tag=$t")"
	rx1=$(bed_rx_bytes 2)
	check_download "$t" "$BED_DIR/$t" $((20 * MIB))
	rm -f "$BED_DIR/$t"
	line=$(wait_report "$t")
	echo "server: $line; uplink 2 received $((rx1 - rx0)) bytes" >&2
	# Without the backup subflow, "no data on it" would prove nothing.
	bed_subflow_peers "$line" | grep -qx 198.18.2.2 || fail "no subflow over the backup uplink"
	[ $((rx1 - rx0)) -lt $((MIB / 5)) ] ||
		fail "the backup uplink received $((rx1 - rx0)) bytes of a 20 MiB download (limit 200 KiB)"
}

# backup_takes_over: uplinks shaped to 20 Mbit/s; once 4 MiB of 24 arrived, uplinks 0 and 1
# go down; the download completes intact, most of it over uplink 2.
backup_takes_over() {
	local t out mark pid rx0 rx1 total=$((24 * MIB))
	need_vm
	t=$(tag backup-over) out=$BED_DIR/get-$t mark=$BED_DIR/mark-$t
	trap 'bed_unshape; bed_link 0 up; bed_link 1 up' EXIT
	bed_shape 20mbit
	in_host "$MPTCP_GET" --socks "$PROXY" --mark $((4 * MIB)) "$mark" "$BED_SERVER_ADDR" \
		"$BED_SERVER_PORT" "/bytes/$total?tag=$t" >"$out" &
	pid=$!
	await_mark "$pid" "$mark" 4
	rx0=$(bed_rx_bytes 2)
	bed_link 0 down
	bed_link 1 down
	wait "$pid" || fail "the download failed once only the backup uplink was left: $(cat "$out")"
	rx1=$(bed_rx_bytes 2)
	echo "client: $(cat "$out"); uplink 2 received $((rx1 - rx0)) bytes after the cut" >&2
	[ "$(bed_field "$(cat "$out")" sha256)" = "$(bed_field "$(wait_report "$t")" sha256_out)" ] ||
		fail "sha256 differs"
	[ $((rx1 - rx0)) -ge $((total / 2)) ] ||
		fail "the backup uplink carried only $((rx1 - rx0)) bytes after the others went down"
}

main() {
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1:backup || true
	run_test "a :backup uplink carries (almost) no data while the other uplinks are up" backup_idle
	run_test "a :backup uplink carries the download intact when all other uplinks go down" backup_takes_over
	vm_down "$VM"
}

main
