#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - get one of the kernel lines bootshake is tested on and build
# the module for it.
#
#   scripts/kernels.sh [--offline] [--no-build] LINE      LINE: 6.1 6.12 7.2
#
#   6.1   bookworm, the host's own: its installed linux-image/linux-headers
#         (scripts/deps.sh installs them); the module is built on the host
#         by `make module`, so nothing is done here but reporting.
#   6.12  trixie \  a debootstrap tree of that release (its compiler, libc and
#   7.2   sid    /  linux-headers; never upgrade the host for them) in
#                   $BSK_CACHE/trees/<suite>/.  In it: apt-get update, pick the
#                   newest linux-headers-<line>.*-amd64 the archive has now,
#                   install it, download the matching image package(s) and
#                   extract vmlinuz + the modules tree (depmod'ed by the host's
#                   kmod, which the guest uses) to $BSK_CACHE/kernels/<abi>/,
#                   then build the module in the tree with W=1 into
#                   <repo>/out/<abi>/bootshake.ko (build log beside it).
#
# Everything is cached and keyed by version: a second run only refreshes the
# package lists (--offline skips even that) and rebuilds the module
# (--no-build skips that).  When the archive moves to a new version of the
# line, the new headers and kernel are fetched, then the older ones removed.
# Cold, a line costs a few minutes (debootstrap, gcc, headers, kernel: about
# 0.6-0.9 GB per tree plus 140 MB per kernel); warm, about half a minute.
#
# Prints key=value lines on stdout (progress goes to stderr):
#   line= suite= abi= version= vmlinuz= moddir= ko= buildlog=
#
# Environment:
#   BSK_CACHE    cache directory (default /var/cache/bootshake)
#   BSK_MIRROR   Debian mirror (default: the one the host's apt uses)
#
# Needs root (debootstrap, chroot) and the debootstrap package.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${BSK_CACHE:-/var/cache/bootshake}
OFFLINE=false
BUILD=true
# Packages every tree gets from debootstrap (perl: W=1 runs kernel-doc,
# which needs more than perl-base); the compiler comes with the headers
# (linux-headers-<abi> depends on its gcc-NN and linux-kbuild).
TREE_INCLUDE=make,libc6-dev,perl,xz-utils

log() { printf 'kernels: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '/^#   scripts\/kernels.sh/p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--offline) OFFLINE=true; shift ;;
	--no-build) BUILD=false; shift ;;
	-h | --help) usage ;;
	-*) log "unknown option $1"; usage ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || usage
LINE=$1

case $LINE in
6.1) SUITE=bookworm ;;
6.12) SUITE=trixie ;;
7.2) SUITE=sid ;;
*) die "unknown kernel line '$LINE' (known: 6.1 6.12 7.2)" ;;
esac

# ------------------------------------------------------------------- 6.1

if [ "$LINE" = 6.1 ]; then
	hdr=$(printf '%s\n' /usr/src/linux-headers-6.1.*-amd64 | grep -v '\*' | sort -V | tail -n1)
	[ -n "$hdr" ] || die "no linux-headers-6.1.*-amd64 on the host (scripts/deps.sh)"
	abi=${hdr##*/linux-headers-}
	[ -f "/boot/vmlinuz-$abi" ] || die "no /boot/vmlinuz-$abi (scripts/deps.sh)"
	ver=$(dpkg-query -W -f='${Version}' "linux-image-$abi" 2>/dev/null || echo unknown)
	printf '%s\n' "line=$LINE" "suite=$SUITE" "abi=$abi" "version=$ver" \
		"vmlinuz=/boot/vmlinuz-$abi" "moddir=/lib/modules/$abi" \
		"ko=$REPO/bootshake.ko" "buildlog="
	exit 0
fi

# ------------------------------------------------------------- the tree

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap not installed (scripts/deps.sh)"

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

TREES=$CACHE/trees
TREE=$TREES/$SUITE
mkdir -p "$TREES" "$CACHE/kernels"

# One run per tree at a time (another checkout may share the cache).
exec 9>"$TREES/$SUITE.lock"
flock -w 3600 9 || die "cannot lock $TREES/$SUITE.lock"

MOUNTS=()
cleanup() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -l "${MOUNTS[$i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

# in_tree CMD...: run CMD in the tree with a clean environment.
in_tree() {
	chroot "$TREE" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}

if [ ! -f "$TREE/.bsk-tree" ]; then
	t0=$SECONDS
	log "debootstrap $SUITE from $MIRROR into $TREE (once; takes a minute or two)"
	rm -rf "$TREE.new"
	debootstrap --variant=minbase --include="$TREE_INCLUDE" \
		"$SUITE" "$TREE.new" "$MIRROR" >"$TREES/$SUITE.debootstrap.log" 2>&1 || {
		tail -n 20 "$TREES/$SUITE.debootstrap.log" >&2
		die "debootstrap $SUITE failed (log: $TREES/$SUITE.debootstrap.log)"
	}
	# No daemons from package scripts; no docs or man pages (space); no
	# fsync per file (a cache: a tree broken by a crash is made anew).
	printf '#!/bin/sh\nexit 101\n' >"$TREE.new/usr/sbin/policy-rc.d"
	chmod 0755 "$TREE.new/usr/sbin/policy-rc.d"
	cat >"$TREE.new/etc/dpkg/dpkg.cfg.d/bootshake" <<-'EOF'
		force-unsafe-io
		path-exclude=/usr/share/doc/*
		path-exclude=/usr/share/man/*
		path-exclude=/usr/share/locale/*
	EOF
	echo "suite=$SUITE mirror=$MIRROR" >"$TREE.new/.bsk-tree.tmp"
	rm -rf "$TREE"
	mv "$TREE.new" "$TREE"
	mv "$TREE/.bsk-tree.tmp" "$TREE/.bsk-tree"
	log "debootstrap $SUITE took $((SECONDS - t0)) s"
	OFFLINE=false # fresh lists come with it, but update once anyway
fi

# apt in the tree wants /proc (and /dev/pts for some scripts).
for m in proc dev/pts; do
	mountpoint -q "$TREE/$m" && continue
	mkdir -p "$TREE/$m"
	case $m in
	proc) mount -t proc proc "$TREE/proc" ;;
	dev/pts) mount -t devpts -o newinstance,ptmxmode=0666 devpts "$TREE/dev/pts" ;;
	esac
	MOUNTS+=("$TREE/$m")
done
cp -L /etc/resolv.conf "$TREE/etc/resolv.conf" 2>/dev/null || true
# The tree's apt follows the host's on Check-Valid-Until: where the host's
# archive is a frozen snapshot (its Release files expired), so is the tree's.
{
	echo 'APT::Install-Recommends "false";'
	echo 'APT::Install-Suggests "false";'
	echo 'Acquire::Languages "none";'
	apt-config dump Acquire::Check-Valid-Until 2>/dev/null | grep -i '"false"' || true
} >"$TREE/etc/apt/apt.conf.d/90bootshake"

if ! $OFFLINE; then
	t0=$SECONDS
	in_tree apt-get update -qq >"$TREES/$SUITE.apt.log" 2>&1 || {
		tail -n 20 "$TREES/$SUITE.apt.log" >&2
		die "apt-get update in the $SUITE tree failed"
	}
	log "apt-get update ($SUITE) took $((SECONDS - t0)) s"
fi

# An install cut short by an earlier run is finished first.
in_tree dpkg --configure -a >>"$TREES/$SUITE.apt.log" 2>&1 || true

# Trees made before a package joined TREE_INCLUDE get it now.
want=()
for p in ${TREE_INCLUDE//,/ }; do
	in_tree dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		want+=("$p")
done
if [ ${#want[@]} -gt 0 ]; then
	log "installing ${want[*]} in the $SUITE tree"
	in_tree apt-get install -y -qq "${want[@]}" >>"$TREES/$SUITE.apt.log" 2>&1 || {
		tail -n 20 "$TREES/$SUITE.apt.log" >&2
		die "apt-get install ${want[*]} failed"
	}
fi

# ------------------------------------------------------ pick the version

# The newest linux-headers-<LINE>.*-amd64 (plain flavour: no -rt, -cloud)
# that has a matching linux-image package.
lre=${LINE//./\\.}
abi=
for p in $(in_tree apt-cache pkgnames linux-headers- |
	grep -E "^linux-headers-$lre\.[0-9][^-]*(-[0-9]+)?-amd64\$" | sort -rV); do
	a=${p#linux-headers-}
	if in_tree apt-cache show --no-all-versions "linux-image-$a" >/dev/null 2>&1; then
		abi=$a
		break
	fi
done
[ -n "$abi" ] || die "no linux-headers-$LINE.*-amd64 with a matching linux-image in $SUITE"
ver=$(in_tree apt-cache show --no-all-versions "linux-headers-$abi" | sed -n 's/^Version: //p' | head -n1)
log "$SUITE: newest $LINE kernel is $abi ($ver)"

# ----------------------------------------------------------- the headers

hdir=/usr/src/linux-headers-$abi
if [ "$(in_tree dpkg-query -W -f='${Status} ${Version}' "linux-headers-$abi" 2>/dev/null)" != "install ok installed $ver" ]; then
	t0=$SECONDS
	log "installing linux-headers-$abi in the $SUITE tree"
	in_tree apt-get install -y -qq "linux-headers-$abi" >>"$TREES/$SUITE.apt.log" 2>&1 || {
		tail -n 20 "$TREES/$SUITE.apt.log" >&2
		die "apt-get install linux-headers-$abi failed"
	}
	in_tree apt-get clean
	log "headers took $((SECONDS - t0)) s"
fi
[ -f "$TREE$hdir/Makefile" ] || die "$hdir/Makefile missing in the $SUITE tree"

# ------------------------------------------------------------ the kernel

KDIR_OUT=$CACHE/kernels/$abi
if [ "$(cat "$KDIR_OUT/.bsk-version" 2>/dev/null)" != "$ver" ] ||
	[ ! -f "$KDIR_OUT/vmlinuz" ] || [ ! -f "$KDIR_OUT/lib/modules/$abi/modules.dep" ]; then
	t0=$SECONDS
	# linux-image-<abi> is the kernel package on trixie and a meta package
	# on sid (kernel in linux-binary-<abi>, modules in linux-modules-<abi>).
	pkgs=$( {
		echo "linux-image-$abi"
		in_tree apt-cache depends "linux-image-$abi" |
			awk -v abi="$abi" '$1 ~ /Depends:$/ && index($2, "linux-") == 1 &&
				substr($2, length($2) - length(abi) + 1) == abi { print $2 }' 
	} | sort -u)
	pkgs=${pkgs//$'\n'/ }
	log "fetching $pkgs"
	dl=/var/cache/bsk-kernel-debs
	rm -rf "${TREE:?}$dl"
	mkdir -p "$TREE$dl"
	chown _apt "$TREE$dl" 2>/dev/null || chmod 0777 "$TREE$dl"
	in_tree sh -c "cd $dl && apt-get download -qq $pkgs" \
		>>"$TREES/$SUITE.apt.log" 2>&1 || {
		tail -n 20 "$TREES/$SUITE.apt.log" >&2
		die "apt-get download $pkgs failed"
	}
	stage=$CACHE/kernels/.$abi.new
	rm -rf "$stage" "$TREE/var/cache/bsk-kernel-x"
	mkdir -p "$stage"
	for deb in "$TREE$dl"/*.deb; do
		# The tree's dpkg-deb: it knows every compression its release uses.
		in_tree dpkg-deb -x "$dl/${deb##*/}" /var/cache/bsk-kernel-x ||
			die "cannot extract ${deb##*/}"
	done
	mv "$TREE/var/cache/bsk-kernel-x" "$stage/x.tree"
	rm -rf "${TREE:?}$dl"
	x=$stage/x.tree
	vmlinuz=
	for v in "$x/boot/vmlinuz-$abi" "$x/usr/lib/modules/$abi/vmlinuz" "$x/lib/modules/$abi/vmlinuz"; do
		[ -f "$v" ] && { vmlinuz=$v; break; }
	done
	[ -n "$vmlinuz" ] || die "no vmlinuz in $pkgs"
	mods=
	for m in "$x/usr/lib/modules/$abi" "$x/lib/modules/$abi"; do
		[ -d "$m/kernel" ] && { mods=$m; break; }
	done
	[ -n "$mods" ] || die "no modules tree in $pkgs"
	mv "$vmlinuz" "$stage/vmlinuz"
	mkdir -p "$stage/lib/modules"
	mv "$mods" "$stage/lib/modules/$abi"
	rm -rf "$x"
	# modules.dep for the guest's modprobe, which is the host's kmod.
	depmod -b "$stage" "$abi" || die "depmod failed for $abi"
	echo "$ver" >"$stage/.bsk-version"
	rm -rf "$KDIR_OUT"
	mv "$stage" "$KDIR_OUT"
	log "kernel $abi ($ver) in $KDIR_OUT, took $((SECONDS - t0)) s"
fi

# Older versions of the line, once the new one is complete: their kernels
# and headers go (run-vm.sh boots the newest kernel of a line in the cache).
for d in "$CACHE/kernels/$LINE".*; do
	if [ ! -d "$d" ] || [ "${d##*/}" = "$abi" ]; then
		continue
	fi
	log "removing the older kernel ${d##*/}"
	rm -rf "$d"
done
old=$(in_tree dpkg-query -W -f='${Package} ${Status}\n' "linux-headers-$LINE.*-amd64" 2>/dev/null |
	awk -v keep="linux-headers-$abi" '$1 != keep && $NF == "installed" { print $1 }')
if [ -n "$old" ]; then
	log "removing the older headers $(echo $old)"
	# shellcheck disable=SC2086 # one word per package
	in_tree apt-get purge -y -qq --autoremove $old >>"$TREES/$SUITE.apt.log" 2>&1 ||
		log "warning: could not remove $(echo $old) from the $SUITE tree"
fi

# ------------------------------------------------------------ the module

out=$REPO/out/$abi
ko=$out/bootshake.ko
buildlog=$out/build.log
if $BUILD; then
	t0=$SECONDS
	# A build directory per checkout: the tree may be shared.
	b=/build/$(printf '%s' "$REPO" | sha256sum | cut -c1-12)
	rm -rf "${TREE:?}$b"
	mkdir -p "$TREE$b/kmod"
	cp "$REPO/Kbuild" "$TREE$b/"
	cp "$REPO"/kmod/*.[ch] "$TREE$b/kmod/"
	cp -r "$REPO/include" "$TREE$b/"
	mkdir -p "$out"
	rm -f "$ko"
	rc=0
	in_tree make -C "$hdir" M="$b" W=1 modules >"$buildlog" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || grep -qE 'warning:|error:' "$buildlog"; then
		grep -E 'warning:|error:' "$buildlog" >&2 || tail -n 20 "$buildlog" >&2
		die "W=1 build against $abi failed or warned (log: $buildlog)"
	fi
	cp "$TREE$b/bootshake.ko" "$ko"
	log "bootshake.ko for $abi built in $((SECONDS - t0)) s: $ko"
fi

printf '%s\n' "line=$LINE" "suite=$SUITE" "abi=$abi" "version=$ver" \
	"vmlinuz=$KDIR_OUT/vmlinuz" "moddir=$KDIR_OUT/lib/modules/$abi" \
	"ko=$ko" "buildlog=$buildlog"
