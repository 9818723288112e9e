#!/usr/bin/env bash
# Group dist: the release tarball (make dist) without a guest: two runs byte-identical; the
# kernels without build time, count or path; the initramfs and the USB image rebuilt from copies
# in another directory byte-identical; the tarball's sums, manifest and version; the man page
# against --help; install and uninstall into a temporary PREFIX, and an unwritable one.
# The full check, two clean builds in two directories, is `make check-repro` (too slow here).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$TOP/tests/e2e/lib.sh"
O=${O:-$TOP/out}
B=${B:-$O/build}
WORK=$(mktemp -d /tmp/mpsocks-dist-test.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
VERSION=$("$TOP/tools/version")

# as_owner CMD...: as the source tree's owner (so out/ does not become root's).
as_owner() {
	local owner
	owner=$(stat -c %U "$TOP")
	if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

dist_twice() {
	local a b
	as_owner make -s -C "$TOP" O="$O" DIST_DIR="$WORK/a" dist >&2
	as_owner make -s -C "$TOP" O="$O" DIST_DIR="$WORK/b" dist >&2
	a=$WORK/a/mpsocks-$VERSION-x86_64.tar.gz b=$WORK/b/mpsocks-$VERSION-x86_64.tar.gz
	[ -f "$a" ] || fail "make dist wrote no $a"
	[ -f "$b" ] || fail "make dist wrote no $b"
	cmp -s "$a" "$b" || fail "two make dist runs differ: $(sha256sum "$a" "$b" | cut -c1-16 | tr '\n' ' ')"
	echo "tarball $(stat -c %s "$a") bytes, sha256 $(sha256sum <"$a" | cut -c1-16)"
	cp "$a" "$WORK/release.tar.gz"
}

# Every image and guest program, and the uncompressed kernels: no path of this build.
no_build_paths() {
	local f p
	for f in "$O/bzImage" "$O/mpsocks.efi" "$O/mpsocks-usb.img" "$B/kernel/vmlinux" "$B/kernel-hw/vmlinux" \
		"$B/kernel/arch/x86/boot/compressed/vmlinux" "$O"/bin/*; do
		[ -f "$f" ] || fail "$f is missing"
		for p in "$TOP" "$(readlink -f "$O")"; do
			! grep -qaF "$p" "$f" || fail "$f holds the build path $p"
		done
	done
	! gzip -dc "$O/initramfs.cpio.gz" | grep -aF "$TOP" >/dev/null || fail "the initramfs holds the build path $TOP"
}

uts_version() {
	local k ts line
	ts=$(sed -n 's/^KBUILD_BUILD_TIMESTAMP := //p' "$TOP/kernel/kernel.mk")
	[ -n "$ts" ] || fail "kernel/kernel.mk sets no KBUILD_BUILD_TIMESTAMP"
	for k in kernel kernel-hw; do
		line=$(grep -ao 'Linux version [^(]*([^)]*)[^%]*#[0-9][^)]*UTC [0-9]*' "$B/$k/vmlinux" | head -n 1)
		echo "$k: $line"
		[[ $line == *"mpsocks@mpsocks"* ]] || fail "$k: the banner does not name mpsocks@mpsocks: $line"
		[[ $line == *"#1 "*"$ts"* ]] || fail "$k: UTS_VERSION is not '#1 ... $ts': $line"
	done
}

initramfs_elsewhere() {
	local d=$WORK/elsewhere/a-longer-directory-name
	mkdir -p "$d/o/bin" "$d/top"
	cp "$O"/bin/init "$O"/bin/sockd "$O"/bin/busybox "$O"/bin/mpslink "$d/o/bin/"
	cp -R "$TOP/rootfs-overlay" "$d/top/"
	cp "$B/busybox/busybox.links" "$d/links"
	touch "$d/o/bin/"* # other mtimes than the build's
	"$TOP/initramfs/gen-list" "$TOP/initramfs/files.list" "$d/links" "$d/top/rootfs-overlay" >"$d/list"
	(cd "$d" && O=$d/o TOP=$d/top "$B/gen_init_cpio" -t 0 "$d/list" | gzip -9 -n >"$d/initramfs.cpio.gz")
	cmp -s "$d/initramfs.cpio.gz" "$O/initramfs.cpio.gz" || fail "the initramfs rebuilt in $d differs from out/'s"
}

usb_elsewhere() {
	local d=$WORK/usb-elsewhere
	mkdir -p "$d"
	cp "$O/mpsocks.efi" "$d/x.efi"
	cp "$TOP/hw/cmdline.txt" "$d/cmdline"
	(cd "$d" && "$TOP/hw/mkusb" x.efi cmdline usb.img)
	cmp -s "$d/usb.img" "$O/mpsocks-usb.img" || fail "the USB image rebuilt in $d differs from out/'s (make usb first?)"
}

unpack() {
	[ -f "$WORK/release.tar.gz" ] || fail "no tarball (make dist failed)"
	rm -rf "$WORK/unpacked" && mkdir -p "$WORK/unpacked"
	tar -C "$WORK/unpacked" -xzf "$WORK/release.tar.gz"
	REL=$WORK/unpacked/mpsocks-$VERSION
	[ -d "$REL" ] || fail "the tarball has no top directory mpsocks-$VERSION"
}

contents() {
	local f
	unpack
	(cd "$REL" && sha256sum --quiet --strict -c SHA256SUMS) || fail "SHA256SUMS does not match"
	for f in mpsocks lib/vm.sh bzImage initramfs.cpio.gz mpsocks.efi mpsocks-usb.img sockd mpslink kernel.config \
		kernel-hw.config mpsocks.1 mpsocks@.service install deps lib/needs.sh Makefile examples/ci.sh MANIFEST LICENSES/linux-GPL-2.0 \
		LICENSES/busybox-GPL-2.0 LICENSES/dante-BSD LICENSES/musl-MIT LICENSES/mbedtls-Apache-2.0; do
		[ -s "$REL/$f" ] || fail "the tarball lacks $f"
	done
	# Every part of the launcher: status, check and capture need its Python helpers too.
	for f in "$TOP"/tools/lib/*; do
		cmp -s "$f" "$REL/lib/${f##*/}" || fail "the tarball's lib/ lacks ${f##*/} (or differs)"
	done
	# The release's deps reads the launcher's own list (tools/deps installed it all before the tests).
	"$REL/deps" --run --check >&2 || fail "the release's deps --run --check: $("$REL/deps" --run --check 2>&1 | tail -n1)"
	[ "$(cat "$REL/VERSION")" = "$VERSION" ] || fail "VERSION says $(cat "$REL/VERSION"), tools/version $VERSION"
	[ "$("$REL/mpsocks" --version)" = "$VERSION" ] || fail "the release's launcher says $("$REL/mpsocks" --version)"
	[ "$("$TOP/tools/mpsocks" --version)" = "$VERSION" ] || fail "tools/mpsocks --version says $("$TOP/tools/mpsocks" --version)"
	gzip -dc "$REL/initramfs.cpio.gz" | grep -aF "MPSOCKS_IMAGE_VERSION=$VERSION" >/dev/null || fail "the initramfs carries no version $VERSION"
	# Only the member make dist appends may name it: the launcher reads the image's version so.
	[ "$(gzip -dc "$O/initramfs.cpio.gz" | grep -ac 'MPSOCKS_IMAGE_VERSION=')" = 0 ] ||
		fail "a program in the initramfs spells MPSOCKS_IMAGE_VERSION="
	while read -r _ sum file; do
		grep -qF "$sum  $file" "$REL/MANIFEST" || fail "MANIFEST lacks the pin of $file"
	done < <(grep '^sha256 ' "$TOP/sources.hash")
	for f in GPL-2.0 BSD MIT; do grep -q "$f" "$REL/MANIFEST" || fail "MANIFEST names no $f licence"; done
	grep -q 'BUILD/initramfs-hw.cpio' "$REL/kernel-hw.config" || fail "kernel-hw.config still names a build path"
	! grep -rqaF "$TOP" "$REL" || fail "a file of the tarball holds the build path $TOP: $(grep -rlaF "$TOP" "$REL" | head -n1)"
}

man_page() {
	local text opt f missing=()
	unpack
	text=$(MANWIDTH=200 LC_ALL=C man -l "$REL/mpsocks.1" 2>&1) || fail "man -l failed: $(tail -n1 <<<"$text")"
	for f in NAME SYNOPSIS OPTIONS; do
		grep -q "^$f" <<<"$text" || fail "the rendered page lacks $f"
	done
	for opt in $("$REL/mpsocks" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
		grep -qF -- "$opt" <<<"$text" || missing+=("$opt")
	done
	[ ${#missing[@]} = 0 ] || fail "options of --help missing from the man page: ${missing[*]}"
	# Generated from --help: the tree's launcher gives the same page.
	cmp -s <("$TOP/release/mkman" "$REL/mpsocks" 2000-01-01 | sed 1d) <(sed 1d "$REL/mpsocks.1") ||
		fail "mpsocks.1 is not what release/mkman makes from the launcher's --help"
}

install_unwritable() {
	local out rc=0
	unpack
	chmod -R a+rX "$WORK/unpacked"
	mkdir -p "$WORK/ro"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- make -s -C "$REL" install PREFIX="$WORK/ro/pfx" 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] || fail "install into an unwritable PREFIX succeeded"
	[ "$(grep -c 'install:' <<<"$out")" = 1 ] || fail "not one install: line: $out"
	grep -q "cannot write to $WORK/ro" <<<"$out" || fail "the line does not say what cannot be written: $out"
	[ -z "$(ls -A "$WORK/ro")" ] || fail "it left something in $WORK/ro"
}

install_uninstall() {
	local p=$WORK/prefix f help
	unpack
	mkdir -p "$p"
	make -s -C "$REL" install PREFIX="$p" >&2
	[ -x "$p/bin/mpsocks" ] || fail "no $p/bin/mpsocks"
	[ "$("$p/bin/mpsocks" --version)" = "$VERSION" ] || fail "the installed launcher says $("$p/bin/mpsocks" --version)"
	help=$("$p/bin/mpsocks" --help)
	grep -q '^  sudo mpsocks up' <<<"$help" || fail "the installed --help does not say 'sudo mpsocks up': $(sed -n 3p <<<"$help")"
	for f in share/mpsocks/bzImage share/mpsocks/initramfs.cpio.gz share/man/man1/mpsocks.1 lib/systemd/system/mpsocks@.service; do
		[ -f "$p/$f" ] || fail "install made no $p/$f"
	done
	grep -qF "ExecStart=$p/bin/mpsocks up --name %i \$MPSOCKS_OPTIONS" "$p/lib/systemd/system/mpsocks@.service" ||
		fail "the unit does not run $p/bin/mpsocks"
	# (tools/deps installs systemd for it: a missing checker is no pass)
	systemd-analyze verify --man=no "$p/lib/systemd/system/mpsocks@x.service" >&2 ||
		fail "systemd-analyze verify rejects the unit"
	make -s -C "$TOP" uninstall PREFIX="$p" >&2
	[ -z "$(ls -A "$p")" ] || fail "uninstall left: $(cd "$p" && find . | tr '\n' ' ')"
}

# The exit bundle's unit: systemd-analyze verify takes it (its paths pointed at an unpacked
# bundle), and its sandbox scores at most 3.0 in systemd-analyze security (the README's figure).
exit_unit() {
	local d=$WORK/exit-unit score
	mkdir -p "$d"
	tar -C "$d" -xzf "${O:-$TOP/out}/mpsocks-exit.tar.gz"
	sed "s|/opt/mpsocks-exit|$d/mpsocks-exit|g" "$d/mpsocks-exit/mpsocks-exit.service" >"$d/mpsocks-exit.service"
	systemd-analyze verify --man=no "$d/mpsocks-exit.service" >&2 || fail "systemd-analyze verify rejects the exit's unit"
	score=$(systemd-analyze security --offline=yes "$d/mpsocks-exit.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze security: exposure $score"
	awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 3.0) }' ||
		fail "the exit's unit scores ${score:-nothing} (want <= 3.0)"
}

main() {
	run_test "dist: two make dist runs give byte-identical tarballs" dist_twice
	run_test "dist: the exit's systemd unit verifies, its sandbox scores <= 3.0 (systemd-analyze security)" exit_unit
	run_test "dist: kernels: UTS_VERSION '#1' and the fixed timestamp, built by mpsocks@mpsocks" uts_version
	run_test "dist: no build path in the kernels, EFI and USB images, initramfs or guest programs" no_build_paths
	run_test "dist: the initramfs rebuilt from copies in another directory is byte-identical" initramfs_elsewhere
	run_test "dist: the USB image rebuilt in another directory is byte-identical" usb_elsewhere
	run_test "dist: SHA256SUMS, MANIFEST (pins, licences), one version in tools/version, launcher, initramfs" contents
	run_test "dist: man -l renders mpsocks.1, every --help option is in it, it is --help's" man_page
	run_test "dist: install into an unwritable PREFIX: one line, nothing made" install_unwritable
	run_test "dist: install into a temporary PREFIX, the unit, uninstall leaves PREFIX empty" install_uninstall
}

main
