# init: the C PID 1 of the guest (static musl, stripped) -> $(O)/bin/init, plus its host-built
# unit tests and libFuzzer harnesses. One object per module, with gcc's dependency files, so
# editing one init/*.c recompiles that file and relinks.
INIT_DIR := $(TOP)/init
INIT_OBJDIR := $(B)/init
INIT_SRCS := $(wildcard $(INIT_DIR)/*.c)
INIT_OBJS := $(patsubst $(INIT_DIR)/%.c,$(INIT_OBJDIR)/%.o,$(INIT_SRCS))
INIT_HEADERS := $(wildcard $(INIT_DIR)/*.h)
INIT_CFLAGS := -std=c11 -D_GNU_SOURCE $(GUEST_CFLAGS) -MMD -MP

.PHONY: init
init: $(O)/bin/init

# The kernel's uapi headers (6.12) after musl's: only linux/*.h come from there.
$(INIT_OBJDIR)/%.o: $(INIT_DIR)/%.c $(MUSL_GCC) $(KHDR)/.installed
	@mkdir -p $(@D)
	$(MUSL_GCC) -isystem $(KHDR)/include $(INIT_CFLAGS) -c -o $@ $<

$(O)/bin/init: $(INIT_OBJS) $(MUSL_GCC)
	$(call banner,init)
	@mkdir -p $(@D)
	$(MUSL_GCC) $(GUEST_LDFLAGS) -o $@.tmp $(INIT_OBJS)
	mv $@.tmp $@

# The status page goes in by .incbin, which gcc's dependency files do not see.
PAGE_HTML_DEF := -DPAGE_HTML='"$(INIT_DIR)/page.html"'
$(INIT_OBJDIR)/page.o: INIT_CFLAGS += $(PAGE_HTML_DEF)
$(INIT_OBJDIR)/page.o: $(INIT_DIR)/page.html

-include $(INIT_OBJS:.o=.d)

# Unit tests: host cc against the host's uapi headers; each links the modules it tests.
INIT_TEST_CC ?= cc
INIT_TEST_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -I$(INIT_DIR) $(PAGE_HTML_DEF)
INIT_TESTS := cmdline netlink sockdconf supervise users ready loop info uplinkctl linkentry httpd rates mpblock
init_test_srcs = $(addprefix $(INIT_DIR)/,$(1))
INIT_TEST_MODULES_cmdline := cmdline.c
INIT_TEST_MODULES_netlink := netlink.c genl.c rtnl.c mptcp.c
INIT_TEST_MODULES_sockdconf := sockdconf.c cmdline.c textbuf.c
INIT_TEST_MODULES_supervise := supervise.c log.c
INIT_TEST_MODULES_users := users.c fileio.c
INIT_TEST_LIBS_users := -lcrypt
INIT_TEST_MODULES_ready := ready.c fileio.c
INIT_TEST_MODULES_loop := loop.c log.c
INIT_TEST_MODULES_info := info.c diag.c status.c rates.c mpblock.c linkentry.c cmdline.c netlink.c log.c loop.c textbuf.c fileio.c
INIT_TEST_MODULES_httpd := httpd.c status.c diag.c rates.c mpblock.c linkentry.c cmdline.c netlink.c log.c loop.c textbuf.c fileio.c page.c
INIT_TEST_MODULES_rates := rates.c diag.c netlink.c
INIT_TEST_MODULES_mpblock := mpblock.c log.c
INIT_TEST_MODULES_uplinkctl := uplinkctl.c log.c
INIT_TEST_MODULES_linkentry := linkentry.c cmdline.c textbuf.c fileio.c

define init_unit_test
UNIT_TESTS += $(B)/tests/test_$(1)
$(B)/tests/test_$(1): $(TOP)/tests/unit/test_$(1).c $(call init_test_srcs,$(INIT_TEST_MODULES_$(1))) $(INIT_HEADERS) $(TOP)/tests/unit/check.h
	@mkdir -p $$(@D)
	$$(INIT_TEST_CC) $$(INIT_TEST_CFLAGS) -o $$@ $$(filter %.c,$$^) $(INIT_TEST_LIBS_$(1))
endef
$(foreach t,$(INIT_TESTS),$(eval $(call init_unit_test,$(t))))

# PID 1 end to end on the host: the built init (and sockd) in fresh namespaces (needs root).
UNIT_TESTS += $(B)/tests/test_pid1
$(B)/tests/test_pid1: $(TOP)/tests/unit/test_pid1.c $(TOP)/tests/unit/check.h $(O)/bin/init
	@mkdir -p $(@D)
	$(INIT_TEST_CC) $(INIT_TEST_CFLAGS) -DINIT_BIN='"$(O)/bin/init"' -DSOCKD_BIN='"$(O)/bin/sockd"' \
		-DOVERLAY_ETC='"$(TOP)/rootfs-overlay/etc"' -o $@ $< -lcrypt

# libFuzzer harnesses (clang, libclang-rt-14-dev); tests/ runs them bounded.
INIT_FUZZ_CC ?= clang
INIT_FUZZ_CFLAGS := -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$(INIT_DIR)
FUZZ_TARGETS += $(B)/tests/fuzz_cmdline $(B)/tests/fuzz_netlink

$(B)/tests/fuzz_cmdline: $(TOP)/tests/fuzz/fuzz_cmdline.c $(INIT_DIR)/cmdline.c $(INIT_HEADERS)
	@mkdir -p $(@D)
	$(INIT_FUZZ_CC) $(INIT_FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(B)/tests/fuzz_netlink: $(TOP)/tests/fuzz/fuzz_netlink.c $(addprefix $(INIT_DIR)/,netlink.c genl.c mptcp.c) $(INIT_HEADERS)
	@mkdir -p $(@D)
	$(INIT_FUZZ_CC) $(INIT_FUZZ_CFLAGS) -o $@ $(filter %.c,$^)
