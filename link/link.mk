# link: mpslink, the encrypted link between the appliance and its exit (link/, exit/README.md),
# static musl, with mbedTLS 3.6 LTS from Debian 13's source package (bookworm's 2.28 has no
# TLS 1.3), configured down to what the link uses (link/mbedtls_config.h).
MBEDTLS_VERSION := 3.6.6
MBEDTLS_ORIG := mbedtls_$(MBEDTLS_VERSION).orig.tar.bz2
# A local archive instead of apt; checked against the pinned sha256 of $(MBEDTLS_ORIG) all the same.
MBEDTLS_TARBALL ?=
MBEDTLS_SRC := $(B)/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_LIBS := $(MBEDTLS_SRC)/library/libmbedtls.a $(MBEDTLS_SRC)/library/libmbedcrypto.a
# everest/: the X25519 of HACL* that ecdh.h includes (MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED).
MBEDTLS_INCLUDES := -isystem '$(MBEDTLS_SRC)/include' -isystem '$(MBEDTLS_SRC)/3rdparty/everest/include'
LINK_DIR := $(TOP)/link
LINK_OBJDIR := $(B)/link
LINK_SRCS := $(wildcard $(LINK_DIR)/*.c)
LINK_OBJS := $(patsubst $(LINK_DIR)/%.c,$(LINK_OBJDIR)/%.o,$(LINK_SRCS))
MPSLINK := $(O)/bin/mpslink

.PHONY: mbedtls link
mbedtls: $(MBEDTLS_SRC)/.built
link: $(MPSLINK)

ifeq ($(MBEDTLS_TARBALL),)
MBEDTLS_ARCHIVE := $(DL)/$(MBEDTLS_ORIG)
$(MBEDTLS_ARCHIVE): | deps
	$(FETCH) src mbedtls=$(MBEDTLS_VERSION)-0.1~deb13u1 $(MBEDTLS_ORIG)
else
MBEDTLS_ARCHIVE := $(MBEDTLS_TARBALL)
endif

$(MBEDTLS_SRC)/.extracted: $(MBEDTLS_ARCHIVE) | deps
	@mkdir -p $(B)
	$(UNPACK) '$(MBEDTLS_ORIG)' '$<' '$(MBEDTLS_SRC)' mbedtls-$(MBEDTLS_VERSION)
	touch $@

# Our configuration replaces the library's own, so the library and mpslink see the same one.
$(MBEDTLS_SRC)/.built: $(MBEDTLS_SRC)/.extracted $(LINK_DIR)/mbedtls_config.h $(MUSL_GCC)
	$(call banner,mbedtls $(MBEDTLS_VERSION))
	cp '$(LINK_DIR)/mbedtls_config.h' '$(MBEDTLS_SRC)/include/mbedtls/mbedtls_config.h'
	$(MAKE) -C '$(MBEDTLS_SRC)/library' clean >/dev/null
	nice $(MAKE) -C '$(MBEDTLS_SRC)/library' -j$(JOBS) CC='$(MUSL_GCC)' \
		CFLAGS='-Os -ffunction-sections -fdata-sections' libmbedtls.a libmbedcrypto.a >/dev/null
	touch $@

$(LINK_OBJDIR)/%.o: $(LINK_DIR)/%.c $(MBEDTLS_SRC)/.built $(KHDR)/.installed
	@mkdir -p $(@D)
	$(MUSL_GCC) -std=c11 -D_GNU_SOURCE $(GUEST_CFLAGS) -isystem $(KHDR)/include $(MBEDTLS_INCLUDES) -MMD -MP -c -o $@ $<

$(MPSLINK): $(LINK_OBJS)
	$(call banner,mpslink)
	@mkdir -p $(@D)
	$(MUSL_GCC) $(GUEST_LDFLAGS) -o $@.tmp $(LINK_OBJS) $(MBEDTLS_LIBS)
	mv $@.tmp $@

-include $(LINK_OBJS:.o=.d)

# make test's link group runs both ends on the host.
test: $(MPSLINK)

# Unit tests of the pure parts, static against the same mbedTLS; a fuzz harness of the request.
UNIT_TESTS += $(B)/tests/test_link
$(B)/tests/test_link: $(TOP)/tests/unit/test_link.c $(LINK_DIR)/request.c $(LINK_DIR)/key.c $(LINK_DIR)/dest.c \
		$(LINK_DIR)/net.c $(wildcard $(LINK_DIR)/*.h) $(TOP)/tests/unit/check.h $(MBEDTLS_SRC)/.built $(KHDR)/.installed
	@mkdir -p $(@D)
	$(MUSL_GCC) -std=c11 -D_GNU_SOURCE -O1 -static -Wall -Wextra -I$(LINK_DIR) -isystem $(KHDR)/include $(MBEDTLS_INCLUDES) \
		-o $@ $(filter %.c,$^) $(MBEDTLS_LIBS)

FUZZ_TARGETS += $(B)/tests/fuzz_link_request
$(B)/tests/fuzz_link_request: $(TOP)/tests/fuzz/fuzz_link_request.c $(LINK_DIR)/request.c $(LINK_DIR)/request.h
	@mkdir -p $(@D)
	$(INIT_FUZZ_CC) -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I$(LINK_DIR) -o $@ $(filter %.c,$^)
