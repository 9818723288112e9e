# shellcheck shell=bash
# The encrypted link (link/; exit/README.md, "The link") on this host: the one line a user copies,
# mpsocks://KEY@HOST:PORT; the exit's key, kept in KEY_DIR; mpslink as the exit, and as up's
# probe of each exit before the guest uses it (sourced).

KEY_DIR=${MPSOCKS_KEY_DIR:-/var/lib/mpsocks}
LINK_RE='^mpsocks://([A-Za-z0-9_-]{43})@([A-Za-z0-9.-]+):([0-9]+)$'
LINK_PROBE_SECONDS=5 # mpslink probe's own deadline, per exit

need_mpslink() {
	MPSLINK=$(find_ours mpslink "${MPSOCKS_MPSLINK:-}") || die "no mpslink binary: build it (make link) or give MPSOCKS_MPSLINK=PATH"
}

# ---------------------------------------------------------------- up: --exit LINE|FILE

# parse_exits: the --exit values (EXITS) into LINK_KEYS, LINK_ADDRS, LINK_PORTS and LINK_AT
# (HOST:PORT as given, for messages); a single HOST:PORT with --exit-user is the plain exit
# (EXIT_AT, checks.sh). A value is the line itself or a file holding such lines, which keeps
# the key out of ps. Names resolve here: the guest gets addresses.
parse_exits() {
	local v line n=0 key host port addr
	local -a lines
	LINK_KEYS=() LINK_ADDRS=() LINK_PORTS=() LINK_AT=()
	EXIT_AT=
	if [ ${#EXITS[@]} -eq 1 ] && [[ ${EXITS[0]} =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] && [ ! -e "${EXITS[0]}" ]; then
		EXIT_AT=${EXITS[0]}
		return 0
	fi
	[ -z "$EXIT_USER" ] || bad_usage "--exit-user is for the plain exit (--exit HOST:PORT, once); an exit of the link needs no login"
	for v in "${EXITS[@]}"; do
		if [[ $v == mpsocks://* ]]; then
			lines=("$v")
		elif [ -f "$v" ] && [ -r "$v" ]; then
			mapfile -t lines < <(grep -v '^[[:space:]]*\(#\|$\)' "$v")
			[ ${#lines[@]} -gt 0 ] || bad_usage "bad --exit $v: the file holds no mpsocks://KEY@HOST:PORT line"
		elif [[ $v =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]]; then
			bad_usage "bad --exit $v: a plain exit (HOST:PORT) needs --exit-user and comes alone; an exit of the link is the line mpsocks exit printed, mpsocks://KEY@HOST:PORT"
		else
			bad_usage "bad --exit '${v%%@*}...': mpsocks://KEY@HOST:PORT (the line mpsocks exit printed) or a file holding it"
		fi
		for line in "${lines[@]}"; do
			line=${line//[[:space:]]/}
			# (the key is never part of a message)
			[[ $line =~ $LINK_RE ]] ||
				bad_usage "bad --exit mpsocks://(key)@${line#*@}: want mpsocks://KEY@HOST:PORT, KEY 43 characters of base64url, as mpsocks exit printed it"
			key=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} port=${BASH_REMATCH[3]}
			in_range "$port" 1 65535 || bad_usage "bad --exit ...@$host:$port: port 1-65535"
			port=$((10#$port))
			addr=$(resolve_exit_host "$host") || exit
			LINK_KEYS+=("$key") LINK_AT+=("$host:$port") LINK_PORTS+=("$port") LINK_ADDRS+=("$addr")
			n=$((n + 1))
		done
	done
	[ "$n" -le 8 ] || bad_usage "at most 8 exits (--exit), not $n"
	[ "$(printf '%s\n' "${LINK_AT[@]}" | sort | uniq -d)" = "" ] || bad_usage "the same exit is given twice (--exit)"
}

# resolve_exit_host HOST: its IPv4 address (a name through this host's resolver).
resolve_exit_host() {
	local a=$1
	is_ipv4 "$a" || a=$(getent ahostsv4 "$1" 2>/dev/null | awk '{print $1; exit}')
	[ -n "$a" ] || bad_usage "bad --exit ...@$1: cannot resolve $1"
	printf '%s\n' "$a"
}

# probe_exit ADDR PORT KEY [SRC]: mpslink's word for that exit (link/entry.h): up, no-answer,
# refused-key, plain-socks. The key goes on a pipe (printf is a builtin: not in ps).
probe_exit() {
	local word
	word=$(printf '%s\n' "$3" | "$MPSLINK" probe --exit "$1:$2" ${4:+--bind "$4"} --key-fd 0 2>/dev/null) || true
	printf '%s\n' "${word:-no-answer}"
}

# check_link_exits SRC: each exit, asked from this host with the first tap's address (so by the
# guest's first uplink) while the guest boots. A wrong key or an old exit is a mistake to fix
# now; an exit that does not answer is one only when none does (the guest keeps asking).
check_link_exits() {
	local src=$1 i word
	local -a silent=()
	for i in "${!LINK_ADDRS[@]}"; do
		word=$(probe_exit "${LINK_ADDRS[i]}" "${LINK_PORTS[i]}" "${LINK_KEYS[i]}" "$src")
		case $word in
		up) ;;
		refused-key) die "the exit ${LINK_AT[i]} refuses this key: it has another (rotated there?); copy the line its mpsocks exit printed again" ;;
		plain-socks) die "the exit ${LINK_AT[i]} speaks plain SOCKS5, not the link: an older mpsocks exit, or one run with --user; update it there" ;;
		*) silent+=("${LINK_AT[i]}") ;;
		esac
	done
	[ ${#silent[@]} -gt 0 ] || return 0
	[ ${#silent[@]} -lt ${#LINK_AT[@]} ] ||
		die "no exit answers (${silent[*]}): unreachable from ${UP_IF[0]}, or nothing listens there"
	warn "not answering now: ${silent[*]}; the guest uses the other exits, and these once they answer"
}

# ---------------------------------------------------------------- exit: the link's side

# new_link_key FILE: 32 random bytes as 43 characters of base64url, mode 0600.
new_link_key() {
	(umask 077 && head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' >"$1.new" && echo >>"$1.new") &&
		mv -f "$1.new" "$1" || die "could not write the key $1"
}

# exit_key FILE: makes it on first start (or with --new-key), checks it otherwise.
exit_key() {
	local f=$1 key
	mkdir -p "$KEY_DIR" && chmod 700 "$KEY_DIR" || die "could not create $KEY_DIR"
	if [ "$NEW_KEY" = 1 ] || [ ! -e "$f" ]; then
		new_link_key "$f"
		say "exit: a new key in $f (appliances with the old one are refused)"
	fi
	read -r key <"$f" || true
	[[ $key =~ ^[A-Za-z0-9_-]{43}$ ]] || die "$f is not a key (43 characters of base64url): restore it, or --new-key makes another"
}

# The HOST of the exit's line: --host, the listen address, or this host's source address
# towards the internet (no packet is sent: a route lookup).
exit_line_host() {
	local src
	[ -z "$EXIT_HOST" ] || { printf '%s\n' "$EXIT_HOST"; return; }
	[ "$LISTEN" = 0.0.0.0 ] || { printf '%s\n' "$LISTEN"; return; }
	src=$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
	printf '%s\n' "${src:-HOST}"
}

# start_link_exit STATE: mpslink exit with the key of KEY_DIR/NAME.key; its pid in exit.pid.
start_link_exit() {
	local state=$1 keyfile=$KEY_DIR/$NAME.key pid
	setsid "$MPSLINK" exit --listen "$LISTEN:$PORT" --key-fd 3 3<"$keyfile" </dev/null >>"$state/mpslink.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$state/exit.pid"
	printf '%s\n' "$keyfile" >"$state/mpslink"
}

# link_exit_answers STATE: does the exit prove its own key, asked on loopback (or its address)?
link_exit_answers() {
	local state=$1 keyfile addr=$LISTEN key
	[ "$addr" != 0.0.0.0 ] || addr=127.0.0.1
	read -r keyfile <"$state/mpslink" && read -r key <"$keyfile" || return 1
	MPSLINK=${MPSLINK:-$(find_ours mpslink "${MPSOCKS_MPSLINK:-}")} || return 1
	[ "$(probe_exit "$addr" "$PORT" "$key")" = up ]
}

# await_link_exit STATE PID: until it answers, or die with why.
await_link_exit() {
	local state=$1 pid=$2 t0=$SECONDS
	until link_exit_answers "$state"; do
		is_running "$pid" || die "mpslink exited: $(tail -n 1 "$state/mpslink.log")"
		((SECONDS - t0 < TIMEOUT)) || die "the exit did not answer on :$PORT within ${TIMEOUT}s"
		pause 0.05
	done
}

# tell_exit_line: the line goes to KEY_DIR/NAME.line (0600) and, on a terminal only, to the
# screen: never into a journal or a log.
tell_exit_line() {
	local key line
	read -r key <"$KEY_DIR/$NAME.key"
	line="mpsocks://$key@$(exit_line_host):$PORT"
	(umask 077 && printf '%s\n' "$line" >"$KEY_DIR/$NAME.line") || die "could not write $KEY_DIR/$NAME.line"
	if [ -t 1 ]; then
		say "the line for appliances (up --exit LINE; secret: it holds the key):"
		printf '%s\n' "$line"
	else
		say "the line for appliances: sudo cat $KEY_DIR/$NAME.line (secret: it holds the key)"
	fi
}

# rotate_exit_key STATE: --new-key while the exit runs: a new key, a new listener with it.
# Appliances with the old key are refused from now on (status says so there); connections
# already running go on in the old listener's children (their group, in exit.pgids, is ended
# by down).
rotate_exit_key() {
	local state=$1 pid
	exit_key "$KEY_DIR/$NAME.key"
	release_lock # (the new listener must not hold it)
	: >"$state/rotating" # (the foreground exit keeps waiting meanwhile)
	pid=$(exit_pid_of "$state") && {
		printf '%s\n' "$pid" >>"$state/exit.pgids"
		kill -TERM "$pid" 2>/dev/null
		while is_running "$pid"; do pause 0.05; done
	}
	start_link_exit "$state"
	rm -f "$state/rotating"
	read -r pid <"$state/exit.pid"
	await_link_exit "$state" "$pid"
	say "exit '$NAME' restarted with the new key"
	tell_exit_line
}
