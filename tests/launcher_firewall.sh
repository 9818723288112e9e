#!/usr/bin/env bash
# tests/launcher_firewall.sh: the launcher's forward exceptions in another firewall's chain,
# for both renderings of its rule list: iptables (Docker's DOCKER-USER) and nft (a plain
# "ip filter FORWARD" with policy drop, iptables absent). Each is added and then removed,
# leaving the chain as it was. No VM: the launcher's functions on a made-up instance, in a
# network namespace of its own. Prints PASS/FAIL lines; exits 1 if any failed.
set -euo pipefail

TOP=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
NS=mps-fw-$$
WORK=$(mktemp -d)
FAILED=0

pass() { printf 'PASS: launcher: %s\n' "$1"; }
fail() { printf 'FAIL: launcher: %s (%s)\n' "$1" "$2"; FAILED=1; }
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"; }

# in_launcher BACKEND CMD: CMD in the namespace with the launcher's libraries and an instance
# "fwtest" (2 uplinks, --allow 192.0.2.0/24) whose plan is in WORK. BACKEND nft hides iptables.
in_launcher() {
	local path=$PATH
	[ "$1" = iptables ] || path=$WORK/bin
	# (no -u: the plan holds settings of other parts of the launcher, unset here)
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$NS" env PATH="$path" TOP="$TOP" WORK="$WORK" bash -c '
		set -eo pipefail
		say() { :; }; warn() { echo "warning: $*" >&2; }; die() { echo "$*" >&2; exit 1; }
		RUN_DIR=$WORK/run NAME=fwtest
		for f in checks plan firewall ipv6; do source "$TOP/tools/lib/$f.sh"; done
		instance_lives() { return 1; }
		STATE=$RUN_DIR/fwtest KIND=vm SLOT=1 PORT=1080 USE_ACCEL=tcg LISTEN=
		TAPS=(fwtest-0 fwtest-1) UP_IF=(up0 up1) UP_GW=(198.18.0.1 198.18.1.1) UP_BACKUP=(0 0) UP_GW_AUTO=(0 0)
		HOST_ADDRS=(10.66.14.1 10.66.15.1) GUEST_ADDRS=(10.66.14.2 10.66.15.2) TABLES=(6616 6617)
		ALLOW=(192.0.2.0/24) NFT_TABLE=mpsocks_fwtest
		mkdir -p "$STATE"
		'"$2"
}

# check BACKEND SHOW_CMD: the chain seen by SHOW_CMD gains the list's 5 accepts, then loses them.
check() {
	local backend=$1 show=$2 before during after n
	before=$(ip netns exec "$NS" bash -c "$show")
	# shellcheck disable=SC2016 # expanded by the inner shell
	if ! in_launcher "$backend" 'FIREWALL=$(firewall_chain); echo "$FIREWALL" >"$WORK/chain"; plan_write; open_firewall' 2>"$WORK/err"; then
		fail "$backend exceptions" "open_firewall failed: $(head -n1 "$WORK/err")"
		return
	fi
	during=$(ip netns exec "$NS" bash -c "$show")
	n=$(grep -c 'mpsocks:fwtest' <<<"$during" || true)
	if [ "$n" != 5 ]; then
		fail "$backend exceptions" "$n tagged rules in the chain ($(cat "$WORK/chain")), want 5: $during"
	elif ! grep -q 'RELATED,ESTABLISHED\|established,related' <<<"$(grep -- 'up0.*fwtest-0\|"up0" oifname "fwtest-0"' <<<"$during")"; then
		fail "$backend exceptions" "uplink -> tap is not limited to the guest's own connections: $during"
	else
		pass "$backend exceptions: the rule list's 5 accepts in $(cat "$WORK/chain"), uplink -> tap only for the guest's connections"
	fi
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_launcher "$backend" 'close_firewall "$STATE" fwtest' 2>/dev/null || true
	after=$(ip netns exec "$NS" bash -c "$show")
	if [ "$after" = "$before" ]; then
		pass "$backend exceptions removed, the chain as before"
	else
		fail "$backend exceptions removed" "left: $(diff <(echo "$before") <(echo "$after") | grep '^>' | head -n 2)"
	fi
}

main() {
	[ "$(id -u)" -eq 0 ] || { echo "FAIL: launcher: firewall backends (needs root)"; exit 1; }
	trap cleanup EXIT
	ip netns add "$NS"
	# A PATH with everything the libraries need but iptables.
	mkdir -p "$WORK/bin"
	for c in bash nft ip cat grep sed awk head mkdir mv printf rm cp; do
		[ -z "$(command -v "$c")" ] || ln -sf "$(command -v "$c")" "$WORK/bin/$c"
	done
	if command -v iptables >/dev/null 2>&1; then
		ip netns exec "$NS" iptables -N DOCKER-USER
		check iptables 'iptables -S DOCKER-USER'
		ip netns exec "$NS" nft flush ruleset
	else
		fail "iptables exceptions" "no iptables on this host (tools/deps installs it)"
	fi
	ip netns exec "$NS" nft -f - <<-'EOF_NFT'
		table ip filter {
		 chain FORWARD { type filter hook forward priority filter; policy drop; }
		}
	EOF_NFT
	check nft 'nft list chain ip filter FORWARD'
	[ "$FAILED" = 0 ]
}

main "$@"
