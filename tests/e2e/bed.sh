#!/usr/bin/env bash
# The bed checks itself without the guest, so that a failing guest test points at the guest:
# a host MPTCP client over the three uplinks gives three subflows, tbf shaping holds its rate,
# dnsmasq answers the server's name; the far server is plain TCP and reachable only from the
# internet side.
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

# far_server_plain_tcp: an MPTCP client in BED_INET reaches the far server, which sees plain TCP
# from the internet side's address; plain.test resolves there (the exit's view of the bed).
far_server_plain_tcp() {
	local t out line a
	t=$(tag far)
	out=$(ip netns exec "$BED_INET" "$MPTCP_GET" "$BED_FAR_ADDR" "$BED_FAR_PORT" "/bytes/$MIB?tag=$t")
	line=$(wait_report "$t")
	echo "client: $out; far server: $line"
	grep -q " tag=$t " "$BED_FAR_LOG" || fail "the connection did not reach the far server's log"
	[ "$(bed_field "$out" sha256)" = "$(bed_field "$line" sha256_out)" ] || fail "sha256 differs"
	[ "$(bed_field "$line" mptcp)" = 0 ] || fail "the far server saw MPTCP"
	[[ $(bed_field "$line" peer) == "$BED_FAR_GW":* ]] || fail "peer $(bed_field "$line" peer), want $BED_FAR_GW"
	[ "$(ip netns exec "$BED_FAR" sysctl -n net.mptcp.enabled)" = 0 ] || fail "MPTCP is enabled in $BED_FAR"
	a=$(ip netns exec "$BED_INET" getent ahostsv4 "$BED_FAR_NAME" | awk '{print $1; exit}') || true
	[ "$a" = "$BED_FAR_ADDR" ] || fail "$BED_FAR_NAME resolved to '$a' in $BED_INET"
}

# far_unreachable_from_host: the host side has no route to the far server, and even with one
# through an uplink the internet side does not forward to it.
far_unreachable_from_host() {
	local t
	t=$(tag farhost)
	! in_host ip route get "$BED_FAR_ADDR" >/dev/null 2>&1 || fail "$BED_HOST has a route to $BED_FAR_ADDR"
	trap 'in_host ip route del "$BED_FAR_ADDR/32" 2>/dev/null || true' EXIT
	in_host ip route add "$BED_FAR_ADDR/32" via 198.18.0.1 dev up0
	! in_host curl -sS --max-time 3 -o /dev/null "http://$BED_FAR_ADDR/bytes/1024?tag=$t" ||
		fail "a client in $BED_HOST reached the far server through an uplink"
	[ -z "$(bed_report "$t")" ] || fail "the far server logged the host's connection"
	[ "$(ip netns exec "$BED_INET" sysctl -n net.ipv4.ip_forward)" = 0 ] || fail "$BED_INET forwards"
}

main() {
	run_test "bed: a host MPTCP client over 3 uplinks shows the server 3 subflows" host_mptcp_subflows
	run_test "bed: tbf shapes an uplink to its rate (20 Mbit/s)" shaping_holds_rate
	run_test "bed: dnsmasq in the internet namespace answers $BED_SERVER_NAME" dns_answers
	run_test "bed: the far server speaks plain TCP to the internet side, $BED_FAR_NAME resolves there" far_server_plain_tcp
	run_test "bed: the far server is unreachable from the host side, also through an uplink" far_unreachable_from_host
}

main
