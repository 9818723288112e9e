# shellcheck shell=bash
# tools/mpsocks exit: the exit a user runs on a machine of their own (a VPS), natively on this
# host, that the appliance sends every CONNECT on through: mpslink's exit (the encrypted link,
# link.sh), or with --user the plain one, our static MPTCP sockd (sourced).

EXIT_DEFAULT_NAME=exit
EXIT_SUBFLOWS=8 # ip mptcp limits for a client with up to 8 uplinks

check_exit_options() {
	local spec
	[ -n "$USER_PASS" ] || USER_PASS=${MPSOCKS_EXIT_USER:-}
	if [ -z "$USER_PASS" ]; then
		[ ${#ALLOW[@]} -eq 0 ] || bad_usage "--allow is for the plain exit (--user): the link's exit serves only who proves its key"
	else
		check_user_pass "$USER_PASS" --user
		[ "$NEW_KEY" = 0 ] && [ -z "$EXIT_HOST" ] || bad_usage "--new-key and --host are for the link's exit, not the plain one (--user)"
	fi
	[ -z "$EXIT_HOST" ] || [[ $EXIT_HOST =~ ^[A-Za-z0-9.-]{1,253}$ ]] || bad_usage "bad --host '$EXIT_HOST': a name or an IPv4 address"
	in_range "$PORT" 1 65535 || bad_usage "bad --port '$PORT': use 1-65535"
	PORT=$((10#$PORT))
	is_ipv4 "$LISTEN" || bad_usage "bad --listen '$LISTEN': an IPv4 address of this host (0.0.0.0: all)"
	for spec in "${ALLOW[@]}"; do
		is_cidr "$spec" || bad_usage "bad --allow '$spec': an IPv4 CIDR such as 192.0.2.0/24"
	done
	[ ${#ALLOW[@]} -le 16 ] || bad_usage "at most 16 --allow networks"
}

# The exit's dante configuration (sockd/exit.conf.example explains each part): clients from
# --allow (and this host itself, for the readiness check), username/password always, CONNECT
# only, never to this host itself, loopback or link-local (a VPS's metadata service).
exit_conf() {
	local cidr ifname
	printf 'logoutput: stderr\ninternal: %s port = %s\n' "$LISTEN" "$PORT"
	# Every interface with an IPv4 address may carry the plain-TCP side; the routing table picks.
	while read -r ifname; do
		printf 'external: %s\n' "${ifname%%@*}"
	done < <(ip -4 -o addr show 2>/dev/null | awk '{print $2}' | sort -u)
	printf 'external.rotation: route\nsocksmethod: username\nclientmethod: none\n'
	printf 'user.privileged: root\nuser.unprivileged: nobody\n'
	# This host's own addresses too: the readiness check connects to the listen address.
	for cidr in "${ALLOW[@]:-0.0.0.0/0}" 127.0.0.0/8 $(own_addresses); do
		printf 'client pass {\n from: %s to: 0/0\n log: error\n}\n' "$cidr"
	done
	printf 'client block {\n from: 0/0 to: 0/0\n log: connect error\n}\n'
	for cidr in 127.0.0.0/8 0.0.0.0/8 169.254.0.0/16 ::1/128 ::/128 fe80::/10 $(own_addresses); do
		printf 'socks block {\n from: 0/0 to: %s\n log: connect error\n}\n' "$cidr"
	done
	for cidr in "${ALLOW[@]:-0.0.0.0/0}" 127.0.0.0/8; do
		printf 'socks pass {\n from: %s to: 0/0\n command: connect\n log: error\n}\n' "$cidr"
	done
	printf 'socks block {\n from: 0/0 to: 0/0\n log: connect error\n}\n'
}

# This host's IPv4 addresses, as /32 networks.
own_addresses() { ip -4 -o addr show 2>/dev/null | awk '{sub("/.*", "/32", $4); print $4}' | sort -u; }

# The exit's pid if it runs: exit.pid, checked against its command line (sockd with this
# state's config, or mpslink's exit).
exit_pid_of() {
	local state=$1 pid='' cmdline
	[ -r "$state/exit.pid" ] && read -r pid <"$state/exit.pid" || return 1
	[[ $pid =~ ^[0-9]+$ ]] && cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	if [ -e "$state/mpslink" ]; then
		[[ $cmdline == *mpslink\ exit\ * ]] || return 1
	else
		[[ $cmdline == *"$state/sockd.conf"* ]] || return 1
	fi
	is_running "$pid" && printf '%s\n' "$pid"
}

# MPTCP limits high enough for a client with EXIT_SUBFLOWS uplinks; the old ones are recorded
# for the down of the last exit of this namespace.
raise_mptcp_limits() {
	local now
	now=$(ip mptcp limits show 2>/dev/null) || die "ip mptcp limits failed: iproute2 without MPTCP support?"
	inherit_record mptcp_limits.orig || printf '%s\n' "$now" >"$STATE/mptcp_limits.orig"
	ip mptcp limits set subflows "$EXIT_SUBFLOWS" add_addr_accepted "$EXIT_SUBFLOWS" ||
		die "could not raise the MPTCP limits (ip mptcp limits set subflows $EXIT_SUBFLOWS)"
}

restore_mptcp_limits() {
	local state=$1 words
	[ -r "$state/mptcp_limits.orig" ] || return 0
	hand_over "$state" mptcp_limits.orig && return 0
	read -ra words <"$state/mptcp_limits.orig" || return 0
	# "add_addr_accepted N subflows M", as ip prints it, is also what it takes.
	[ ${#words[@]} -eq 0 ] || ip mptcp limits set "${words[@]}" 2>/dev/null || true
}

# Stops the exit: its main process (sockd ends its children), then KILL for whatever is left
# of its group and of the groups of listeners a key rotation retired.
stop_exit() {
	local state=$1 pid t old
	if [ -r "$state/exit.pgids" ]; then
		while read -r old; do
			[[ $old =~ ^[0-9]+$ ]] && kill -KILL -- "-$old" 2>/dev/null || true
		done <"$state/exit.pgids"
	fi
	pid=$(exit_pid_of "$state") || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((t = 0; t < 30; t++)); do
		is_running "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	for ((t = 0; t < 20; t++)); do
		[ -e "/proc/$pid" ] || return 0
		sleep 0.05
	done
}

# check_exit SRC: does the exit of --exit take --exit-user's credentials? Asked from this host
# with the first tap's address, so the question leaves by the guest's first uplink (its policy
# routing and NAT) while the guest boots. Dies with what is wrong.
check_exit() {
	local src=$1 name=${EXIT_USER%%:*} pass=${EXIT_USER#*:} reply
	# Greeting (username/password only) and RFC 1929 request in one go; replies: 05 02, 01 00.
	reply=$({
		printf '\x05\x01\x02\x01'
		# shellcheck disable=SC2059 # a length byte, as an octal escape
		printf "\\$(printf %03o "${#name}")%s" "$name"
		# shellcheck disable=SC2059
		printf "\\$(printf %03o "${#pass}")%s" "$pass"
	} | timeout 8 socat -t 5 - "TCP:$EXIT_ADDR:$EXIT_PORT,bind=$src,connect-timeout=5" 2>/dev/null | od -An -tx1 | tr -d ' \n') ||
		true # (no answer: an empty reply, told below)
	case $reply in
	05020100) return 0 ;;
	0502*) die "the exit $EXIT_AT refuses the credentials of --exit-user ($name)" ;;
	05ff*) die "the exit $EXIT_AT does not offer username/password authentication" ;;
	'') die "the exit $EXIT_AT does not answer (unreachable from ${UP_IF[0]}, or nothing listens there)" ;;
	*) die "$EXIT_AT is not a SOCKS5 server (it answered 0x${reply:0:8})" ;;
	esac
}

cmd_exit() {
	local sockd addr t0 name pass pid
	NAME=$EXIT_DEFAULT_NAME
	LISTEN=0.0.0.0
	parse_options exit "$@"
	check_exit_options
	become_root exit "$@"
	need exit "${NEEDS_EXIT[@]}"
	if [ -n "$USER_PASS" ]; then
		sockd=$(find_ours sockd "${MPSOCKS_SOCKD:-}") || die "no sockd binary: build it (make sockd) or give MPSOCKS_SOCKD=PATH"
	else
		need_mpslink
	fi
	[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" = 1 ] ||
		die "this host has no MPTCP: net.mptcp.enabled is not 1 (a kernel >= 5.6 with CONFIG_MPTCP; sysctl -w net.mptcp.enabled=1)"
	KIND=exit SLOT=- USE_ACCEL=- FIREWALL=none
	TAPS=() UP_IF=()
	STATE=$(state_dir "$NAME")
	take_lock
	if [ -d "$STATE" ]; then
		if instance_lives "$STATE"; then
			[ "$NEW_KEY" = 1 ] && [ -e "$STATE/mpslink" ] || die "'$NAME' is running already ($PROG down --name $NAME)"
			plan_read "$STATE" || die "the plan of '$NAME' is unreadable"
			rotate_exit_key "$STATE"
			exit 0
		fi
		teardown "$STATE" "$NAME"
	fi
	[ -n "$USER_PASS" ] || exit_key "$KEY_DIR/$NAME.key"
	begin_instance 700

	raise_mptcp_limits
	[ -n "$USER_PASS" ] || { serve_link_exit; return; }
	exit_conf >"$STATE/sockd.conf"
	name=${USER_PASS%%:*} pass=${USER_PASS#*:}
	(umask 077 && printf '%s:%s\n' "$name" "$(password_hash "$pass")" >"$STATE/users") ||
		die "could not hash the password (openssl passwd -6)"
	warn "the plain exit: its login and everything it carries cross the network in clear; for measurements beside the link, never on the internet"
	say "exit: sockd on $LISTEN:$PORT, clients from ${ALLOW[*]:-anywhere} with user $name, CONNECT only"
	MPSOCKS_CREDENTIALS=$STATE/users setsid "$sockd" -f "$STATE/sockd.conf" -N 1 </dev/null >>"$STATE/sockd.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$STATE/exit.pid"
	addr=$LISTEN
	[ "$addr" != 0.0.0.0 ] || addr=127.0.0.1
	t0=$SECONDS
	until socks_answers "$addr" "$PORT"; do
		is_running "$pid" || die "sockd exited: $(tail -n 1 "$STATE/sockd.log")"
		((SECONDS - t0 < TIMEOUT)) || die "the exit did not answer at $addr:$PORT within ${TIMEOUT}s"
		pause 0.05
	done
	exit_running sockd.log
}

# The link's exit: mpslink with this exit's key, from a start that answers to the line.
serve_link_exit() {
	local pid
	say "exit: mpslink on $LISTEN:$PORT, the link (TLS 1.3 with the key of $KEY_DIR/$NAME.key), CONNECT only"
	start_link_exit "$STATE"
	read -r pid <"$STATE/exit.pid"
	await_link_exit "$STATE" "$pid"
	tell_exit_line
	exit_running mpslink.log
}

# exit_running LOG: ready; detached, or in the foreground until Ctrl-C with LOG on the terminal.
exit_running() {
	local pid
	rm -f "$STATE/creating"
	if [ "$DETACH" = 1 ]; then
		trap - EXIT INT TERM HUP
		say "exit ready: $LISTEN:$PORT (down: $PROG down --name $NAME)"
		exit 0
	fi
	say "exit ready: $LISTEN:$PORT (Ctrl-C stops it)"
	STOPPING=0
	trap 'STOPPING=1' INT TERM HUP
	trap 'up_finished' EXIT
	read -r pid <"$STATE/exit.pid"
	tail -n +1 -f --pid="$pid" "$STATE/$1" &
	# (a key rotation restarts the exit under another pid: exit_pid_of reads exit.pid anew)
	while [ $STOPPING = 0 ] && { exit_pid_of "$STATE" >/dev/null || [ -e "$STATE/rotating" ]; }; do
		pause 0.2
	done
	exit 0
}

# password_hash PASS: a SHA-512 crypt hash of PASS for the exit's credentials file (the
# password goes to openssl on its standard input, never on a command line).
password_hash() {
	printf '%s\n' "$1" | openssl passwd -6 -stdin
}
