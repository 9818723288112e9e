#!/usr/bin/env bash
# Group ipv6: the bed's three uplinks dual-stack (bed_ipv6_on), one guest through them with the
# bed's fake resolver (tests/e2e/dns_fake.py). CONNECT to an IPv6 literal and to an AAAA-only
# name arrive intact with an IPv6 subflow over every uplink and an IPv4 one to the address the
# dual-stack server announces (one connection, both families); IPv4 keeps its own subflows in the
# same guest; a resolver that refuses AAAA does not break IPv4 names; down leaves no IPv6
# rule, route, guard or forwarding behind. A second guest whose first uplink has IPv6 only: IPv6
# destinations use it and the other, IPv4 ones the other alone.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
VM=$(printf 't%05d6' $(($$ % 100000)))

# The resolver the guest asks (vm_up's --dns).
VM_DNS=$BED_DNS_FAKE

# peers_of LINE: the distinct remote addresses of a report line's subflows, IPv6 or IPv4, in
# one line, sorted.
peers_of() { tr ' ' '\n' <<<"$1" | sed -n 's/^sf=[^>]*>\(.*\):[0-9]*,tx=.*/\1/p' | LC_ALL=C sort -u | tr '\n' ' '; }

# v6_endpoints: init gave every uplink an IPv6 MPTCP endpoint besides its IPv4 one.
v6_endpoints() {
	local n
	need_vm
	n=$(grep -cE 'endpoint id=[0-9]+ fd6d:7073:6f63:[0-9a-f]+::2 dev eth[0-2] flags=subflow' "$(console_log "$VM")" || true)
	[ "$n" = 3 ] || fail "$n IPv6 endpoints on the console, want 3: $(grep 'endpoint id=' "$(console_log "$VM")" | tr '\n' ';')"
}

# download6 MODE HOST WANT_PEERS: 8 MiB from http://HOST through the proxy (MODE ip: --socks5
# with the address; name: socks5h), intact, its subflows from exactly WANT_PEERS.
download6() {
	local mode=$1 host=$2 want=$3 t line peers
	need_vm
	t=$(tag "v6-$mode")
	curl_socks "$mode" -o "$BED_DIR/$t" "http://$host/bytes/$((8 * MIB))?tag=$t"
	check_download "$t" "$BED_DIR/$t" $((8 * MIB))
	rm -f "$BED_DIR/$t"
	line=$(wait_report "$t")
	[ "$(bed_field "$line" mptcp)" = 1 ] || fail "the server saw plain TCP, not MPTCP"
	peers=$(peers_of "$line")
	want=$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort -u | tr '\n' ' ')
	[ "$peers" = "$want" ] || fail "subflows came from [${peers% }], want [${want% }]"
}

# check6: tools/mpsocks check against the IPv6 literal: multipath, a subflow from the guest's
# IPv6 address on each NIC, each named with its uplink.
check6() {
	local out rc=0 i
	need_vm
	out=$(in_host "$MPSOCKS" check --name "$VM" "http://[$BED_SERVER_ADDR6]/bytes/$((4 * MIB))?tag=$(tag check6)" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "check exited $rc, want 0: $(tail -n 1 <<<"$out")"
	# (the IPv4 subflow to the server's announced address may come after check looked)
	grep -qE '^result: multipath: [34] subflows over 3 uplinks$' <<<"$out" || fail "no 'multipath: 3 (or 4) subflows over 3 uplinks' line"
	for i in 0 1 2; do
		grep -qE "^  subflow \[fd6d:7073:6f63:[0-9a-f]+::2\]:[0-9]+ +via eth$i +up$i +rtt" <<<"$out" ||
			fail "no IPv6 subflow via eth$i (up$i)"
	done
}

# status6: status names each NIC's IPv6 address, in its table and in --json.
status6() {
	local out json
	need_vm
	out=$(in_host "$MPSOCKS" status --name "$VM" 2>&1) || true
	echo "$out"
	[ "$(grep -cE '^  eth[0-2] IPv6: fd6d:7073:6f63:[0-9a-f]+::2 via the tap, NAT66 out of up[0-2]$' <<<"$out")" = 3 ] ||
		fail "status does not list 3 NICs' IPv6 addresses"
	json=$(in_host "$MPSOCKS" status --name "$VM" --json 2>&1) || true
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); g = [n["guest6"] for n in d["nics"]]; assert all(x and x.startswith("fd6d:7073:6f63:") for x in g) and all(n["ipv4"] and not n["direct"] for n in d["nics"]), g' "$json" ||
		fail "status --json: no guest6 on every NIC: $json"
}

# refused_aaaa: the fake resolver refused the AAAA query for the name, and the download by that
# name still arrived, over IPv4.
refused_aaaa() {
	download6 name "$BED_REFUSED_NAME" "198.18.0.2 198.18.1.2 198.18.2.2"
	grep -q "AAAA $BED_REFUSED_NAME -> rcode 5" "$BED_DIR/dns_fake.log" ||
		fail "the resolver was never asked for (and refused) the AAAA of $BED_REFUSED_NAME"
}

# host_clean BEFORE: after down, the host namespace holds no IPv6 rule or table route of ours,
# no ip6 guard table, and IPv6 forwarding and the uplinks' accept_ra are as before (BEFORE).
host_clean() {
	local now
	now=$(in_host sh -c 'cat /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/ipv6/conf/up*/accept_ra' | tr '\n' ' ')
	[ "$now" = "$1" ] || fail "forwarding and accept_ra are [$now], were [$1]"
	! in_host ip -6 rule show | grep -q fd6d: || fail "IPv6 rules left: $(in_host ip -6 rule show | grep fd6d:)"
	! in_host ip -6 route show table all | grep fd6d: >/dev/null || fail "IPv6 routes left: $(in_host ip -6 route show table all | grep fd6d:)"
	! in_host nft list tables | grep -q mpsocks || fail "nft tables left: $(in_host nft list tables)"
}

main() {
	local before
	bed_ipv6_on || echo "bed_ipv6_on failed" >&2
	before=$(in_host sh -c 'cat /proc/sys/net/ipv6/conf/all/forwarding /proc/sys/net/ipv6/conf/up*/accept_ra' | tr '\n' ' ')
	vm_up "$VM" --uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1 || true
	run_test "dual-stack uplinks: every uplink gets an IPv6 MPTCP endpoint in the guest" v6_endpoints
	run_test "CONNECT to an IPv6 literal carries 8 MiB intact over an IPv6 subflow per uplink and an IPv4 one to the server's announced address" \
		download6 ip "[$BED_SERVER_ADDR6]" "2001:db8::2 2001:db8:1::2 2001:db8:2::2 198.18.0.2"
	run_test "CONNECT to a name with only an AAAA record (socks5h) carries 8 MiB intact over a subflow per uplink, both families" \
		download6 name "$BED_V6ONLY_NAME" "2001:db8::2 2001:db8:1::2 2001:db8:2::2 198.18.0.2"
	run_test "an IPv4 destination keeps its IPv4 subflow per uplink in the dual-stack guest" \
		download6 ip "$BED_SERVER_ADDR" "198.18.0.2 198.18.1.2 198.18.2.2"
	run_test "a resolver that answers AAAA with REFUSED does not break IPv4 names" refused_aaaa
	run_test "check against an IPv6 server: multipath, an IPv6 subflow named with its uplink on each NIC" check6
	run_test "status shows each NIC's IPv6 address (table and --json)" status6
	vm_down "$VM"
	run_test "down leaves no IPv6 rule, route or guard; forwarding and accept_ra as before" host_clean "$before"
	vm_up "$VM" --uplink "$BED_V6ONLY_UPLINK" --uplink up0@198.18.0.1 || true
	run_test "an IPv6-only first uplink: an IPv6 destination gets a subflow over it and over the dual-stack one (and IPv4 by that one)" \
		download6 ip "[$BED_SERVER_ADDR6]" "2001:db8:6::2 2001:db8::2 198.18.0.2"
	run_test "an IPv6-only first uplink: an IPv4 destination leaves by the other uplink alone" \
		download6 ip "$BED_SERVER_ADDR" "198.18.0.2"
	vm_down "$VM"
	bed_ipv6_off
}

main
