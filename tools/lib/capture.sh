# shellcheck shell=bash
# tools/mpsocks capture (sourced): each uplink's packets while it runs (dumpcap on the tap of
# each guest NIC: exactly what that uplink carries for the guest, before the host's NAT, less
# the SOCKS clients' own traffic with the proxy), merged with mergecap; then tshark's MPTCP
# analysis -> a text report per MPTCP connection, and gnuplot PNGs (capture.py does both).
# The guest's own list of its connections (mpinfo.py raw), asked once the recording runs and
# again when it ends, goes beside the pcaps (guest-start.txt, guest-end.txt): with it the
# report ties the subflows of connections begun before the recording, whose handshakes it
# lacks, by their token.

CAPTURE_SECONDS=30
CAPTURE_MAX_SECONDS=3600
CAPTURE_MAX_MB=200 # per uplink; dumpcap stops that uplink's file there
CAPTURE_SNAPLEN=160 # IPv4 + TCP headers with every MPTCP option fit; payload is not kept

cmd_capture() {
	local seconds=$CAPTURE_SECONDS out='' used state i f pid n
	local -a args=("$@") pids=() files=()
	while [ $# -gt 0 ]; do
		used=1
		case ${1%%=*} in
		--name) need_value "$1" "${@:2}" || used=$?; NAME=$OPTVAL ;;
		--seconds) need_value "$1" "${@:2}" || used=$?; seconds=$OPTVAL ;;
		--out) need_value "$1" "${@:2}" || used=$?; out=$OPTVAL ;;
		-h | --help) print_help; exit 0 ;;
		-*) bad_usage "unknown option for capture: ${1%%=*}" ;;
		*) bad_usage "unexpected argument for capture: $1" ;;
		esac
		shift "$used"
	done
	check_name
	if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1 || seconds > CAPTURE_MAX_SECONDS)); then
		bad_usage "--seconds must be 1-$CAPTURE_MAX_SECONDS, got '$seconds'"
	fi
	[ -n "$out" ] || out=mpsocks-capture-$NAME-$(date +%Y%m%d-%H%M%S)
	become_root capture "${args[@]}"
	state=$(state_dir "$NAME")
	plan_read "$state" || die "'$NAME' is not running (tools/mpsocks up --name $NAME starts it)"
	[ "$KIND" != exit ] || die "'$NAME' is an exit; capture records a proxy instance's uplinks"
	qemu_pid_of "$state" >/dev/null || die "'$NAME': qemu is not running"
	need capture "${NEEDS_CAPTURE[@]}"
	if ! mkdir -p "$out" 2>/dev/null || [ ! -w "$out" ] || [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
		die "cannot write the capture to $out (it must be a writable, empty or new directory)"
	fi
	out=$(cd "$out" && pwd)
	# Ctrl-C or TERM ends the recording early; the report is still written.
	trap 'say "stopping the capture early"; capture_stop "${pids[@]}"' INT TERM
	for i in "${!TAPS[@]}"; do
		f=$out/uplink$i-${UP_IF[i]}.pcapng
		dumpcap -q -i "${TAPS[i]}" -s "$CAPTURE_SNAPLEN" -a "duration:$seconds" -a "filesize:$((CAPTURE_MAX_MB * 1000))" \
			-f "tcp and not (dst host ${GUEST_ADDRS[0]} and dst port $PORT) and not (src host ${GUEST_ADDRS[0]} and src port $PORT)" \
			-w "$f" 2>"$out/.dumpcap$i.err" &
		pids+=($!) files+=("$f")
	done
	say "recording ${#TAPS[@]} uplinks for ${seconds}s (at most ${CAPTURE_MAX_MB} MB each) into $out; Ctrl-C ends it early"
	# Ask the guest once every dumpcap captures (it says so), so that a connection it lists
	# began before the recording or has its handshake in it (5 s at most).
	for ((n = 0; n < 50; n++)); do
		[ "$(grep -l '^Capturing on' "$out"/.dumpcap*.err 2>/dev/null | wc -l)" -lt "${#pids[@]}" ] || break
		sleep 0.1
	done
	capture_guest "$state" "$out/guest-start.txt"
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null; do wait "$pid" 2>/dev/null || true; done
	done
	trap - INT TERM
	capture_guest "$state" "$out/guest-end.txt"
	for i in "${!files[@]}"; do
		[ -s "${files[i]}" ] || die "dumpcap recorded nothing on ${TAPS[i]}: $(tail -n1 "$out/.dumpcap$i.err")"
	done
	rm -f "$out"/.dumpcap*.err
	mergecap -w "$out/merged.pcapng" "${files[@]}" || die "mergecap failed"
	python3 "$LIB/capture.py" "$out" "$(capture_uplinks)" || die "the analysis failed (the pcaps are in $out)"
}

# capture_stop PID...: SIGTERM to each dumpcap, which closes its file properly (a background
# job of a script ignores SIGINT, so the terminal's Ctrl-C reaches only us).
capture_stop() {
	local pid
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
}

# capture_guest STATE FILE: the guest's connections with their subflows and tokens into FILE
# (as mpinfo.py raw prints them); when the guest cannot be asked, FILE.err says why instead.
capture_guest() {
	if info_ready "$1" 2>"$2.err" && python3 "$LIB/mpinfo.py" raw "$1/info.sock" >"$2" 2>"$2.err"; then
		rm -f "$2.err"
	else
		rm -f "$2"
		[ -s "$2.err" ] || echo "the guest did not answer" >"$2.err"
	fi
}

# "TAP=ethI/UPLINK/GUESTADDR,..." for capture.py.
capture_uplinks() {
	local i s=
	for i in "${!TAPS[@]}"; do s+="${TAPS[i]}=eth$i/${UP_IF[i]}/${GUEST_ADDRS[i]},"; done
	printf '%s\n' "${s%,}"
}
