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

# Succeed when file $(1) has the sha256 pinned for $(2) in $(HASHES).
musl_verify = want=$$(awk -v f='$(2)' '$$1 == "sha256" && $$3 == f { print $$2 }' '$(HASHES)'); \
	got=$$(sha256sum '$(1)' | cut -d' ' -f1); \
	[ -n "$$want" ] && [ "$$got" = "$$want" ] || \
	{ echo "musl: $(1): sha256 $$got, pinned $$want for $(2)" >&2; exit 1; }

ifeq ($(MUSL_TARBALL),)
MUSL_ARCHIVE := $(DL)/$(MUSL_ORIG)
$(MUSL_ARCHIVE): | deps
	$(FETCH) src musl=$(MUSL_VERSION)-1 $(MUSL_ORIG)
else
MUSL_ARCHIVE := $(MUSL_TARBALL)
endif

$(MUSL_SRC)/.extracted: $(MUSL_ARCHIVE) | deps
	@$(call musl_verify,$<,$(MUSL_ORIG))
	rm -rf $(MUSL_SRC) && mkdir -p $(B)
	tar -xzf $< -C $(B)
	@[ -f $(MUSL_SRC)/configure ] || { echo "musl: $< did not unpack to $(MUSL_SRC)" >&2; exit 1; }
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
