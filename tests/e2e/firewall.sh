#!/usr/bin/env bash
# The host's firewall around two instances at once: from the uplinks' side (the bed's internet
# namespace, given a route to the tap subnets through the host) the guest's SOCKS port answers
# only a network --allow names; the host forwards nothing between uplinks when up is what
# turned forwarding on; the last down leaves forwarding as it found it.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM1=$(printf 't%05df' $(($$ % 100000)))
VM2=$(printf 't%05dg' $(($$ % 100000)))
# VM1 allows uplink 0's network, VM2 no network on the uplinks' side.
ALLOWED=198.18.0.1 OTHER=198.18.1.1
in_inet() { ip netns exec "$BED_INET" "$@"; }

# from_inet SRC PROXY TAG: one 64 KiB download through PROXY by a client in the internet
# namespace with source SRC; prints curl's exit status.
from_inet() {
	local rc=0
	in_inet curl -sS --connect-timeout 3 --max-time 10 --interface "$1" --socks5 "$2" \
		-o "$BED_DIR/$3" "$(server_url ip "/bytes/65536?tag=$3")" >&2 || rc=$?
	echo "$rc"
}

# drops NAME: packets the forward chain of instance NAME dropped on their way to its tap 0.
drops() {
	ip netns exec "$BED_HOST" nft list chain inet "mpsocks_$1" forward |
		sed -n "s/.*oifname \"$1-0\" counter packets \([0-9]*\) .* drop.*/\1/p"
}

# Routes in the internet namespace toward the tap subnets through the host: by uplink 0,
# and by uplink 1 for traffic from OTHER.
routes_to_taps() {
	in_inet ip route replace 10.66.0.0/16 via 198.18.0.2 dev dn0
	in_inet ip route replace 10.66.0.0/16 via 198.18.1.2 dev dn1 table 66
	in_inet ip rule add from "$OTHER" lookup 66 pref 66
}

no_routes_to_taps() {
	in_inet ip rule del pref 66 2>/dev/null || true
	in_inet ip route flush table 66 2>/dev/null || true
	in_inet ip route del 10.66.0.0/16 2>/dev/null || true
}

not_allowed_gets_no_answer() {
	local before t rc
	[[ -n $PROXY1 && -n $PROXY2 ]] || fail "no VM: $VM_ERR"
	before=$(drops "$VM2")
	t=$(tag fw-closed)
	rc=$(from_inet "$ALLOWED" "$PROXY2" "$t")
	[ "$rc" = 28 ] || fail "curl from the uplink's side exit $rc, want 28 (no answer at all)"
	(($(drops "$VM2") > before)) || fail "the host's forward chain dropped nothing: the test did not reach it"
	t=$(tag fw-closed1)
	rc=$(from_inet "$OTHER" "$PROXY1" "$t")
	[ "$rc" = 28 ] || fail "curl to the instance that allows another network: exit $rc, want 28"
	[ -z "$(bed_report "$t")" ] || fail "the request reached the server"
}

allowed_network_is_served() {
	local t rc
	[ -n "$PROXY1" ] || fail "no VM: $VM_ERR"
	t=$(tag fw-allowed)
	rc=$(from_inet "$ALLOWED" "$PROXY1" "$t")
	[ "$rc" = 0 ] || fail "curl from the allowed network exit $rc"
	check_download "$t" "$BED_DIR/$t" 65536
}

# page_from_uplink_side: the status page answers the network --allow names (VM1) and gives
# nothing to another network (VM1 from OTHER, VM2 from ALLOWED): curl times out (28).
page_from_uplink_side() {
	local rc
	[[ -n $PROXY1 && -n $PROXY2 ]] || fail "no VM: $VM_ERR"
	in_inet curl -sS --connect-timeout 3 --max-time 10 --interface "$ALLOWED" -o "$BED_DIR/page1.html" \
		"http://${PROXY1%:*}/" || fail "the allowed network gets no page from VM1"
	grep -q '<title>mpsocks</title>' "$BED_DIR/page1.html" || fail "what VM1 answered is not the page"
	rc=0
	in_inet curl -sS --connect-timeout 3 --max-time 10 --interface "$OTHER" "http://${PROXY1%:*}/status.json" >&2 || rc=$?
	[ "$rc" = 28 ] || fail "another network asked VM1 for /status.json: curl exit $rc, want 28 (no answer)"
	rc=0
	in_inet curl -sS --connect-timeout 3 --max-time 10 --interface "$ALLOWED" "http://${PROXY2%:*}/status.json" >&2 || rc=$?
	[ "$rc" = 28 ] || fail "VM2 (no --allow) answered the uplink's side: curl exit $rc, want 28"
}

# The internet side sends 3 datagrams to an address of uplink 1's network by way of uplink 0. A
# host that forwarded them would look the address up on up1 (a neighbour entry); the guard's
# counter shows they reached the host and were dropped.
no_transit_between_uplinks() {
	local before after
	before=$(guard_drops)
	[ -n "$before" ] || fail "no guard table although up turned forwarding on"
	in_inet ip route replace 198.18.1.99/32 via 198.18.0.2 dev dn0
	for _ in 1 2 3; do
		in_inet bash -c 'echo transit >/dev/udp/198.18.1.99/9' || true
	done
	in_inet ip route del 198.18.1.99/32 2>/dev/null || true
	after=$(guard_drops)
	[ -z "$(ip -n "$BED_HOST" neigh show 198.18.1.99)" ] || fail "the host forwarded it: $(ip -n "$BED_HOST" neigh show 198.18.1.99)"
	((after >= before + 3)) || fail "the guard dropped $((after - before)) of 3 packets"
}

guard_drops() {
	{ ip netns exec "$BED_HOST" nft list chain ip mpsocks_guard forward 2>/dev/null || true; } |
		sed -n 's/.*counter packets \([0-9]*\) .* drop.*/\1/p'
}

# transfer PROXY TAG: 1 MiB through PROXY from the host namespace, checked.
transfer() {
	PROXY=$1
	curl_socks ip -o "$BED_DIR/$2" "$(server_url ip "/bytes/$MIB?tag=$2")"
	check_download "$2" "$BED_DIR/$2" "$MIB"
}

both_carry_traffic() {
	[[ -n $PROXY1 && -n $PROXY2 ]] || fail "no VM: $VM_ERR"
	transfer "$PROXY1" "$(tag fw-one)"
	transfer "$PROXY2" "$(tag fw-two)"
}

# After both_carry_traffic's 1 MiB download through VM2: its status counts what crossed the
# uplinks for the guest (the download came in; little went out), not the client's 1 MiB that
# the proxy sent it over tap 0.
status_counts_uplinks() {
	local out to from
	[ -n "$PROXY2" ] || fail "no VM: $VM_ERR"
	out=$(ip netns exec "$BED_HOST" "$MPSOCKS" status --name "$VM2") || fail "status failed: $out"
	echo "$out" >&2
	read -r to from < <(awk '$1 ~ /^eth[0-9]/ {to += $7; from += $10} END {print to + 0, from + 0}' <<<"$out")
	((from >= MIB)) || fail "from-net bytes over all uplinks: $from, want at least the 1 MiB download"
	((to < MIB / 4)) || fail "to-net bytes over all uplinks: $to: the client's own traffic is counted"
}

second_survives_first_down() {
	[ -n "$PROXY2" ] || fail "no VM: $VM_ERR"
	[ "$(ip netns exec "$BED_HOST" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] ||
		fail "forwarding went off with the first instance's down"
	transfer "$PROXY2" "$(tag fw-after)"
}

forwarding_as_before() {
	local now
	now=$(ip netns exec "$BED_HOST" cat /proc/sys/net/ipv4/ip_forward)
	[ "$now" = "$FORWARD_BEFORE" ] || fail "ip_forward is $now, was $FORWARD_BEFORE"
	! ip netns exec "$BED_HOST" nft list table ip mpsocks_guard >/dev/null 2>&1 || fail "the guard table is left"
}

main() {
	FORWARD_BEFORE=$(ip netns exec "$BED_HOST" cat /proc/sys/net/ipv4/ip_forward)
	echo "ip_forward before: $FORWARD_BEFORE" >&2
	PROXY1='' PROXY2=''
	vm_up "$VM1" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --allow 198.18.0.0/24 && PROXY1=$PROXY
	vm_up "$VM2" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 && PROXY2=$PROXY
	routes_to_taps
	run_test "firewall: from an uplink's side the SOCKS port gives no answer (no --allow for that network)" not_allowed_gets_no_answer
	run_test "firewall: a network --allow names reaches the SOCKS port from the uplink's side" allowed_network_is_served
	run_test "firewall: from an uplink's side the status page answers only a network --allow names" page_from_uplink_side
	if [ "$FORWARD_BEFORE" = 0 ]; then
		run_test "firewall: a packet from one uplink's network into another's is not forwarded" no_transit_between_uplinks
	else
		run_test "firewall: the bed's host namespace had forwarding off before up" false
	fi
	no_routes_to_taps
	run_test "firewall: two instances at once both carry traffic" both_carry_traffic
	run_test "status counts the bytes that crossed the uplinks, not the clients' own traffic" status_counts_uplinks
	vm_down "$VM1"
	run_test "firewall: the second instance keeps working after the first one's down" second_survives_first_down
	vm_down "$VM2"
	run_test "firewall: after the last down, forwarding is as it was before and no guard is left" forwarding_as_before
}

main
