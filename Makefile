# mpsocks: pinned Debian sources -> an MPTCP kernel and a tiny static initramfs.
# Each part has its own fragment (kernel/kernel.mk, musl/musl.mk, ...); this file holds what
# they share. `make help` lists the targets.
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
SHELL := /bin/bash

TOP := $(CURDIR)
# Results, build trees and the download cache; all under the tree, none needs root.
O ?= $(TOP)/out
B := $(O)/build
DL ?= $(TOP)/dl
HASHES := $(TOP)/sources.hash
FETCH := $(TOP)/tools/fetch-source $(DL) $(HASHES)
# $(UNPACK) NAME ARCHIVE DEST TOPDIR [DEB_MEMBER]: verify against the pin, unpack all or nothing.
UNPACK := $(TOP)/tools/unpack-pinned $(HASHES)
JOBS ?= $(shell nproc)

# One banner line per build stage: $(call banner,kernel linux-6.12.N)
banner = @printf '==> %s\n' '$(1)'

# Guest programs: static musl, stripped. musl/musl.mk provides $(MUSL_GCC) (musl built from
# Debian's source, crypt() included); kernel/kernel.mk provides the pinned kernel's uapi headers.
GUEST_CFLAGS := -Os -static -ffunction-sections -fdata-sections -Wall -Wextra
GUEST_LDFLAGS := -static -s -Wl,--gc-sections

include musl/musl.mk
include kernel/kernel.mk
include busybox/busybox.mk
include sockd/sockd.mk
include init/init.mk
include link/link.mk
include initramfs/initramfs.mk
include tests/tests.mk
include hw/hw.mk
include exit/exit.mk
include release/release.mk

.PHONY: all deps run sizes clean distclean help
all: kernel initramfs

# Installs missing build/run tools with apt-get, saying what; a no-op when all are there.
deps:
	@$(TOP)/tools/deps

run: all
	$(TOP)/tools/mpsocks up

sizes: all
	@$(TOP)/tools/sizes $(O)

clean:
	rm -rf $(O)

distclean: clean
	rm -rf $(DL)

help:
	@echo 'mpsocks make targets:'
	@echo '  all (default)  out/bzImage and out/initramfs.cpio.gz'
	@echo '  kernel         the MPTCP kernel (out/bzImage, out/kernel.config)'
	@echo '  init sockd busybox   the guest programs (static, musl, stripped)'
	@echo '  initramfs      out/initramfs.cpio.gz from initramfs/ and rootfs-overlay/'
	@echo '  run            boot the appliance: tools/mpsocks up (needs root; re-runs via sudo)'
	@echo '  test           every offline test; ends with "N passed, M failed" (needs root)'
	@echo '  bench          the benchmark table (ratios, medians, conditions)'
	@echo '  efi usb        the hardware image: out/mpsocks.efi, out/mpsocks-usb.img (hw/README.md)'
	@echo '  exit-bundle    out/mpsocks-exit.tar.gz: the exit for a VPS (sockd, launcher, systemd unit)'
	@echo '  dist           out/mpsocks-VERSION-x86_64.tar.gz: launcher, images, man page, unit (reproducible)'
	@echo '  deb            out/mpsocks_DEBVERSION_amd64.deb and mpsocks-exit_..._amd64.deb (apt install ./...)'
	@echo '  soak           an hour of churn in the bed, two guests (SOAK_MINUTES=60; needs root; make test runs 5 min)'
	@echo '  install uninstall   PREFIX=/usr/local DESTDIR=: mpsocks on PATH, images in PREFIX/share/mpsocks'
	@echo '  check-repro    two clean builds of HEAD in /tmp, compared byte for byte (~15 min on 2 cores)'
	@echo '  test-hw        only the hardware image test under OVMF (also a group of make test)'
	@echo '  sizes          sizes of the kernel, the initramfs and each guest program'
	@echo '  deps           install missing build and run dependencies (apt-get)'
	@echo '  clean          remove out/;  distclean: also the download cache dl/'
	@echo 'Variables: KERNEL_TARBALL= DANTE_TARBALL= BUSYBOX_TARBALL= MUSL_TARBALL= (local'
	@echo '  archives instead of apt, checked against sources.hash), JOBS=N, O=DIR.'
