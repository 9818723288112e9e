# shellcheck shell=bash
# tools/mpsocks: the host's side of each uplink: taps, policy routing, DNS (sourced).

ip_batch() { ip -force -batch - >/dev/null 2>&1 || true; }

# guest_mac I: the MAC address of guest NIC I (the direct uplinks' macvtaps take it too).
guest_mac() { printf '52:54:00:66:%02x:%02x\n' "$SLOT" "$1"; }

# A tap per uplink; for a direct one a macvtap on its interface (bridge mode: the guest's
# frames go out on the uplink's network under the guest's own MAC, the host's use of the
# interface goes on; no address, route or NAT of ours).
create_taps() {
	local i
	for i in "${!TAPS[@]}"; do
		if [ "${UP_DIRECT[i]:-0}" = 1 ]; then
			printf 'link add link %s name %s address %s type macvtap mode bridge\n' "${UP_IF[i]}" "${TAPS[i]}" "$(guest_mac "$i")"
			printf 'link set %s up\n' "${TAPS[i]}"
			continue
		fi
		printf 'tuntap add dev %s mode tap\n' "${TAPS[i]}"
		printf 'addr add %s/24 dev %s\n' "${HOST_ADDRS[i]}" "${TAPS[i]}"
		printf 'link set %s up\n' "${TAPS[i]}"
	done | ip -batch - || die "could not create the taps"
	for i in "${!TAPS[@]}"; do
		# Nothing of IPv6 on a tap whose uplink has none; and DNAT to a loopback resolver
		# needs route_localnet.
		[ -n "${HOST_ADDRS6[i]}" ] || [ ! -w "/proc/sys/net/ipv6/conf/${TAPS[i]}/disable_ipv6" ] ||
			echo 1 >"/proc/sys/net/ipv6/conf/${TAPS[i]}/disable_ipv6"
		[ -z "$DNS_DNAT" ] || echo 1 >"/proc/sys/net/ipv4/conf/${TAPS[i]}/route_localnet"
	done
}

# Table T_i: the tap's subnet, the uplink's own on-link subnets, default via its gateway;
# rule "from tap subnet lookup T_i" so replies and forwarded traffic leave by that uplink.
# An uplink that is down gets its routes when it comes up (maintain_routes).
create_routing() {
	local i
	for i in "${!TAPS[@]}"; do
		uplink_is_up "${UP_IF[i]}" || warn "uplink ${UP_IF[i]} is down: NIC $i gets its route once it is up"
	done
	for i in "${!TAPS[@]}"; do
		[ "${UP_DIRECT[i]:-0}" = 0 ] || continue
		printf 'route add %s dev %s src %s table %s\n' "${SUBNETS[i]}" "${TAPS[i]}" "${HOST_ADDRS[i]}" "${TABLES[i]}"
		# (an IPv6-only uplink's IPv4 route is an unreachable one, through no device)
		if [ "${UP_V4[i]:-1}" = 0 ] || uplink_is_up "${UP_IF[i]}"; then uplink_routes "$i"; fi
		printf 'rule add from %s lookup %s priority %s\n' "${SUBNETS[i]}" "${TABLES[i]}" "${TABLES[i]}"
	done | ip -batch - 2>"$STATE/ip.err" ||
		die "could not set up policy routing: $(head -n1 "$STATE/ip.err")"
	! has_ipv6 || { taps6 && routing6; } | ip -6 -batch - 2>"$STATE/ip.err" ||
		die "could not set up IPv6 addresses and policy routing: $(head -n1 "$STATE/ip.err")"
}

# Routes through a device that goes down are gone for good (the kernel drops them), and
# nobody but us puts them back into our tables.
uplink_is_up() {
	local flags
	read -r flags <"/sys/class/net/$1/flags" 2>/dev/null || return 1
	((flags & 1)) # IFF_UP
}

# uplink_routes I: ip -batch lines for table T_i's uplink part: the uplink's on-link subnets
# (so its neighbours are reached directly) and the default route via its gateway.
uplink_routes() {
	local i=$1 route
	# IPv6 only: IPv4 from this tap must not fall through to the main table (another uplink).
	[ "${UP_V4[i]:-1}" = 1 ] || { printf 'route replace unreachable default table %s\n' "${TABLES[i]}"; return 0; }
	while read -r route; do
		[ -z "$route" ] || printf 'route replace %s dev %s table %s\n' "$route" "${UP_IF[i]}" "${TABLES[i]}"
	done < <(ip -4 route show dev "${UP_IF[i]}" scope link proto kernel 2>/dev/null | awk '{print $1}')
	if [ -n "${UP_GW[i]}" ]; then
		printf 'route replace default via %s dev %s table %s\n' "${UP_GW[i]}" "${UP_IF[i]}" "${TABLES[i]}"
	else
		printf 'route replace default dev %s table %s\n' "${UP_IF[i]}" "${TABLES[i]}"
	fi
}

# DNS for the guest: --dns, else the host's non-loopback IPv4 nameservers; a loopback-only
# resolver (systemd-resolved's 127.0.0.53) is reached by DNAT from the first tap's address.
choose_dns() {
	local word addr
	GUEST_DNS=("${DNS_GIVEN[@]}")
	DNS_DNAT=
	[ ${#GUEST_DNS[@]} -eq 0 ] || return 0
	local -a loopback=()
	while read -r word addr _; do
		[ "$word" = nameserver ] && is_ipv4 "$addr" || continue
		if [[ $addr == 127.* ]]; then
			loopback+=("$addr")
		elif [ ${#GUEST_DNS[@]} -lt 3 ]; then
			GUEST_DNS+=("$addr")
		fi
	done </etc/resolv.conf 2>/dev/null || true
	[ ${#GUEST_DNS[@]} -eq 0 ] || return 0
	if [ ${#loopback[@]} -gt 0 ]; then
		DNS_DNAT=${loopback[0]}
		GUEST_DNS=("${HOST_ADDRS[0]}")
	elif [ -n "${UP_GW[0]}" ]; then
		warn "no nameserver in /etc/resolv.conf; using the gateway ${UP_GW[0]} (give --dns IP)"
		GUEST_DNS=("${UP_GW[0]}")
	else
		warn "no nameserver found; socks5h names will not resolve (give --dns IP)"
	fi
}

