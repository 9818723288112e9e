# shellcheck shell=bash
# tools/mpsocks: is the proxy ready? SOCKS greetings, the console's readiness line (sourced).

# socks_answers_now ADDR PORT: socks_answers without a fork, for a port known to listen (the
# connect has no timeout of its own). A NUL byte ends the read (-d ''), so method 00 reads as "".
socks_answers_now() {
	local fd ver method ok=1
	exec {fd}<>"/dev/tcp/$1/$2" || return 1
	if printf '\x05\x02\x00\x02' >&"$fd" &&
		IFS= read -r -d '' -n 1 -t 2 ver <&"$fd" && [ "$ver" = $'\x05' ] &&
		IFS= read -r -d '' -n 1 -t 2 method <&"$fd"; then
		case $method in '' | $'\x02' | $'\xff') ok=0 ;; esac
	fi
	exec {fd}>&-
	return $ok
}

# Does a SOCKS5 server answer a greeting (offering no-auth and username/password) at ADDR PORT?
socks_answers() {
	local reply
	# shellcheck disable=SC2016 # $1 $2 are the inner shell's arguments
	reply=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "\x05\x02\x00\x02" >&3 && od -An -tx1 -N2 <&3' \
		_ "$1" "$2" 2>/dev/null) || return 1
	[[ $reply =~ ^\ *05\ (00|02|ff) ]]
}

# kernel_clock VAR LINE: VAR set to the guest clock's time in init's "mpsocks: [S.mmm] ..."
# LINE, in s (no fork: scan_console's polling calls it).
kernel_clock() {
	local t=${2#*\[}
	printf -v "$1" '%s' "${t%%]*}"
}

# usecs EPOCHREALTIME_VALUE or S.mmm: in microseconds, for bash arithmetic.
usecs() {
	local s=${1%.*} f=${1#*.}000000
	echo $((10#$s * 1000000 + 10#${f:0:6}))
}

# boot_line: when each stage of this boot came, in seconds since the launcher started: qemu
# started, the guest kernel started, /init ran, sockd listened, the proxy answered a SOCKS
# greeting. The guest's own clock times /init and sockd after its kernel's start; that start is
# placed by when the console's "sockd listening" line was read (polled every 10 ms, so up to
# 10 ms late). Silent when the console did not show both lines.
boot_line() {
	local t0 kernel ready
	[ -n "${GUEST_INIT:-}" ] && [ -n "${GUEST_LISTEN:-}" ] && [ -n "${LISTEN_SEEN:-}" ] || return 0
	t0=$(usecs "$STARTED") ready=$(usecs "$READY_AT")
	kernel=$(($(usecs "$LISTEN_SEEN") - $(usecs "$GUEST_LISTEN")))
	say "boot: qemu started $(secs $(($(usecs "$QEMU_STARTED") - t0))), kernel $(secs $((kernel - t0))), /init $(secs $((kernel + $(usecs "$GUEST_INIT") - t0))), sockd listening $(secs $((kernel + $(usecs "$GUEST_LISTEN") - t0))), ready $(secs $((ready - t0))) s"
}

# secs MICROSECONDS: as S.mmm.
secs() { printf '%d.%03d' $(($1 / 1000000)) $(($1 % 1000000 / 1000)); }

# Reads what the console log gained since the last call: notes the readiness and panic
# lines and, in the foreground, copies complete lines to the terminal. Builtins only, so
# polling costs no fork.
scan_console() {
	local line
	[ -n "${CONSOLE_FD:-}" ] || return 0
	while IFS= read -r line <&"$CONSOLE_FD"; do
		line=$CONSOLE_PART${line%$'\r'}
		CONSOLE_PART=
		case $line in
		*'] init started'*) kernel_clock GUEST_INIT "$line" ;;
		*'sockd listening on'*) LISTEN_SEEN=$EPOCHREALTIME CONSOLE_READY=1 && kernel_clock GUEST_LISTEN "$line" ;;
		*'Kernel panic'*) CONSOLE_PANIC=1 ;;
		esac
		[ "$DETACH" = 1 ] || printf '%s\n' "$line"
	done
	# A line still being written: kept until the rest of it arrives.
	CONSOLE_PART+=$line
}

# pause SECONDS: sleep without a fork (a read that times out on a pipe nobody writes).
pause() {
	[ -n "${PAUSE_FD:-}" ] || exec {PAUSE_FD}<> <(:)
	read -r -t "$1" -u "$PAUSE_FD" _ || true
}

# Waits until the proxy answers; fails (with FAIL_WHY, GUEST_FAULT) when qemu dies, the guest
# panics or the time runs out. The console's readiness line saves polling the port blindly.
wait_ready() {
	local addr=$1 port=$2 limit=$3 start now tries=0
	start=${EPOCHREALTIME/./}
	while :; do
		scan_console
		if ! is_running "$QEMU_PID" && ! QEMU_PID=$(qemu_pid_of "$STATE"); then
			FAIL_WHY="qemu exited before the proxy answered"
			GUEST_FAULT=1
			return 1
		fi
		if [ "$CONSOLE_READY" = 1 ]; then
			socks_answers_now "$addr" "$port" 2>/dev/null && return 0
		elif ((tries > 0)); then
			socks_answers "$addr" "$port" && return 0
		fi
		if [ "$CONSOLE_PANIC" = 1 ]; then
			FAIL_WHY="the guest kernel panicked"
			GUEST_FAULT=1
			return 1
		fi
		now=${EPOCHREALTIME/./}
		if ((now - start > limit * 1000000)); then
			FAIL_WHY="the proxy did not answer at $addr:$port within ${limit}s"
			GUEST_FAULT=1
			return 1
		fi
		# After 5 s without the readiness line, try the port itself every half second.
		if ((now - start > 5000000)); then
			tries=$((tries + 1))
			pause 0.5
		else
			pause 0.01
		fi
	done
}

