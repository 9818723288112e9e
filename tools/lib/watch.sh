# shellcheck shell=bash
# tools/mpsocks: the route keeper of a running instance, `tools/mpsocks _watch NAME` (sourced).
# up starts it in its own session (detached or not); it lives until the instance's qemu or
# state dir is gone, and down ends its whole process group.

start_watcher() {
	setsid "$0" _watch "$NAME" </dev/null >/dev/null 2>&1 &
}

# Woken by the kernel's link and route events (`ip monitor`), not by a timer: a burst of events
# (an uplink going down drops many routes) is read to its end (2 ms of quiet: the kernel sends
# it at once; every ms here delays the reaction to a lost uplink), a lost carrier is told to the
# guest, then the routes are mended once and every uplink looked at anew.
# Without events (ip monitor gone) it falls back to looking every 2 s.
cmd_watch() {
	local pid mon='' line rc tick
	NAME=${1:-}
	check_name
	STATE=$(state_dir "$NAME")
	[ -d "$STATE" ] || exit 0
	# Its own pid, written by itself: a SIGKILLed up cannot leave it unrecorded.
	echo "$$" >"$STATE/watch.pid"
	read -r pid <"$STATE/qemu.pid" || exit 0
	plan_read "$STATE" || exit 0
	exec {mon}< <(exec ip monitor link address route 2>/dev/null)
	maintain_routes
	uplinks_init
	uplinks_track look
	tick=$(uplinks_tick)
	while [ -d "$STATE" ] && is_running "$pid"; do
		rc=0
		if [ -n "$mon" ]; then
			read -r -t "$tick" -u "$mon" line || rc=$?
		else
			pause 2
		fi
		if ((rc == 0)); then
			while read -r -t 0.002 -u "$mon" line; do :; done
		elif ((rc <= 128)); then
			exec {mon}<&-
			mon=''
		else
			uplinks_track # quiet: only the liveness check and the probes
			continue
		fi
		: "$line"
		uplinks_track lost # first, before any fork: the guest moves its data off it at once
		maintain_routes
		uplinks_track look
	done
}

stop_watcher() {
	local state=$1 name=$2 pid t
	[ -r "$state/watch.pid" ] && read -r pid <"$state/watch.pid" || return 0
	[[ $pid =~ ^[0-9]+$ ]] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q " _watch $name \?$" || return 0
	# It holds nothing that needs a clean exit; its group holds its ip monitor.
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || return 0
	for ((t = 0; t < 20; t++)); do
		is_running "$pid" || return 0
		sleep 0.05
	done
}

# Puts back the uplink routes of tables that lost them (the uplink went down and came back),
# and follows a gateway that came from the host's routes when the host's changes (another
# Wi-Fi network); the new gateway lives in this process only (the plan keeps what up found).
# One `ip` call when nothing is to be done.
maintain_routes() {
	local line i gw dev rest batch=''
	local -A have=() main_gw=()
	while read -r line; do
		[[ $line =~ ^default\ (via\ ([0-9.]+)\ )?dev\ ([^ ]+)(.*) ]] || continue
		gw=${BASH_REMATCH[2]:--} dev=${BASH_REMATCH[3]} rest=${BASH_REMATCH[4]}
		if [[ $rest =~ \ table\ ([0-9]+) ]]; then
			have[${BASH_REMATCH[1]}]=$gw
		elif [ -z "${main_gw[$dev]:-}" ]; then
			main_gw[$dev]=$gw
		fi
	done < <(ip -4 -o route show table all default 2>/dev/null)
	for i in "${!TAPS[@]}"; do
		uplink_is_up "${UP_IF[i]}" && [ "${UP_V4[i]:-1}" = 1 ] && [ "${UP_DIRECT[i]:-0}" = 0 ] || continue
		if [ "${UP_GW_AUTO[i]}" = 1 ] && [ -n "${main_gw[${UP_IF[i]}]:-}" ]; then
			gw=${main_gw[${UP_IF[i]}]}
			[ "$gw" != - ] || gw=''
			if [ "$gw" != "${UP_GW[i]}" ]; then
				UP_GW[i]=$gw
				unset "have[${TABLES[i]}]"
			fi
		fi
		[ -z "${have[${TABLES[i]}]:-}" ] || continue
		batch+=$(uplink_routes "$i")$'\n'
	done
	[ -z "$batch" ] || printf '%s' "$batch" | ip_batch
	batch=$(missing_routes6)
	[ -z "$batch" ] || printf '%s\n' "$batch" | ip -6 -force -batch - >/dev/null 2>&1 || true
}
