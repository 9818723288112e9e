# dante 1.4.2's sockd from Debian's source package: static, musl, stripped, linked with the
# socket()/setsockopt()/connect() wrappers of sockd/mptcp_socket.c so that its TCP sockets are MPTCP
# (but to loopback), and
# the getspnam() wrapper of sockd/own_users.c so that the exit has users of its own.
DANTE_VERSION := 1.4.2
DANTE_ORIG := dante_$(DANTE_VERSION)+dfsg.orig.tar.xz
# A local archive instead of apt; checked against the pinned sha256 of $(DANTE_ORIG) all the same.
DANTE_TARBALL ?=
# Built inside the unpacked tree: dante's configure writes generated headers relative to the
# current directory, so an out-of-tree build fails.
DANTE_DIR := $(B)/dante
SOCKD_OBJ := $(B)/sockd-mptcp
# Everything sockd can do without that we do not need: no client library, no preloading, no
# external authentication libraries, no pidfile (init supervises sockd in the foreground).
DANTE_CONFIGURE := --disable-client --disable-preload --disable-pidfile \
	--disable-shared --enable-static --without-libwrap --without-pam --without-gssapi \
	--without-krb5 --without-sasl --without-ldap --without-upnp --without-bsdauth \
	--without-glibc-secure --with-sockd-conf=/etc/sockd.conf
# Given to dante's make, not to configure: configure's link tests cannot take libtool's
# -all-static (without which libtool links dynamically), and configure appends -O2 -ggdb.
# SOCKD_BUFSIZE: dante keeps four buffers per session of this size (64 KiB by default), touched
# as data backs up; 200 busy sessions then took ~100 MiB and the guest's OOM killer ended sockd.
# 16 KiB (2 MiB per 32-session io child) keeps throughput; UDP, which needs a whole datagram in
# one buffer, is not offered (command: connect).
SOCKD_BUFSIZE := 16384
DANTE_CFLAGS_BASE := -Os -ffunction-sections -fdata-sections
DANTE_CFLAGS := $(DANTE_CFLAGS_BASE) -DSOCKD_BUFSIZE=$(SOCKD_BUFSIZE)
DANTE_LDFLAGS := -all-static -Wl,--gc-sections -Wl,--wrap=socket -Wl,--wrap=setsockopt \
	-Wl,--wrap=connect -Wl,--wrap=getspnam

.PHONY: sockd
sockd: $(O)/bin/sockd

ifeq ($(DANTE_TARBALL),)
DANTE_ARCHIVE := $(DL)/$(DANTE_ORIG)
$(DANTE_ARCHIVE): | deps
	$(FETCH) src dante=$(DANTE_VERSION)+dfsg-7 $(DANTE_ORIG)
else
DANTE_ARCHIVE := $(DANTE_TARBALL)
endif

# Our patches (sockd/patches/, applied in name order) on the pristine tree.
DANTE_PATCHES := $(sort $(wildcard $(TOP)/sockd/patches/*.patch))

$(DANTE_DIR)/.extracted: $(DANTE_ARCHIVE) $(DANTE_PATCHES) | deps
	@mkdir -p $(B)
	$(UNPACK) '$(DANTE_ORIG)' '$<' '$(DANTE_DIR)' dante-$(DANTE_VERSION)+dfsg
	@for p in $(DANTE_PATCHES); do \
		patch -d $(DANTE_DIR) -p1 -s --no-backup-if-mismatch < $$p || \
		{ echo "sockd: $$p does not apply" >&2; rm -rf $(DANTE_DIR); exit 1; }; done
	touch $@

# CPP must be given: configure's own guess (musl-gcc -E) keeps line markers that break its
# header probes. LDFLAGS=-static: our musl has no dynamic loader, so configure's test programs
# must be static to run. sched_setscheduler=no: musl stubs sched_getscheduler() (ENOSYS), and
# sockd would die at startup querying it; we configure no CPU scheduling anyway.
DANTE_ARGS := CC=$(MUSL_GCC) CPP='$(MUSL_GCC) -E -P' CFLAGS='$(DANTE_CFLAGS)' LDFLAGS=-static \
	ac_cv_func_sched_setscheduler=no $(DANTE_CONFIGURE)
# Rewritten only when the arguments change, so that only then configure runs again.
DANTE_ARGS_STAMP := $(B)/dante.configure-args
$(DANTE_ARGS_STAMP): sockd-args-check
	@mkdir -p $(@D)
	@printf '%s\n' '$(subst ',,$(DANTE_ARGS))' | cmp -s - $@ || printf '%s\n' '$(subst ',,$(DANTE_ARGS))' > $@
.PHONY: sockd-args-check

$(DANTE_DIR)/config.status: $(DANTE_DIR)/.extracted $(DANTE_ARGS_STAMP) $(MUSL_GCC)
	$(call banner,sockd dante $(DANTE_VERSION))
	cd $(DANTE_DIR) && nice ./configure $(DANTE_ARGS) > configure.out 2>&1 || \
		{ tail -20 configure.out; echo "sockd: configure failed, see $(DANTE_DIR)/configure.out" >&2; exit 1; }
	@# New arguments (CFLAGS among them) must reach every object, not only those make sees stale.
	$(MAKE) -C $(DANTE_DIR) clean > /dev/null
	touch $@

# Our objects in sockd: the link-time wrappers, and route_credentials (called by
# sockd/patches/route-own-credentials.patch, which includes its header from sockd/).
SOCKD_WRAPPERS := $(SOCKD_OBJ)/mptcp_socket.o $(SOCKD_OBJ)/own_users.o \
	$(SOCKD_OBJ)/route_credentials.o
$(SOCKD_OBJ)/%.o: $(TOP)/sockd/%.c $(TOP)/sockd/%.h $(MUSL_GCC)
	@mkdir -p $(@D)
	$(MUSL_GCC) -std=c11 $(GUEST_CFLAGS) -c -o $@ $<

# dante's own make is incremental; our objects ride in through LIBS. dante's makefile
# does not know them, so the binary is removed to have it linked again when one changed.
$(DANTE_DIR)/sockd/sockd: $(DANTE_DIR)/config.status $(SOCKD_WRAPPERS)
	$(call banner,sockd dante $(DANTE_VERSION))
	rm -f $@
	nice $(MAKE) -C $(DANTE_DIR) -j$(JOBS) CFLAGS='$(DANTE_CFLAGS) -I$(TOP)/sockd' LDFLAGS='$(DANTE_LDFLAGS)' \
		LIBS='$(SOCKD_WRAPPERS)' > $(DANTE_DIR)/make.out 2>&1 || \
		{ tail -30 $(DANTE_DIR)/make.out; echo "sockd: build failed, see $(DANTE_DIR)/make.out" >&2; exit 1; }
	touch $@

# make bench's buffers row: the same sockd with SOCKD_BUFSIZE_B, built in a copy of the
# configured tree (everything recompiled: the size is in the structures).
SOCKD_BUFSIZE_B := 32768
DANTE_DIR_B := $(B)/dante-bufsize-$(SOCKD_BUFSIZE_B)
$(DANTE_DIR_B)/sockd/sockd: $(DANTE_DIR)/sockd/sockd
	$(call banner,sockd dante $(DANTE_VERSION) with $(SOCKD_BUFSIZE_B)-byte buffers (bench))
	rm -rf '$(DANTE_DIR_B)'
	cp -a '$(DANTE_DIR)' '$(DANTE_DIR_B)'
	$(MAKE) -C $(DANTE_DIR_B) clean > /dev/null
	nice $(MAKE) -C $(DANTE_DIR_B) -j$(JOBS) \
		CFLAGS='$(DANTE_CFLAGS_BASE) -DSOCKD_BUFSIZE=$(SOCKD_BUFSIZE_B) -I$(TOP)/sockd' \
		LDFLAGS='$(DANTE_LDFLAGS)' LIBS='$(SOCKD_WRAPPERS)' > $(DANTE_DIR_B)/make.out 2>&1 || \
		{ tail -30 $(DANTE_DIR_B)/make.out; echo "sockd: build failed, see $(DANTE_DIR_B)/make.out" >&2; exit 1; }
	touch $@

# Refuse a binary that lost the wrappers or is not static: it would run, just without MPTCP.
$(O)/bin/sockd: $(DANTE_DIR)/sockd/sockd
	@nm $< | grep -q ' T __wrap_socket$$' && nm $< | grep -q ' T __wrap_setsockopt$$' && \
		nm $< | grep -q ' T __wrap_connect$$' || \
		{ echo "sockd: $< lacks the MPTCP socket wrappers" >&2; exit 1; }
	@nm $< | grep -q ' T __wrap_getspnam$$' || \
		{ echo "sockd: $< lacks the getspnam wrapper (sockd/own_users.c)" >&2; exit 1; }
	@file $< | grep -q 'statically linked' || { echo "sockd: $< is not static: $$(file -b $<)" >&2; exit 1; }
	@mkdir -p $(@D)
	strip -o $@ $<

UNIT_TESTS += $(B)/tests/test_mptcp_socket
$(B)/tests/test_mptcp_socket: $(TOP)/tests/unit/test_mptcp_socket.c $(TOP)/sockd/mptcp_socket.c \
		$(TOP)/sockd/mptcp_socket.h $(TOP)/tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O2 -I$(TOP)/sockd -I$(TOP)/tests/unit -o $@ \
		$(TOP)/tests/unit/test_mptcp_socket.c $(TOP)/sockd/mptcp_socket.c

UNIT_TESTS += $(B)/tests/test_own_users
$(B)/tests/test_own_users: $(TOP)/tests/unit/test_own_users.c $(TOP)/sockd/own_users.c \
		$(TOP)/sockd/own_users.h $(TOP)/tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O2 -I$(TOP)/sockd -I$(TOP)/tests/unit -o $@ \
		$(TOP)/tests/unit/test_own_users.c $(TOP)/sockd/own_users.c -lcrypt

UNIT_TESTS += $(B)/tests/test_route_credentials
$(B)/tests/test_route_credentials: $(TOP)/tests/unit/test_route_credentials.c \
		$(TOP)/sockd/route_credentials.c $(TOP)/sockd/route_credentials.h \
		$(TOP)/sockd/own_users.c $(TOP)/sockd/own_users.h $(TOP)/tests/unit/check.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -O2 -I$(TOP)/sockd -I$(TOP)/tests/unit -o $@ \
		$(TOP)/tests/unit/test_route_credentials.c $(TOP)/sockd/route_credentials.c \
		$(TOP)/sockd/own_users.c
