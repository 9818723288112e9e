#!/usr/bin/env bash
# tests/launcher_usage.sh: tools/mpsocks on bad input. Every case must exit 2 with exactly one
# line of output and create nothing: links, addresses, rules, routes, nft ruleset, ip_forward
# and the state dir are compared before and after. Runs in a network namespace of its own
# (one veth "uplink" with a gateway route, one without), as root, no VM needed.
# Prints "PASS: launcher: CASE" / "FAIL: launcher: CASE (why)"; exits 1 if any case failed.
set -euo pipefail

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
LAUNCHER=$TOP/tools/mpsocks
NS=mps-usage-$$
NAME=usage$$ # an instance name no one else uses, so its state dir must never appear
NAME=${NAME:0:13}
FAILED=0
PASSED=0

pass() { printf 'PASS: launcher: %s\n' "$1"; PASSED=$((PASSED + 1)); }
fail() { printf 'FAIL: launcher: %s (%s)\n' "$1" "$2"; FAILED=$((FAILED + 1)); }

in_ns() { ip netns exec "$NS" "$@"; }

setup() {
	ip netns add "$NS"
	in_ns ip link set lo up
	# No IPv6: its link-local addresses and DAD would change the snapshot by themselves.
	in_ns sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
	# up0: an uplink with a default route via 198.18.0.1; up1: one without any gateway.
	in_ns ip link add up0 type veth peer name peer0
	in_ns ip link add up1 type veth peer name peer1
	in_ns ip addr add 198.18.0.2/24 dev up0
	in_ns ip addr add 198.18.1.2/24 dev up1
	local l
	for l in up0 peer0 up1 peer1; do in_ns ip link set "$l" up; done
	in_ns ip route add default via 198.18.0.1 dev up0
}

cleanup() { ip netns del "$NS" 2>/dev/null || true; }

# Everything the launcher could create, as text.
snapshot() {
	in_ns ip -o link show | sed 's/ qlen [0-9]*//'
	in_ns ip -o -4 addr show
	in_ns ip -4 rule show
	in_ns ip -4 route show table all
	in_ns nft list ruleset
	in_ns cat /proc/sys/net/ipv4/ip_forward
	ls -d "/run/mpsocks/$NAME" "/run/mpsocks/${NAME}x" 2>/dev/null || true
}

# expect_bad CASE [AS_USER] -- ARGS...: exit 2, one line, nothing created.
expect_bad() {
	local case=$1 before after out rc=0 lines
	shift
	local -a run=(env)
	if [ "$1" = nobody ]; then
		# No sudo to fall back on: the launcher must say it needs root.
		run=(setpriv --reuid=65534 --regid=65534 --clear-groups env MPSOCKS_SUDO=)
		shift
	fi
	[ "$1" = -- ] && shift
	before=$(snapshot)
	out=$(in_ns "${run[@]}" "$LAUNCHER" "$@" </dev/null 2>&1) || rc=$?
	after=$(snapshot)
	lines=$(printf '%s\n' "$out" | grep -c '' || true)
	if [ "$rc" -ne 2 ]; then
		fail "$case" "exit $rc, want 2: $(printf '%s' "$out" | head -n1)"
	elif [ -z "$out" ] || [ "$lines" -ne 1 ]; then
		fail "$case" "want one line of output, got $lines"
	elif [[ $out != mpsocks:* ]]; then
		fail "$case" "the line does not start with 'mpsocks:': $out"
	elif [ "$before" != "$after" ]; then
		fail "$case" "something was created: $(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | head -n1)"
	else
		pass "$case"
	fi
}

# expect_failure CASE PATTERN -- ARGS...: exit 1 with one line matching PATTERN, nothing created.
expect_failure() {
	local case=$1 pattern=$2 before after out rc=0
	shift 3
	before=$(snapshot)
	out=$(in_ns "$LAUNCHER" "$@" </dev/null 2>&1) || rc=$?
	after=$(snapshot)
	if [ "$rc" -ne 1 ]; then
		fail "$case" "exit $rc, want 1: $(printf '%s' "$out" | head -n1)"
	elif [ "$(printf '%s\n' "$out" | grep -c '')" -ne 1 ] || ! grep -q -- "$pattern" <<<"$out"; then
		fail "$case" "want one line with '$pattern', got: $(printf '%s' "$out" | tr '\n' '|')"
	elif [ "$before" != "$after" ]; then
		fail "$case" "something was created: $(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | head -n1)"
	else
		pass "$case"
	fi
}

# up --accel kvm and --accel tcg with a stand-in qemu that writes down its arguments and its
# -readconfig file (the kernel and its command line), then exits: KVM cannot run the guest on
# the machines CI uses, so its path is checked as the command line it builds. Both must give
# the same machine, devices and guest command line; only the accelerator and the CPU differ.
# The failed start must leave nothing behind, as any failed up.
accel_cmdline() {
	local case="--accel kvm: the qemu command line differs from TCG's in -accel and -cpu only"
	local fake dir a before after out rc kvm tcg
	dir=$(mktemp -d)
	fake=$dir/qemu
	# shellcheck disable=SC2016 # the stand-in's own variables
	printf '#!/bin/sh\nout=%s/$MPSOCKS_TEST_ACCEL\nprintf "%%s\\n" "$@" >"$out.argv"\nwhile [ $# -gt 1 ]; do [ "$1" = -readconfig ] && cp "$2" "$out.cfg"; shift; done\nexit 1\n' \
		"$dir" >"$fake"
	chmod +x "$fake"
	before=$(snapshot)
	for a in kvm tcg; do
		rc=0
		out=$(in_ns env MPSOCKS_QEMU="$fake" MPSOCKS_TEST_ACCEL=$a "$LAUNCHER" up --detach --name "$NAME" \
			--uplink up0@198.18.0.1 --probe-interval 0 --accel $a </dev/null 2>&1) || rc=$?
		if [ "$rc" != 1 ] || [ ! -s "$dir/$a.argv" ] || [ ! -s "$dir/$a.cfg" ]; then
			fail "$case" "--accel $a: exit $rc, want 1 with the stand-in's record: $(tail -n 1 <<<"$out")"
			rm -rf "$dir"
			return
		fi
	done
	after=$(snapshot)
	kvm=$(paste -sd ' ' "$dir/kvm.argv") tcg=$(paste -sd ' ' "$dir/tcg.argv")
	if [[ $kvm != *" -accel kvm -cpu host "* ]] || [[ $tcg != *" -accel tcg -cpu qemu64,+rdrand "* ]]; then
		fail "$case" "kvm: $kvm; tcg: $tcg"
	elif [ "${kvm/ -accel kvm -cpu host / }" != "${tcg/ -accel tcg -cpu qemu64,+rdrand / }" ]; then
		fail "$case" "$(diff "$dir/kvm.argv" "$dir/tcg.argv" | grep '^[<>]' | tr '\n' ' ')"
	elif ! cmp -s "$dir/kvm.cfg" "$dir/tcg.cfg"; then
		fail "$case" "the -readconfig files differ: $(diff "$dir/kvm.cfg" "$dir/tcg.cfg" | grep '^[<>]' | tr '\n' ' ')"
	elif [ "$before" != "$after" ]; then
		fail "$case" "the failed start left something: $(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' | head -n1)"
	else
		pass "$case"
	fi
	rm -rf "$dir"
}

# The launcher's own files: shellcheck-clean and at most 400 lines each.
launcher_files_tidy() {
	local f long=''
	for f in "$LAUNCHER" "$TOP"/tools/lib/*.sh; do
		[ "$(wc -l <"$f")" -le 400 ] || long+=" $(basename "$f")"
	done
	if [ -n "$long" ]; then
		fail "launcher files at most 400 lines" "over:$long"
	else
		pass "launcher files at most 400 lines"
	fi
	if ! command -v shellcheck >/dev/null 2>&1; then
		fail "launcher files shellcheck-clean" "no shellcheck (tools/deps installs it)"
	elif shellcheck -x "$LAUNCHER" "$TOP/tools/deps" >/dev/null 2>&1; then
		# (-x: every lib file, as the launcher sources it)
		pass "launcher files shellcheck-clean"
	else
		fail "launcher files shellcheck-clean" "$(shellcheck -f gcc -x "$LAUNCHER" "$TOP/tools/deps" 2>&1 | head -n1)"
	fi
}

main() {
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: launcher: setup (needs root)"; exit 1; }
	trap cleanup EXIT
	setup

	expect_bad "no command" --
	expect_bad "unknown command" -- launch
	expect_bad "unknown option" -- up --name "$NAME" --frobnicate
	expect_bad "unexpected argument" -- up --name "$NAME" up0
	expect_bad "option without its value" -- up --name "$NAME" --port
	expect_bad "flag given a value" -- up --name "$NAME" --uplink up0 --detach=yes
	expect_bad "interface that does not exist" -- up --name "$NAME" --uplink nosuch0
	expect_bad "interface name with a slash" -- up --name "$NAME" --uplink ../up0
	expect_bad "empty interface" -- up --name "$NAME" --uplink @198.18.0.1
	expect_bad "gateway not an address (name)" -- up --name "$NAME" --uplink up0@gateway
	expect_bad "gateway not an address (octet > 255)" -- up --name "$NAME" --uplink up0@198.18.0.256
	expect_bad "gateway not an address (3 octets)" -- up --name "$NAME" --uplink up0@198.18.0
	expect_bad "gateway empty" -- up --name "$NAME" --uplink up0@
	expect_bad "gateway not on the uplink's link" -- up --name "$NAME" --uplink up1@198.18.0.1
	expect_bad "unknown uplink flag" -- up --name "$NAME" --uplink up0@198.18.0.1:primary
	expect_bad "no gateway found for uplink" -- up --name "$NAME" --uplink up0 --uplink up1
	expect_bad "the first uplink direct" -- up --name "$NAME" --uplink up1:direct --uplink up0
	expect_bad "a direct uplink with a gateway" -- up --name "$NAME" --uplink up0 --uplink up1@198.18.0.1:direct
	expect_bad "a direct uplink that does not exist" -- up --name "$NAME" --uplink up0 --uplink nosuch0:direct
	expect_bad "a direct uplink with an unknown flag too" -- up --name "$NAME" --uplink up0 --uplink up1:direct:fast
	expect_bad "too many uplinks" -- up --name "$NAME" --uplink up0 --uplink up0 --uplink up0 \
		--uplink up0 --uplink up0 --uplink up0 --uplink up0 --uplink up0 --uplink up0
	expect_bad "port 0" -- up --name "$NAME" --uplink up0 --port 0
	expect_bad "port 65536" -- up --name "$NAME" --uplink up0 --port 65536
	expect_bad "port not a number" -- up --name "$NAME" --uplink up0 --port socks
	expect_bad "port negative" -- up --name "$NAME" --uplink up0 --port=-1
	expect_bad "name too long for interface names" -- up --name "${NAME}xxxxxxxxxxxxxx" --uplink up0
	expect_bad "name too long (down)" -- down --name "${NAME}xxxxxxxxxxxxxx"
	expect_bad "name with a hyphen" -- up --name "a-b" --uplink up0
	expect_bad "name empty" -- up --name "" --uplink up0
	expect_bad "accel unknown" -- up --name "$NAME" --uplink up0 --accel xen
	expect_bad "probe interval not a number" -- up --name "$NAME" --uplink up0 --probe-interval fast
	expect_bad "probe interval too short" -- up --name "$NAME" --uplink up0 --probe-interval 0.1
	expect_bad "mem too small" -- up --name "$NAME" --uplink up0 --mem 8
	expect_bad "user without password" -- up --name "$NAME" --uplink up0 --user alice
	expect_bad "user with a space" -- up --name "$NAME" --uplink up0 --user "alice:open sesame"
	expect_bad "dns not an address" -- up --name "$NAME" --uplink up0 --dns resolver
	expect_bad "allow not a CIDR" -- up --name "$NAME" --uplink up0 --allow 10.0.0.0/33
	expect_bad "kernel file missing" -- up --name "$NAME" --uplink up0 --kernel /nonexistent/bzImage
	expect_bad "down: unknown option" -- down --name "$NAME" --uplink up0
	expect_bad "status: unknown option" -- status --name "$NAME" --detach
	expect_bad "missing root (up)" nobody -- up --name "$NAME" --uplink up0@198.18.0.1
	expect_bad "missing root (down)" nobody -- down --name "$NAME"
	expect_bad "exit: --allow without --user (the link's exit proves keys)" -- exit --name "$NAME" --allow 10.0.0.0/8
	expect_bad "exit: --new-key for the plain exit" -- exit --name "$NAME" --user vps:pw --new-key
	expect_bad "exit: --host not a name" -- exit --name "$NAME" --host 'a b'
	expect_bad "exit: listen not an address" -- exit --name "$NAME" --user vps:pw --listen 198.18.0
	expect_bad "exit: port 0" -- exit --name "$NAME" --user vps:pw --port 0
	expect_bad "exit: user without password" -- exit --name "$NAME" --user vps
	expect_bad "exit: an up option" -- exit --name "$NAME" --user vps:pw --uplink up0
	expect_bad "--exit without a port" -- up --name "$NAME" --uplink up0 --exit 198.51.100.2 --exit-user vps:pw
	expect_bad "--exit port 70000" -- up --name "$NAME" --uplink up0 --exit 198.51.100.2:70000 --exit-user vps:pw
	expect_bad "--exit without --exit-user" -- up --name "$NAME" --uplink up0 --exit 198.51.100.2:1080
	expect_bad "--exit-user without --exit" -- up --name "$NAME" --uplink up0 --exit-user vps:pw
	expect_bad "--exit-user without a password" -- up --name "$NAME" --uplink up0 --exit 198.51.100.2:1080 --exit-user vps
	local key=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 e f out i
	expect_bad "--exit with a key of 42 characters" -- up --name "$NAME" --uplink up0 --exit "mpsocks://${key:1}@198.51.100.2:1080"
	expect_bad "--exit line with port 0" -- up --name "$NAME" --uplink up0 --exit "mpsocks://$key@198.51.100.2:0"
	expect_bad "--exit line with --exit-user" -- up --name "$NAME" --uplink up0 --exit "mpsocks://$key@198.51.100.2:1080" --exit-user vps:pw
	expect_bad "--exit: the same exit twice" -- up --name "$NAME" --uplink up0 --exit "mpsocks://$key@198.51.100.2:1080" --exit "mpsocks://$key@198.51.100.2:1080"
	expect_bad "--exit: a plain exit beside a link's" -- up --name "$NAME" --uplink up0 --exit "mpsocks://$key@198.51.100.2:1080" --exit 198.51.100.3:1080
	expect_bad "--exit: a name that does not resolve" -- up --name "$NAME" --uplink up0 --exit "mpsocks://$key@no-such-host.invalid:1080"
	e=()
	for i in 1 2 3 4 5 6 7 8 9; do e+=(--exit "mpsocks://$key@198.51.100.$i:1080"); done
	expect_bad "--exit: 9 exits" -- up --name "$NAME" --uplink up0 "${e[@]}"
	f=$(mktemp)
	printf '# no line here\n' >"$f"
	expect_bad "--exit FILE without a line" -- up --name "$NAME" --uplink up0 --exit "$f"
	rm -f "$f"
	# A refused line never shows its key (it is a secret, and the message may reach a log).
	out=$(in_ns "$LAUNCHER" up --name "$NAME" --uplink up0 --exit "mpsocks://${key:1}@198.51.100.2:1080" 2>&1 || true)
	if [[ $out == *"${key:1:20}"* ]]; then fail "a bad --exit line's message hides the key" "$out"; else pass "a bad --exit line's message hides the key"; fi
	in_ns sysctl -qw net.mptcp.enabled=0
	expect_failure "exit on a host without MPTCP names net.mptcp.enabled" net.mptcp.enabled -- exit --name "$NAME" --user vps:pw
	in_ns sysctl -qw net.mptcp.enabled=1
	accel_cmdline
	launcher_files_tidy
	bash "$TOP/tests/launcher_firewall.sh" || FAILED=$((FAILED + 1))

	[ "$FAILED" -eq 0 ]
}

main "$@"
