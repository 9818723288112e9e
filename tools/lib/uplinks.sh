# shellcheck shell=bash
# tools/mpsocks: the uplink tracker of the watcher `_watch` (sourced). Per uplink: carrier,
# address, gateway and, where there is a gateway, an ARP probe of it (no outside service), so
# one of up / down / blackholed. Every change goes to the guest's init as one UDP datagram
# with every uplink's state (init/uplinkctl.h), sent through the first tap (the clients' path,
# which stays whatever the uplinks do: a carrier change by QMP set_link on it would cut the
# clients off too), from the tap's host address and port 1023 (root only). init withdraws a
# down uplink's MPTCP endpoint (its subflows close now, not after RTOs) and re-adds it on
# return, so every running connection gets a fresh subflow; a new address or gateway while up
# is a new generation of the uplink, which init treats as a return. The guest's own addresses
# never change: the host's masquerade follows the uplink's (and drops the conntrack entries
# of a removed address itself). The tracker's own files in STATE: uplinks (one line per
# uplink: I STATE SINCE_EPOCH WHY, for status) and watch.log (a line per change). It never
# writes the plan.

PROBE_DEFAULT=1 # seconds between probes of a gateway
CTL_PORT=4266   # init/uplinkctl.h
CTL_RESEND=10   # seconds: the word is repeated, in case a datagram was lost
PROBE_MISSES=2  # unanswered probes in a row before an uplink counts as blackholed
UPL_STATE=() UPL_SINCE=() UPL_WHY=() UPL_ID=() UPL_MISS=() UPL_PID=() UPL_GEN=()
CTL_SENT=0
OBS_STATE=() OBS_IDS=() OBS_WHYS=() # the last look at each uplink (events bring a new one)
PROBE_LAST=0

# How long the watcher waits for events: short while probing, to see answers soon.
uplinks_tick() { if [ "${PROBE_INTERVAL:-0}" = 0 ]; then echo 2; else echo 0.25; fi; }

# --probe-interval S: 0 (no probing) or 0.2-3600 seconds.
check_probe_interval() {
	[[ $PROBE_INTERVAL =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ ]] &&
		{ [ "$PROBE_INTERVAL" = 0 ] || (($(ms_of "$PROBE_INTERVAL") >= 200 && $(ms_of "$PROBE_INTERVAL") <= 3600000)); } ||
		bad_usage "bad --probe-interval '$PROBE_INTERVAL': seconds, 0 (off) or 0.2-3600"
}

# ms_of S: decimal seconds as integer milliseconds.
ms_of() {
	local s=$1 frac=000
	[[ $s != *.* ]] || { frac=${s#*.}000; frac=${frac:0:3}; s=${s%.*}; }
	echo $((10#${s:-0} * 1000 + 10#$frac))
}

# An uplink named at up need not exist yet (a USB modem plugged in later): with its gateway
# given, its NIC starts with no carrier and comes up when it does.
uplink_may_come() { [ -n "$2" ] && [[ $1 =~ ^[A-Za-z0-9_.:-]{1,15}$ && $1 != . && $1 != .. ]]; }

# No fork: this runs between a lost carrier and telling the guest.
uplinks_log() {
	local now=$EPOCHREALTIME
	printf '%(%FT%T)T.%s %s\n' "${now%.*}" "${now:${#now}-6:3}" "$*" >>"$STATE/watch.log"
}

# uplinks_tell: every uplink's state and generation to the guest ("uplinks up/3 down/0 ...").
uplinks_tell() {
	local i word=uplinks
	for i in "${!TAPS[@]}"; do
		if [ "${UPL_STATE[i]}" = up ]; then word+=" up/${UPL_GEN[i]}"; else word+=" down/${UPL_GEN[i]}"; fi
	done
	CTL_SENT=$EPOCHSECONDS
	printf '%s\n' "$word" | socat -u - "UDP4-SENDTO:${GUEST_ADDRS[0]}:$CTL_PORT,bind=${HOST_ADDRS[0]}:1023" 2>/dev/null ||
		uplinks_log "could not tell the guest: $word"
}

# carrier_gone DEV: DEV is absent, down or without carrier (sysfs reads only, no fork).
carrier_gone() {
	local carrier=0
	uplink_is_up "$1" && read -r carrier <"/sys/class/net/$1/carrier" 2>/dev/null
	[ "$carrier" != 1 ]
}

# uplink_observe I: OBS=up|down with OBS_WHY, and OBS_ID (address and gateway) when up.
uplink_observe() {
	local i=$1 dev=${UP_IF[$1]} carrier=0 addr
	OBS=down OBS_ID='' OBS_WHY=''
	[ -e "/sys/class/net/$dev" ] || { OBS_WHY='interface absent'; return 0; }
	uplink_is_up "$dev" || { OBS_WHY='interface down'; return 0; }
	read -r carrier <"/sys/class/net/$dev/carrier" 2>/dev/null || true
	[ "$carrier" = 1 ] || { OBS_WHY='no carrier'; return 0; }
	if [ "${UP_DIRECT[i]:-0}" = 1 ]; then
		# The guest's own DHCP client follows its address; here only the carrier counts.
		OBS=up OBS_ID=direct
		return 0
	fi
	if [ "${UP_V4[i]:-1}" = 0 ]; then
		# IPv6 only: its global address (a new one is a renumbering); no gateway to probe.
		addr=$(ip -6 -o addr show dev "$dev" scope global -tentative 2>/dev/null | awk '{print $4; exit}')
		[ -n "$addr" ] || { OBS_WHY='no IPv6 address'; return 0; }
		OBS=up OBS_ID="$addr gw6 ${UP_GW6[i]:-none}"
		return 0
	fi
	addr=$(ip -4 -o addr show dev "$dev" 2>/dev/null | awk '{print $4; exit}')
	[ -n "$addr" ] || { OBS_WHY='no address'; return 0; }
	if [ -n "${UP_GW[i]}" ] && ! gateway_on_link "$dev" "${UP_GW[i]}"; then
		OBS_WHY="gateway ${UP_GW[i]} not on its link ($addr)"
		return 0
	fi
	OBS=up OBS_ID="$addr gw ${UP_GW[i]:-none}"
}

# Collects finished probes, and starts one per uplink that is not down and has a gateway
# each interval; a probe waits up to 1 s for the gateway's ARP reply (arping counts whole
# seconds), so probes overlap when the interval is shorter: a healed uplink is seen within an
# interval, not after the last probe's full wait.
uplinks_probe() {
	local i rc now pid left
	for i in "${!UPL_PID[@]}"; do
		left=''
		for pid in ${UPL_PID[i]}; do
			if is_running "$pid"; then left+=" $pid"; continue; fi
			wait "$pid" && rc=0 || rc=$?
			if [ "$rc" = 0 ]; then UPL_MISS[i]=0; else UPL_MISS[i]=$((UPL_MISS[i] + 1)); fi
		done
		UPL_PID[i]=$left
	done
	[ "$PROBE_INTERVAL" != 0 ] || return 0
	now=$((${EPOCHREALTIME/./} / 1000))
	((now - PROBE_LAST >= PROBE_MS)) || return 0
	PROBE_LAST=$now
	for i in "${!TAPS[@]}"; do
		[ -n "${UP_GW[i]}" ] && [ "${UPL_STATE[i]}" != down ] && [ "${OBS_STATE[i]:-}" = up ] || continue
		arping -q -c 1 -w 1 -I "${UP_IF[i]}" "${UP_GW[i]}" </dev/null >/dev/null 2>&1 &
		UPL_PID[i]+=" $!"
	done
}

uplinks_save() {
	local i
	for i in "${!TAPS[@]}"; do
		printf '%s %s %s %s\n' "$i" "${UPL_STATE[i]}" "${UPL_SINCE[i]}" "${UPL_WHY[i]:--}"
	done >"$STATE/uplinks.new"
	mv -f "$STATE/uplinks.new" "$STATE/uplinks"
}

# The guest booted with every NIC's carrier up: that is the starting state.
uplinks_init() {
	local i
	PROBE_INTERVAL=${PROBE_INTERVAL:-$PROBE_DEFAULT}
	PROBE_MS=$(ms_of "$PROBE_INTERVAL") # once: the loop forks nothing while all is quiet
	for i in "${!TAPS[@]}"; do
		UPL_STATE[i]=up UPL_SINCE[i]=${EPOCHSECONDS} UPL_WHY[i]='' UPL_ID[i]='' UPL_MISS[i]=0 UPL_PID[i]='' UPL_GEN[i]=0
	done
	uplinks_save
}

# uplink_forget_neighbours I: drops the kernel's neighbour entries on uplink I as it returns.
# A resolution of its gateway that started while the link was dead (the guest's last packets
# on a closing subflow) fails up to 3 s later; when that is just after the return, the packets
# queued on it, such as the guest's join SYN over the uplink, get "host unreachable", and a
# join that fails so is never retried by the guest's path manager. A fresh entry resolves at
# once on a live link.
uplink_forget_neighbours() {
	[ "${UP_DIRECT[$1]:-0}" = 1 ] || ip neigh flush dev "${UP_IF[$1]}" >/dev/null 2>&1 || true
}

# uplinks_track [look|lost]: acts on each change of every uplink; with look (after link,
# address or route events) each is looked at anew, with lost only those whose interface or
# carrier is gone (no fork before the guest is told), else only the probes' answers count.
# Cheap when nothing changed: no process but the probes, no QMP.
uplinks_track() {
	local i new changed=0
	uplinks_probe
	for i in "${!TAPS[@]}"; do
		if [ "${1:-}" = look ] || [ -z "${OBS_STATE[i]:-}" ] || { [ "${1:-}" = lost ] && carrier_gone "${UP_IF[i]}"; }; then
			uplink_observe "$i"
			OBS_STATE[i]=$OBS OBS_IDS[i]=$OBS_ID OBS_WHYS[i]=$OBS_WHY
		fi
		OBS_ID=${OBS_IDS[i]} OBS_WHY=${OBS_WHYS[i]}
		new=${OBS_STATE[i]}
		if [ "$new" = up ] && ((UPL_MISS[i] >= PROBE_MISSES)); then
			new=blackholed OBS_WHY="${UPL_MISS[i]} ARP probes of ${UP_GW[i]} unanswered"
		fi
		[ "$new" = up ] || UPL_ID[i]=''
		[ "$new" != down ] || UPL_MISS[i]=0
		if [ "$new" != "${UPL_STATE[i]}" ]; then
			uplinks_log "uplink $i (${UP_IF[i]}): ${UPL_STATE[i]} -> $new${OBS_WHY:+ ($OBS_WHY)}${OBS_ID:+ ($OBS_ID)}"
			[ "$new" != up ] || { UPL_GEN[i]=$((UPL_GEN[i] + 1)) && uplink_forget_neighbours "$i"; }
			UPL_STATE[i]=$new UPL_SINCE[i]=$EPOCHSECONDS UPL_WHY[i]=$OBS_WHY changed=1
		elif [ "$new" = up ] && [ -n "${UPL_ID[i]}" ] && [ "$OBS_ID" != "${UPL_ID[i]}" ]; then
			uplinks_log "uplink $i (${UP_IF[i]}): renumbered: ${UPL_ID[i]} -> $OBS_ID; new subflows"
			UPL_GEN[i]=$((UPL_GEN[i] + 1))
			UPL_SINCE[i]=$EPOCHSECONDS UPL_WHY[i]="renumbered to ${OBS_ID%% *}" changed=1
		fi
		[ "$new" != up ] || UPL_ID[i]=$OBS_ID
	done
	if [ "$changed" = 1 ]; then
		uplinks_tell
		uplinks_save
	elif ((EPOCHSECONDS - CTL_SENT >= CTL_RESEND)); then
		uplinks_tell
	fi
}

# status: the tracker's view of uplink I as "STATE since HH:MM:SS" (empty without a watcher).
uplink_state_of() {
	local state=$1 i=$2 n st since _
	[ -r "$state/uplinks" ] || return 0
	while read -r n st since _; do
		[ "$n" = "$i" ] || continue
		printf '%s since %s\n' "$st" "$(date -d "@$since" +%T 2>/dev/null || echo "$since")"
	done <"$state/uplinks"
}

# status --json: "state":...,"since":EPOCH for uplink I ("state":null without a watcher).
uplink_state_json() {
	local n st since _
	[ -r "$1/uplinks" ] && while read -r n st since _; do
		[ "$n" != "$2" ] || { printf '"state":"%s","since":%s' "$st" "$since"; return 0; }
	done <"$1/uplinks"
	printf '"state":null,"since":null'
}
