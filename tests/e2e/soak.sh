#!/usr/bin/env bash
# Group soak: churn for SOAK_MINUTES (make test: 5; make soak: 60). Two guests share the bed's
# three uplinks shaped to 20 Mbit/s: one straight to the MPTCP server ("direct"), one through
# the link to an exit in the internet namespace and on to the far plain-TCP server ("exit").
# Both carry mixed traffic the whole time: long downloads, uploads and bursts of short
# connections. Meanwhile every 5-30 s one uplink is cut, blackholed or (uplink 1) renumbered
# for 3-10 s; the exit is restarted at 1/3 and 2/3 of the time and the direct guest's sockd
# at 1/2. It passes when every transfer arrived intact (sha256 at both ends) or ended with a
# clean error while a restart on its path happened; no download stalled over 5 s (one uplink
# is always up) unless such a restart fell into it; each guest's MemAvailable and sockd
# process count at the end are within 5% of the start; and the host namespace after down is
# as it was before up. The figures go to soak.log in the test logs. The bed's server runs on
# the host's kernel, whose MPTCP receiver can deadlock (kernel/patches/); it gets out the way
# our exit does (mptcp_server.c: rx_unstuck), and the summary counts the uploads that needed it.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
PY=$(command -v /usr/bin/python3 || command -v python3)
MINUTES=${SOAK_MINUTES:-5}
VMD=$(printf 't%05dd' $(($$ % 100000)))
VMX=$(printf 't%05dx' $(($$ % 100000)))
EXIT=$(printf 't%05de' $(($$ % 100000)))
RESULTS=$BED_DIR/soak-results # one line per transfer: KIND PATH TAG START END RC FILE
EVENTS=$BED_DIR/soak-events   # one line per restart: PATH START END
SUMMARY=$BED_LOGS/soak.log
STALL_MS=5000
in_inet() { ip netns exec "$BED_INET" "$@"; }
now() { date +%s.%N; }

# snapshot: the host namespace's network state (exit.sh's, less the processes).
snapshot() {
	ip -n "$BED_HOST" -br link show | awk '{print $1, $3}' | sed 's/@[^ ]*//'
	ip -n "$BED_HOST" -br addr show
	ip -n "$BED_HOST" rule show
	ip -n "$BED_HOST" -4 route show table all | sort
	ip netns exec "$BED_HOST" nft list ruleset
}

guest_json() { in_host "$MPSOCKS" status --name "$1" --json 2>/dev/null || true; }

# guest_mem NAME: "AVAILABLE_KIB SOCKD_PROCESSES" from its status document.
guest_mem() {
	"$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["memory"]["available_kib"], d["processes"]["sockd"])' \
		<<<"$(guest_json "$1")"
}

# The generators: each loops until the deadline, one line in RESULTS per transfer.
gen_downloads() { # PATH PROXY HOST
	local t t0 rc
	while (($(date +%s) < DEADLINE - 20)); do
		t=$(tag "dl$1") t0=$(now) rc=0
		in_host timeout 120 "$MPTCP_GET" --socks "$2" "$3" 80 "/bytes/$((64 * MIB))?tag=$t" >"$BED_DIR/$t" 2>&1 || rc=$?
		echo "download $1 $t $t0 $(now) $rc $BED_DIR/$t" >>"$RESULTS"
	done
}

gen_uploads() { # PATH PROXY HOST
	local t t0 rc f=$BED_DIR/upload.bin
	while (($(date +%s) < DEADLINE - 20)); do
		t=$(tag "up$1") t0=$(now) rc=0
		in_host curl -sS --max-time 60 --socks5 "$2" -T "$f" "http://$3/upload?tag=$t" >"$BED_DIR/$t" 2>&1 || rc=$?
		echo "upload $1 $t $t0 $(now) $rc $BED_DIR/$t" >>"$RESULTS"
		sleep 2
	done
}

gen_bursts() { # PATH PROXY HOST: 20 at once, every 10 s
	local t t0 rc i conf
	while (($(date +%s) < DEADLINE - 20)); do
		t=$(tag "b$1") t0=$(now) rc=0 conf=$BED_DIR/$t.conf
		mkdir -p "$BED_DIR/$t.d"
		for ((i = 0; i < 20; i++)); do
			printf 'url = "http://%s/bytes/65536?tag=%s-%d"\noutput = "%s/%d"\n' "$3" "$t" "$i" "$BED_DIR/$t.d" "$i"
		done >"$conf"
		in_host curl -sS --max-time 30 --socks5 "$2" --parallel --parallel-max 20 -K "$conf" 2>"$BED_DIR/$t" || rc=$?
		echo "burst $1 $t $t0 $(now) $rc $BED_DIR/$t.d" >>"$RESULTS"
		sleep 10
	done
}

# The churn: one uplink at a time, so at least two are up at any moment.
cut() { in_inet ip link set "dn$1" "$2"; }
hole() {
	if [ "$2" = on ]; then
		in_inet nft -f - <<-EOF
			table netdev mps_soakhole {
				chain in { type filter hook ingress device dn$1 priority 0; policy drop; }
				chain out { type filter hook egress device dn$1 priority 0; policy drop; }
			}
		EOF
	else
		in_inet nft delete table netdev mps_soakhole
	fi
}
churn_once() {
	local i=$((RANDOM % 3)) what=$((RANDOM % 3)) hold=$((3 + RANDOM % 8))
	if [ "$what" = 2 ] && [ "$i" = 1 ]; then
		echo "$(date +%T) renumber uplink 1 to 198.18.11.0/24 for ${hold} s" >>"$SUMMARY"
		bed_renumber1 1 11
		sleep "$hold"
		bed_renumber1 11 1
	elif [ "$what" = 1 ]; then
		echo "$(date +%T) blackhole uplink $i for ${hold} s" >>"$SUMMARY"
		hole "$i" on
		sleep "$hold"
		hole "$i" off
	else
		echo "$(date +%T) cut uplink $i for ${hold} s" >>"$SUMMARY"
		cut "$i" down
		sleep "$hold"
		cut "$i" up
	fi
	CHURNS=$((CHURNS + 1))
}

restart_exit() {
	local t0
	t0=$(now)
	echo "$(date +%T) exit restart" >>"$SUMMARY"
	exit_down "$EXIT" || true
	exit_up "$EXIT" || echo "$(date +%T) exit did not come back: $EXIT_ERR" >>"$SUMMARY"
	echo "exit $t0 $(now)" >>"$EVENTS"
}

restart_sockd() {
	local t0 sock=/run/mpsocks/$VMD/console.sock
	t0=$(now)
	echo "$(date +%T) sockd restart in the direct guest" >>"$SUMMARY"
	# shellcheck disable=SC2016 # expanded by the guest's shell
	{ printf '\nkill $(pidof sockd)\n'; sleep 3; } | timeout 5 socat - "UNIX-CONNECT:$sock" >/dev/null || true
	echo "direct $t0 $(now)" >>"$EVENTS"
}

# judge: every transfer against the server's log and the events. Prints the summary; 1 if any
# transfer failed the rules.
judge() {
	"$PY" - "$RESULTS" "$EVENTS" "$STALL_MS" "$BED_SERVER_LOG" "${BED_FAR_LOG:-/dev/null}" "$BED_DIR/upload.bin" <<-'EOF'
		import hashlib, os, re, sys, time
		results, events, stall_ms, logs, upload = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:6], sys.argv[6]
		reports = {}
		for log in logs:
		    for line in open(log, errors="replace"):
		        m = re.search(r" tag=(\S+) ", line)
		        if m:
		            reports[m.group(1)] = dict(w.split("=", 1) for w in line.split() if "=" in w)
		ev = [l.split() for l in open(events)] if os.path.exists(events) else []
		up_sum = hashlib.sha256(open(upload, "rb").read()).hexdigest()
		def said(f):  # what the client printed: its first line
		    lines = open(f, errors="replace").read().split("\n") if os.path.isfile(f) else []
		    return (lines[0] if lines else "")[:160]
		def excused(path, t0, t1):
		    return any(p == path and float(a) <= t1 and float(b) >= t0 - 1 for p, a, b in ev)
		n = {"ok": 0, "excused": 0, "bad": 0, "server_kernel": 0, "unstuck": 0}
		gaps, bad = [], []
		for line in open(results):
		    kind, path, tag, t0, t1, rc, out = line.split()
		    t0, t1, rc = float(t0), float(t1), int(rc)
		    why = ""
		    if kind == "download":
		        got = dict(w.split("=", 1) for w in open(out).read().split() if "=" in w)
		        rep = reports.get(tag, {})
		        if rc == 0 and got.get("sha256") and got.get("sha256") == rep.get("sha256_out"):
		            gap = int(float(got.get("max_gap_ms", "0")))
		            gaps.append(gap)
		            if gap > stall_ms and not excused(path, t0, t1):
		                why = "stalled %d ms" % gap
		        else:
		            why = "rc %d, sha256 %s vs server %s (%s)" % (rc, got.get("sha256"), rep.get("sha256_out"), said(out))
		    elif kind == "upload":
		        rep = reports.get(tag, {})
		        n["unstuck"] += "rx_unstuck" in rep
		        if not (rc == 0 and rep.get("sha256_in") == up_sum):
		            why = "rc %d, server got sha256 %s (%s)" % (rc, rep.get("sha256_in"), said(out))
		            if rep.get("rx_full"):  # the server's own kernel deadlocked (mptcp_server.c)
		                why += "; stuck in the receiving server's kernel, buffer full of out-of-order data (rx_full=%s)" % rep["rx_full"]
		    else:
		        files = [os.path.join(out, f) for f in os.listdir(out)] if os.path.isdir(out) else []
		        sizes = sorted(os.path.getsize(f) for f in files)
		        if not (rc == 0 and len(files) == 20 and sizes[0] == sizes[-1] == 65536):
		            why = "rc %d, %d files of 20 (%s)" % (rc, len(files), said(out[:-2]))
		        else:
		            for f in files:  # each intact: the server's hash of what it sent
		                t = "%s-%s" % (tag, os.path.basename(f))
		                if hashlib.sha256(open(f, "rb").read()).hexdigest() != reports.get(t, {}).get("sha256_out"):
		                    why = "%s differs from what the server sent" % t
		    if not why:
		        n["ok"] += 1
		    elif rc != 0 and excused(path, t0, t1):  # an error, never wrong bytes
		        n["excused"] += 1
		    else:
		        n["bad"] += 1
		        n["server_kernel"] += "rx_full=" in why
		        bad.append("%s %s %s at %s: %s" % (kind, path, tag, time.strftime("%H:%M:%S", time.localtime(t0)), why))
		gaps.sort()
		print("transfers: %d intact, %d ended with an error during a restart on their path, %d failed (%d of them stuck in the receiving server's kernel)" % (
		    n["ok"], n["excused"], n["bad"], n["server_kernel"]))
		print("uploads whose receiving server's kernel deadlocked and got out by the exit's cure (net_rx_unstick): %d" % n["unstuck"])
		if gaps:
		    print("download stalls: median %d ms, longest %d ms, over %d ms: %d" % (
		        gaps[len(gaps) // 2], gaps[-1], stall_ms, sum(g > stall_ms for g in gaps)))
		for b in bad[:20]:
		    print("FAILED:", b)
		sys.exit(1 if n["bad"] or n["ok"] == 0 else 0)
	EOF
}

soak() {
	local mem0d mem0x mem1d mem1x pids=() t_end next_exit=1 sockd_done=0 rc=0
	[[ -n ${PROXYD:-} && -n ${PROXYX:-} ]] || fail "no guests: $VM_ERR"
	: >"$RESULTS"
	: >"$EVENTS"
	random_file "$BED_DIR/upload.bin" 4 >/dev/null
	bed_shape 20mbit
	sleep 3
	read -r mem0d < <(guest_mem "$VMD")
	read -r mem0x < <(guest_mem "$VMX")
	echo "start: direct guest MemAvailable/sockd processes $mem0d, exit guest $mem0x" >>"$SUMMARY"
	DEADLINE=$(($(date +%s) + MINUTES * 60))
	gen_downloads direct "$PROXYD" "$BED_SERVER_ADDR" & pids+=($!)
	gen_downloads exit "$PROXYX" "$BED_FAR_ADDR" & pids+=($!)
	gen_uploads direct "$PROXYD" "$BED_SERVER_ADDR" & pids+=($!)
	gen_uploads exit "$PROXYX" "$BED_FAR_ADDR" & pids+=($!)
	gen_bursts direct "$PROXYD" "$BED_SERVER_ADDR" & pids+=($!)
	gen_bursts exit "$PROXYX" "$BED_FAR_ADDR" & pids+=($!)
	CHURNS=0
	t_end=$((DEADLINE - 25))
	while (($(date +%s) < t_end)); do
		sleep $((5 + RANDOM % 26))
		(($(date +%s) < t_end)) || break
		churn_once
		if ((next_exit <= 2 && $(date +%s) >= DEADLINE - MINUTES * 60 + next_exit * MINUTES * 20)); then
			restart_exit
			next_exit=$((next_exit + 1))
		fi
		if ((!sockd_done && $(date +%s) >= DEADLINE - MINUTES * 30)); then
			restart_sockd
			sockd_done=1
		fi
	done
	echo "$(date +%T) churn over: $CHURNS changes of an uplink, $((next_exit - 1)) exit restarts, $sockd_done sockd restart" >>"$SUMMARY"
	wait "${pids[@]}" || true
	bed_unshape
	sleep 10 # the last connections close
	read -r mem1d < <(guest_mem "$VMD")
	read -r mem1x < <(guest_mem "$VMX")
	echo "end: direct guest MemAvailable/sockd processes $mem1d, exit guest $mem1x" >>"$SUMMARY"
	judge >>"$SUMMARY" || rc=1
	cat "$SUMMARY"
	"$PY" - "$mem0d" "$mem1d" "$mem0x" "$mem1x" <<-'EOF' || rc=1
		import sys
		a = [list(map(int, x.split())) for x in sys.argv[1:]]
		for name, s, e in (("direct", a[0], a[1]), ("exit", a[2], a[3])):
		    for what, x, y in (("MemAvailable", s[0], e[0]), ("sockd processes", s[1], e[1])):
		        if abs(y - x) > 0.05 * x:
		            print("FAILED: the %s guest's %s went from %d to %d (over 5%%)" % (name, what, x, y))
		            sys.exit(1)
	EOF
	[ "$CHURNS" -ge $((MINUTES * 2)) ] || { echo "only $CHURNS uplink changes" >&2; rc=1; }
	[ "$rc" = 0 ] || fail "see soak.log"
}

host_as_before() {
	local after
	vm_down "$VMD"
	vm_down "$VMX"
	after=$(snapshot)
	diff <(echo "$BEFORE") <(echo "$after") >&2 || fail "the host namespace differs after down (above)"
}

main() {
	ip -n "$BED_HOST" route replace default via 198.18.0.1 dev up0 metric 10
	ip -n "$BED_HOST" route replace default via 198.18.1.1 dev up1 metric 11
	BEFORE=$(snapshot)
	exit_up "$EXIT" || true
	(umask 077 && printf '%s\n' "${EXIT_LINE:-}" >"$BED_DIR/soak-exit.line")
	PROXYD='' PROXYX=''
	vm_up "$VMD" --debug --uplink up0 --uplink up1 --uplink up2@198.18.2.1 --probe-interval 0.5 && PROXYD=$PROXY
	vm_up "$VMX" --exit "$BED_DIR/soak-exit.line" --uplink up0 --uplink up1 --uplink up2@198.18.2.1 \
		--probe-interval 0.5 && PROXYX=$PROXY
	run_test "soak: $MINUTES min of churn (uplinks cut, blackholed, renumbered every 5-30 s; exit restarted twice, sockd once) under mixed traffic direct and through the exit: every transfer intact or cut by a restart, no stall over 5 s, memory and sockd processes within 5%" soak
	run_test "soak: after down the host namespace is as before up" host_as_before
	exit_down "$EXIT" || true
	ip -n "$BED_HOST" route del default via 198.18.0.1 dev up0 metric 10 2>/dev/null || true
	ip -n "$BED_HOST" route del default via 198.18.1.1 dev up1 metric 11 2>/dev/null || true
}

main
