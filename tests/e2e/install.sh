#!/usr/bin/env bash
# Group install: the release tarball (make dist) installed into a temporary PREFIX outside the
# tree boots its own images in the bed and carries a transfer with a subflow per uplink; an
# image missing from the share directory and a launcher of another version than its images
# each get one line; uninstall leaves PREFIX empty; examples/ci.sh runs end to end, and fails
# with the guest console's tail when the guest does not come up.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
O=${O:-$TOP/out}
VERSION=$("$TOP/tools/version")
TARBALL=$O/mpsocks-$VERSION-x86_64.tar.gz
WORK=$(mktemp -d /tmp/mpsocks-install-test.XXXXXX)
PFX=$WORK/prefix
VM=$(printf 't%05di' $(($$ % 100000)))
UPLINKS=(--uplink up0@198.18.0.1 --uplink up1@198.18.1.1)
trap 'rm -rf "$WORK"' EXIT

install_tarball() {
	[ -f "$TARBALL" ] || fail "$TARBALL is missing (make dist)"
	mkdir -p "$WORK/unpacked" "$PFX"
	tar -C "$WORK/unpacked" -xzf "$TARBALL"
	make -s -C "$WORK/unpacked/mpsocks-$VERSION" install PREFIX="$PFX" >&2
	[ -x "$PFX/bin/mpsocks" ] || fail "no $PFX/bin/mpsocks"
}

# The installed launcher, its own images (no --kernel/--initrd), a download with subflows.
boots_and_transfers() {
	need_vm
	grep -qF "kernel = \"$PFX/share/mpsocks/bzImage\"" "/run/mpsocks/$VM/qemu.cfg" ||
		fail "qemu did not boot $PFX/share/mpsocks/bzImage: $(grep kernel "/run/mpsocks/$VM/qemu.cfg")"
	grep -qF "initrd = \"$PFX/share/mpsocks/initramfs.cpio.gz\"" "/run/mpsocks/$VM/qemu.cfg" || fail "qemu did not boot the share's initramfs"
	check_multipath_download install "198.18.0.2 198.18.1.2 "
}

status_json() {
	need_vm
	in_host "$PFX/bin/mpsocks" status --name "$VM" --json >"$WORK/status.json" || fail "status --json exited non-zero: $(cat "$WORK/status.json")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["proxy"]=="socks5h://"+sys.argv[2], d["proxy"]; assert d["sockd_answers"] and d["running"]; assert len(d["nics"])==2, d["nics"]; assert d["nics"][0]["uplink"]=="up0"' \
		"$WORK/status.json" "$PROXY" || fail "status --json: $(cat "$WORK/status.json")"
}

# one_line_failure WHAT PATTERN CMD...: CMD fails with exit 1 and exactly one line matching PATTERN.
one_line_failure() {
	local pattern=$1 out rc=0
	shift
	out=$("$@" 2>&1 </dev/null) || rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "exit $rc, not 1: $out"
	[ "$(grep -c . <<<"$out")" = 1 ] || fail "not one line: $(tr '\n' '|' <<<"$out")"
	grep -qE -- "$pattern" <<<"$out" || fail "the line does not match '$pattern': $out"
	[ ! -e "/run/mpsocks/${VM}b" ] || fail "it left /run/mpsocks/${VM}b"
}

missing_image() {
	local s=$PFX/share/mpsocks
	mv "$s/bzImage" "$WORK/bzImage.away"
	bed_register_instance "${VM}b"
	one_line_failure "$s/bzImage is missing" in_host "$PFX/bin/mpsocks" up --detach --name "${VM}b" "${UPLINKS[@]}" ||
		{ mv "$WORK/bzImage.away" "$s/bzImage"; exit 1; }
	mv "$WORK/bzImage.away" "$s/bzImage"
}

version_mismatch() {
	local s=$PFX/share/mpsocks
	cp "$s/VERSION" "$WORK/VERSION.kept"
	echo 9.9.9-test >"$s/VERSION"
	bed_register_instance "${VM}b"
	one_line_failure "version $VERSION, this launcher 9.9.9-test" in_host "$PFX/bin/mpsocks" up --detach --name "${VM}b" "${UPLINKS[@]}" ||
		{ cp "$WORK/VERSION.kept" "$s/VERSION"; exit 1; }
	cp "$WORK/VERSION.kept" "$s/VERSION"
}

uninstall_empties() {
	make -s -C "$PFX/share/mpsocks" uninstall PREFIX="$PFX" >&2
	[ -z "$(ls -A "$PFX")" ] || fail "uninstall left: $(cd "$PFX" && find . | tr '\n' ' ')"
}

# examples/ci.sh as a CI job would run it: the tarball, up options, a test command (a download
# by name through ALL_PROXY), the status artifact, down; its timing line.
ci_script() {
	local t out rc=0 name=${VM}c
	bed_register_instance "$name"
	t=$(tag ci)
	out=$(in_host env ARTIFACTS="$WORK/artifacts" MPSOCKS_NAME="$name" "$TOP/examples/ci.sh" "$TARBALL" \
		--accel tcg --dns "$BED_SERVER_ADDR" "${UPLINKS[@]}" -- \
		curl -sS --max-time 120 -o "$BED_DIR/$t" "$(server_url name "/bytes/$MIB?tag=$t")" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "examples/ci.sh exited $rc: $(tail -n1 <<<"$out")"
	check_download "$t" "$BED_DIR/$t" "$MIB"
	rm -f "$BED_DIR/$t"
	grep -q '^ci: proxy ready: socks5h://' <<<"$out" || fail "no 'proxy ready' line"
	grep -q '^ci: wall time mpsocks added: ' <<<"$out" || fail "no wall time line"
	echo "figure: $(grep '^ci: wall time' <<<"$out")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"] and len(d["nics"])==2' \
		"$WORK/artifacts/mpsocks-status.json" || fail "the status artifact: $(cat "$WORK/artifacts/mpsocks-status.json" 2>&1)"
	[ ! -e "/run/mpsocks/$name" ] || fail "ci.sh left /run/mpsocks/$name"
}

# A guest that cannot start (an initramfs without /init): the job fails with the console's tail.
ci_script_fails() {
	local out rc=0 name=${VM}f
	bed_register_instance "$name"
	printf 'dir /nothing 755 0 0\n' >"$WORK/empty.list"
	"${B:-$O/build}/gen_init_cpio" "$WORK/empty.list" | gzip -n >"$WORK/empty.cpio.gz"
	chmod 644 "$WORK/empty.cpio.gz"
	out=$(in_host env ARTIFACTS="$WORK/artifacts-f" MPSOCKS_NAME="$name" "$TOP/examples/ci.sh" "$TARBALL" \
		--accel tcg --timeout 30 --initrd "$WORK/empty.cpio.gz" "${UPLINKS[@]}" -- true 2>&1) || rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "examples/ci.sh exited $rc, not 1"
	grep -q 'FAILED: the proxy did not come up' <<<"$out" || fail "no FAILED line"
	grep -q '  | .*Kernel panic\|  | .*No working init' <<<"$out" || fail "no console tail with the panic"
	[ ! -e "/run/mpsocks/$name" ] || fail "ci.sh left /run/mpsocks/$name"
}

main() {
	run_test "install: the tarball installs into a temporary PREFIX" install_tarball
	# As installed: no --kernel/--initrd, the launcher finds its images itself.
	[ ! -x "$PFX/bin/mpsocks" ] || MPSOCKS=$PFX/bin/mpsocks KERNEL='' INITRD='' vm_up "$VM" "${UPLINKS[@]}" || true
	run_test "install: the installed mpsocks boots its own images; 8 MiB intact, one subflow per uplink" boots_and_transfers
	run_test "install: status --json of the installed launcher" status_json
	vm_down "$VM"
	run_test "install: an image missing from the share directory: one line, nothing made" missing_image
	run_test "install: images of another version than the launcher: one line, nothing made" version_mismatch
	run_test "install: uninstall leaves PREFIX empty" uninstall_empties
	run_test "install: examples/ci.sh end to end (unpack, up, tests through ALL_PROXY, status artifact, down)" ci_script
	run_test "install: examples/ci.sh fails with the guest console's tail when the proxy does not come up" ci_script_fails
}

main
