# shellcheck shell=bash
# tools/mpsocks: checks on the command line's values, and the uplinks they name (sourced).


is_ipv4() {
	local IFS=. part
	local -a parts
	[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		((10#$part <= 255)) || return 1
	done
}

is_cidr() {
	[[ $1 == */* ]] || return 1
	is_ipv4 "${1%/*}" && [[ ${1#*/} =~ ^[0-9]{1,2}$ ]] && ((10#${1#*/} <= 32))
}

# in_range N MIN MAX: N is a decimal number in [MIN, MAX].
in_range() { [[ $1 =~ ^[0-9]{1,9}$ ]] && ((10#$1 >= $2 && 10#$1 <= $3)); }

# An existing network interface of this namespace (ip netns exec remounts /sys for it).
is_interface() {
	[[ $1 =~ ^[^/[:space:]]{1,15}$ && $1 != . && $1 != .. ]] && [ -e "/sys/class/net/$1" ]
}

check_name() {
	[[ $NAME =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] ||
		bad_usage "bad --name '$NAME': use letters, digits and _, starting with a letter"
	[ ${#NAME} -le $NAME_MAX ] ||
		bad_usage "--name '$NAME' is too long: at most $NAME_MAX characters (taps are NAME-i, 15 at most)"
}

# check_user_pass NAME:PASS OPTION: credentials as dante and the kernel command line take them.
check_user_pass() {
	[[ $1 =~ ^[a-z_][a-z0-9_-]{0,31}:[[:graph:]]{1,128}$ && $1 != *\"* ]] ||
		bad_usage "bad $2: NAME:PASS, NAME lowercase (<= 32), PASS 1-128 printable characters, no spaces or quotes"
}

# --exit HOST:PORT with --exit-user: HOST an IPv4 address or a name this host resolves (the
# guest gets the address). Sets EXIT_ADDR and EXIT_PORT.
check_exit_at() {
	local host port
	EXIT_ADDR='' EXIT_PORT=''
	[ -n "$EXIT_AT" ] || { [ -z "$EXIT_USER" ] || bad_usage "--exit-user needs --exit HOST:PORT"; return 0; }
	[[ $EXIT_AT =~ ^([A-Za-z0-9.-]+):([0-9]+)$ ]] || bad_usage "bad --exit '$EXIT_AT': HOST:PORT, HOST an IPv4 address or a name"
	host=${BASH_REMATCH[1]} port=${BASH_REMATCH[2]}
	in_range "$port" 1 65535 || bad_usage "bad --exit '$EXIT_AT': port 1-65535"
	[ -n "$EXIT_USER" ] || bad_usage "--exit needs --exit-user NAME:PASS (an exit always asks for credentials)"
	check_user_pass "$EXIT_USER" --exit-user
	if is_ipv4 "$host"; then
		EXIT_ADDR=$host
	else
		EXIT_ADDR=$(getent ahostsv4 "$host" 2>/dev/null | awk '{print $1; exit}')
		[ -n "$EXIT_ADDR" ] || bad_usage "bad --exit '$EXIT_AT': cannot resolve $host"
	fi
	EXIT_PORT=$((10#$port))
}

ip_to_int() {
	local IFS=. a b c d
	read -r a b c d <<<"$1"
	echo $(((10#$a << 24) | (10#$b << 16) | (10#$c << 8) | 10#$d))
}

# Is GW on the link of IF, i.e. inside a subnet of one of IF's addresses? An interface
# without IPv4 addresses, or a point-to-point one, gets the benefit of the doubt.
gateway_on_link() {
	local ifname=$1 gw addr len mask n=0
	gw=$(ip_to_int "$2")
	ip -o link show dev "$ifname" 2>/dev/null | grep -q POINTOPOINT && return 0
	while read -r _ _ _ addr _; do
		n=$((n + 1))
		len=${addr#*/}
		mask=$(((0xffffffff << (32 - len)) & 0xffffffff))
		(((gw & mask) == ($(ip_to_int "${addr%/*}") & mask))) && return 0
	done < <(ip -4 -o addr show dev "$ifname" 2>/dev/null)
	[ "$n" -eq 0 ]
}

# Uplinks: parallel arrays, index i = guest NIC i.
UP_IF=()
UP_GW=()     # gateway, or empty for a point-to-point link (device route)
UP_BACKUP=() # 0/1
UP_GW_AUTO=() # 1: the gateway came from the host's routes (and may change with them)
UP_V4=()      # 0: the uplink has no IPv4 route, only IPv6 (ipv6.sh)
UP_DIRECT=()  # 1: --uplink IF:direct, the guest on IF's own network (hostnet.sh)

# The gateway of IF from the host's routes: the via of a default route through IF (main table
# first), none for a point-to-point link. Prints "GW" or "-" (ptp); fails if nothing fits.
find_gateway() {
	local ifname=$1 line gw=
	while read -r line; do
		if [[ $line =~ via\ ([0-9.]+) ]]; then
			gw=${BASH_REMATCH[1]}
			break
		fi
	done < <(ip -4 route show default dev "$ifname" 2>/dev/null; ip -4 route show table all default dev "$ifname" 2>/dev/null)
	if [ -n "$gw" ]; then
		printf '%s\n' "$gw"
	elif ip -o link show dev "$ifname" 2>/dev/null | grep -q 'POINTOPOINT'; then
		printf -- '-\n'
	else
		return 1
	fi
}

check_up_options() {
	local spec ifname gw backup v4 direct
	in_range "$PORT" 1 65535 || bad_usage "bad --port '$PORT': use 1-65535"
	PORT=$((10#$PORT))
	in_range "$MEM" 32 65536 || bad_usage "bad --mem '$MEM': MiB, 32-65536"
	MEM=$((10#$MEM))
	in_range "$TIMEOUT" 1 86400 || bad_usage "bad --timeout '$TIMEOUT': seconds, 1-86400"
	TIMEOUT=$((10#$TIMEOUT))
	case $ACCEL in auto | kvm | tcg) ;; *) bad_usage "bad --accel '$ACCEL': use auto, kvm or tcg" ;; esac
	[ -z "$USER_PASS" ] || check_user_pass "$USER_PASS" --user
	parse_exits
	check_exit_at
	check_probe_interval
	for spec in "${DNS_GIVEN[@]}"; do
		is_ipv4 "$spec" || bad_usage "bad --dns '$spec': an IPv4 address"
	done
	[ ${#DNS_GIVEN[@]} -le 3 ] || bad_usage "at most 3 --dns servers"
	for spec in "${ALLOW[@]}"; do
		is_cidr "$spec" || bad_usage "bad --allow '$spec': an IPv4 CIDR such as 192.168.1.0/24"
	done
	[ ${#ALLOW[@]} -le 7 ] || bad_usage "at most 7 --allow networks"
	for spec in "$KERNEL" "$INITRD"; do
		[ -z "$spec" ] || [ -r "$spec" ] || bad_usage "cannot read '$spec'"
	done
	[ ${#UPLINK_SPECS[@]} -le $MAX_UPLINKS ] || bad_usage "at most $MAX_UPLINKS uplinks"

	if [ ${#UPLINK_SPECS[@]} -eq 0 ]; then
		# No uplink named: the default-route interface twice (two subflows over one link).
		ifname=$(ip -4 route show default 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n1)
		[ -n "$ifname" ] || bad_usage "no default route to take an uplink from; give --uplink IF@GATEWAY"
		UPLINK_SPECS=("$ifname" "$ifname")
	fi
	for spec in "${UPLINK_SPECS[@]}"; do
		backup=0 direct=0
		while [[ $spec == *:* ]]; do
			case ${spec##*:} in
			backup) backup=1 ;;
			direct) direct=1 ;;
			*) bad_usage "bad --uplink '$spec': its flags are :backup and :direct" ;;
			esac
			spec=${spec%:*}
		done
		if [ "$direct" = 1 ]; then
			check_direct "$spec" ${#UP_IF[@]}
			UP_IF+=("$spec") UP_GW+=('') UP_GW_AUTO+=(0) UP_V4+=(1) UP_BACKUP+=("$backup") UP_DIRECT+=(1)
			continue
		fi
		ifname=${spec%%@*}
		gw=
		if [[ $spec == *@* ]]; then
			gw=${spec#*@}
			is_ipv4 "$gw" || bad_usage "bad gateway '$gw' in --uplink $spec: an IPv4 address"
		fi
		[ -n "$ifname" ] || bad_usage "bad --uplink '$spec': no interface"
		if ! is_interface "$ifname"; then
			uplink_may_come "$ifname" "$gw" ||
				bad_usage "no such interface: $ifname (one that comes later needs its gateway: --uplink $ifname@GATEWAY)"
			warn "uplink $ifname is not here yet: NIC ${#UP_IF[@]} joins when it comes"
		fi
		[ -z "$gw" ] || gateway_on_link "$ifname" "$gw" ||
			bad_usage "gateway $gw is not on the link of $ifname (in none of its subnets)"
		UP_GW_AUTO+=("$([ -n "$gw" ] && echo 0 || echo 1)")
		v4=1
		if [ -z "$gw" ]; then
			if gw=$(find_gateway "$ifname"); then
				[ "$gw" != - ] || gw=
			elif uplink_has_ipv6 "$ifname"; then
				gw='' v4=0
			else
				bad_usage "no gateway found for $ifname in the host's routes; give one: --uplink $ifname@GATEWAY"
			fi
		fi
		UP_V4+=("$v4")
		UP_IF+=("$ifname")
		UP_GW+=("$gw")
		UP_BACKUP+=("$backup")
		UP_DIRECT+=(0)
	done
}

# check_direct IF I: IF can be the I-th uplink as a direct one: it exists now (the macvtap needs
# it), can be bridged (not Wi-Fi: a station may not send frames from another MAC address) and
# is not the first uplink (whose tap the clients reach the proxy by).
check_direct() {
	[[ $1 != *@* ]] || bad_usage "--uplink $1:direct: a direct uplink takes its address by DHCP on that network; no @GATEWAY"
	[ "$2" -gt 0 ] || bad_usage "--uplink $1:direct: the first uplink cannot be direct (the proxy is reached through its tap); list another first"
	is_interface "$1" || bad_usage "no such interface: $1 (a direct uplink must exist at up)"
	[ ! -e "/sys/class/net/$1/wireless" ] && [ ! -e "/sys/class/net/$1/phy80211" ] ||
		bad_usage "--uplink $1:direct: $1 is Wi-Fi, which cannot be bridged; use it without :direct"
}

# Not root: run again through sudo (after building as this user, so out/ is not root's), or
# say that root is needed.
