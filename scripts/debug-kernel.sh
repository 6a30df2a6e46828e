#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - build (once per machine) the debug guest kernel that
# `make check-debug` boots: Debian's linux-source-6.1, `make tinyconfig`
# plus selftests/vm/debug.config (KASAN, lockdep, DEBUG_OBJECTS, kmemleak,
# the USB/gadget/9p pieces of the test bed), and optionally build
# bootshake.ko against it.
#
#   scripts/debug-kernel.sh [--flavour kasan|kcsan] [--ko OUTDIR] [--rebuild] [--jobs N]
#
# --flavour (default kasan): kasan is the fragment above; kcsan merges
# selftests/vm/kcsan.config after it (KASAN off, KCSAN on: the two cannot
# be combined), a second build with its own cache key and kernel release.
#
# The kernel is cached outside the clone, keyed by the source package's
# version, the fragment, this script's build format and the compiler:
#
#   $BSK_CACHE/debug-kernel/src/linux-source-6.1_<version>/   full source
#   $BSK_CACHE/debug-kernel/<key>/                            one build:
#       vmlinuz                 the bzImage
#       lib/modules/<krel>/     modules (depmod'ed), build -> build/
#       build/                  the O= object tree, objects removed: what
#                               `make -C build M=... modules` needs (a
#                               headers-equivalent tree; uses src/ above)
#       config                  the final .config
#       info                    the key=value lines printed below
#       build.log               the kernel build's output
#
# <krel> (uname -r in the guest) is 6.1.<n>-bskdbg-<hash>; run-vm.sh
# --vmlinuz/--moddir boots it (guest-init.sh shows the modules at
# /lib/modules/<krel> in the guest, so plain `modprobe cdc_acm` works).
#
# --ko OUTDIR: also build bootshake.ko (W=1, with -g for faddr2line) from
# a copy of Kbuild, kmod/ and include/ in OUTDIR/src, leaving it as
# OUTDIR/bootshake-debug.kmod (not *.ko, which `make clean` deletes);
# the repository's own objects are not touched.
# OUTDIR must be visible in the guest (not under /tmp): use <repo>/out/...
#
# Prints key=value lines on stdout (progress goes to stderr):
#   key= krel= vmlinuz= moddir= build= config= [ko=]
#   cold=<s>  seconds this run spent building the kernel (0 when cached)
#
# Environment: BSK_CACHE (default /var/cache/bootshake).
# Needs root the first time (build dependencies via apt-get).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${BSK_CACHE:-/var/cache/bootshake}
DK=$CACHE/debug-kernel
SRC_PKG=linux-source-6.1
TARBALL=/usr/src/$SRC_PKG.tar.xz
FRAGMENT=$REPO/selftests/vm/debug.config
FLAVOUR=kasan
# Bump when the way the tree is built or laid out changes.
BUILD_FORMAT=1
BUILD_DEPS=(bc bison flex libelf-dev libssl-dev make gcc kmod xz-utils "$SRC_PKG")

KO_OUT=
REBUILD=false
JOBS=$(nproc)

log() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '/^#   scripts\/debug-kernel.sh/p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--flavour) FLAVOUR=${2:?--flavour needs kasan or kcsan}; shift 2 ;;
	--flavour=*) FLAVOUR=${1#*=}; shift ;;
	--ko) KO_OUT=${2:?--ko needs a directory}; shift 2 ;;
	--ko=*) KO_OUT=${1#*=}; shift ;;
	--rebuild) REBUILD=true; shift ;;
	--jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
	-h | --help) usage ;;
	*) log "unknown argument '$1'"; usage ;;
	esac
done

# Fragments merged in this order over tinyconfig; a later one overrides.
FRAGMENTS=("$FRAGMENT")
case $FLAVOUR in
kasan) ;;
kcsan) FRAGMENTS+=("$REPO/selftests/vm/kcsan.config") ;;
*) log "unknown flavour '$FLAVOUR'"; usage ;;
esac

# ------------------------------------------------------------ build deps

missing=()
for p in "${BUILD_DEPS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages ${missing[*]} (run as root to install them)"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -f "$TARBALL" ] || die "$TARBALL missing (apt-get install $SRC_PKG)"
for f in "${FRAGMENTS[@]}"; do
	[ -f "$f" ] || die "$f missing"
done

SRC_VER=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
CC_VER=$(gcc --version | head -n1)
HASH=$( {
	echo "format=$BUILD_FORMAT src=$SRC_PKG $SRC_VER cc=$CC_VER"
	cat "${FRAGMENTS[@]}"
} | sha256sum | cut -c1-12)
KEY=$SRC_VER-$HASH
KDIR=$DK/$KEY
SRC=$DK/src/${SRC_PKG}_$SRC_VER

mkdir -p "$DK/src"
# One builder per cache at a time (another checkout may share it).
exec 9>"$DK/.lock"
if ! flock -n 9; then
	log "waiting for another debug-kernel build (lock $DK/.lock)"
	flock 9
fi

# ---------------------------------------------------------------- source

extract_source() {
	local tmp
	[ -f "$SRC/.bsk-extracted" ] && return 0
	log "extracting $TARBALL into $SRC"
	rm -rf "$SRC"
	tmp=$(mktemp -d "$DK/src/.extract.XXXXXX")
	tar -C "$tmp" -xf "$TARBALL"
	mv "$tmp/$SRC_PKG" "$SRC"
	rmdir "$tmp"
	touch "$SRC/.bsk-extracted"
}

# check_config CONFIG FRAGMENT...: every option the fragments set must be
# in the final .config exactly as written; where several fragments set
# one option, the last one (the one merge_config.sh applied) counts.
check_config() {
	local config=$1 line name bad=0
	local -A want=()
	local -a order=()
	shift
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) name=${line%%=*} ;;
		"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *} ;;
		*) continue ;;
		esac
		[ -n "${want[$name]+set}" ] || order+=("$name")
		want[$name]=$line
	done < <(cat "$@")
	for name in "${order[@]}"; do
		line=${want[$name]}
		if [[ $line == "# "* ]]; then
			# Unset in the fragment: absent or unset in the result.
			if grep -q "^$name=" "$config"; then
				log "option did not stick: wanted '$line', got '$(grep "^$name=" "$config")'"
				bad=1
			fi
		elif ! grep -qxF "$line" "$config"; then
			log "option did not stick: wanted '$line', got '$(grep -E "^(# )?$name[= ]" "$config" || echo absent)'"
			bad=1
		fi
	done
	return "$bad"
}

build_kernel() {
	local t0 tmp obj krel local_frag
	t0=$(date +%s)
	extract_source
	rm -rf "$KDIR"
	# Leftovers of failed or interrupted builds (we hold the lock).
	rm -rf "$DK"/.build-*
	tmp=$DK/.build-$KEY
	mkdir -p "$tmp"
	obj=$tmp/build
	local_frag=$tmp/localversion.config
	# uname -r names the build: the guest's module directory is unique.
	printf 'CONFIG_LOCALVERSION="-bskdbg-%s"\n# CONFIG_LOCALVERSION_AUTO is not set\n' \
		"${HASH:0:8}" >"$local_frag"

	log "building the debug kernel in $tmp (log: $tmp/build.log); this takes minutes"
	{
		make -C "$SRC" O="$obj" tinyconfig
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$obj" \
			"$obj/.config" "${FRAGMENTS[@]}" "$local_frag"
		make -C "$SRC" O="$obj" olddefconfig
	} >"$tmp/build.log" 2>&1 || {
		tail -n 30 "$tmp/build.log" >&2
		die "configuring the kernel failed"
	}
	check_config "$obj/.config" "${FRAGMENTS[@]}" "$local_frag" ||
		die "the fragment did not stick (missing dependency?): fix ${FRAGMENTS[*]}"

	if ! make -C "$SRC" O="$obj" -j"$JOBS" bzImage modules >>"$tmp/build.log" 2>&1; then
		grep -E 'error|Error' "$tmp/build.log" | tail -n 20 >&2 || true
		die "kernel build failed, see $tmp/build.log"
	fi
	krel=$(make -s -C "$SRC" O="$obj" kernelrelease 2>/dev/null | tail -n1)
	make -C "$SRC" O="$obj" INSTALL_MOD_PATH="$tmp" modules_install >>"$tmp/build.log" 2>&1 ||
		die "modules_install failed, see $tmp/build.log"
	cp "$obj/arch/x86/boot/bzImage" "$tmp/vmlinuz"
	cp "$obj/.config" "$tmp/config"

	# Keep what external module builds need; drop the objects (GBs).
	find "$obj" \( -name '*.o' -o -name '*.a' -o -name '*.mod.c' \) -type f -delete
	rm -f "$obj/vmlinux.o" "$obj/.tmp_vmlinux"*

	mv "$tmp" "$KDIR"
	# The symlinks modules_install made point into the build directory.
	ln -sfn "$KDIR/build" "$KDIR/lib/modules/$krel/build"
	ln -sfn "$SRC" "$KDIR/lib/modules/$krel/source"
	{
		echo "key=$KEY"
		echo "krel=$krel"
		echo "vmlinuz=$KDIR/vmlinuz"
		echo "moddir=$KDIR/lib/modules/$krel"
		echo "build=$KDIR/build"
		echo "config=$KDIR/config"
		echo "flavour=$FLAVOUR"
	} >"$KDIR/info"
	echo "cold=$(($(date +%s) - t0))" >"$KDIR/cold"
	touch "$KDIR/.complete"
	log "built $krel in $(($(date +%s) - t0)) s"
}

cached_ok() {
	[ -f "$KDIR/.complete" ] && [ -f "$KDIR/info" ] && [ -f "$KDIR/vmlinuz" ] &&
		[ -f "$SRC/.bsk-extracted" ] && [ -f "$KDIR/build/Module.symvers" ] &&
		[ -f "$(sed -n 's/^moddir=//p' "$KDIR/info")/modules.dep" ]
}

t_start=$(date +%s)
if $REBUILD || ! cached_ok; then
	build_kernel
	COLD=$(($(date +%s) - t_start))
else
	COLD=0
fi
# shellcheck disable=SC1091
. <(sed -n 's/^\(key\|krel\|vmlinuz\|moddir\|build\|config\)=/\1=/p' "$KDIR/info")
# shellcheck disable=SC2154 # set by the line above
KREL=$krel

# Keep this build and the one used last before it, per flavour (an info
# without flavour= is a kasan build); older ones go.
touch "$KDIR/.used"
ls -1td "$DK"/*/.used 2>/dev/null | while IFS= read -r u; do
	f=$(sed -n 's/^flavour=//p' "${u%/.used}/info" 2>/dev/null)
	# an if, not &&: a false test would end the loop with status 1
	if [ "${f:-kasan}" = "$FLAVOUR" ]; then echo "$u"; fi
done | tail -n +3 | while IFS= read -r u; do
	log "removing old build ${u%/.used}"
	rm -rf "${u%/.used}"
done
flock -u 9

# ---------------------------------------------------------------- module

KO=
if [ -n "$KO_OUT" ]; then
	mkdir -p "$KO_OUT"
	KO_OUT=$(cd "$KO_OUT" && pwd -P)
	case $KO_OUT/ in
	"$REPO"/kmod/* | "$REPO"/include/*) die "--ko must not be inside the sources" ;;
	esac
	msrc=$KO_OUT/src
	# A fresh copy each time: Kbuild's own dependency tracking then
	# rebuilds exactly what changed (cp -p keeps the timestamps).
	mkdir -p "$msrc"
	rm -rf "$msrc/kmod" "$msrc/include"
	cp -p "$REPO/Kbuild" "$msrc/"
	cp -pr "$REPO/kmod" "$REPO/include" "$msrc/"
	find "$msrc/kmod" \( -name '*.o' -o -name '.*.cmd' -o -name '*.d' \) -delete
	log "building bootshake.ko against $KREL in $msrc"
	if ! make -C "$build" M="$msrc" W=1 KCFLAGS=-g modules >"$KO_OUT/build.log" 2>&1; then
		tail -n 30 "$KO_OUT/build.log" >&2
		die "bootshake.ko build against the debug kernel failed ($KO_OUT/build.log)"
	fi
	# Not "*.ko": `make clean` (kbuild's clean with M=<repo>, which
	# static-checks.sh runs) deletes every *.ko and *.ko.* under the
	# repository, out/ included.  insmod does not care about the name.
	KO=$KO_OUT/bootshake-debug.kmod
	cp "$msrc/bootshake.ko" "$KO.tmp"
	mv -f "$KO.tmp" "$KO"
fi

echo "key=$key"
echo "krel=$KREL"
echo "vmlinuz=$vmlinuz"
echo "moddir=$moddir"
echo "build=$build"
echo "config=$config"
echo "flavour=$FLAVOUR"
[ -z "$KO" ] || echo "ko=$KO"
echo "cold=$COLD"
