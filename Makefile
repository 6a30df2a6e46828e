# SPDX-License-Identifier: GPL-2.0
#
# bootshake: top-level Makefile.  Kbuild (./Kbuild) builds the module; this
# file drives it, the helper, the selftests and the VM.
#
#   make                 module + helper + selftests
#   make check           static checks + the whole suite in a QEMU guest
#   make check KLINE=7.2 the same on another kernel line (6.1 6.12 7.2);
#                        KVER=7.2 says the same (a line name as KVER)
#   make check-matrix    the suite on every line in KLINES
#   make check-all       what CI runs: check-matrix, then check-install
#   make check-debug     the suite, fault matrix, stress and fuzzing under a
#                        debug kernel (KASAN, lockdep, kmemleak)
#   make kernels         fetch the lines' kernels, build the module for each
#   make demo            boot the guest, plug an emulated BROM, show it
#   make deps            install the Debian packages all of this needs
#   make uapi            regenerate include/uapi/linux/bootshake.h from the
#                        netlink spec with the kernel's ynl-gen-c.py
#   make install         module, helper, man page, udev, modprobe.d, unit
#   make uninstall       remove them again (DESTDIR, PREFIX honoured)
#   make dkms-install    the module through DKMS
#   make deb             Debian packages bootshake-dkms, bootshake and
#                        bootshake-dev (and the source package)
#   make lintian         lintian --pedantic on them: silent when clean
#   make check-install   install the packages in a guest root, plug, purge
#
# KVER picks the kernel to build for; KDIR overrides the headers' path.
# When the running kernel has no headers (these build hosts), the newest
# installed Debian linux-headers-*-amd64 is used: the guest boots the
# matching linux-image.
#
# KLINE is the kernel line the guest boots: 6.1 (bookworm, the host's own),
# 6.12 (trixie) or 7.2 (sid).  The other lines' headers, kernels and the
# module built against them come from scripts/kernels.sh (a debootstrap
# tree per release, cached in $BSK_CACHE; module in out/<abi>/).
# A KVER that names a line rather than a kernel release (make check
# KVER=7.2, as issue 9 spells it) is taken as KLINE (an explicit KLINE
# wins), and the host build keeps its default kernel.

BSK_LINES := 6.1 6.12 7.2
ifneq ($(filter $(BSK_LINES),$(KVER)),)
KLINE := $(KVER)
override KVER := $(shell uname -r)
endif
KVER ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
		    $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
KLINE ?= 6.1
KLINES ?= 6.1 6.12 7.2
C ?= 0

# Install locations (make install / uninstall; see the install section).
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/bootshake
EXAMPLESDIR ?= $(DOCDIR)/examples
INCLUDEDIR ?= $(PREFIX)/include
# pyynl (the kernel's tools/net/ynl) looks for specs in /usr/share/ynl/specs.
YNLSPECDIR ?= $(PREFIX)/share/ynl/specs
# udev, kmod, systemd and bash-completion never look under /usr/local: a
# local install goes to /etc, a distribution's (PREFIX=/usr) where its
# pkg-config files say (udev's udevdir, systemd's systemdsystemunitdir and
# catalogdir, bash-completion's completionsdir): /lib/... on bookworm,
# /usr/lib/... on merged-/usr trixie and sid.  modprobe.d sits beside
# udev's directory (kmod reads both /lib/modprobe.d and /usr/lib/modprobe.d).
bsk_pc = $(shell pkg-config --variable=$(2) $(1) 2>/dev/null)
ifeq ($(PREFIX),/usr)
UDEVDIR ?= $(or $(call bsk_pc,udev,udevdir),/lib/udev)
UDEVRULESDIR ?= $(UDEVDIR)/rules.d
MODPROBEDIR ?= $(patsubst %/udev,%/modprobe.d,$(UDEVDIR))
UNITDIR ?= $(or $(call bsk_pc,systemd,systemdsystemunitdir),/lib/systemd/system)
CATALOGDIR ?= $(or $(call bsk_pc,systemd,catalogdir),/usr/lib/systemd/catalog)
COMPLETIONSDIR ?= $(or $(call bsk_pc,bash-completion,completionsdir),/usr/share/bash-completion/completions)
else
UDEVRULESDIR ?= /etc/udev/rules.d
MODPROBEDIR ?= /etc/modprobe.d
UNITDIR ?= /etc/systemd/system
CATALOGDIR ?= /usr/local/lib/systemd/catalog
COMPLETIONSDIR ?= /etc/bash_completion.d
endif
DEPMOD ?= depmod
# The kernel release the module is built for and installed under, from the
# headers (Debian's kbuild reports the upstream version, e.g. 6.1.192, as
# KERNELRELEASE; the modules directory is named after UTS_RELEASE).
KREL ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# The packages' version, also DKMS's: debian/changelog's first entry.
PKG_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DKMS_SRCDIR = /usr/src/bootshake-$(PKG_VERSION)

all: module helper selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=$(C) modules

helper:
	$(MAKE) -C user

selftests:
	$(MAKE) -C selftests

deps:
	scripts/deps.sh

# Install what is missing first, so a fresh Debian machine needs nothing.
deps-if-missing:
	@scripts/deps.sh --check >/dev/null 2>&1 || scripts/deps.sh

check: deps-if-missing
	$(MAKE) all
	selftests/check.sh --kernel $(KLINE)

# The suite + fault matrix + stress + chaos devices + netlink fuzzer under a
# KASAN/lockdep/kmemleak kernel built from linux-source-6.1 (cached:
# scripts/debug-kernel.sh).  Hours, not minutes: see README.md.
check-debug: deps-if-missing
	$(MAKE) helper selftests
	selftests/check-debug.sh
.PHONY: check-debug

# Everything CI runs (.ci/run): check-matrix, then check-install.
check-all: deps-if-missing
	selftests/check-all.sh

check-matrix: deps-if-missing
	$(MAKE) all
	selftests/check.sh $(foreach l,$(KLINES),--kernel $(l))

kernels: deps-if-missing
	@set -e; for l in $(filter-out 6.1,$(KLINES)); do scripts/kernels.sh $$l; done

demo: deps-if-missing
	$(MAKE) all
	k=$$(scripts/kernels.sh $(KLINE)) && \
		BSK_KO=$$(printf '%s\n' "$$k" | sed -n 's/^ko=//p') && export BSK_KO && \
		selftests/vm/run-vm.sh --kernel $(KLINE) --timeout 300 -- selftests/demo.sh

# The handshake benchmark (issue 7; Documentation/benchmarks.rst): one guest
# with 32 dummy_hcd ports, bootshake against libusb and tty contenders, the
# table on stdout and out/bench.json.  About 10 minutes; not part of check.
# BENCH_DOC=1 also rewrites the table in Documentation/benchmarks.rst;
# BENCH_ARGS go to the in-guest runner (e.g. "--plugs1 10" for a quick look).
bench: deps-if-missing
	$(MAKE) all
	selftests/bench/run.sh $(if $(BENCH_DOC),--doc) -- $(BENCH_ARGS)

.PHONY: bench

# The uapi header is generated from Documentation/netlink/specs/bootshake.yaml
# by the kernel's ynl-gen-c.py (linux-source-6.12, scripts/deps.sh);
# `make check` fails when the two differ.
uapi: deps-if-missing
	selftests/spec-check.py --write

checkpatch: deps-if-missing
	selftests/static-checks.sh checkpatch

sparse: deps-if-missing
	selftests/static-checks.sh sparse

# ------------------------------------------------------------------ install
#
# These targets are for packagers and for machines that build from a
# checkout.  A lab machine should rather install the packages (make deb,
# then apt install ./out/deb/bootshake-dkms_*.deb ./out/deb/bootshake_*.deb)
# or use DKMS: both rebuild the module when a new kernel is installed,
# `make install` does not.
#
#   make install         module into /lib/modules/<KREL>/updates/ (depmod),
#                        helper (SBINDIR), man page (MANDIR, when
#                        Documentation/bootshake.8 exists), udev rules,
#                        modprobe.d softdeps, bootshake-monitor.service,
#                        the lab-automation job rule and
#                        bootshake-job@.service, the example job
#                        (EXAMPLESDIR/job), the journal catalog
#                        (CATALOGDIR), bash completion (COMPLETIONSDIR, when
#                        dist/bootshake.bash-completion exists), the fleet's
#                        journal-upload/-remote examples (EXAMPLESDIR), the
#                        admin guide and design doc (DOCDIR); and
#                        install-dev: the uapi header
#                        (INCLUDEDIR/linux/bootshake.h) and the netlink spec
#                        (YNLSPECDIR/bootshake.yaml)
#   make uninstall       removes exactly those files (depmod again)
#   make dkms-install    module source to /usr/src/bootshake-<version>/,
#                        then dkms add, build and install for KREL
#   make dkms-uninstall  dkms remove --all, and the source
#   make deb             out/deb/bootshake-dkms_<v>_all.deb,
#                        out/deb/bootshake_<v>_<arch>.deb and
#                        out/deb/bootshake-dev_<v>_all.deb (debhelper)
#
# DESTDIR and PREFIX are honoured; depmod runs when
# $(DESTDIR)/lib/modules/<KREL> holds a module tree (modules.dep), i.e. for
# a real root, not for a staging directory.

BSK_UNIT := bootshake-monitor.service
BSK_JOB_UNIT := bootshake-job@.service
BSK_RULES := 60-bootshake.rules 60-bootshake-job.rules
BSK_COMPLETION := $(wildcard dist/bootshake.bash-completion)
BSK_EXAMPLES := journal-upload.conf journal-remote.conf
BSK_DOCS := admin-guide.rst design.rst

install: install-module install-helper install-dist install-dev
	@if [ -z "$(DESTDIR)" ]; then \
		udevadm control --reload 2>/dev/null || true; \
		journalctl --update-catalog 2>/dev/null || true; \
		[ ! -d /run/systemd/system ] || systemctl daemon-reload || true; \
		echo "installed; to log events: systemctl enable --now $(BSK_UNIT)"; \
	fi

install-module: module
	@[ -n "$(KREL)" ] || { echo "no kernel headers at KDIR='$(KDIR)'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates KERNELRELEASE=$(KREL) modules_install
	$(call bsk_depmod)

# The helper, through user/Makefile's install, and the man page.  The bash
# completion is installed with the dist files (COMPLETIONSDIR).
install-helper: helper
	$(MAKE) -C user install DESTDIR=$(DESTDIR) BINDIR=$(SBINDIR)
	if [ -f Documentation/bootshake.8 ]; then \
		install -D -m 0644 Documentation/bootshake.8 \
			$(DESTDIR)$(MANDIR)/man8/bootshake.8; \
	fi

# The udev rules (ModemManager; the job per device), modprobe.d, the units
# (the helper's path filled in) and the example job for bootshake-job@.
install-dist:
	install -d $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 $(addprefix dist/,$(BSK_RULES)) $(DESTDIR)$(UDEVRULESDIR)/
	install -D -m 0644 dist/bootshake.conf $(DESTDIR)$(MODPROBEDIR)/bootshake.conf
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(BSK_UNIT) $(BSK_JOB_UNIT); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' dist/$$u.in >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -D -m 0644 dist/bootshake-job.example $(DESTDIR)$(EXAMPLESDIR)/job
	for f in $(BSK_EXAMPLES); do \
		install -m 0644 dist/$$f.example $(DESTDIR)$(EXAMPLESDIR)/$$f || exit 1; \
	done
	install -m 0644 $(addprefix Documentation/,$(BSK_DOCS)) $(DESTDIR)$(DOCDIR)/
	install -D -m 0644 dist/bootshake.catalog $(DESTDIR)$(CATALOGDIR)/bootshake.catalog
	$(if $(BSK_COMPLETION),install -D -m 0644 $(BSK_COMPLETION) \
		$(DESTDIR)$(COMPLETIONSDIR)/bootshake)

# For programs that use the family without the helper: the uapi header and
# the YNL spec (bootshake-dev).
install-dev:
	install -D -m 0644 include/uapi/linux/bootshake.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/bootshake.h
	install -D -m 0644 Documentation/netlink/specs/bootshake.yaml \
		$(DESTDIR)$(YNLSPECDIR)/bootshake.yaml

# The DKMS source tree: what kbuild needs, and dkms.conf with the version.
install-dkms-src:
	install -d $(DESTDIR)$(DKMS_SRCDIR)/kmod $(DESTDIR)$(DKMS_SRCDIR)/include/uapi/linux
	install -m 0644 Kbuild $(DESTDIR)$(DKMS_SRCDIR)/
	install -m 0644 $(wildcard kmod/*.c kmod/*.h) $(DESTDIR)$(DKMS_SRCDIR)/kmod/
	install -m 0644 include/uapi/linux/bootshake.h \
		$(DESTDIR)$(DKMS_SRCDIR)/include/uapi/linux/
	sed 's/#MODULE_VERSION#/$(PKG_VERSION)/' dkms.conf \
		>$(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

bsk_depmod = if [ -f "$(DESTDIR)/lib/modules/$(KREL)/modules.dep" ]; then \
		$(DEPMOD) -b "$(or $(DESTDIR),/)" $(KREL); fi

uninstall:
	@if [ -n "$(KREL)" ]; then \
		set -x; \
		rm -f $(addprefix $(DESTDIR)/lib/modules/$(KREL)/updates/bootshake.ko,'' .xz .gz .zst); \
		rmdir --ignore-fail-on-non-empty $(DESTDIR)/lib/modules/$(KREL)/updates 2>/dev/null || true; \
		$(bsk_depmod); \
	else \
		echo "uninstall: no kernel headers, module left in place (set KREL=<release>)" >&2; \
	fi
	rm -f $(DESTDIR)$(SBINDIR)/bootshake $(DESTDIR)$(MANDIR)/man8/bootshake.8 \
		$(addprefix $(DESTDIR)$(UDEVRULESDIR)/,$(BSK_RULES)) \
		$(DESTDIR)$(MODPROBEDIR)/bootshake.conf \
		$(DESTDIR)$(UNITDIR)/$(BSK_UNIT) '$(DESTDIR)$(UNITDIR)/$(BSK_JOB_UNIT)' \
		$(DESTDIR)$(EXAMPLESDIR)/job \
		$(addprefix $(DESTDIR)$(EXAMPLESDIR)/,$(BSK_EXAMPLES)) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(BSK_DOCS)) \
		$(DESTDIR)$(CATALOGDIR)/bootshake.catalog \
		$(DESTDIR)$(COMPLETIONSDIR)/bootshake \
		$(DESTDIR)$(INCLUDEDIR)/linux/bootshake.h \
		$(DESTDIR)$(YNLSPECDIR)/bootshake.yaml
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(DOCDIR) \
		$(dir $(DESTDIR)$(DOCDIR)) 2>/dev/null
	-rmdir --ignore-fail-on-non-empty $(DESTDIR)$(CATALOGDIR) \
		$(DESTDIR)$(COMPLETIONSDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(YNLSPECDIR) $(dir $(DESTDIR)$(YNLSPECDIR)) 2>/dev/null
	-[ "$(PREFIX)" = /usr ] || rmdir --ignore-fail-on-non-empty \
		$(dir $(DESTDIR)$(CATALOGDIR)) 2>/dev/null
	@if [ -z "$(DESTDIR)" ]; then \
		udevadm control --reload 2>/dev/null || true; \
		journalctl --update-catalog 2>/dev/null || true; \
		[ ! -d /run/systemd/system ] || systemctl daemon-reload || true; \
	fi

dkms-install:
	@[ -n "$(KREL)" ] || { echo "no kernel headers at KDIR='$(KDIR)'" >&2; exit 1; }
	@command -v dkms >/dev/null || { echo "dkms is not installed" >&2; exit 1; }
	@if dkms status bootshake/$(PKG_VERSION) | grep -q .; then \
		echo "bootshake/$(PKG_VERSION) is in DKMS already: make dkms-uninstall first" >&2; \
		exit 1; \
	fi
	rm -rf $(DKMS_SRCDIR)
	$(MAKE) install-dkms-src DESTDIR=
	dkms add bootshake/$(PKG_VERSION)
	dkms install bootshake/$(PKG_VERSION) -k $(KREL) || \
		{ cat /var/lib/dkms/bootshake/$(PKG_VERSION)/build/make.log >&2; exit 1; }

dkms-uninstall:
	if dkms status bootshake/$(PKG_VERSION) | grep -q .; then \
		dkms remove bootshake/$(PKG_VERSION) --all; \
	fi
	rm -rf $(DKMS_SRCDIR)

# Packages, built from a copy of the checkout's files (tracked and new, not
# ignored) in out/deb/, so debhelper's files stay out of the tree.
DEB_DIR := out/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/bootshake-$(PKG_VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard; \
	else \
		find . \( -path ./out -o -path ./.git \) -prune -o -type f -print0; \
	fi | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | \
		tar -x -C $(DEB_DIR)/bootshake-$(PKG_VERSION)
	mkdir -p $(DEB_DIR)/src
	cp -a $(DEB_DIR)/bootshake-$(PKG_VERSION) $(DEB_DIR)/src/
	cd $(DEB_DIR)/bootshake-$(PKG_VERSION) && \
		dpkg-buildpackage -b -us -uc $(DEB_BUILD_FLAGS)
	cd $(DEB_DIR)/src && dpkg-source -b bootshake-$(PKG_VERSION) >/dev/null
	@ls -l $(DEB_DIR)/*.deb $(DEB_DIR)/src/*.dsc

# lintian --pedantic on the source package and the binary packages of
# `make deb`: prints nothing and exits 0 when they are clean.
LINTIAN_OUT = $(DEB_DIR)/lintian.log
lintian:
	@[ -f $(DEB_DIR)/src/bootshake_$(PKG_VERSION).dsc ] || $(MAKE) deb
	@lintian --pedantic --fail-on error,warning,info,pedantic \
		$(DEB_DIR)/src/bootshake_$(PKG_VERSION).dsc \
		$(filter-out %-dbgsym_$(PKG_VERSION)_$(shell dpkg --print-architecture).deb,$(wildcard $(DEB_DIR)/*.deb)) \
		2>&1 | grep -v '^running with root privileges' | tee $(LINTIAN_OUT); \
		[ ! -s $(LINTIAN_OUT) ]

check-install: deps-if-missing
	$(MAKE) all deb
	selftests/tests/install.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C user clean
	$(MAKE) -C selftests clean

.PHONY: all module helper selftests deps deps-if-missing check check-all check-matrix \
	kernels demo uapi \
	checkpatch sparse install install-module install-helper install-dist \
	install-dkms-src install-dev uninstall dkms-install dkms-uninstall deb lintian \
	check-install \
	clean
