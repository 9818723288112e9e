# musl 1.2.3 from Debian's source package: the guest toolchain. Built from source, not taken
# from Debian's musl-dev, because that one lacks crypt(), which sockd's username method and
# init's password hashing need. Static library only, into a private prefix; musl's own
# musl-gcc wrapper (+ specs) points gcc at it.
MUSL_VERSION := 1.2.3
MUSL_ORIG := musl_$(MUSL_VERSION).orig.tar.gz
# A local archive instead of apt; checked against the pinned sha256 of $(MUSL_ORIG) all the same.
MUSL_TARBALL ?=
MUSL_SRC := $(B)/musl-$(MUSL_VERSION)
MUSL_PREFIX := $(B)/musl
MUSL_GCC := $(MUSL_PREFIX)/bin/musl-gcc

.PHONY: musl
musl: $(MUSL_GCC)

ifeq ($(MUSL_TARBALL),)
MUSL_ARCHIVE := $(DL)/$(MUSL_ORIG)
$(MUSL_ARCHIVE): | deps
	$(FETCH) src musl=$(MUSL_VERSION)-1 $(MUSL_ORIG)
else
MUSL_ARCHIVE := $(MUSL_TARBALL)
endif

# Our patches (musl/patches/, applied in name order, each says why) on the pristine tree.
MUSL_PATCHES := $(sort $(wildcard $(TOP)/musl/patches/*.patch))

$(MUSL_SRC)/.extracted: $(MUSL_ARCHIVE) $(MUSL_PATCHES) | deps
	@mkdir -p $(B)
	$(UNPACK) '$(MUSL_ORIG)' '$<' '$(MUSL_SRC)' musl-$(MUSL_VERSION)
	@for p in $(MUSL_PATCHES); do \
		patch -d $(MUSL_SRC) -p1 -s --no-backup-if-mismatch < $$p || \
		{ echo "musl: $$p does not apply" >&2; rm -rf $(MUSL_SRC); exit 1; }; done
	touch $@

# One recipe from configure to install: the only product others use is the wrapper, and musl's
# own make is incremental if a later step fails. The crypt() check runs on the fresh install.
$(MUSL_GCC): $(MUSL_SRC)/.extracted $(TOP)/musl/check_crypt.c
	$(call banner,musl $(MUSL_VERSION))
	[ -f $(MUSL_SRC)/config.mak ] || (cd $(MUSL_SRC) && \
		./configure --prefix=$(MUSL_PREFIX) --disable-shared CC=gcc >/dev/null)
	nice $(MAKE) -C $(MUSL_SRC) -j$(JOBS) >/dev/null
	$(MAKE) -C $(MUSL_SRC) install >/dev/null
	$(MUSL_PREFIX)/bin/musl-gcc -static -Os -o $(B)/musl-check-crypt $(TOP)/musl/check_crypt.c
	$(B)/musl-check-crypt
	touch $@
