#!/usr/bin/env bash
# mpsocks in a CI job, from its release tarball (no kernel build): every connection of the
# job's tests leaves through an MPTCP proxy in a throwaway VM.
#   examples/ci.sh TARBALL [UP OPTIONS...] -- TEST COMMAND [ARGS...]
# 1. unpacks TARBALL; 2. installs what the launcher needs (the release's deps --run);
# 3. sudo mpsocks up --detach UP OPTIONS; 4. runs TEST COMMAND with ALL_PROXY (and
# all_proxy) = socks5h://ADDR:PORT; 5. writes `mpsocks status --json` to
# $ARTIFACTS/mpsocks-status.json; 6. sudo mpsocks down (also on failure or interruption).
# When the proxy does not come up, the job fails (exit 1) with the tail of the guest's console.
# Otherwise the exit status is the test command's. The last line says what mpsocks added to the
# job's wall time. Environment: ARTIFACTS (default ./artifacts), MPSOCKS_NAME (default ci).
set -euo pipefail

say() { printf 'ci: %s\n' "$*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
	echo "usage: examples/ci.sh TARBALL [UP OPTIONS...] -- TEST COMMAND..." >&2
	exit 2
fi
tarball=$1
shift
up_opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do up_opts+=("$1"); shift; done
if [ "${1:-}" != -- ] || [ $# -lt 2 ]; then
	echo "examples/ci.sh: no test command after --" >&2
	exit 2
fi
shift
name=${MPSOCKS_NAME:-ci}
artifacts=${ARTIFACTS:-artifacts}
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
t_start=$(now)

# 1. Unpack: the release runs from where it is unpacked (its images lie beside the launcher).
dir=$(mktemp -d)
tar -C "$dir" -xzf "$tarball"
launcher=$(echo "$dir"/mpsocks-*/mpsocks)
[ -x "$launcher" ] || { say "$tarball holds no mpsocks-*/mpsocks"; exit 1; }
say "$("$launcher" --version) unpacked in $dir"
t_unpack=$(now)

# shellcheck disable=SC2317 # (the EXIT trap)
cleanup() {
	local rc=$? t0
	trap - EXIT INT TERM
	t0=$(now)
	"${sudo[@]}" "$launcher" down --name "$name" >/dev/null 2>&1 || say "mpsocks down failed"
	rm -rf "$dir"
	t_down=$(secs "$t0" "$(now)")
	if [ -n "${t_ready:-}" ]; then
		say "wall time mpsocks added: $(secs "$t_start" "$t_ready") s to a ready proxy (unpack $(secs "$t_start" "$t_unpack") s," \
			"deps $(secs "$t_unpack" "$t_deps") s, up $(secs "$t_deps" "$t_ready") s) + ${t_status:-0} s status + $t_down s down"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 2. What the launcher's commands need on the runner: the release's own list, its deps script
# (apt-get, only what is missing).
"${sudo[@]}" "$(dirname "$launcher")/deps" --run
t_deps=$(now)

# 3. The proxy. --keep-on-failure: the console survives a failure, for its tail below.
out=$dir/up.log
if ! "${sudo[@]}" "$launcher" up --detach --keep-on-failure --name "$name" "${up_opts[@]}" >"$out" 2>&1; then
	cat "$out" >&2
	say "FAILED: the proxy did not come up; the guest console ended with:" >&2
	"${sudo[@]}" tail -n 40 "/run/mpsocks/$name/console.log" 2>/dev/null | sed 's/^/  | /' >&2 || say "(no console log)" >&2
	exit 1
fi
t_ready=$(now)
proxy=$(grep -o 'socks5h://[0-9.]*:[0-9]*' "$out" | head -n 1)
[ -n "$proxy" ] || { cat "$out" >&2; say "FAILED: mpsocks up printed no socks5h:// address"; exit 1; }
say "proxy ready: $proxy, $(secs "$t_deps" "$t_ready") s after unpacking and deps"

# 4. The job's tests, through the proxy.
rc=0
ALL_PROXY=$proxy all_proxy=$proxy "$@" || rc=$?
say "test command exited $rc"

# 5. The proxy's state as an artifact.
t0=$(now)
mkdir -p "$artifacts"
"$launcher" status --name "$name" --json >"$artifacts/mpsocks-status.json" || say "status --json says the proxy is unwell"
t_status=$(secs "$t0" "$(now)")
say "status: $artifacts/mpsocks-status.json"
exit "$rc"
