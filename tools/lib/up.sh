# shellcheck shell=bash
# tools/mpsocks: up, down and the teardown both use (sourced).


# Is the instance of STATE (a guest or an exit) still running?
instance_lives() { qemu_pid_of "$1" >/dev/null || exit_pid_of "$1" >/dev/null; }

# Removes everything the plan in STATE names; each step tolerates it being gone already.
teardown() {
	local state=$1 name=$2 i
	local -a taps tables subnets
	mapfile -t taps < <(plan_field "$state" 'TAPS[@]')
	mapfile -t tables < <(plan_field "$state" 'TABLES[@]')
	mapfile -t subnets < <(plan_field "$state" 'SUBNETS[@]')
	stop_watcher "$state" "$name"
	stop_qemu "$state" "${3:-0}"
	stop_exit "$state"
	restore_mptcp_limits "$state"
	close_firewall "$state" "$name"
	nft delete table inet "mpsocks_$name" 2>/dev/null || true
	teardown6 "$state" | ip -6 -batch - >/dev/null 2>&1 || true
	for i in "${!taps[@]}"; do
		printf 'rule del from %s lookup %s priority %s\n' "${subnets[i]}" "${tables[i]}" "${tables[i]}"
		printf 'route flush table %s\n' "${tables[i]}"
		printf 'link del dev %s\n' "${taps[i]}"
	done | ip_batch
	forwarding_off "$state"
	rm -rf "$state"
}

cmd_up() {
	parse_options up "$@"
	check_up_options
	become_root up "$@"
	need up "${NEEDS_UP[@]}"
	[ "$PROBE_INTERVAL" = 0 ] ||
		need "up (its uplink probes)" --or "--probe-interval 0 to run without blackhole detection" "${NEEDS_PROBES[@]}"
	[ ${#LINK_ADDRS[@]} -eq 0 ] || need_mpslink
	find_image
	KIND=vm
	USE_ACCEL=$ACCEL
	if [ "$ACCEL" = auto ]; then
		# (stderr: bash would report the probe qemu's death by signal as a job notice)
		if kvm_works 2>/dev/null; then USE_ACCEL=kvm; else USE_ACCEL=tcg; fi
	fi
	FIREWALL=$(firewall_chain)

	STATE=$(state_dir "$NAME")
	take_lock
	if [ -d "$STATE" ]; then
		if plan_elsewhere "$STATE"; then
			qemu_pid_of "$STATE" >/dev/null &&
				die "an instance named '$NAME' runs in another network namespace; use another --name"
			warn "dropping the state of '$NAME' from another network namespace (its qemu is gone)"
			rm -rf "$STATE"
		elif instance_lives "$STATE"; then
			die "'$NAME' is running already (tools/mpsocks down --name $NAME)"
		else
			say "cleaning up what a previous '$NAME' left behind"
			teardown "$STATE" "$NAME"
		fi
	fi
	allocate_slot
	detect_ipv6
	plan_network
	check_network_free
	choose_dns
	chmod 755 "$RUN_DIR"
	begin_instance 755

	create_taps
	# The guest needs its taps at once, the rest only when it sends (after ~0.4 s of boot).
	start_qemu
	forwarding_on ip
	! has_ipv6 || forwarding_on ip6
	create_routing
	create_nft
	open_firewall
	[ -z "$EXIT_ADDR" ] || check_exit "${HOST_ADDRS[0]}"
	[ ${#LINK_ADDRS[@]} -eq 0 ] || check_link_exits "${HOST_ADDRS[0]}"
	# Read by this process itself, also for the foreground's copy to the terminal (a helper
	# such as tail -f would outlive a SIGKILLed up).
	CONSOLE_PART='' CONSOLE_READY=0 CONSOLE_PANIC=0
	exec {CONSOLE_FD}<"$STATE/console.log"
	FAIL_WHY='' GUEST_FAULT=0
	if ! wait_ready "${GUEST_ADDRS[0]}" "$PORT" "$TIMEOUT"; then
		[ ! -s "$STATE/qemu.log" ] || FAIL_WHY+=": $(tail -n1 "$STATE/qemu.log")"
		die "$FAIL_WHY"
	fi
	READY_AT=$EPOCHREALTIME
	rm -f "$STATE/creating"
	start_watcher
	[ -z "$(status_page_url)" ] || say "status page: $(status_page_url)"
	if [ "$DETACH" = 1 ]; then
		trap - EXIT INT TERM HUP
		say "ready: socks5h://${GUEST_ADDRS[0]}:$PORT (uplinks: ${UP_IF[*]}; $USE_ACCEL; down: tools/mpsocks down --name $NAME)"
		boot_line
		exit 0
	fi
	say "ready: socks5h://${GUEST_ADDRS[0]}:$PORT (uplinks: ${UP_IF[*]}; $USE_ACCEL; Ctrl-C stops it)"
	boot_line
	STOPPING=0
	trap 'STOPPING=1' INT TERM HUP
	trap 'up_finished' EXIT
	while [ $STOPPING = 0 ] && is_running "$QEMU_PID"; do
		scan_console
		pause 0.1
	done
	scan_console
	exit 0
}

# begin_instance MODE: the state dir (mode MODE), the mark that it is being created and the plan,
# all before anything is created; then the lock goes, and a failure from here on is undone.
begin_instance() {
	mkdir -p "$STATE"
	chmod "$1" "$STATE"
	printf '%s\n' "$$" >"$STATE/creating"
	plan_write
	release_lock
	trap 'up_failed' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

# EXIT trap of a foreground up: power off, clean up, say so.
up_finished() {
	local rc=$?
	trap - EXIT INT TERM HUP
	say "stopping '$NAME'"
	take_lock
	teardown "$STATE" "$NAME" 5
	scan_console
	[ -z "$CONSOLE_PART" ] || printf '%s\n' "$CONSOLE_PART"
	say "stopped '$NAME'"
	exit "$rc"
}

# EXIT trap while up is still setting up: undo everything (unless --keep-on-failure).
up_failed() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[ "$rc" -ne 0 ] || rc=1
	# (The foreground showed the console as it came.)
	if [ "${GUEST_FAULT:-0}" = 1 ] && [ "$DETACH" = 1 ] && [ -s "$STATE/console.log" ]; then
		printf 'mpsocks: the guest console ended with:\n' >&2
		tail -n 15 "$STATE/console.log" | sed 's/^/  | /' >&2
	fi
	if [ "$KEEP_ON_FAILURE" = 1 ]; then
		rm -f "$STATE/creating"
		say "left in place for debugging (--keep-on-failure): $STATE; tools/mpsocks down --name $NAME removes it" >&2
	else
		take_lock
		teardown "$STATE" "$NAME"
	fi
	exit "$rc"
}

cmd_down() {
	local state
	parse_options down "$@"
	become_root down "$@"
	need down "${NEEDS_DOWN[@]}"
	state=$(state_dir "$NAME")
	take_lock
	if [ ! -d "$state" ]; then
		nft delete table inet "mpsocks_$NAME" 2>/dev/null || true
		say "'$NAME' is not running"
		return 0
	fi
	if plan_elsewhere "$state"; then
		instance_lives "$state" &&
			die "'$NAME' runs in another network namespace ($(plan_field "$state" PLAN_NETNS)); run down there"
		# Its taps, tables and ip_forward are in that namespace (or went with it): touch
		# nothing of this one's network.
		stop_watcher "$state" "$NAME"
		rm -rf "$state"
		warn "'$NAME' was started in another network namespace and its qemu is gone: removed its state only"
		return 0
	fi
	if [ -r "$state/creating" ] && kill -0 "$(cat "$state/creating")" 2>/dev/null; then
		# up is still starting it: stop that up first, so it does not recreate what we remove.
		kill -TERM "$(cat "$state/creating")" 2>/dev/null || true
		sleep 0.5
	fi
	teardown "$state" "$NAME" 2
	say "'$NAME' is down"
}

