# shellcheck shell=bash
# tools/mpsocks status (sourced).

cmd_status() {
	local out
	parse_options status "$@"
	need status "${NEEDS_STATUS[@]}"
	[ "$WATCH" = 1 ] || { status_once; return; }
	# --watch: the table redrawn every second (its rates are over that second); with --json
	# one object a line.
	while :; do
		out=$(status_once 2>&1) || true
		[ "$JSON" = 1 ] || printf '\033[H\033[J'
		printf '%s\n' "$out"
	done
}

# Bytes across each uplink for the guest, sampled twice a second apart for the rate.
status_once() {
	local state pid='' addr
	local rc=0 i rx tx rx0 tx0 guest_ok sockd_ok link upl guest gw
	state=$(state_dir "$NAME")
	[ "$JSON" = 0 ] || { status_json "$state"; return; }
	plan_read "$state" || { say "'$NAME' is not running"; return 1; }
	[ "$KIND" != exit ] || { exit_status "$state"; return; }
	addr=${GUEST_ADDRS[0]}
	if plan_elsewhere "$state"; then
		warn "'$NAME' runs in another network namespace ($PLAN_NETNS): its taps are not visible here"
	fi
	if pid=$(qemu_pid_of "$state"); then
		say "'$NAME': qemu pid $pid ($USE_ACCEL), state $state"
	else
		say "'$NAME': qemu is NOT running (state $state; tools/mpsocks down --name $NAME cleans up)"
		rc=1
	fi
	sample_uplink_bytes
	printf '  %-4s %-12s %-5s %-14s %-15s %-15s %14s %12s %14s %12s  %s\n' nic uplink link tap guest gateway \
		'to-net bytes' 'to-net/s' 'from-net bytes' 'from-net/s' state
	for i in "${!TAPS[@]}"; do
		# (rx: what the guest sent out of the uplink; tx: what came back to it.)
		read -r rx0 tx0 <<<"${BYTES_BEFORE[i]:-- -}"
		read -r rx tx <<<"${BYTES_NOW[i]:-- -}"
		upl=${UP_IF[i]}
		link=$(cat "/sys/class/net/$upl/operstate" 2>/dev/null || echo '?')
		[ "${UP_BACKUP[i]}" = 0 ] || upl+=" (b)"
		guest=${GUEST_ADDRS[i]} gw=${UP_GW[i]:--}
		[ "${UP_DIRECT[i]:-0}" = 0 ] || guest=dhcp gw=direct
		printf '  %-4s %-12s %-5s %-14s %-15s %-15s %14s %12s %14s %12s  %s\n' "eth$i" "$upl" "$link" "${TAPS[i]}" "$guest" "$gw" \
			"$rx" "$(rate "$rx0" "$rx")" "$tx" "$(rate "$tx0" "$tx")" "$(uplink_state_of "$state" "$i")"
		[ -e "/sys/class/net/${TAPS[i]}" ] || rc=1
	done
	for i in "${!TAPS[@]}"; do
		[ -z "${GUEST_ADDRS6[i]}" ] ||
			printf '  eth%s IPv6: %s via the tap, NAT66 out of %s%s\n' "$i" "${GUEST_ADDRS6[i]}" "${UP_IF[i]}" \
				"$([ "${UP_V4[i]:-1}" = 1 ] || echo ' (IPv6 only)')"
	done
	sockd_ok="no"
	if socks_answers "$addr" "$PORT"; then sockd_ok="yes: socks5h://$addr:$PORT"; else rc=1; fi
	guest_ok=no
	if [ -n "$pid" ] && [ -S "$state/qmp.sock" ] && [ -w "$state/qmp.sock" ] &&
		qmp "$state/qmp.sock" query-status | grep '"status": *"running"' >/dev/null; then
		guest_ok="yes (QMP: running)"
	elif [ -n "$pid" ] && [ "$sockd_ok" != no ]; then
		guest_ok="yes (its sockd answers)"
	elif [ -n "$pid" ] && ping -c1 -W1 "$addr" >/dev/null 2>&1; then
		guest_ok="yes (ping $addr)"
	elif [ -n "$pid" ]; then
		guest_ok="unknown (qemu runs; no QMP access, no ping answer)"
	fi
	say "guest answers: $guest_ok; sockd answers: $sockd_ok"
	[ -z "$(status_page_url)" ] || say "status page: $(status_page_url)"
	status_connections "$state" table
	return $rc
}

# The page the guest serves on its proxy address (init/httpd.h: port 80, off when SOCKS has
# it); nothing for an exit.
STATUS_PAGE_PORT=80
status_page_url() {
	[ "$PORT" = "$STATUS_PAGE_PORT" ] || printf 'http://%s/\n' "${GUEST_ADDRS[0]}"
}

rate() {
	local a=$1 b=$2
	[[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] || { echo -; return; }
	a=$((b - a))
	if ((a >= 1000000)); then
		printf '%d.%d MB/s' $((a / 1000000)) $((a / 100000 % 10))
	elif ((a >= 1000)); then
		printf '%d.%d kB/s' $((a / 1000)) $((a / 100 % 10))
	else
		printf '%d B/s' "$a"
	fi
}


# The exit: its program, whether it answers, its MPTCP connections and their subflows.
exit_status() {
	local state=$1 pid conns subflows what=sockd keyfile
	[ ! -e "$state/mpslink" ] || what=mpslink
	if ! pid=$(exit_pid_of "$state"); then
		say "exit '$NAME': $what is NOT running (state $state; tools/mpsocks down --name $NAME cleans up)"
		return 1
	fi
	if [ "$what" = mpslink ]; then
		read -r keyfile <"$state/mpslink"
		say "exit '$NAME': mpslink pid $pid, the link on $LISTEN:$PORT (key $keyfile; its line: $KEY_DIR/$NAME.line), state $state"
	else
		say "exit '$NAME': sockd pid $pid, plain SOCKS5 on $LISTEN:$PORT, state $state"
	fi
	conns=$(ss -HMtn state established "( sport = :$PORT )" 2>/dev/null | grep -c . || true)
	subflows=$(ss -Htni state established "( sport = :$PORT )" 2>/dev/null | grep -c tcp-ulp-mptcp || true)
	say "connections from clients: ${conns:-0} MPTCP (${subflows:-0} subflows)"
	exit_answers "$state" || { say "$what answers: no"; return 1; }
	say "$what answers: yes"
}

# exit_answers STATE: the link's exit proves its key; the plain one answers a SOCKS greeting.
exit_answers() {
	if [ -e "$1/mpslink" ]; then
		link_exit_answers "$1"
	else
		socks_answers "$([ "$LISTEN" != 0.0.0.0 ] && echo "$LISTEN" || echo 127.0.0.1)" "$PORT"
	fi
}

json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# status --json: the same facts as the table, as one JSON object on one line (uplink counters:
# to_net = what the guest sent, from_net = what it received; rates in bytes per second).
status_json() {
	local state=$1 pid=null up=false i sep='' rx tx rx0 tx0 link backup conns
	if ! plan_read "$state"; then
		printf '{"name":%s,"running":false}\n' "$(json_str "$NAME")"
		return 1
	fi
	if [ "$KIND" = exit ]; then
		pid=$(exit_pid_of "$state") || pid=null
		exit_answers "$state" && up=true
		printf '{"name":%s,"kind":"exit","mode":%s,"running":%s,"pid":%s,"listen":%s,"port":%s,"answers":%s}\n' \
			"$(json_str "$NAME")" "$([ -e "$state/mpslink" ] && echo '"link"' || echo '"plain"')" \
			"$([ "$pid" != null ] && echo true || echo false)" "$pid" "$(json_str "$LISTEN")" "$PORT" "$up"
		[ "$up" = true ]
		return
	fi
	pid=$(qemu_pid_of "$state") || pid=null
	sample_uplink_bytes
	socks_answers "${GUEST_ADDRS[0]}" "$PORT" && up=true
	printf '{"name":%s,"kind":"vm","running":%s,"qemu_pid":%s,"accel":%s,"state":%s,"proxy":%s,"sockd_answers":%s,"nics":[' \
		"$(json_str "$NAME")" "$([ "$pid" != null ] && echo true || echo false)" "$pid" "$(json_str "$USE_ACCEL")" \
		"$(json_str "$state")" "$(json_str "socks5h://${GUEST_ADDRS[0]}:$PORT")" "$up"
	for i in "${!TAPS[@]}"; do
		read -r rx0 tx0 <<<"${BYTES_BEFORE[i]:-- -}"
		read -r rx tx <<<"${BYTES_NOW[i]:-- -}"
		[[ $rx =~ ^[0-9]+$ ]] || rx=null
		[[ $tx =~ ^[0-9]+$ ]] || tx=null
		link=$(cat "/sys/class/net/${UP_IF[i]}/operstate" 2>/dev/null || echo unknown)
		backup=false
		[ "${UP_BACKUP[i]}" = 0 ] || backup=true
		printf '%s{"nic":"eth%s","uplink":%s,"backup":%s,"link":%s,"tap":%s,"guest":%s,"gateway":%s,' "$sep" "$i" \
			"$(json_str "${UP_IF[i]}")" "$backup" "$(json_str "$link")" "$(json_str "${TAPS[i]}")" \
			"$(json_str "${GUEST_ADDRS[i]}")" "$(json_str "${UP_GW[i]:-}")"
		# IPv6 (null without), IPv6 only, direct (the guest's own lease: "guest" is not its address)
		printf '"guest6":%s,"ipv4":%s,"direct":%s,' \
			"$([ -n "${GUEST_ADDRS6[i]}" ] && json_str "${GUEST_ADDRS6[i]}" || echo null)" \
			"$([ "${UP_V4[i]:-1}" = 1 ] && echo true || echo false)" \
			"$([ "${UP_DIRECT[i]:-0}" = 1 ] && echo true || echo false)"
		printf '"to_net_bytes":%s,"to_net_rate":%s,"from_net_bytes":%s,"from_net_rate":%s,%s}' \
			"$rx" "$(json_rate "$rx0" "$rx")" "$tx" "$(json_rate "$tx0" "$tx")" "$(uplink_state_json "$state" "$i")"
		sep=,
	done
	conns=$(status_connections "$state" json)
	if [ "$conns" = null ]; then conns='"clients":null,"connections":null,"exits":null'; else conns=${conns#\{} conns=${conns%\}}; fi
	printf '],"page":%s,%s}\n' "$([ -n "$(status_page_url)" ] && json_str "$(status_page_url)" || echo null)" "$conns"
	[ "$pid" != null ] && [ "$up" = true ]
}

json_rate() { if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then echo $(($2 - $1)); else echo null; fi; }

# sample_uplink_bytes: BYTES_BEFORE and BYTES_NOW, a second apart, one "TO FROM" line per guest
# NIC: what crossed each uplink (our nft counters, firewall.sh's uplink_bytes), not the taps'
# counters, which on tap 0 include the clients' own traffic with the proxy.
sample_uplink_bytes() {
	NFT_TABLE=mpsocks_$NAME
	mapfile -t BYTES_BEFORE < <(uplink_bytes)
	sleep 1
	mapfile -t BYTES_NOW < <(uplink_bytes)
}
