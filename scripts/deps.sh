#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package bootshake needs to build, test and demo,
# and unpack the parts of Debian's linux-source-6.1 that the build uses
# (kselftest_harness.h, checkpatch.pl and its include/ for CamelCase
# seeding), and the kernel's netlink tools from Debian's linux-source-6.12
# (bookworm-security carries it; tools/net/ynl and the
# Documentation/netlink schemas: selftests/spec-check.py, the ynl test).
# Idempotent: does nothing when everything is there.
#
#   scripts/deps.sh [--check]     --check: only report what is missing
set -euo pipefail

CACHE=${BSK_CACHE:-/var/cache/bootshake}
SRC_PKG=linux-source-6.1
YNL_PKG=linux-source-6.12
PKGS=(
	build-essential make gcc pkg-config
	linux-headers-amd64 linux-image-amd64
	qemu-system-x86 busybox-static cpio kmod xz-utils
	libnl-3-dev libnl-genl-3-dev libjson-c-dev
	"$SRC_PKG" sparse python3-ply python3-yaml
	dfu-util libusb-1.0-0-dev debootstrap
	"$YNL_PKG" python3-jsonschema
	debhelper dh-dkms dkms dpkg-dev
	lintian bash-completion
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done

src_dir=$CACHE/src/$SRC_PKG
src_ok=false
# The stamp names what an unpacking holds: bump it when that changes.
stamp=$src_dir/.bsk-extracted-2
[ -f "$stamp" ] && src_ok=true
ynl_dir=$CACHE/src/$YNL_PKG
ynl_stamp=$ynl_dir/.bsk-extracted-ynl-1
ynl_ok=false
# Unpacked again when the package is upgraded.
[ -f "$ynl_stamp" ] &&
	[ "$(cat "$ynl_dir/.bsk-version" 2>/dev/null)" = "$(dpkg-query -W -f='${Version}' "$YNL_PKG" 2>/dev/null)" ] &&
	ynl_ok=true
$ynl_ok || src_ok=false

if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] && $src_ok && exit 0
	echo "missing: ${missing[*]} $($src_ok || echo "$SRC_PKG/$YNL_PKG (unpacked)")"
	exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || { echo "deps: need root to install packages" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The guest kernel image must match the headers the module is built with.
abi=$(basename "$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n1)")
abi=${abi#linux-headers-}
if [ ! -e "/boot/vmlinuz-$abi" ]; then
	echo "deps: installing linux-image-$abi to match the headers"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-image-$abi" >/dev/null
fi

if [ ! -f "$stamp" ]; then
	echo "deps: unpacking parts of $SRC_PKG into $src_dir"
	mkdir -p "$CACHE/src"
	tar -C "$CACHE/src" -xf /usr/src/$SRC_PKG.tar.xz \
		"$SRC_PKG/include" "$SRC_PKG/scripts" \
		"$SRC_PKG/COPYING" "$SRC_PKG/CREDITS" "$SRC_PKG/Kbuild" \
		"$SRC_PKG/MAINTAINERS" "$SRC_PKG/Makefile" "$SRC_PKG/README" \
		"$SRC_PKG/tools/testing/selftests/kselftest_harness.h" \
		"$SRC_PKG/tools/testing/selftests/kselftest.h"
	# checkpatch.pl --root wants a kernel tree's top level (its
	# top_of_kernel_tree()); the directories it only tests for exist.
	mkdir -p "$src_dir"/{Documentation,arch,drivers,fs,init,ipc,kernel,lib}
	touch "$stamp"
fi

# The kernel's ynl tools (cli.py, ynl-gen-c.py, lib/) and the netlink specs'
# schemas, from the $YNL_PKG installed.  Outside /tmp: the test guest runs
# cli.py from the host's root (9p, read-only).
if ! $ynl_ok; then
	echo "deps: unpacking tools/net/ynl and Documentation/netlink of $YNL_PKG into $ynl_dir"
	rm -rf "$ynl_dir"
	mkdir -p "$CACHE/src"
	tar -C "$CACHE/src" -xf /usr/src/$YNL_PKG.tar.xz \
		"$YNL_PKG/tools/net/ynl" "$YNL_PKG/Documentation/netlink" \
		"$YNL_PKG/COPYING"
	dpkg-query -W -f='${Version}' "$YNL_PKG" >"$ynl_dir/.bsk-version"
	touch "$ynl_stamp"
fi
