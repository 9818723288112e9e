#!/usr/bin/env bash
# Group deb: make deb's packages. lintian finds no error or warning in either; two make deb
# runs give the same bytes; on an empty dpkg status (a fresh machine) apt resolves every
# dependency and brings in each package of needs.sh's up/probes/down/status/check lists; a real
# apt-get install boots /usr/bin/mpsocks in the bed with 3 uplinks (a subflow per uplink),
# status, down, and purge leaves nothing behind; the exit's package likewise with its unit and
# an exit started in the internet namespace. What was installed before is put back.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
O=${O:-$TOP/out}
VERSION=$("$TOP/tools/version")
DEBVER=$("$TOP/release/mkdeb" debversion "$VERSION")
DEB=$O/mpsocks_${DEBVER}_amd64.deb
DEB_EXIT=$O/mpsocks-exit_${DEBVER}_amd64.deb
WORK=$(mktemp -d /tmp/mpsocks-deb-test.XXXXXX)
chmod 755 "$WORK"
VM=$(printf 'd%05di' $(($$ % 100000)))
UPLINKS=(--uplink up0@198.18.0.1 --uplink up1@198.18.1.1 --uplink up2@198.18.2.1)
export DEBIAN_FRONTEND=noninteractive
trap 'rm -rf "$WORK"' EXIT

as_owner() {
	local owner
	owner=$(stat -c %U "$TOP")
	if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

lintian_clean() {
	local f out
	for f in "$DEB" "$DEB_EXIT"; do
		[ -f "$f" ] || fail "$f is missing (make deb)"
		out=$(lintian --pedantic "$f" 2>&1 | grep -v 'running with root privileges' || true)
		echo "lintian $(basename "$f"): ${out:-nothing}"
		! grep -q '^[EW]: ' <<<"$out" || fail "lintian on $(basename "$f"): $(grep -m1 '^[EW]: ' <<<"$out")"
		# Every override says why: a comment heads each block of overrides.
		dpkg-deb --fsys-tarfile "$f" | tar -xO --wildcards './usr/share/lintian/overrides/*' |
			awk '/^#/ { why = 1; next } /^$/ { why = 0; next } !why { print "no reason: " $0; bad = 1 } END { exit bad }' ||
			fail "a lintian override of $(basename "$f") has no comment with its reason"
	done
}

deb_twice() {
	local f
	as_owner make -s -C "$TOP" O="$O" DIST_DIR="$WORK/a" deb >&2
	as_owner make -s -C "$TOP" O="$O" DIST_DIR="$WORK/b" deb >&2
	for f in "$(basename "$DEB")" "$(basename "$DEB_EXIT")"; do
		{ [ -f "$WORK/a/$f" ] && [ -f "$WORK/b/$f" ]; } || fail "make deb wrote no $f"
		cmp -s "$WORK/a/$f" "$WORK/b/$f" || fail "two make deb runs differ: $f"
		echo "$f: $(stat -c %s "$WORK/a/$f") bytes, sha256 $(sha256sum <"$WORK/a/$f" | cut -c1-16)"
	done
}

# The packages each list of needs.sh names, once each.
needs_packages() {
	# shellcheck source=tools/lib/needs.sh
	source "$TOP/tools/lib/needs.sh"
	local e
	for e in "${NEEDS_UP[@]}" "${NEEDS_PROBES[@]}" "${NEEDS_DOWN[@]}" "${NEEDS_STATUS[@]}" "${NEEDS_CHECK[@]}"; do
		echo "${e#*:}"
	done | sort -u
}

# As on a fresh machine: no package installed, apt resolves the whole tree from the archive.
resolves_fresh() {
	local out missing=() p
	: >"$WORK/empty-status"
	out=$(apt-get install -s -o Dir::State::status="$WORK/empty-status" "$DEB" 2>&1) ||
		fail "apt-get -s on an empty status: $(grep -m1 -E '^E:|unmet' <<<"$out" || tail -n1 <<<"$out")"
	grep -q '^Inst mpsocks ' <<<"$out" || fail "apt would not install mpsocks: $(tail -n1 <<<"$out")"
	for p in $(needs_packages); do
		grep -q "^Inst $p " <<<"$out" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] || fail "apt would not bring in: ${missing[*]}"
	echo "apt would install $(grep -c '^Inst ' <<<"$out") packages, every one of: $(needs_packages | tr '\n' ' ')"
}

# snapshot FILE: every path under /usr, /etc, /var/lib (dpkg's and apt's own records aside).
snapshot() {
	find /usr /etc /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o -print | sort >"$1"
}

# installed PKG: dpkg has PKG installed (not only its config files).
installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# pkg_install PKG DEBFILE: apt-get install of the file; before it, a snapshot, the packages
# installed, and a copy of every file of it that is already there (a make install, say).
pkg_install() {
	local pkg=$1 f=$2 p
	[ -f "$f" ] || fail "$f is missing (make deb)"
	! installed "$pkg" || fail "a package $pkg is installed already ($(dpkg-query -W "$pkg")): not replacing it"
	snapshot "$WORK/$pkg.before"
	dpkg-query -W -f '${Package}\n' | sort >"$WORK/$pkg.pkgs-before"
	: >"$WORK/$pkg.kept"
	while read -r p; do
		[ ! -e "/$p" ] || [ -d "/$p" ] || echo "$p"
	done < <(dpkg-deb --fsys-tarfile "$f" | tar -t | sed 's|^\./||') >"$WORK/$pkg.kept"
	if [ -s "$WORK/$pkg.kept" ]; then
		echo "kept before install: $(tr '\n' ' ' <"$WORK/$pkg.kept")"
		tar -C / -cpf "$WORK/$pkg.kept.tar" -T "$WORK/$pkg.kept"
	fi
	apt-get install -y -q "$f" >&2 || fail "apt-get install $f failed"
	installed "$pkg" || fail "dpkg does not list $pkg as installed"
}

# pkg_purge PKG: apt-get purge; every path dpkg -L listed (but directories others share) is
# gone and nothing is new under /usr, /etc, /var/lib but what packages apt brought in own.
pkg_purge() {
	local pkg=$1 p st left=() new=() newpkgs
	installed "$pkg" || fail "$pkg is not installed"
	dpkg -L "$pkg" >"$WORK/$pkg.list"
	apt-get purge -y -q "$pkg" >&2 || fail "apt-get purge $pkg failed"
	st=$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true)
	[ -z "$st" ] || [[ $st == *not-installed ]] || fail "dpkg still has $pkg after purge: $st"
	[ ! -f "$WORK/$pkg.kept.tar" ] || tar -C / -xpf "$WORK/$pkg.kept.tar"
	while read -r p; do
		[ "$p" != /. ] || continue
		[ -e "$p" ] || [ -L "$p" ] || continue
		[ -d "$p" ] && grep -qxF "$p" "$WORK/$pkg.before" && continue
		grep -qxF "${p#/}" "$WORK/$pkg.kept" && continue
		left+=("$p")
	done <"$WORK/$pkg.list"
	[ ${#left[@]} = 0 ] || fail "purge left what dpkg -L listed: ${left[*]}"
	snapshot "$WORK/$pkg.after"
	newpkgs=$(dpkg-query -W -f '${Package}\n' | sort | comm -13 "$WORK/$pkg.pkgs-before" -)
	[ -z "$newpkgs" ] || echo "packages apt brought in (kept): $(tr '\n' ' ' <<<"$newpkgs")"
	while read -r p; do
		[ -n "$p" ] || continue
		[ -n "$newpkgs" ] && dpkg -S "$p" >/dev/null 2>&1 && continue
		new+=("$p")
	done < <(comm -13 "$WORK/$pkg.before" "$WORK/$pkg.after")
	[ ${#new[@]} = 0 ] || fail "new after purge: ${new[*]:0:10}"
}

installs() {
	pkg_install mpsocks "$DEB"
	[ "$(readlink -f /usr/bin/mpsocks)" = /usr/share/mpsocks/mpsocks ] || fail "/usr/bin/mpsocks is not the package's launcher"
	[ "$(/usr/bin/mpsocks --version)" = "$VERSION" ] || fail "/usr/bin/mpsocks says $(/usr/bin/mpsocks --version), not $VERSION"
	man -w mpsocks >/dev/null 2>&1 || [ -f /usr/share/man/man1/mpsocks.1.gz ] || fail "no man page mpsocks(1)"
}

# The installed launcher, its own images (no --kernel/--initrd), a download with subflows.
boots_and_transfers() {
	need_vm
	grep -qF 'kernel = "/usr/share/mpsocks/bzImage"' "/run/mpsocks/$VM/qemu.cfg" ||
		fail "qemu did not boot /usr/share/mpsocks/bzImage: $(grep kernel "/run/mpsocks/$VM/qemu.cfg")"
	check_multipath_download deb "198.18.0.2 198.18.1.2 198.18.2.2 "
	in_host /usr/bin/mpsocks status --name "$VM" --json >"$WORK/status.json" || fail "status --json: $(cat "$WORK/status.json")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"] and len(d["nics"])==3, d' \
		"$WORK/status.json" || fail "status --json: $(cat "$WORK/status.json")"
}

downs() {
	MPSOCKS=/usr/bin/mpsocks vm_down "$VM"
	[ ! -e "/run/mpsocks/$VM" ] || fail "down left /run/mpsocks/$VM"
}

exit_contents() {
	local d=$WORK/exit-deb
	[ -f "$DEB_EXIT" ] || fail "$DEB_EXIT is missing (make deb)"
	mkdir -p "$d"
	dpkg-deb -x "$DEB_EXIT" "$d"
	for f in usr/lib/mpsocks-exit/mpsocks usr/lib/mpsocks-exit/sockd usr/lib/mpsocks-exit/mpslink; do
		[ -x "$d/$f" ] || fail "the exit's package lacks $f"
	done
	[ "$("$d/usr/lib/mpsocks-exit/mpsocks" --version)" = "$VERSION" ] || fail "its launcher is not version $VERSION"
	# shellcheck disable=SC2016 # the unit's own $MPSOCKS_EXIT_OPTIONS
	grep -qxF 'ExecStart=/usr/lib/mpsocks-exit/mpsocks exit --name exit $MPSOCKS_EXIT_OPTIONS' \
		"$d/usr/lib/systemd/system/mpsocks-exit.service" || fail "the unit does not run /usr/lib/mpsocks-exit/mpsocks exit"
	dpkg-deb --ctrl-tarfile "$DEB_EXIT" | tar -xO ./conffiles | grep -qxF /etc/mpsocks/exit.env || fail "exit.env is no conffile"
	sed "s|/usr/lib/mpsocks-exit|$d/usr/lib/mpsocks-exit|g" "$d/usr/lib/systemd/system/mpsocks-exit.service" >"$d/mpsocks-exit.service"
	systemd-analyze verify --man=no "$d/mpsocks-exit.service" >&2 || fail "systemd-analyze verify rejects the unit"
}

# Installed, the exit starts (in the internet namespace, the bed's key dir) and stops; purged,
# nothing is left.
exit_installs() {
	pkg_install mpsocks-exit "$DEB_EXIT"
	MPSOCKS=/usr/lib/mpsocks-exit/mpsocks exit_up debx || fail "$EXIT_ERR"
	MPSOCKS=/usr/lib/mpsocks-exit/mpsocks exit_down debx >&2 || fail "down of the exit failed"
	pkg_purge mpsocks-exit
}

main() {
	run_test "deb: lintian --pedantic finds no error or warning in either package; each override says why" lintian_clean
	run_test "deb: two make deb runs give byte-identical packages" deb_twice
	run_test "deb: on an empty dpkg status apt resolves every dependency and brings in needs.sh's up/probes/down/status/check packages" resolves_fresh
	run_test "deb: apt-get install of the package: /usr/bin/mpsocks, its version, its man page" installs
	[ ! -x /usr/bin/mpsocks ] || MPSOCKS=/usr/bin/mpsocks KERNEL='' INITRD='' vm_up "$VM" "${UPLINKS[@]}" || true
	run_test "deb: the installed mpsocks up --detach boots its own images; 8 MiB intact, a subflow per uplink (3); status --json" boots_and_transfers
	run_test "deb: the installed mpsocks down leaves no state" downs
	run_test "deb: apt-get purge leaves nothing of it under /usr, /etc, /var/lib" pkg_purge mpsocks
	run_test "deb: the exit's package: launcher, sockd, mpslink, the unit (verified) runs /usr/lib/mpsocks-exit/mpsocks, exit.env a conffile" exit_contents
	run_test "deb: the exit's package installed starts an exit and stops it; purge leaves nothing" exit_installs
}

main
