# release: make dist -> out/mpsocks-VERSION-x86_64.tar.gz (launcher, images, man page, systemd
# unit, install script, manifest, SHA256SUMS); make install / uninstall [PREFIX=] [DESTDIR=]
# through the same install script the tarball carries; make check-repro builds HEAD twice from
# clean in two directories and compares (release/check-repro; too slow for make test).
# VERSION: tools/version (git describe). The tarball is byte-identical for one commit and one
# set of images: fixed order, owner and mtime (SOURCE_DATE_EPOCH = the commit's time), gzip -n.
# make deb (also part of dist): out/mpsocks_DEBVERSION_amd64.deb (the layout of make install
# PREFIX=/usr) and out/mpsocks-exit_DEBVERSION_amd64.deb (the exit bundle, its unit), beside the
# tarball, not in it; release/mkdeb (DEBVERSION: its debversion maps tools/version).
VERSION := $(shell $(TOP)/tools/version)
SOURCE_DATE_EPOCH := $(shell git -C '$(TOP)' log -1 --format=%ct 2>/dev/null || echo 0)
DIST_DIR ?= $(O)
DIST_NAME := mpsocks-$(VERSION)
DIST_TARBALL = $(DIST_DIR)/$(DIST_NAME)-x86_64.tar.gz
PREFIX ?= /usr/local
DESTDIR ?=
REPRO_DIR ?= /tmp/mpsocks-repro
# Licence texts shipped with the images (release/mkdist copies them to LICENSES/).
DIST_LICENCES := $(KSRC)/LICENSES/preferred/GPL-2.0 $(BUSYBOX_SRC)/LICENSE $(DANTE_DIR)/LICENSE \
	$(MUSL_SRC)/COPYRIGHT $(MBEDTLS_SRC)/LICENSE

DEB_VERSION := $(shell $(TOP)/release/mkdeb debversion '$(VERSION)')
DEB_MAIN = $(DIST_DIR)/mpsocks_$(DEB_VERSION)_amd64.deb
DEB_EXIT = $(DIST_DIR)/mpsocks-exit_$(DEB_VERSION)_amd64.deb

.PHONY: dist dist-stage deb install uninstall check-repro
# Always remade (cheap): the launcher's files and the version may change without any image.
dist: dist-stage deb
	$(call banner,dist $(DIST_TARBALL))
	$(TOP)/release/mkdist tar '$(DIST_DIR)' '$(DIST_NAME)' '$(DIST_TARBALL)' '$(SOURCE_DATE_EPOCH)'

dist-stage: $(O)/bzImage $(INITRAMFS) $(HW_EFI) $(HW_USB) $(O)/bin/sockd $(MPSLINK) $(GEN_INIT_CPIO) $(O)/kernel.config \
		$(O)/kernel-hw.config
	@mkdir -p '$(DIST_DIR)'
	TOP='$(TOP)' O='$(O)' B='$(abspath $(B))' GEN_INIT_CPIO='$(GEN_INIT_CPIO)' HASHES='$(HASHES)' \
		LICENCES='$(DIST_LICENCES)' $(TOP)/release/mkdist stage '$(DIST_DIR)' '$(DIST_NAME)' '$(VERSION)' \
		'$(SOURCE_DATE_EPOCH)'

deb: dist-stage $(EXIT_BUNDLE)
	$(call banner,deb $(DEB_MAIN) $(DEB_EXIT))
	$(TOP)/release/mkdeb main '$(DIST_DIR)/dist/$(DIST_NAME)' '$(VERSION)' '$(SOURCE_DATE_EPOCH)' '$(DIST_DIR)'
	$(TOP)/release/mkdeb exit '$(EXIT_BUNDLE)' '$(DIST_DIR)/dist/$(DIST_NAME)/LICENSES' '$(VERSION)' \
		'$(SOURCE_DATE_EPOCH)' '$(DIST_DIR)'

install: dist-stage
	$(DIST_DIR)/dist/$(DIST_NAME)/install install '$(PREFIX)' '$(DESTDIR)'

# Needs nothing built: the list of what install puts where is the install script's.
uninstall:
	$(TOP)/release/install uninstall '$(PREFIX)' '$(DESTDIR)'

check-repro:
	$(TOP)/release/check-repro '$(TOP)' '$(REPRO_DIR)' '$(abspath $(DL))' '$(JOBS)'

# make test's groups dist and install (tests/e2e/dist.sh, install.sh) use the tarball.
test: dist
