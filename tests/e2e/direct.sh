#!/usr/bin/env bash
# Group direct: an uplink without NAT (--uplink IF:direct). One guest: up0 through the host's
# NAT as usual, up1 direct: a macvtap on up1, the guest's own DHCP lease from the bed's DHCP
# server on that link. The server sees the guest's own address on that subflow, not the
# host's; the host's own use of up1 keeps working; down removes the macvtap.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05dd' $(($$ % 100000)))

# lease: the guest took a lease in the bed's DHCP range on eth1 and made it an MPTCP endpoint.
lease() {
	local line
	need_vm
	line=$(await_line "endpoint id=[0-9]+ 198\.18\.1\.1[0-9][0-9] dev eth1 flags=subflow" 60) ||
		fail "no endpoint from a lease on eth1 within 60 s: $(grep -E 'eth1|dhcp' "$(console_log "$VM")" | tail -n 3 | tr '\n' ';')"
	echo "$line"
	grep -q "DHCPACK(dn1) $(leased)" "$BED_DIR/dhcp.log" || fail "the bed's DHCP server did not give $(leased)"
}

# leased: the address of eth1's lease, from the console.
leased() { grep -aoE 'nic eth1: 198\.18\.1\.1[0-9][0-9]' "$(console_log "$VM")" | tail -n 1 | cut -d' ' -f3; }

# await_line REGEX SECONDS: the console's first line matching REGEX, waiting for it.
await_line() {
	local i line
	for ((i = 0; i < $2 * 10; i++)); do
		line=$(grep -aE "$1" "$(console_log "$VM")" | head -n 1) && [ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.1
	done
	return 1
}

# own_address: a download's subflows come from the host's address on up0 and from the guest's
# own leased address on up1 (no NAT there).
own_address() {
	local t line peers addr
	need_vm
	addr=$(leased)
	[ -n "$addr" ] || fail "no lease"
	t=$(tag direct)
	# The lease restarts sockd with the new external; give it its second to listen.
	sleep 1
	curl_socks ip -o "$BED_DIR/$t" "$(server_url ip "/bytes/$((8 * MIB))?tag=$t")"
	check_download "$t" "$BED_DIR/$t" $((8 * MIB))
	rm -f "$BED_DIR/$t"
	line=$(wait_report "$t")
	peers=$(bed_subflow_peers "$line" | tr '\n' ' ')
	[ "$peers" = "198.18.0.2 $addr " ] || fail "subflows came from [${peers% }], want [198.18.0.2 $addr]"
}

# host_keeps_uplink: the host still talks over up1 itself (its own address and MAC: ARP for the
# gateway answered).
host_keeps_uplink() {
	in_host arping -q -c 1 -w 2 -I up1 198.18.1.1 </dev/null || fail "the host's ARP over up1 goes unanswered"
}

# gone: down removed the macvtap.
gone() {
	! in_host ip -o link show | grep -q "$VM-" || fail "left behind: $(in_host ip -o link show | grep "$VM-")"
}

main() {
	bed_dhcp_on 1 || echo "bed_dhcp_on failed" >&2
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1:direct || true
	run_test "a direct uplink: the guest takes its own lease from the uplink's DHCP server" lease
	run_test "a direct uplink: the server sees the guest's own address on its subflow, the host's on the NAT one" own_address
	run_test "a direct uplink: the host's own use of that interface keeps working" host_keeps_uplink
	vm_down "$VM"
	run_test "down removes the direct uplink's macvtap" gone
	bed_dhcp_off
}

main
