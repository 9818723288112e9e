#!/usr/bin/env bash
# The encrypted link (mpslink, link/) on its own, before the launcher uses it: its exit runs in
# the internet namespace (the VPS), its entry in the host namespace, whose programs use MPTCP
# over the 3 uplinks; curl asks the entry by SOCKS5, as the guest's sockd will. Strangers come
# from the far namespace (another address): they must hear nothing and cost the exit little.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
MPSLINK=${O:-$TOP/out}/bin/mpslink
LPORT=1443 EPORT=1091
PROXY=127.0.0.1:$EPORT # the entry, for lib.sh's curl_socks
KEY=$BED_DIR/link.key
EXIT_PID='' ENTRY_PID=''

new_key() { (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$1"); }

# start_exit [PORT]: mpslink exit in BED_INET on every address (the far side's too).
start_exit() {
	ip netns exec "$BED_INET" "$MPSLINK" exit --listen "0.0.0.0:${1:-$LPORT}" --key-fd 3 3<"$KEY" \
		2>>"$BED_LOGS/link-exit.log" &
	EXIT_PID=$!
	await_listen "$BED_INET" "${1:-$LPORT}"
}

# start_entry NS PORT KEYFILE EXIT...: an entry in NS on 127.0.0.1:PORT; its pid in ENTRY_PID.
start_entry() {
	local ns=$1 port=$2 key=$3 args=()
	shift 3
	for e in "$@"; do args+=(--exit "$e"); done
	ip netns exec "$ns" "$MPSLINK" entry --listen "127.0.0.1:$port" "${args[@]}" --key-fd 3 3<"$key" \
		2>>"$BED_LOGS/link-entry.log" &
	ENTRY_PID=$!
	await_listen "$ns" "$port"
}

await_listen() {
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -Hltn "( sport = :$2 )" | grep -q . && return 0
		sleep 0.1
	done
	echo "nothing listens on :$2 in $1" >&2
	return 1
}

transfer_both_ways() {
	local down up file resp line
	down=$(tag ldown) up=$(tag lup)
	curl_socks name -o "$BED_DIR/$down" "http://$BED_FAR_NAME/bytes/$((20 * MIB))?tag=$down"
	check_download "$down" "$BED_DIR/$down" $((20 * MIB))
	line=$(wait_report "$down")
	[[ $(bed_field "$line" peer) == "$BED_FAR_GW":* ]] || fail "the plain server's peer was $(bed_field "$line" peer), not the exit"
	rm -f "$BED_DIR/$down"
	file=$(random_file "$BED_DIR/upload-20m" 20)
	resp=$(curl_socks name -T "$file" "http://$BED_FAR_NAME/upload?tag=$up")
	check_upload "$up" "$file" "$resp"
}

# The exit's MPTCP connection of a download has a subflow from each uplink.
subflows_at_exit() {
	local t pid ss n
	t=$(tag lsub)
	bed_shape 20mbit
	trap 'bed_unshape' EXIT
	curl_socks name -o /dev/null "http://$BED_FAR_ADDR/bytes/$((32 * MIB))?tag=$t" &
	pid=$!
	sleep 1.5
	ss=$(ip netns exec "$BED_INET" ss -tniH state established "( sport = :$LPORT )")
	wait "$pid" || fail "the download failed"
	echo "$ss"
	n=$(grep -c 'tcp-ulp-mptcp' <<<"$ss" || true)
	[ "$n" -ge 3 ] || fail "the exit had $n MPTCP subflows on :$LPORT during the download, want 3"
	for i in 0 1 2; do
		grep -q "198\.18\.$i\.2:" <<<"$ss" || fail "no subflow from uplink $i (198.18.$i.2)"
	done
}

# A capture of the 3 uplinks during a download by name holds neither the key (text or bytes),
# nor the name asked for, nor the request's tag, nor the page's bytes.
capture_hides() {
	local t cap
	t=$(tag lsecret)
	cap=$BED_DIR/link-capture
	capture_start "$BED_HOST" "$cap" up0 up1 up2
	curl_socks name -o "$BED_DIR/$t" "http://$BED_FAR_NAME/bytes/$MIB?tag=$t"
	capture_stop
	"$PY" "$TOP/tests/e2e/link_secrets.py" "$KEY" "$t" "$BED_FAR_NAME" "$BED_DIR/$t" "$cap"/up*.pcapng ||
		fail "the capture shows a secret"
	rm -f "$BED_DIR/$t"
}

# Flights between entry and exit before the exit's SYN to the server, counted in a capture at
# the exit: each run of the entry's packets that waited for an answer counts.
flights() {
	local t cap pid n
	t=$(tag lflight)
	cap=$BED_DIR/link-flights.pcapng
	ip netns exec "$BED_INET" dumpcap -q -i any -f "tcp" -w "$cap" 2>/dev/null &
	pid=$!
	sleep 1
	curl_socks name -o /dev/null "http://$BED_FAR_ADDR/bytes/1024?tag=$t"
	sleep 0.5
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	n=$("$PY" "$TOP/tests/e2e/link_flights.py" "$cap" "$LPORT" "$BED_FAR_ADDR")
	echo "flights before the exit's SYN to the server: $n (A: entry to exit, B: exit to entry)"
	[ "${n%% *}" -le 2 ] || fail "$n round trips before the exit's SYN, want at most 2"
}

# Three connections, captured at the exit: each hello (entry's and exit's) has a random and a
# key share of its own. Each connection is a forked process of the same parent: a generator
# state copied into them all repeats its output.
hellos_fresh() {
	local cap=$BED_DIR/link-hellos.pcapng pid i fields
	ip netns exec "$BED_INET" dumpcap -q -i any -f "tcp port $LPORT" -w "$cap" 2>/dev/null &
	pid=$!
	sleep 1
	for i in 1 2 3; do curl_socks name -o /dev/null "http://$BED_FAR_ADDR/bytes/1?tag=$(tag lhello)"; done
	sleep 0.5
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	fields=$(tshark -r "$cap" -d "tcp.port==$LPORT,tls" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' \
		-T fields -e tls.handshake.random -e tls.handshake.extensions_key_share_key_exchange 2>/dev/null | tr '\t' '\n' | grep .)
	echo "hello randoms and key shares: $(wc -l <<<"$fields"), distinct: $(sort -u <<<"$fields" | wc -l)"
	[ "$(wc -l <<<"$fields")" = 12 ] || fail "want 12 randoms and key shares in 3 connections' hellos"
	[ "$(sort -u <<<"$fields" | wc -l)" = 12 ] || fail "a random or key share repeats across connections"
}

# Strangers from the far side: random bytes, a SOCKS5 greeting, a TLS hello, a half-open
# connection; each hears 0 bytes.
strangers_hear_nothing() {
	local out
	out=$(ip netns exec "$BED_FAR" "$PY" "$TOP/tests/e2e/link_hostile.py" silent "$BED_FAR_GW" "$LPORT")
	echo "$out"
	[ "$(awk '{s += $2} END {print s + 0}' <<<"$out")" = 0 ] || fail "the exit answered a stranger: $(tr '\n' ' ' <<<"$out")"
	[ "$(grep -c . <<<"$out")" = 4 ] || fail "not every kind of opening was tried"
}

# An entry with another key: the client gets a SOCKS failure at once, the exit said nothing.
wrong_key() {
	local other=$BED_DIR/other.key out rc=0 t0
	new_key "$other"
	start_entry "$BED_FAR" 1092 "$other" "$BED_FAR_GW:$LPORT"
	t0=$SECONDS
	out=$(ip netns exec "$BED_FAR" curl -sS --max-time 20 --socks5 127.0.0.1:1092 "http://$BED_FAR_ADDR/bytes/1024" 2>&1) || rc=$?
	kill "$ENTRY_PID"
	echo "$out"
	[ "$rc" != 0 ] || fail "a wrong key got through"
	grep -q 'SOCKS5' <<<"$out" || fail "the client was not told by a SOCKS5 reply: $out"
	((SECONDS - t0 <= 3)) || fail "the failure took $((SECONDS - t0)) s"
}

# downloads_until FILE: 8 MiB downloads through the link, one after the other, each checked
# whole, until FILE exists; prints how many.
downloads_until() {
	local n=0 t
	while [ ! -e "$1" ]; do
		t=$(tag lflood)
		curl_socks name -o "$BED_DIR/$t" --limit-rate 2M "http://$BED_FAR_ADDR/bytes/$((8 * MIB))?tag=$t" ||
			fail "download $((n + 1)) failed during the flood"
		check_download "$t" "$BED_DIR/$t" $((8 * MIB))
		rm -f "$BED_DIR/$t"
		n=$((n + 1))
	done
	echo "$n"
}

# 10,000 hostile openings from 64 addresses of the far side while a client downloads through
# the link all along: every download is intact, the exit answers nothing, its memory and
# process count stay bounded, and an address that kept failing is then turned away at once.
hostile_flood() {
	local dl out rss=0 kids=0 r k i closes cpu0 cpu1 t0 n
	local -a srcs=()
	for ((i = 64; i < 128; i++)); do
		ip -n "$BED_FAR" addr add "203.0.113.$i/24" dev inet
		srcs+=("203.0.113.$i")
	done
	export LINK_SOURCES="${srcs[*]}"
	cpu0=$(exit_cpu_ticks)
	rm -f "$BED_DIR/flood.done"
	downloads_until "$BED_DIR/flood.done" >"$BED_DIR/flood.downloads" &
	dl=$!
	t0=$SECONDS
	ip netns exec "$BED_FAR" "$PY" "$TOP/tests/e2e/link_hostile.py" flood "$BED_FAR_GW" "$LPORT" 10000 >"$BED_DIR/flood.out" &
	out=$!
	while kill -0 "$out" 2>/dev/null; do
		r=$(awk '/^VmRSS/ {print $2}' "/proc/$EXIT_PID/status")
		k=$(pgrep -c -P "$EXIT_PID" || true)
		((r > rss)) && rss=$r
		((k > kids)) && kids=$k
		sleep 0.2
	done
	wait "$out"
	cpu1=$(exit_cpu_ticks)
	touch "$BED_DIR/flood.done"
	wait "$dl" || fail "a download during the flood broke: $(cat "$T_REASON" 2>/dev/null)"
	n=$(cat "$BED_DIR/flood.downloads")
	echo "flood: $(cat "$BED_DIR/flood.out"); $n downloads of 8 MiB meanwhile, each intact; the exit's largest RSS $rss kB, most children $kids," \
		"CPU $(((cpu1 - cpu0) * 1000 / $(getconf CLK_TCK))) ms (its children's included, the downloads' too), the flood took $((SECONDS - t0)) s"
	grep -q 'answered 0$' "$BED_DIR/flood.out" || fail "the exit answered the flood: $(cat "$BED_DIR/flood.out")"
	((rss < 8192)) || fail "the exit grew to $rss kB"
	((kids <= 512)) || fail "the exit had $kids children"
	closes=$(ip netns exec "$BED_FAR" "$PY" "$TOP/tests/e2e/link_hostile.py" closes "$BED_FAR_GW" "$LPORT")
	echo "a new opening from the flooding address is closed after $closes s"
	[ "$(echo "$closes < 0.5" | bc)" = 1 ] || fail "the flooding address is not turned away ($closes s to close)"
	# The exit's operator is told, in one line per 30 s however many addresses flood.
	n=$(grep -ac 'failed to prove the key 10 times within 30 s: turned away while it keeps trying' "$BED_LOGS/link-exit.log" || true)
	if [ "$n" -lt 1 ] || [ "$n" -gt $(((SECONDS - t0) / 30 + 2)) ]; then
		fail "the exit's log says 'turned away' $n times for a flood of 64 addresses over $((SECONDS - t0)) s"
	fi
	for i in 1 2; do curl_socks name -o /dev/null "http://$BED_FAR_ADDR/bytes/1024?tag=$(tag lafter)" || fail "the client was shut out too"; done
}

# The exit's CPU time so far, its ended children's included (clock ticks).
exit_cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$EXIT_PID/stat"; }

# The exit restarted: the next connection through the same entry works.
restart() {
	local i
	kill "$EXIT_PID"
	# (not this subshell's child: wait cannot tell when it is gone, its port can)
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$BED_INET" ss -Hltn "( sport = :$LPORT )" | grep -q . || break
		sleep 0.1
	done
	start_exit
	curl_socks name -o /dev/null "http://$BED_FAR_ADDR/bytes/$MIB?tag=$(tag lrestart)" || fail "no connection after the restart"
}

# Two exits, the first one silent (SYNs dropped): a connection goes to the second within 2 s.
second_exit() {
	local t0 ms second
	start_exit $((LPORT + 1))
	second=$EXIT_PID
	ip netns exec "$BED_INET" nft add table inet mps_link_drop
	ip netns exec "$BED_INET" nft add chain inet mps_link_drop in '{ type filter hook input priority 0; }'
	ip netns exec "$BED_INET" nft add rule inet mps_link_drop in tcp dport "$LPORT" drop
	trap 'ip netns exec "$BED_INET" nft delete table inet mps_link_drop 2>/dev/null || true; kill '"$second"' 2>/dev/null || true' EXIT
	start_entry "$BED_HOST" 1093 "$KEY" "$BED_EXIT_ADDR:$LPORT" "$BED_EXIT_ADDR:$((LPORT + 1))"
	t0=$(date +%s%N)
	in_host curl -sS --max-time 20 --socks5 127.0.0.1:1093 -o /dev/null "http://$BED_FAR_ADDR/bytes/1024?tag=$(tag lsecond)" ||
		fail "no connection through the second exit"
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill "$ENTRY_PID"
	echo "through the second exit after $ms ms"
	((ms <= 2500)) || fail "the second exit took over after $ms ms, want about 2 s"
}

cleanup() {
	kill "$EXIT_PID" "$ENTRY_PID" 2>/dev/null || true
	pkill -f "$MPSLINK" 2>/dev/null || true
	bed_host_mptcp off
	in_host ip route del "$BED_EXIT_ADDR/32" 2>/dev/null || true
}

main() {
	trap cleanup EXIT
	[ -x "$MPSLINK" ] || { echo "FAIL: e2e: link: $MPSLINK missing (make link)"; return 0; }
	bed_host_mptcp on
	in_host ip route replace "$BED_EXIT_ADDR/32" via 198.18.0.1 dev up0
	new_key "$KEY"
	start_exit
	start_entry "$BED_HOST" "$EPORT" "$KEY" "$BED_EXIT_ADDR:$LPORT"
	run_test "link: 20 MiB down and 20 MiB up by name through entry and exit, intact; the server's peer is the exit" transfer_both_ways
	run_test "link: the exit's MPTCP connection has a subflow from each of the 3 uplinks" subflows_at_exit
	run_test "link: a capture of the uplinks holds neither the key, the name, the request nor the page" capture_hides
	run_test "link: at most 2 round trips between entry and exit before the exit's SYN to the server (capture)" flights
	run_test "link: 200 connections of 1 MiB at once through entry and exit, each intact" concurrent 200 "$BED_FAR_ADDR"
	run_test "link: each connection's hellos have a random and a key share of their own (capture)" hellos_fresh
	run_test "link: strangers (random bytes, SOCKS5, a TLS hello, half-open) hear 0 bytes" strangers_hear_nothing
	run_test "link: an entry with another key fails at once with a SOCKS5 reply" wrong_key
	run_test "link: 10,000 hostile openings during a download: intact, 0 bytes answered, the exit bounded, the address turned away" hostile_flood
	run_test "link: the exit restarted: the entry's next connection works" restart
	run_test "link: the first exit silent: the second takes new connections within 2 s" second_exit
}

main
