# shellcheck shell=bash
# tools/mpsocks: the instance's state dir and its plan: what up creates, written once before it
# creates anything (plan_write) and read back by everything else (plan_read) (sourced).

STATE=
NETNS=$(readlink /proc/self/ns/net 2>/dev/null || echo unknown)

state_dir() { printf '%s/%s\n' "$RUN_DIR" "$1"; }

# Serialises slot allocation and teardown between instances.
take_lock() {
	mkdir -p "$RUN_DIR"
	exec {LOCK_FD}>"$RUN_DIR/.lock"
	flock -w 30 "$LOCK_FD" || die "could not lock $RUN_DIR/.lock"
}

release_lock() { [ -z "${LOCK_FD:-}" ] || { exec {LOCK_FD}>&-; LOCK_FD=; }; }

# Slot 0 is the default instance's; others take the lowest slot no other plan holds.
allocate_slot() {
	local s used d
	if [ "$NAME" = "$DEFAULT_NAME" ]; then
		SLOT=0
		return 0
	fi
	for ((s = 1; s <= MAX_SLOT; s++)); do
		used=0
		for d in "$RUN_DIR"/*/plan; do
			[ -f "$d" ] || continue
			[ "$d" = "$STATE/plan" ] && continue
			[ "$(plan_field "${d%/plan}" SLOT)" != "$s" ] || { used=1; break; }
		done
		[ $used -eq 1 ] || { SLOT=$s; return 0; }
	done
	die "no free instance slot (at most $MAX_SLOT named instances besides '$DEFAULT_NAME')"
}

# Per tap i: the host's part of the plan, as arrays.
plan_network() {
	local i n=${#UP_IF[@]} net
	TAPS=() SUBNETS=() HOST_ADDRS=() GUEST_ADDRS=() TABLES=() SUBNETS6=() HOST_ADDRS6=() GUEST_ADDRS6=()
	for ((i = 0; i < n; i++)); do
		net=$((6 + 8 * SLOT + i))
		TAPS+=("$NAME-$i")
		SUBNETS+=("10.66.$net.0/24")
		HOST_ADDRS+=("10.66.$net.1")
		GUEST_ADDRS+=("10.66.$net.2")
		TABLES+=($((TABLE_BASE + 16 * SLOT + i)))
		plan_ipv6 "$i"
	done
	NFT_TABLE=mpsocks_$NAME
}

# Refuse to take over what is not ours: an existing interface with a tap's name, a subnet some
# interface already uses, a routing table or rule priority in use.
check_network_free() {
	local i
	for i in "${!TAPS[@]}"; do
		[ ! -e "/sys/class/net/${TAPS[i]}" ] || die "interface ${TAPS[i]} exists already (not ours); use another --name"
		[ -z "$(ip -4 -o addr show to "${SUBNETS[i]}" 2>/dev/null)" ] ||
			die "subnet ${SUBNETS[i]} is in use on this host; use another --name"
		[ -z "$(ip -4 route show table "${TABLES[i]}" 2>/dev/null)" ] ||
			die "routing table ${TABLES[i]} is in use; use another --name"
		! ip -4 rule show 2>/dev/null | grep "^${TABLES[i]}:" >/dev/null ||
			die "ip rule priority ${TABLES[i]} is in use; use another --name"
		[ -z "${SUBNETS6[i]}" ] || [ -z "$(ip -6 -o addr show to "${SUBNETS6[i]}" 2>/dev/null)" ] ||
			die "subnet ${SUBNETS6[i]} is in use on this host; use another --name"
	done
}

# What up is about to create, written once, before any of it exists; the only writer of the
# plan. Lines: KEY VALUE..., one "uplink" line per guest NIC.
plan_write() {
	local i
	{
		printf 'kind %s\nslot %s\nnetns %s\nport %s\naccel %s\nfirewall %s\nlisten %s\n' \
			"$KIND" "$SLOT" "$NETNS" "$PORT" "$USE_ACCEL" "${FIREWALL:-none}" "${LISTEN:--}"
		printf 'probe %s\n' "${PROBE_INTERVAL:-$PROBE_DEFAULT}"
		for i in "${!TAPS[@]}"; do
			printf 'uplink %s %s %s %s %s %s %s %s %s %s %s %s\n' "$i" "${TAPS[i]}" "${UP_IF[i]}" "${UP_GW[i]:--}" \
				"${HOST_ADDRS[i]}" "${GUEST_ADDRS[i]}" "${TABLES[i]}" "${UP_BACKUP[i]}" "${UP_GW_AUTO[i]}" \
				"${UP_GW6[i]:--}" "${UP_V4[i]:-1}" "${UP_DIRECT[i]:-0}"
		done
	} >"$STATE/plan.new"
	mv -f "$STATE/plan.new" "$STATE/plan"
}

# plan_read STATE: the variables and arrays of plan_write, back from the state dir; the only
# reader of the plan. Fails when there is none.
plan_read() {
	local key idx tap upl gw hostaddr guest table backup auto gw6 v4 direct
	[ -r "$1/plan" ] || return 1
	KIND='' SLOT='' PLAN_NETNS='' PORT='' USE_ACCEL='' FIREWALL=none LISTEN= PROBE_INTERVAL=$PROBE_DEFAULT
	TAPS=() UP_IF=() UP_GW=() HOST_ADDRS=() GUEST_ADDRS=() SUBNETS=() TABLES=() UP_BACKUP=() UP_GW_AUTO=()
	UP_GW6=() SUBNETS6=() HOST_ADDRS6=() GUEST_ADDRS6=() UP_V4=() UP_DIRECT=()
	while read -r key idx tap upl gw hostaddr guest table backup auto gw6 v4 direct; do
		case $key in
		kind) KIND=$idx ;;
		slot) SLOT=$idx ;;
		netns) PLAN_NETNS=$idx ;;
		port) PORT=$idx ;;
		accel) USE_ACCEL=$idx ;;
		listen) LISTEN=$idx ;;
		probe) PROBE_INTERVAL=$idx ;;
		firewall) FIREWALL="$idx${tap:+ $tap}" ;;
		uplink)
			TAPS+=("$tap") UP_IF+=("$upl") HOST_ADDRS+=("$hostaddr") GUEST_ADDRS+=("$guest")
			SUBNETS+=("${hostaddr%.1}.0/24") TABLES+=("$table") UP_BACKUP+=("$backup") UP_GW_AUTO+=("${auto:-0}")
			[ "$gw" = - ] && UP_GW+=("") || UP_GW+=("$gw")
			[ "${gw6:--}" = - ] && UP_GW6+=("") || UP_GW6+=("$gw6")
			UP_V4+=("${v4:-1}") UP_DIRECT+=("${direct:-0}")
			plan_ipv6 $((${#TAPS[@]} - 1)) ;;
		esac
	done <"$1/plan"
}

# plan_field STATE VAR: one variable of another instance's plan, ARRAY[@] for all of an array's
# elements, a line each (read in a subshell, so ours stays as it is); empty without a plan.
plan_field() { (plan_read "$1" 2>/dev/null && printf '%s\n' "${!2}"); }

# Is the instance of STATE in another network namespace than this process?
plan_elsewhere() {
	local ns
	ns=$(plan_field "$1" PLAN_NETNS)
	[ -n "$ns" ] && [ "$ns" != "$NETNS" ]
}

# hand_over STATE FILE: another live instance of this namespace and of the same kind takes over
# STATE's record FILE (what the host was like before the first instance changed it), keeping
# its own if it has one. Fails when there is none: STATE's instance is the last, and puts
# things back itself.
hand_over() {
	local state=$1 file=$2 d kind
	kind=$(plan_field "$state" KIND)
	for d in "$RUN_DIR"/*/; do
		d=${d%/}
		[ "$d" != "$state" ] || continue
		[ "$(plan_field "$d" PLAN_NETNS)" = "$NETNS" ] || continue
		[ "$(plan_field "$d" KIND)" = "$kind" ] || continue
		instance_lives "$d" || [ -r "$d/creating" ] || continue
		[ -e "$d/$file" ] || cp "$state/$file" "$d/$file"
		return 0
	done
	return 1
}

# inherit_record FILE: a live instance of this namespace and kind holds the record FILE (the
# host as it was before the first of them changed it): copy it to STATE, so that whichever goes
# last puts the host back as it was. Fails when none holds one.
inherit_record() {
	local file=$1 d
	for d in "$RUN_DIR"/*/; do
		d=${d%/}
		[ "$d" != "$STATE" ] && [ -r "$d/$file" ] || continue
		[ "$(plan_field "$d" PLAN_NETNS)" = "$NETNS" ] && [ "$(plan_field "$d" KIND)" = "$KIND" ] || continue
		instance_lives "$d" || continue
		cp "$d/$file" "$STATE/$file" && return 0
	done
	return 1
}
