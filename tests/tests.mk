# tests: the test runner, the offline multipath test bed and the benchmarks.
#   make test    every offline test (unit, fuzz, launcher usage, bed, end-to-end through the
#                guest); ends with "N passed, M failed". Needs root: re-runs through sudo.
#   make bench   the benchmark table (tests/bench/run). Needs root too.
#   make test TESTS=proxy,auth   only those groups of tests/run (tests/run --list).
#   make bench ROWS=ceiling,buffers   only those rows of tests/bench/run.
# Other fragments append to UNIT_TESTS and FUZZ_TARGETS and build them; this one builds the
# bed's MPTCP server and measuring client with the host compiler.

TEST_CC ?= cc
TEST_CFLAGS := -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra
TESTS_BIN := $(B)/tests
MPTCP_SERVER := $(TESTS_BIN)/mptcp_server
MPTCP_GET := $(TESTS_BIN)/mptcp_get
TEST_TOOLS := $(MPTCP_SERVER) $(MPTCP_GET)
TEST_HEADERS := $(wildcard $(TOP)/tests/server/*.h)
FUZZ_SECONDS ?= 30

$(MPTCP_SERVER): $(addprefix $(TOP)/tests/server/,mptcp_server.c subflows.c request.c sha256.c pattern.c) \
		$(TOP)/link/net.c $(TOP)/link/net.h $(TEST_HEADERS)
	$(call banner,tests mptcp_server)
	@mkdir -p $(@D)
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(filter %.c,$^)

$(MPTCP_GET): $(addprefix $(TOP)/tests/server/,mptcp_get.c socks5.c sha256.c) $(TEST_HEADERS)
	$(call banner,tests mptcp_get)
	@mkdir -p $(@D)
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(filter %.c,$^)

# Root is needed for network namespaces; a normal user goes through sudo (env kept explicitly).
TEST_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
TEST_ENV = env UNIT_TESTS='$(UNIT_TESTS)' FUZZ_TARGETS='$(FUZZ_TARGETS)' \
	MPTCP_SERVER='$(MPTCP_SERVER)' MPTCP_GET='$(MPTCP_GET)' MPSOCKS='$(TOP)/tools/mpsocks' \
	KERNEL='$(O)/bzImage' INITRD='$(INITRAMFS)' FUZZ_SECONDS='$(FUZZ_SECONDS)' HW_USB='$(HW_USB)' \
	O='$(O)' B='$(B)'

# make soak: group soak for SOAK_MINUTES (60 here; make test runs it for 5). Not in CI.
SOAK_MINUTES ?= 60

.PHONY: test bench soak test-tools
test-tools: $(TEST_TOOLS)

test: all $(UNIT_TESTS) $(FUZZ_TARGETS) $(TEST_TOOLS)
	$(call banner,tests (tests/run; logs under $(O)/test-logs))
	@$(TEST_SUDO) $(TEST_ENV) $(TOP)/tests/run $(if $(TESTS),--only $(TESTS))

soak: all $(TEST_TOOLS)
	$(call banner,soak ($(SOAK_MINUTES) min; logs under $(O)/test-logs))
	@$(TEST_SUDO) $(TEST_ENV) SOAK_MINUTES='$(SOAK_MINUTES)' $(TOP)/tests/run --only soak

bench: all $(TEST_TOOLS) $(INITRAMFS_B)
	$(call banner,bench (tests/bench/run))
	@$(TEST_SUDO) $(TEST_ENV) BENCH_INITRD_B='$(INITRAMFS_B)' BENCH_BUFSIZE='$(SOCKD_BUFSIZE)' \
		BENCH_BUFSIZE_B='$(SOCKD_BUFSIZE_B)' $(TOP)/tests/bench/run $(if $(ROWS),--only $(ROWS))
