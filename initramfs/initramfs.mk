# initramfs: init, sockd, busybox (+ applet links) and rootfs-overlay/ as one cpio archive made
# by the kernel's gen_init_cpio: no root needed, every mtime fixed, so identical inputs give a
# byte-identical archive. xz with CRC32 (the only check the kernel's decoder knows) and the
# x86 branch filter; single-threaded, so the output does not depend on the machine.
INITRAMFS := $(O)/initramfs.cpio.xz
INITRAMFS_CPIO := $(B)/initramfs.cpio
INITRAMFS_LIST := $(B)/initramfs.list
INITRAMFS_BASE := $(TOP)/initramfs/files.list
# Every mtime in the archive (seconds since the epoch): a constant, not the build time.
INITRAMFS_MTIME := 0
INITRAMFS_XZ := xz --format=xz --check=crc32 --x86 --lzma2=preset=9e,dict=4MiB --threads=1
# Every file and directory of the overlay: a directory's mtime changes when an entry goes.
INITRAMFS_OVERLAY := $(shell find '$(TOP)/rootfs-overlay' 2>/dev/null | LC_ALL=C sort)
INITRAMFS_BINS := $(O)/bin/init $(O)/bin/sockd $(O)/bin/busybox

.PHONY: initramfs
initramfs: $(INITRAMFS)

$(INITRAMFS_LIST): $(INITRAMFS_BASE) $(TOP)/initramfs/gen-list $(BUSYBOX_LINKS) $(INITRAMFS_OVERLAY)
	@mkdir -p '$(@D)'
	$(TOP)/initramfs/gen-list '$(INITRAMFS_BASE)' '$(BUSYBOX_LINKS)' '$(TOP)/rootfs-overlay' > '$@.tmp'
	mv '$@.tmp' '$@'

# gen_init_cpio expands ${O} and ${TOP} in the list from its environment.
$(INITRAMFS_CPIO): $(INITRAMFS_LIST) $(INITRAMFS_BINS) $(GEN_INIT_CPIO)
	$(call banner,initramfs)
	O='$(O)' TOP='$(TOP)' $(GEN_INIT_CPIO) -t $(INITRAMFS_MTIME) '$<' > '$@.tmp'
	mv '$@.tmp' '$@'

$(INITRAMFS): $(INITRAMFS_CPIO)
	$(INITRAMFS_XZ) -c '$<' > '$@.tmp'
	mv '$@.tmp' '$@'
