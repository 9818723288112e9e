# busybox 1.35.0 from Debian's source package: a debug shell and the few applets a console
# session and DHCP uplinks need (busybox/busybox.config on allnoconfig), static with musl,
# stripped. Built out of tree; the applet list goes to the initramfs as symlinks.
BUSYBOX_VERSION := 1.35.0
BUSYBOX_ORIG := busybox_$(BUSYBOX_VERSION).orig.tar.bz2
BUSYBOX_SPEC := busybox=1:$(BUSYBOX_VERSION)-4+deb12u1
# A local archive instead of apt; checked against the pinned sha256 of $(BUSYBOX_ORIG).
BUSYBOX_TARBALL ?=
# Absolute, since busybox's make runs in the source tree (-C).
BUSYBOX_SRC := $(abspath $(B))/busybox-$(BUSYBOX_VERSION)
BUSYBOX_SRC_STAMP := $(B)/stamps/busybox-$(BUSYBOX_VERSION)
BUSYBOX_OBJ := $(abspath $(B))/busybox
# One line per applet, its install path (/bin/ls, /sbin/ip, ...): the initramfs links them.
BUSYBOX_LINKS := $(BUSYBOX_OBJ)/busybox.links
BUSYBOX_FRAGMENT := $(TOP)/busybox/busybox.config
# Arguments of every busybox make run: `$(MAKE) $(BUSYBOX_ARGS) ...` ($(MAKE) written out in
# the recipe, so that it gets the jobserver). KCONFIG_NOTIMESTAMP: no build date in the binary,
# so identical inputs give an identical busybox (and initramfs).
BUSYBOX_ARGS = -C '$(BUSYBOX_SRC)' O='$(BUSYBOX_OBJ)' KCONFIG_NOTIMESTAMP=1 \
	$(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))

.PHONY: busybox
busybox: $(O)/bin/busybox $(BUSYBOX_LINKS)

$(BUSYBOX_SRC_STAMP): | deps
	$(call banner,busybox $(BUSYBOX_VERSION) source)
	@mkdir -p '$(@D)' '$(B)'
ifeq ($(BUSYBOX_TARBALL),)
	$(FETCH) src '$(BUSYBOX_SPEC)' '$(BUSYBOX_ORIG)'
	$(UNPACK) '$(BUSYBOX_ORIG)' '$(DL)/$(BUSYBOX_ORIG)' '$(BUSYBOX_SRC)' \
		busybox-$(BUSYBOX_VERSION)
else
	$(UNPACK) '$(BUSYBOX_ORIG)' '$(BUSYBOX_TARBALL)' '$(BUSYBOX_SRC)' \
		busybox-$(BUSYBOX_VERSION)
endif
	touch '$@'

# allnoconfig, the fragment merged on top (the kernel's merge script is generic), oldconfig
# for what that makes visible; stop if a requested option was lost. The uapi headers' path is
# machine-specific, so it is added here rather than in the fragment.
$(BUSYBOX_OBJ)/.config: $(BUSYBOX_SRC_STAMP) $(BUSYBOX_FRAGMENT) $(TOP)/busybox/busybox.mk $(TOP)/kernel/check-config \
		$(KSRC_STAMP)
	$(call banner,busybox $(BUSYBOX_VERSION) config)
	rm -rf '$(BUSYBOX_OBJ)' && mkdir -p '$(BUSYBOX_OBJ)'
	$(MAKE) $(BUSYBOX_ARGS) -s allnoconfig > /dev/null
	printf 'CONFIG_EXTRA_CFLAGS="-isystem %s/include"\n' '$(KHDR)' > '$(BUSYBOX_OBJ)/khdr.config'
	cd '$(BUSYBOX_OBJ)' && '$(KSRC)/scripts/kconfig/merge_config.sh' -m -O . .config \
		'$(BUSYBOX_FRAGMENT)' khdr.config > merge.log
	yes '' | $(MAKE) $(BUSYBOX_ARGS) -s oldconfig > /dev/null
	$(TOP)/kernel/check-config '$@' '$(BUSYBOX_FRAGMENT)' '$(BUSYBOX_OBJ)/khdr.config'

$(O)/bin/busybox: $(BUSYBOX_OBJ)/.config $(MUSL_GCC) $(KHDR)/.installed
	$(call banner,busybox $(BUSYBOX_VERSION))
	$(MAKE) $(BUSYBOX_ARGS) CC='$(MUSL_GCC)' busybox
	@file -L '$(BUSYBOX_OBJ)/busybox' | grep -q 'statically linked.*, stripped' || \
		{ echo "busybox: not a static stripped binary: $$(file -L '$(BUSYBOX_OBJ)/busybox')" >&2; exit 1; }
	install -D -m 0755 '$(BUSYBOX_OBJ)/busybox' '$@'

# After the build: both runs share the object tree.
$(BUSYBOX_LINKS): $(O)/bin/busybox
	$(MAKE) $(BUSYBOX_ARGS) -s busybox.links
	@[ -s '$@' ] || { echo 'busybox: empty applet list $@' >&2; exit 1; }
