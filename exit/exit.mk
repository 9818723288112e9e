# The exit for a VPS: make exit-bundle -> out/mpsocks-exit.tar.gz, the static mpslink (the link's
# exit) and sockd (the plain exit, --user) with the launcher files `mpsocks exit` needs and a
# systemd unit. Byte-identical for one commit:
# fixed order, owner and mtime (the commit's time), gzip without name or time.
EXIT_BUNDLE := $(O)/mpsocks-exit.tar.gz
EXIT_STAGE := $(B)/mpsocks-exit
EXIT_FILES := $(TOP)/tools/mpsocks $(TOP)/tools/version $(wildcard $(TOP)/tools/lib/*.sh) $(TOP)/tools/deps $(TOP)/exit/mpsocks-exit.service \
	$(TOP)/exit/exit.env.example $(TOP)/exit/install $(TOP)/exit/README.md
EXIT_EPOCH = $(shell git -C '$(TOP)' log -1 --format=%ct 2>/dev/null || echo 0)
# tools/version's answer, rewritten only when it changes (a commit changes it, not any file's
# mtime): the bundle's VERSION follows it (make deb checks the bundle is of its version).
EXIT_VERSION_STAMP := $(B)/exit-version

.PHONY: exit-bundle exit-version-check
exit-bundle: $(EXIT_BUNDLE)

$(EXIT_VERSION_STAMP): exit-version-check
	@mkdir -p $(@D)
	@$(TOP)/tools/version | cmp -s - $@ || $(TOP)/tools/version > $@

$(EXIT_BUNDLE): $(O)/bin/sockd $(MPSLINK) $(EXIT_FILES) $(TOP)/exit/exit.mk $(EXIT_VERSION_STAMP)
	$(call banner,exit bundle)
	rm -rf '$(EXIT_STAGE)' && mkdir -p '$(EXIT_STAGE)/lib'
	install -m 0755 '$(TOP)/tools/mpsocks' '$(TOP)/tools/deps' '$(TOP)/exit/install' '$(O)/bin/sockd' '$(MPSLINK)' '$(EXIT_STAGE)/'
	install -m 0644 $(wildcard $(TOP)/tools/lib/*.sh) '$(EXIT_STAGE)/lib/'
	install -m 0644 '$(TOP)/exit/mpsocks-exit.service' '$(TOP)/exit/exit.env.example' \
		'$(TOP)/exit/README.md' '$(EXIT_STAGE)/'
	'$(TOP)/tools/version' > '$(EXIT_STAGE)/VERSION'
	tar -C '$(B)' --sort=name --mtime=@$(EXIT_EPOCH) --owner=0 --group=0 --numeric-owner \
		-cf - mpsocks-exit | gzip -9 -n > '$@.tmp'
	mv '$@.tmp' '$@'

# The exit group of make test unpacks the bundle as a VPS would.
test: $(EXIT_BUNDLE)
