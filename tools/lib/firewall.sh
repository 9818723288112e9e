# shellcheck shell=bash
# tools/mpsocks: the host's firewall for an instance (sourced). One list of forward rules
# (firewall_rules) is rendered into our own nft table and, where another firewall drops by
# default (Docker, an iptables FORWARD policy DROP), into accept exceptions in its chain, for nft
# or for iptables. When up is what turns IPv4 forwarding on, a guard table makes the host
# forward nothing but its instances' own traffic.

GUARD_TABLE=mpsocks_guard

# The instance's forward rules, one per line: VERDICT IIF OIF STATE SRC DST DPORT ("-": any).
# VERDICT: clamp (MSS to the route's MTU), accept, drop. STATE: est (a connection the guest
# opened), new. Uplink -> tap carries only the guest's own connections; clients from an
# uplink's side reach the SOCKS port and the status page only from a network --allow names.
firewall_rules() {
	local i cidr
	for i in "${!TAPS[@]}"; do
		[ "${UP_DIRECT[i]:-0}" = 0 ] || continue # the host forwards nothing of a direct uplink
		printf 'clamp %s %s - - - -\n' "${TAPS[i]}" "${UP_IF[i]}"
		printf 'accept %s %s - - - -\n' "${TAPS[i]}" "${UP_IF[i]}"
		printf 'accept %s %s est - - -\n' "${UP_IF[i]}" "${TAPS[i]}"
	done
	for cidr in "${ALLOW[@]}"; do
		printf 'accept - %s new %s %s %s\n' "${TAPS[0]}" "$cidr" "${GUEST_ADDRS[0]}" "$PORT"
		[ -z "$(status_page_url)" ] || printf 'accept - %s new %s %s %s\n' "${TAPS[0]}" "$cidr" "${GUEST_ADDRS[0]}" "$STATUS_PAGE_PORT"
	done
	for i in "${!TAPS[@]}"; do
		printf 'drop %s - - - - -\n' "${TAPS[i]}"
		printf 'drop - %s - - - -\n' "${TAPS[i]}"
	done
}

# nft_rule VERDICT IIF OIF STATE SRC DST DPORT [TAG]: the rule in nft's syntax.
nft_rule() {
	local e=''
	[ "$2" = - ] || e+="iifname \"$2\" "
	[ "$3" = - ] || e+="oifname \"$3\" "
	case $4 in est) e+='ct state established,related ' ;; new) e+='ct state new ' ;; esac
	[ "$5" = - ] || e+="ip saddr $5 "
	[ "$6" = - ] || e+="ip daddr $6 "
	[ "$7" = - ] || e+="tcp dport $7 "
	case $1 in
	clamp) e+='tcp flags syn tcp option maxseg size set rt mtu' ;;
	accept) e+='counter accept' ;;
	drop) e+='counter drop' ;;
	esac
	[ -z "${8:-}" ] || e+=" comment \"$8\""
	printf '%s\n' "$e"
}

# ipt_rule VERDICT IIF OIF STATE SRC DST DPORT [TAG]: the rule as iptables arguments, one a line.
ipt_rule() {
	[ "$2" = - ] || printf '%s\n' -i "$2"
	[ "$3" = - ] || printf '%s\n' -o "$3"
	case $4 in
	est) printf '%s\n' -m conntrack --ctstate RELATED,ESTABLISHED ;;
	new) printf '%s\n' -m conntrack --ctstate NEW ;;
	esac
	[ "$5" = - ] || printf '%s\n' -s "$5"
	[ "$6" = - ] || printf '%s\n' -d "$6"
	[ "$7" = - ] || printf '%s\n' -p tcp --dport "$7"
	[ -z "${8:-}" ] || printf '%s\n' -m comment --comment "$8"
	case $1 in accept) printf '%s\n' -j ACCEPT ;; drop) printf '%s\n' -j DROP ;; esac
}

# One table of our own, for both families: masquerade out of each uplink (NAT66 too where the
# tap has IPv6), the forward rules, and the DNAT to a loopback-only host resolver. Its forward
# chain's policy is accept: packets that touch none of our taps are other software's business.
create_nft() {
	local i rule
	{
		printf 'table inet %s {\n' "$NFT_TABLE"
		printf ' chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n'
		for i in "${!TAPS[@]}"; do
			[ "${UP_DIRECT[i]:-0}" = 0 ] || continue
			printf '  ip saddr %s oifname "%s" masquerade\n' "${SUBNETS[i]}" "${UP_IF[i]}"
			[ -z "${SUBNETS6[i]}" ] || printf '  ip6 saddr %s oifname "%s" masquerade\n' "${SUBNETS6[i]}" "${UP_IF[i]}"
		done
		printf ' }\n chain forward {\n  type filter hook forward priority filter - 10; policy accept;\n'
		while read -r rule; do
			# shellcheck disable=SC2086 # the rule's words
			printf '  %s\n' "$(nft_rule $rule)"
		done < <(firewall_rules)
		printf ' }\n'
		if [ -n "$DNS_DNAT" ]; then
			printf ' chain prerouting {\n  type nat hook prerouting priority dstnat; policy accept;\n'
			printf '  iifname "%s" ip daddr %s udp dport 53 dnat ip to %s\n' "${TAPS[0]}" "${HOST_ADDRS[0]}" "$DNS_DNAT"
			printf '  iifname "%s" ip daddr %s tcp dport 53 dnat ip to %s\n' "${TAPS[0]}" "${HOST_ADDRS[0]}" "$DNS_DNAT"
			printf ' }\n'
		fi
		printf '}\n'
	} >"$STATE/nft.rules"
	nft -f "$STATE/nft.rules" 2>"$STATE/nft.err" || die "nft failed: $(head -n1 "$STATE/nft.err")"
}

# uplink_bytes: per guest NIC i, "TO FROM": the bytes our accept rules forwarded from tap i out
# of its uplink and back in (what really crossed the uplink for the guest; the clients' own
# traffic with the proxy on tap 0 is not forwarded). "- -" where nft cannot tell (not root).
uplink_bytes() {
	local i rules to from
	rules=$(nft list chain inet "$NFT_TABLE" forward 2>/dev/null) || rules=''
	for i in "${!TAPS[@]}"; do
		to=$(sed -n "s/^[[:space:]]*iifname \"${TAPS[i]}\" oifname \"${UP_IF[i]}\" counter packets [0-9]* bytes \([0-9]*\) accept.*/\1/p" <<<"$rules")
		from=$(sed -n "s/^[[:space:]]*iifname \"${UP_IF[i]}\" oifname \"${TAPS[i]}\" ct state established,related counter packets [0-9]* bytes \([0-9]*\) accept.*/\1/p" <<<"$rules")
		printf '%s %s\n' "${to:--}" "${from:--}"
	done
}

# An accept in our table does not stop another table's drop: a packet must pass every base
# chain of the forward hook. Docker (iptables, FORWARD policy DROP) provides DOCKER-USER for
# exceptions; a plain FORWARD DROP gets ours at its top. Prints "TOOL CHAIN", or "none".
# (No grep -q after a listing: under pipefail, a lister cut off by SIGPIPE fails the test.)
firewall_chain() {
	if command -v iptables >/dev/null 2>&1; then
		if iptables -w 5 -n -L DOCKER-USER >/dev/null 2>&1; then
			echo "iptables DOCKER-USER"
		elif iptables -w 5 -n -L FORWARD 2>/dev/null | awk 'NR == 1 && /policy DROP/ { f = 1 } END { exit !f }'; then
			echo "iptables FORWARD"
		fi
	elif nft list chain ip filter DOCKER-USER >/dev/null 2>&1; then
		echo "nft DOCKER-USER"
	elif nft list chain ip filter FORWARD 2>/dev/null | grep 'policy drop' >/dev/null; then
		echo "nft FORWARD"
	fi | grep . || echo none
}

# The accepts of firewall_rules in FIREWALL's chain (the plan's "TOOL CHAIN"), tagged so that
# close_firewall finds them.
open_firewall() {
	local tool chain rule tag="mpsocks:$NAME"
	local -a rules args
	read -r tool chain <<<"$FIREWALL"
	if [ "$tool" = none ]; then
		other_forward_drops &&
			warn "a forward chain of another firewall drops by default; allow ${TAPS[*]} <-> ${UP_IF[*]} there if the proxy cannot reach out"
		return 0
	fi
	mapfile -t rules < <(firewall_rules | grep '^accept ')
	if [ "$tool" = nft ]; then
		for rule in "${rules[@]}"; do
			# shellcheck disable=SC2086 # the rule's words
			printf 'insert rule ip filter %s %s\n' "$chain" "$(nft_rule $rule "$tag")"
		done | nft -f - || die "could not add forward exceptions to nft chain ip filter $chain"
		return 0
	fi
	for rule in "${rules[@]}"; do
		# shellcheck disable=SC2086 # the rule's words
		mapfile -t args < <(ipt_rule $rule "$tag")
		iptables -w 5 -I "$chain" 1 "${args[@]}" || die "could not add forward exceptions to iptables chain $chain"
	done
}

# Does a forward chain of a table not ours have policy drop (a firewall we cannot add to)?
other_forward_drops() {
	local family table
	while read -r _ family table; do
		[[ $table != mpsocks_* ]] || continue
		nft list table "$family" "$table" 2>/dev/null | grep 'hook forward.*policy drop' >/dev/null && return 0
	done < <(nft list tables 2>/dev/null)
	return 1
}

close_firewall() {
	local state=$1 name=$2 tool chain line handle
	read -r tool chain <<<"$(plan_field "$state" FIREWALL)"
	if [ "$tool" = iptables ]; then
		command -v iptables >/dev/null 2>&1 ||
			{ warn "iptables is gone since up: its rules tagged mpsocks:$name stay in $chain (apt-get install iptables, then down again)"; return 0; }
		iptables -w 5 -S "$chain" 2>/dev/null | grep -E -- "--comment \"?mpsocks:$name\"? " | while read -r line; do
			# "-A CHAIN spec" -> "-D CHAIN spec"; the words contain no spaces (names, tag).
			read -ra words <<<"${line/#-A /-D }"
			words=("${words[@]//\"/}")
			iptables -w 5 "${words[@]}" 2>/dev/null || true
		done
	elif [ "$tool" = nft ]; then
		nft -a list chain ip filter "$chain" 2>/dev/null | grep -F "comment \"mpsocks:$name\"" |
			sed -n 's/.*# handle \([0-9]*\).*/\1/p' | while read -r handle; do
				nft delete rule ip filter "$chain" handle "$handle" 2>/dev/null || true
			done
	fi
}

# forward_sysctl ip|ip6: the switch of that family's forwarding.
forward_sysctl() {
	case $1 in
	ip) echo /proc/sys/net/ipv4/ip_forward ;;
	ip6) echo /proc/sys/net/ipv6/conf/all/forwarding ;;
	esac
}

# forwarding_on ip|ip6: that family's forwarding for our taps. Off before: recorded in
# FAMILY_forward.orig (down restores it when the last instance of this namespace goes) and the
# family's guard table comes first, whose forward chain drops whatever touches none of the taps
# in its set. Each instance adds its taps to the set while it exists. IPv6 forwarding makes
# the kernel ignore router advertisements on interfaces with accept_ra 1: those of our uplinks
# get 2 (accept them anyway), recorded on the following lines of the record.
forwarding_on() {
	local family=$1 orig taps sw i ra
	sw=$(forward_sysctl "$family")
	read -r orig <"$sw"
	taps=$(printf '"%s", ' "${TAPS[@]}")
	if [ "$orig" != 1 ]; then
		printf '%s\n' "$orig" >"$STATE/${family}_forward.orig"
		nft -f - <<-EOF_NFT || die "nft failed to create table $family $GUARD_TABLE"
			table $family $GUARD_TABLE {
			 set taps { type ifname; elements = { ${taps%, } }; }
			 chain forward {
			  type filter hook forward priority filter - 20; policy drop;
			  iifname @taps accept
			  oifname @taps accept
			  counter drop
			 }
			}
		EOF_NFT
		if [ "$family" = ip6 ]; then
			for i in "${!UP_IF[@]}"; do
				read -r ra <"/proc/sys/net/ipv6/conf/${UP_IF[i]}/accept_ra" 2>/dev/null || continue
				[ "$ra" = 1 ] || continue
				printf '%s %s\n' "${UP_IF[i]}" "$ra" >>"$STATE/${family}_forward.orig"
				echo 2 >"/proc/sys/net/ipv6/conf/${UP_IF[i]}/accept_ra"
			done
		fi
	elif nft list table "$family" "$GUARD_TABLE" >/dev/null 2>&1; then
		# Another instance's guard: our taps join its set.
		nft add element "$family" "$GUARD_TABLE" taps "{ ${taps%, } }" || die "nft failed to add the taps to $GUARD_TABLE"
	fi
	[ "$orig" = 1 ] || echo 1 >"$sw"
}

# forwarding_off STATE: for each family, the instance's taps leave the guard; the last instance
# of this namespace puts forwarding back as it found it and removes the guard; another one
# still running takes the record over.
forwarding_off() {
	local state=$1 family orig tap dev ra
	for family in ip ip6; do
		for tap in $(plan_field "$state" 'TAPS[@]'); do
			nft delete element "$family" "$GUARD_TABLE" taps "{ \"$tap\" }" 2>/dev/null || true
		done
		[ -r "$state/${family}_forward.orig" ] || continue
		hand_over "$state" "${family}_forward.orig" && continue
		{
			read -r orig || orig=
			[[ ! $orig =~ ^[01]$ ]] || echo "$orig" >"$(forward_sysctl "$family")"
			while read -r dev ra; do
				[[ $ra =~ ^[0-2]$ ]] && [ -w "/proc/sys/net/ipv6/conf/$dev/accept_ra" ] || continue
				echo "$ra" >"/proc/sys/net/ipv6/conf/$dev/accept_ra"
			done
		} <"$state/${family}_forward.orig"
		nft delete table "$family" "$GUARD_TABLE" 2>/dev/null || true
	done
}
