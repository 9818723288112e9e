# shellcheck shell=bash
# shellcheck disable=SC2034 # the lists are read by the launcher and tools/deps
# The commands each launcher command runs that a minimal Debian system lacks, as
# COMMAND:PACKAGE. Minimal: debootstrap --variant=minbase, the packages of priority required
# (bash, coreutils, util-linux, mawk, sed, grep, findutils, ...). This is the one list of them:
# `need` refuses a command whose needs are missing, tools/deps --run installs them (and the
# release's deps), and the test group `deps` runs every command with a PATH that holds the
# minimal system and these packages alone.
NEEDS_UP=(qemu-system-x86_64:qemu-system-x86 ip:iproute2 nft:nftables socat:socat)
NEEDS_PROBES=(arping:iputils-arping) # up's uplink probes (the watcher), unless --probe-interval 0
NEEDS_DOWN=(ip:iproute2 nft:nftables socat:socat)
NEEDS_STATUS=(ip:iproute2 ss:iproute2 ping:iputils-ping socat:socat python3:python3)
NEEDS_CHECK=(python3:python3)
NEEDS_CAPTURE=(python3:python3 dumpcap:tshark mergecap:tshark tshark:tshark gnuplot:gnuplot-nox)
NEEDS_EXIT=(ip:iproute2 ss:iproute2 socat:socat openssl:openssl)

# need WHAT [--or TEXT] COMMAND:PACKAGE...: returns when every COMMAND is on PATH; else exits 2
# (nothing was changed yet) with one line naming the missing commands, the packages to install
# and, with --or, the way to do without them.
need() {
	local what=$1 alt='' entry cmds='' pkgs=''
	shift
	if [ "${1:-}" = --or ]; then alt=$2; shift 2; fi
	for entry in "$@"; do
		command -v "${entry%%:*}" >/dev/null 2>&1 && continue
		cmds+=" ${entry%%:*}"
		[[ "$pkgs " == *" ${entry#*:} "* ]] || pkgs+=" ${entry#*:}"
	done
	[ -n "$cmds" ] || return 0
	printf 'mpsocks: %s needs%s, not found on PATH: apt-get install%s%s\n' "$what" "$cmds" "$pkgs" "${alt:+, or $alt}" >&2
	exit 2
}

# find_ours NAME OVERRIDE: the path of our static program NAME (sockd, mpslink): OVERRIDE when
# given, else the tree's build, or the one beside the launcher in a release or bundle.
find_ours() {
	local f
	for f in "$2" "$TOP/out/bin/$1" "$(dirname "$LIB")/$1" "$TOP/share/mpsocks/$1"; do
		[ -n "$f" ] && [ -x "$f" ] && { printf '%s\n' "$f"; return 0; }
	done
	return 1
}
