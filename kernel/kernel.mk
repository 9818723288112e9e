# kernel: Debian's linux-source-6.12 -> $(O)/bzImage from tinyconfig + kernel/*.config, plus the
# uapi headers for guest C code and the host tool gen_init_cpio. The extracted source is the
# pinned one plus kernel/patches/ (applied in name order, each says why); every kbuild run is
# out of tree (O=...).
KERNEL_VERSION := 6.12.117
KERNEL_DEB := linux-source-6.12_6.12.117-1~deb12u1_all.deb
KERNEL_DEB_SPEC := linux-source-6.12=6.12.117-1~deb12u1
# The tarball inside the .deb; KERNEL_TARBALL=/path/to/it skips apt (checked against its pin).
KERNEL_TARBALL_NAME := linux-source-6.12.tar.xz
KERNEL_TARBALL ?=
# Absolute, since kbuild runs in the source tree (-C): O=relative/dir must work as well.
KSRC := $(abspath $(B))/linux-source-6.12
KSRC_STAMP := $(B)/stamps/linux-source-6.12
KERNEL_PATCHES := $(sort $(wildcard $(TOP)/kernel/patches/*.patch))
KOBJ := $(abspath $(B))/kernel
KHDR := $(abspath $(B))/kernel-headers
GEN_INIT_CPIO := $(B)/gen_init_cpio
# Applied in this order on top of tinyconfig; check-config names any that did not survive.
KERNEL_FRAGMENTS := $(addprefix $(TOP)/kernel/,base.config virt.config mptcp.config initrd.config trim.config)
# Arguments of every kbuild run: `$(MAKE) $(KBUILD_ARGS) ...`, with $(MAKE) written out in the
# recipe so that make hands kbuild its jobserver (under make -jN). The top make's own
# command-line variables (O=...) reach kbuild through MAKEFLAGS; the arguments given here take
# precedence. Without a jobserver from above, kbuild runs JOBS jobs.
# -Os makes gcc inline memset/memcpy as `rep stos/movs`, which qemu's TCG runs one element per
# step: poisoning the freed init memory alone took ~0.1 s of boot. Calls to the kernel's own
# memset/memcpy (plain loops when the CPU lacks FSRM/FSRS) cost 4 KiB of image instead.
# Reproducible: the same bytes from every clean build of a commit, in any directory, and from
# an incremental one. UTS_VERSION ("#1 ... TIMESTAMP") would carry the build's time and count:
# both are fixed. The timestamp is the pinned source package's date (its changelog), a constant
# until the pin changes (which rebuilds everything anyway): the commit's time would leave an
# incrementally built kernel with an older commit's time than a clean build of the same commit.
KBUILD_BUILD_TIMESTAMP := Sat Nov 14 12:56:01 UTC 2026
KBUILD_ARGS = -C $(KSRC) ARCH=x86_64 KBUILD_BUILD_USER=mpsocks KBUILD_BUILD_HOST=mpsocks \
	KBUILD_BUILD_VERSION=1 KBUILD_BUILD_TIMESTAMP='$(KBUILD_BUILD_TIMESTAMP)' \
	KCFLAGS=-mstringop-strategy=libcall $(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))

.PHONY: kernel
kernel: $(O)/bzImage $(O)/kernel.config $(KHDR)/.installed $(GEN_INIT_CPIO)

# The source tree: the tarball (from the .deb, or KERNEL_TARBALL) verified against its pin and
# unpacked all or nothing (tools/unpack-pinned), then our patches.
$(KSRC_STAMP): $(KERNEL_PATCHES) | deps
	$(call banner,kernel linux-$(KERNEL_VERSION) source)
	@mkdir -p '$(@D)' '$(B)'
ifeq ($(KERNEL_TARBALL),)
	$(FETCH) bin '$(KERNEL_DEB_SPEC)' '$(KERNEL_DEB)'
	$(UNPACK) '$(KERNEL_TARBALL_NAME)' '$(DL)/$(KERNEL_DEB)' '$(KSRC)' \
		linux-source-6.12 './usr/src/$(KERNEL_TARBALL_NAME)'
else
	$(UNPACK) '$(KERNEL_TARBALL_NAME)' '$(KERNEL_TARBALL)' '$(KSRC)' \
		linux-source-6.12
endif
	@grep -qx 'SUBLEVEL = $(word 3,$(subst ., ,$(KERNEL_VERSION)))' '$(KSRC)/Makefile' || \
		{ echo 'kernel source is not linux-$(KERNEL_VERSION)' >&2; rm -rf '$(KSRC)'; exit 1; }
	@for p in $(KERNEL_PATCHES); do \
		patch -d '$(KSRC)' -p1 -s --no-backup-if-mismatch < $$p || \
		{ echo "kernel: $$p does not apply" >&2; rm -rf '$(KSRC)'; exit 1; }; done
	touch '$@'

# One kernel build per variant, from the same pristine source, each in its own object tree:
#   $(call kernel_variant,OBJDIR,FRAGMENTS,CONFIG_OUT,IMAGE_OUT,IMAGE_DEPS,BANNER)
# tinyconfig, the fragments merged on top (a later fragment's line for an option replaces an
# earlier one's), olddefconfig; stop if a requested option was lost; then bzImage, copied to
# IMAGE_OUT. IMAGE_DEPS: further files the image is built from (the hardware image's built-in
# initramfs). The VM kernel is one variant; hw/hw.mk adds the hardware one.
define kernel_variant
$(3): $$(KSRC_STAMP) $(2) $$(TOP)/kernel/kernel.mk $$(TOP)/kernel/check-config
	$$(call banner,kernel linux-$$(KERNEL_VERSION)$(6) config)
	mkdir -p '$(1)'
	$$(MAKE) $$(KBUILD_ARGS) -s O='$(1)' tinyconfig
	cd '$(1)' && '$$(KSRC)/scripts/kconfig/merge_config.sh' -m -O . .config $(2) > merge.log
	$$(MAKE) $$(KBUILD_ARGS) -s O='$(1)' olddefconfig
	$$(TOP)/kernel/check-config '$(1)/.config' $(2)
	cp '$(1)/.config' '$$@'

$(4): $(3) $(5)
	$$(call banner,kernel linux-$$(KERNEL_VERSION)$(6))
	$$(MAKE) $$(KBUILD_ARGS) O='$(1)' bzImage
	cp '$(1)/arch/x86/boot/bzImage' '$$@'
endef
$(eval $(call kernel_variant,$(KOBJ),$(KERNEL_FRAGMENTS),$(O)/kernel.config,$(O)/bzImage,,))

# uapi headers in their own object tree, so that they can be made while the kernel builds.
# This is headers_install without its rsync: copy the generated tree, keep only the headers.
$(KHDR)/.installed: $(KSRC_STAMP)
	$(call banner,kernel linux-$(KERNEL_VERSION) headers)
	rm -rf '$(KHDR)' && mkdir -p '$(KHDR)'
	$(MAKE) $(KBUILD_ARGS) -s O='$(abspath $(B))/kernel-headers-obj' headers
	cp -R '$(abspath $(B))/kernel-headers-obj/usr/include' '$(KHDR)/include'
	find '$(KHDR)/include' -type f ! -name '*.h' -delete
	touch '$@'

$(GEN_INIT_CPIO): $(KSRC_STAMP)
	$(call banner,gen_init_cpio)
	$(CC) -O2 -Wall -o '$@' '$(KSRC)/usr/gen_init_cpio.c'
