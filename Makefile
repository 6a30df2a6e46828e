# SPDX-License-Identifier: GPL-2.0
# bootshake: top-level Makefile.  Kbuild builds the module; this file
# drives it and everything else.
KVER ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build) \
		    $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: all module clean
