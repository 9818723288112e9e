# shellcheck shell=bash
# tools/mpsocks check and the guest's connection facts for status (sourced). The guest's init
# answers on a virtio-serial port (init/info.c; qemu's end is STATE/info.sock); mpinfo.py asks
# it and, for check, opens one connection through the proxy while it asks.

CHECK_DEFAULT_TARGET=https://check.mptcp.dev

# info_uplinks: "GUESTADDR=ethI/UPLINK,..." for mpinfo.py (IPv6 addresses too), from the plan
# read last.
info_uplinks() {
	local i out=
	for i in "${!TAPS[@]}"; do
		out+="${GUEST_ADDRS[i]}=eth$i/${UP_IF[i]},"
		[ -z "${GUEST_ADDRS6[i]}" ] || out+="${GUEST_ADDRS6[i]}=eth$i/${UP_IF[i]},"
	done
	printf '%s\n' "${out%,}"
}

# info_ready STATE: can this process ask the guest? Fails with one line on stderr if not.
info_ready() {
	[ -S "$1/info.sock" ] || { warn "no $1/info.sock: this instance was started without the info port (restart it)"; return 1; }
	[ -w "$1/info.sock" ] || { warn "$1/info.sock needs root"; return 1; }
}

# cmd_check [--name NAME] [HOST[:PORT]|URL]: one connection through the proxy; 0 multipath,
# 1 fallback or failure.
cmd_check() {
	local target='' state used active=0 i
	local -a args=("$@")
	while [ $# -gt 0 ]; do
		used=1
		case ${1%%=*} in
		--name) need_value "$1" "${@:2}" || used=$?; NAME=$OPTVAL ;;
		-h | --help) print_help; exit 0 ;;
		-*) bad_usage "unknown option for check: ${1%%=*}" ;;
		*)
			[ -z "$target" ] || bad_usage "check takes one HOST[:PORT] or URL, got '$target' and '$1'"
			target=$1 ;;
		esac
		shift "$used"
	done
	check_name
	need check "${NEEDS_CHECK[@]}"
	target=${target:-$CHECK_DEFAULT_TARGET}
	# HOST: a name, an IPv4 address or a bracketed IPv6 one ([2001:db8::1]).
	[[ $target =~ ^(https?://)?([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[^[:space:]]*)?$ ]] ||
		bad_usage "check: expected HOST[:PORT] or http(s)://HOST[:PORT]/PATH, got '$target'"
	state=$(state_dir "$NAME")
	plan_read "$state" || die "'$NAME' is not running (tools/mpsocks up --name $NAME starts it)"
	[ "$KIND" != exit ] || die "'$NAME' is an exit; check runs against a proxy instance"
	qemu_pid_of "$state" >/dev/null || die "'$NAME': qemu is not running"
	[ -w "$state/info.sock" ] || [ ! -S "$state/info.sock" ] || become_root check "${args[@]}"
	info_ready "$state" || exit 1
	for i in "${!UP_BACKUP[@]}"; do [ "${UP_BACKUP[i]}" = 1 ] || active=$((active + 1)); done
	python3 "$LIB/mpinfo.py" check "$state/info.sock" "$(info_uplinks)" "${GUEST_ADDRS[0]}:$PORT" "$target" "$active"
}

# status_connections STATE table|json: the proxy's clients and connections with their
# subflows, as lines for the table or one JSON object ("null" when the guest cannot be asked).
status_connections() {
	local state=$1 how=$2
	if ! info_ready "$state" 2>/dev/null; then
		if [ "$how" = json ]; then echo null; else say "connections: unknown ($(info_ready "$state" 2>&1 | sed 's/^mpsocks: warning: //'))"; fi
		return 0
	fi
	python3 "$LIB/mpinfo.py" "$how" "$state/info.sock" "$(info_uplinks)" "$PORT" ||
		{ [ "$how" != json ] || echo null; }
}
