#!/usr/bin/env bash
# The bed checks itself without the guest, so that a failing guest test points at the guest:
# a host MPTCP client over the three uplinks gives three subflows, tbf shaping holds its rate,
# dnsmasq answers the server's name.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"

host_mptcp_subflows() {
	local t line out
	trap 'bed_host_mptcp off' EXIT
	bed_host_mptcp on
	t=$(tag bed)
	out=$(in_host "$MPTCP_GET" "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$((8 * MIB))?tag=$t")
	line=$(wait_report "$t")
	echo "client: $out; server: $line"
	[ "$(bed_field "$out" sha256)" = "$(bed_field "$line" sha256_out)" ] || fail "sha256 differs"
	[ "$(bed_subflow_peers "$line" | tr '\n' ' ')" = "198.18.0.2 198.18.1.2 198.18.2.2 " ] ||
		fail "subflows from [$(bed_subflow_peers "$line" | tr '\n' ' ')]"
}

shaping_holds_rate() {
	local t out mbit
	trap 'bed_host_mptcp off; bed_unshape' EXIT
	bed_host_mptcp on
	bed_shape 20mbit
	t=$(tag shape)
	out=$(in_host "$MPTCP_GET" --tcp "$BED_SERVER_ADDR" "$BED_SERVER_PORT" "/bytes/$((4 * MIB))?tag=$t")
	mbit=$(bed_field "$out" mbit)
	echo "one TCP flow over a 20 Mbit/s uplink: $mbit Mbit/s"
	[ "$(echo "$mbit > 15 && $mbit < 21" | bc)" = 1 ] || fail "$mbit Mbit/s through a 20 Mbit/s tbf"
}

dns_answers() {
	local a
	trap 'bed_host_mptcp off' EXIT
	bed_host_mptcp on # the route to the name server
	a=$(in_host getent ahostsv4 "$BED_SERVER_NAME" | awk '{print $1; exit}') || true
	[ "$a" = "$BED_SERVER_ADDR" ] || fail "$BED_SERVER_NAME resolved to '${a}'"
}

main() {
	run_test "bed: a host MPTCP client over 3 uplinks shows the server 3 subflows" host_mptcp_subflows
	run_test "bed: tbf shapes an uplink to its rate (20 Mbit/s)" shaping_holds_rate
	run_test "bed: dnsmasq in the internet namespace answers $BED_SERVER_NAME" dns_answers
}

main
