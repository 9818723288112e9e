# shellcheck shell=bash
# tools/mpsocks: IPv6 for the uplinks that have it (sourced). An uplink has IPv6 when the host
# has an IPv6 default route through it at up (UP_GW6: its gateway, "dev" for a route without
# one). Its tap then gets a ULA /64 of its own, fd6d:7073:6f63:N::/64 with N the third octet of
# the tap's IPv4 subnet (host ::1, guest ::2), routed and masqueraded (NAT66, firewall.sh) out
# of that uplink as its IPv4 is: the tap's subnet in table T_i, the uplink's default route
# there, and `from SUBNET6 lookup T_i`.

# uplink_has_ipv6 IF: does the host have an IPv6 default route through IF? An uplink without an
# IPv4 one is taken for IPv6 only (checks.sh: UP_V4 0).
uplink_has_ipv6() { [ -n "$(ip -6 route show default dev "$1" 2>/dev/null)" ]; }

# detect_ipv6: UP_GW6 for every --uplink (empty: no IPv6 there).
detect_ipv6() {
	local i
	UP_GW6=()
	for i in "${!UP_IF[@]}"; do
		# (an absent interface: ip fails, no IPv6 for it now)
		UP_GW6+=("$({ ip -6 route show default dev "${UP_IF[i]}" 2>/dev/null || true; } |
			awk '{ for (k = 1; k < NF; k++) if ($k == "via") { print $(k + 1); exit } print "dev"; exit }')")
	done
}

# plan_ipv6 I: the tap's IPv6 subnet and addresses into SUBNETS6, HOST_ADDRS6, GUEST_ADDRS6
# (empty for an uplink without IPv6), from its IPv4 host address and UP_GW6.
plan_ipv6() {
	local i=$1 net prefix
	if [ -z "${UP_GW6[i]:-}" ] || [ "${UP_DIRECT[i]:-0}" = 1 ]; then
		SUBNETS6[i]='' HOST_ADDRS6[i]='' GUEST_ADDRS6[i]=''
		return 0
	fi
	net=${HOST_ADDRS[i]%.*}
	prefix="fd6d:7073:6f63:${net##*.}"
	SUBNETS6[i]="$prefix::/64" HOST_ADDRS6[i]="$prefix::1" GUEST_ADDRS6[i]="$prefix::2"
}

# has_ipv6: does some tap carry IPv6 (after plan_network or plan_read)? A direct uplink never
# does, whatever routes its interface has.
has_ipv6() { [ -n "$(printf '%s' "${SUBNETS6[@]}")" ]; }

# taps6: ip -6 -batch lines for the taps' IPv6 addresses (no DAD: the subnet is ours alone, and
# a tentative address would not answer the guest's first packets).
taps6() {
	local i
	for i in "${!TAPS[@]}"; do
		[ -n "${HOST_ADDRS6[i]}" ] || continue
		printf 'addr add %s/64 dev %s nodad\n' "${HOST_ADDRS6[i]}" "${TAPS[i]}"
	done
}

# uplink_routes6 I: ip -6 -batch lines for table T_i's uplink part.
uplink_routes6() {
	local i=$1
	case ${UP_GW6[i]} in
	'') ;;
	dev) printf 'route replace default dev %s table %s\n' "${UP_IF[i]}" "${TABLES[i]}" ;;
	*) printf 'route replace default via %s dev %s table %s\n' "${UP_GW6[i]}" "${UP_IF[i]}" "${TABLES[i]}" ;;
	esac
}

# routing6: ip -6 -batch lines for the taps' subnets, uplink routes and rules.
routing6() {
	local i
	for i in "${!TAPS[@]}"; do
		[ -n "${SUBNETS6[i]}" ] || continue
		printf 'route add %s dev %s table %s\n' "${SUBNETS6[i]}" "${TAPS[i]}" "${TABLES[i]}"
		! uplink_is_up "${UP_IF[i]}" || uplink_routes6 "$i"
		printf 'rule add from %s lookup %s priority %s\n' "${SUBNETS6[i]}" "${TABLES[i]}" "${TABLES[i]}"
	done
}

# teardown6 STATE: ip -6 -batch lines removing the rules and tables of STATE's plan.
teardown6() {
	local i
	local -a tables subnets6
	mapfile -t tables < <(plan_field "$1" 'TABLES[@]')
	mapfile -t subnets6 < <(plan_field "$1" 'SUBNETS6[@]')
	for i in "${!tables[@]}"; do
		[ -z "${subnets6[i]:-}" ] ||
			printf 'rule del from %s lookup %s priority %s\n' "${subnets6[i]}" "${tables[i]}" "${tables[i]}"
		printf 'route flush table %s\n' "${tables[i]}"
	done
}

# missing_routes6: ip -6 -batch lines for the IPv6 uplinks whose table lost its default route
# (the uplink went down and came back: the kernel drops routes through a downed device).
missing_routes6() {
	local i line
	local -A have=()
	has_ipv6 || return 0
	while read -r line; do
		[[ ! $line =~ \ table\ ([0-9]+) ]] || have[${BASH_REMATCH[1]}]=1
	done < <(ip -6 -o route show table all default 2>/dev/null)
	for i in "${!TAPS[@]}"; do
		[ -n "${SUBNETS6[i]}" ] && [ -z "${have[${TABLES[i]}]:-}" ] && uplink_is_up "${UP_IF[i]}" || continue
		uplink_routes6 "$i"
	done
}
