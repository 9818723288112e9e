# hw: the hardware image. The same init, sockd and busybox as the VM, a second kernel build
# (kernel/hw.config on top of the VM fragments, in its own object tree) that is its own EFI
# executable with the initramfs built in, and a GPT disk image with an EFI system partition
# holding it, for dd to a USB stick. No root needed. `make test-hw` boots the disk image
# under OVMF (hw/test-hw).
HW_KOBJ := $(abspath $(B))/kernel-hw
HW_INITRAMFS_LIST := $(B)/initramfs-hw.list
HW_INITRAMFS_CPIO := $(abspath $(B))/initramfs-hw.cpio
# Generated: the fragment naming the archive to build in (an absolute path of this build).
HW_INITRAMFS_FRAGMENT := $(abspath $(B))/kernel-hw-initramfs.config
HW_FRAGMENTS := $(KERNEL_FRAGMENTS) $(TOP)/kernel/hw.config $(HW_INITRAMFS_FRAGMENT)
HW_EFI := $(O)/mpsocks.efi
HW_USB := $(O)/mpsocks-usb.img

.PHONY: efi usb test-hw
efi: $(HW_EFI)
usb: $(HW_USB)

$(eval $(call kernel_variant,$(HW_KOBJ),$(HW_FRAGMENTS),$(O)/kernel-hw.config,$(HW_EFI),$(HW_INITRAMFS_CPIO), (hw)))

# Rewritten only when its text changes, so editing this file does not redo the config.
$(HW_INITRAMFS_FRAGMENT): $(TOP)/hw/hw.mk
	@mkdir -p '$(@D)'
	@printf 'CONFIG_INITRAMFS_SOURCE="%s"\n' '$(HW_INITRAMFS_CPIO)' > '$@.tmp'
	@if cmp -s '$@.tmp' '$@'; then rm '$@.tmp'; else mv '$@.tmp' '$@'; fi

# The VM's list plus hw/files.list; uncompressed: the kernel image around it is compressed.
$(HW_INITRAMFS_LIST): $(INITRAMFS_LIST) $(TOP)/hw/files.list
	cat $^ > '$@.tmp'
	mv '$@.tmp' '$@'

$(HW_INITRAMFS_CPIO): $(HW_INITRAMFS_LIST) $(INITRAMFS_BINS) $(GEN_INIT_CPIO)
	$(call banner,initramfs (hw))
	O='$(O)' TOP='$(TOP)' $(GEN_INIT_CPIO) -t $(INITRAMFS_MTIME) '$<' > '$@.tmp'
	mv '$@.tmp' '$@'

$(HW_USB): $(HW_EFI) $(TOP)/hw/mkusb $(TOP)/hw/cmdline.txt
	$(call banner,usb image)
	$(TOP)/hw/mkusb '$(HW_EFI)' '$(TOP)/hw/cmdline.txt' '$@'

# Needs root (network namespaces); logs under out/test-logs/hw-TIME/.
test-hw: $(HW_USB) $(TEST_TOOLS)
	$(call banner,test-hw (hw/test-hw))
	@$(TEST_SUDO) $(TOP)/hw/test-hw '$(HW_USB)' '$(MPTCP_SERVER)' '$(MPTCP_GET)' \
		'$(O)/test-logs/hw-$(shell date -u +%Y%m%dT%H%M%S)'

# make test runs hw/test-hw as its group "hw" (tests/run), so CI counts it in one summary.
test: $(HW_USB)

# Unit test of init/espconf.c (init.mk's macro; tests.mk's `test` gets it as a prerequisite).
INIT_TEST_MODULES_espconf := espconf.c log.c fileio.c
$(eval $(call init_unit_test,espconf))
test: $(B)/tests/test_espconf
# Unit test of init/lease.c and init/dhcphook.c (pure parts, and applying a lease in a netns).
INIT_TEST_MODULES_lease := lease.c dhcphook.c endpoints.c uplinks.c nics.c rtnl.c rtnl6.c mptcp.c netlink.c genl.c \
	sysctl.c sockdconf.c textbuf.c cmdline.c fileio.c log.c
$(eval $(call init_unit_test,lease))
test: $(B)/tests/test_lease

# libFuzzer harness of init/espconf.c (tests/run fuzzes every FUZZ_TARGETS program, bounded).
FUZZ_TARGETS += $(B)/tests/fuzz_espconf
$(B)/tests/fuzz_espconf: $(TOP)/tests/fuzz/fuzz_espconf.c $(addprefix $(INIT_DIR)/,espconf.c log.c fileio.c) $(INIT_HEADERS)
	@mkdir -p $(@D)
	$(INIT_FUZZ_CC) $(INIT_FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
test: $(B)/tests/fuzz_espconf
