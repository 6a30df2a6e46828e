#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-root.sh - a Debian bookworm root file system for the install
# test (selftests/tests/install.sh), built once and cached; prints its path.
#
#   selftests/vm/install-root.sh [--abi ABI]
#
# The tree is what a lab machine has before `apt install ./bootshake*.deb`:
#   debootstrap --variant=minbase bookworm, plus systemd, udev, kmod,
#   procps, the helper's libraries (libnl-genl-3-200, libjson-c5), dkms
#   (which pulls gcc, make, dpkg-dev) and what the kernel headers depend on
#   (linux-compiler-gcc-12-x86, libelf1, libssl3): what bootshake-dkms needs
#   to build the module at install time; for the fleet view
#   (selftests/tests/fleet-guest.sh) systemd-journal-remote (the receiver
#   and systemd-journal-upload), iproute2 (network namespaces) and jq;
#   the guest kernel's modules: the files of the host's linux-image-<abi>
#   package (the guest boots that kernel), depmod'ed in the tree;
#   its headers: the files of the host's linux-headers-<abi>,
#   linux-headers-<abi minus flavour>-common and linux-kbuild-<line> packages.  Copied,
#   not apt-installed: the archive may no longer carry the host's ABI, and
#   they must match the guest kernel exactly.
# ABI defaults to the newest 6.1 kernel the host has with image, modules
# and headers (run-vm.sh --kernel 6.1 boots the newest image).
#
# The tree is never changed once built (marker .bsk-root): the test runs on
# an overlay of it.  It lives in $BSK_CACHE/install-root/<abi>-<key>/, the key
# covering the ABI, the host's kernel package versions, the package list
# and this script; trees of other keys unused for a day are removed.
#
# Needs root (debootstrap, chroot) and network access to the Debian mirror
# the host's apt uses (BSK_MIRROR overrides) for the first build.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SELF=$VM_DIR/$(basename "${BASH_SOURCE[0]}")
CACHE=${BSK_CACHE:-/var/cache/bootshake}
TOP=$CACHE/install-root
SUITE=bookworm
FORMAT=1
INCLUDE=systemd,udev,kmod,procps,libnl-genl-3-200,libjson-c5,dkms,systemd-journal-remote,iproute2,jq

log() { printf 'install-root: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

ABI=
while [ $# -gt 0 ]; do
	case $1 in
	--abi) ABI=${2:?--abi needs a value}; shift 2 ;;
	-h | --help) sed -n '/^#   selftests/p' "$SELF" | sed 's/^# *//' >&2; exit 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap not installed (make deps)"

if [ -z "$ABI" ]; then
	for d in /lib/modules/6.1.*-amd64; do
		[ -d "$d" ] || continue
		a=${d##*/}
		[ -f "/boot/vmlinuz-$a" ] && [ -d "/usr/src/linux-headers-$a" ] || continue
		ABI=$(printf '%s\n' "$ABI" "$a" | sed '/^$/d' | sort -V | tail -n1)
	done
	[ -n "$ABI" ] || die "no 6.1 kernel with image, modules and headers on the host (make deps)"
fi
kline=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$ABI")
KPKGS=("linux-image-$ABI" "linux-headers-$ABI" "linux-headers-${ABI%-*}-common" "linux-kbuild-$kline")
for p in "${KPKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		die "$p is not installed on the host"
done

# What the headers need to build a module (the compiler, objtool's libelf...):
# their own dependencies, less the kernel packages copied from the host.
kdeps=$(dpkg-query -W -f='${Depends}\n' "${KPKGS[@]:1}" | tr ',' '\n' |
	sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d' |
	grep -vxF -f <(printf '%s\n' "${KPKGS[@]}") | LC_ALL=C sort -u | paste -sd,)
INCLUDE=$INCLUDE${kdeps:+,$kdeps}

key=$( {
	echo "format=$FORMAT suite=$SUITE abi=$ABI include=$INCLUDE"
	dpkg-query -W -f='${Package}=${Version}\n' "${KPKGS[@]}"
	sha256sum "$SELF" | cut -d' ' -f1
} | sha256sum | cut -c1-12)
TREE=$TOP/$ABI-$key
if [ -f "$TREE/.bsk-root" ]; then
	touch "$TREE/.bsk-root"
	printf '%s\n' "$TREE"
	exit 0
fi

mkdir -p "$TOP"
exec 9>"$TOP/.lock"
flock -w 1800 9 || die "cannot lock $TOP/.lock"
if [ -f "$TREE/.bsk-root" ]; then # built by another run meanwhile
	printf '%s\n' "$TREE"
	exit 0
fi

# host_mirror: the Debian mirror the host's apt uses (not -security).
host_mirror() {
	local f u
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		for u in $(sed -n 's/^URIs:[[:space:]]*//p' "$f"); do
			case $u in
			*security*) ;;
			*/debian | */debian/) printf '%s\n' "${u%/}"; return 0 ;;
			esac
		done
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		u=$(sed -n -E 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+\/debian\/?)[[:space:]].*/\2/p' "$f" |
			grep -v security | head -n1)
		[ -z "$u" ] || { printf '%s\n' "${u%/}"; return 0; }
	done
	echo http://deb.debian.org/debian
}
MIRROR=${BSK_MIRROR:-$(host_mirror)}

t0=$SECONDS
NEW=$TREE.new
rm -rf "$NEW"
log "debootstrap $SUITE ($INCLUDE) from $MIRROR into $NEW (once; a few minutes)"
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$NEW" "$MIRROR" \
	>"$TOP/debootstrap.log" 2>&1 || {
	tail -n 20 "$TOP/debootstrap.log" >&2
	die "debootstrap failed (log: $TOP/debootstrap.log)"
}

# No daemons from maintainer scripts in a chroot; a machine id for journald.
printf '#!/bin/sh\nexit 101\n' >"$NEW/usr/sbin/policy-rc.d"
chmod 0755 "$NEW/usr/sbin/policy-rc.d"
chroot "$NEW" /usr/bin/systemd-machine-id-setup >/dev/null

# The kernel's files, exactly as the host's packages installed them.
log "copying ${KPKGS[*]} from the host"
for p in "${KPKGS[@]}"; do
	dpkg -L "$p"
done | LC_ALL=C sort -u | grep -v '^/boot/' |
	tar -C / --no-recursion -T - -cf - 2>/dev/null | tar -C "$NEW" --keep-directory-symlink -xf -
# /lib/modules/<abi>/build points to /usr/src/linux-headers-<abi>: copied.
chroot "$NEW" /sbin/depmod -a "$ABI"
[ -f "$NEW/lib/modules/$ABI/modules.dep" ] || die "depmod in the tree failed"
[ -e "$NEW/lib/modules/$ABI/build/include/generated/utsrelease.h" ] ||
	die "the headers were not copied (no $ABI/build/include in the tree)"

# apt's own state file, which any apt-get install creates (debootstrap
# does not): a lab machine has it.
touch "$NEW/var/lib/apt/extended_states"
chroot "$NEW" /usr/bin/apt-get clean
printf 'suite=%s abi=%s key=%s built=%s\n' "$SUITE" "$ABI" "$key" "$(date -u +%FT%TZ)" \
	>"$NEW/.bsk-root"
mv "$NEW" "$TREE"
log "built $TREE in $((SECONDS - t0)) s"

# Trees of other keys that no run has used for a day.
find "$TOP" -mindepth 2 -maxdepth 2 -name .bsk-root -mtime +0 -printf '%h\n' |
	while IFS= read -r old; do
		[ "$old" = "$TREE" ] || rm -rf "$old"
	done
printf '%s\n' "$TREE"
