# SPDX-License-Identifier: GPL-2.0
#
# bootshake: top-level Makefile.  Kbuild (./Kbuild) builds the module; this
# file drives it, the helper, the selftests and the VM.
#
#   make                 module + helper + selftests
#   make check           static checks + the whole suite in a QEMU guest
#   make demo            boot the guest, plug an emulated BROM, show it
#   make deps            install the Debian packages all of this needs
#   make install         module, helper, man page, udev + modprobe.d files
#
# KVER picks the kernel to build for; KDIR overrides the headers' path.
# When the running kernel has no headers (these build hosts), the newest
# installed Debian linux-headers-*-amd64 is used: the guest boots the
# matching linux-image.

KVER ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
		    $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
KLINE ?= 6.1
C ?= 0

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

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

demo: deps-if-missing
	$(MAKE) all
	selftests/vm/run-vm.sh --kernel $(KLINE) --timeout 300 -- selftests/demo.sh

checkpatch: deps-if-missing
	selftests/static-checks.sh checkpatch

sparse: deps-if-missing
	selftests/static-checks.sh sparse

install: module helper
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates modules_install
	install -D -m 0755 user/bootshake $(DESTDIR)$(SBINDIR)/bootshake

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C user clean
	$(MAKE) -C selftests clean

.PHONY: all module helper selftests deps deps-if-missing check demo \
	checkpatch sparse install clean
