# initramfs: init, sockd, busybox (+ applet links) and rootfs-overlay/ as one cpio archive made
# by the kernel's gen_init_cpio: no root needed, every mtime fixed, so identical inputs give a
# byte-identical archive. gzip: under TCG the kernel unpacks it ~0.1 s faster than xz, at
# ~30% more bytes (kernel/README.md); -n keeps name and time out of the header.
INITRAMFS := $(O)/initramfs.cpio.gz
INITRAMFS_CPIO := $(B)/initramfs.cpio
INITRAMFS_LIST := $(B)/initramfs.list
INITRAMFS_BASE := $(TOP)/initramfs/files.list
# Every mtime in the archive (seconds since the epoch): a constant, not the build time.
INITRAMFS_MTIME := 0
INITRAMFS_COMPRESS := gzip -9 -n
# Every file and directory of the overlay: a directory's mtime changes when an entry goes.
INITRAMFS_OVERLAY := $(shell find '$(TOP)/rootfs-overlay' 2>/dev/null | LC_ALL=C sort)
INITRAMFS_BINS := $(O)/bin/init $(O)/bin/sockd $(O)/bin/busybox $(MPSLINK)

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

# Others find the archive as out/initramfs.cpio.*: no stale one of another compression stays.
$(INITRAMFS): $(INITRAMFS_CPIO)
	$(INITRAMFS_COMPRESS) -c '$<' > '$@.tmp'
	$(if $(filter-out $(INITRAMFS) $(INITRAMFS).tmp,$(wildcard $(O)/initramfs.cpio.*)),rm -f $(filter-out $(INITRAMFS) $(INITRAMFS).tmp,$(wildcard $(O)/initramfs.cpio.*)))
	mv '$@.tmp' '$@'

# make bench's buffers row: the image with sockd built for SOCKD_BUFSIZE_B, all else the same.
INITRAMFS_B := $(B)/bench/initramfs-sockd-$(SOCKD_BUFSIZE_B).cpio.gz
$(INITRAMFS_B): $(INITRAMFS_LIST) $(INITRAMFS_BINS) $(DANTE_DIR_B)/sockd/sockd $(GEN_INIT_CPIO)
	@mkdir -p '$(@D)'
	strip -o '$(@D)/sockd' '$(DANTE_DIR_B)/sockd/sockd'
	sed 's#^file /bin/sockd .*#file /bin/sockd $(@D)/sockd 0755 0 0#' '$(INITRAMFS_LIST)' > '$(@D)/list'
	O='$(O)' TOP='$(TOP)' $(GEN_INIT_CPIO) -t $(INITRAMFS_MTIME) '$(@D)/list' | $(INITRAMFS_COMPRESS) > '$@.tmp'
	mv '$@.tmp' '$@'
