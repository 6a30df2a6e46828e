#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh - run a command inside a QEMU (TCG) guest that has the USB gadget
# stack and the bootshake module loaded.
#
#   selftests/vm/run-vm.sh [--kernel LINE] [--timeout SECS] [--out DIR]
#                          [--dummy-num N] [--root DIR]
#                          [--vmlinuz FILE --moddir DIR] -- CMD [ARGS...]
#
# The guest boots a stock distribution kernel (--kernel 6.1: the host's
# installed Debian image; 6.12, 7.2: trixie's and sid's, which
# scripts/kernels.sh fetches into $BSK_CACHE/kernels/; the guest sees their
# modules at /lib/modules/<abi>) with a small busybox initramfs, mounts the
# host's root file system read-only over 9p and chroots into it, so host
# binaries run unchanged.  tmpfs is mounted on /tmp, /run, /var/tmp and
# /dev/shm: paths under those host directories are NOT visible in the guest
# (the repository and BSK_KO must live elsewhere).  In the guest it loads
# configfs, libcomposite, usb_f_fs and dummy_hcd num=N (N host/gadget pairs,
# dummy_udc.0..N-1), insmods $BSK_KO, then runs CMD with cwd = the repository
# root.  cdc_acm is NOT loaded; tests load it themselves if they want it.
#
# --vmlinuz FILE --moddir DIR boot that kernel image with the modules in DIR
# (.../lib/modules/<uname -r>, depmod'ed) instead of a --kernel line, e.g.
# scripts/debug-kernel.sh's debug kernel (make check-debug).
#
# --root DIR shares DIR instead of the host's / (writable): a complete root
# file system such as selftests/vm/install-root.sh's tree.  The kernel's
# modules, the repository path and BSK_KO must exist inside it (DIR/<path>).
#
# Environment read on the host:
#   BSK_KO          module to insmod (default: <repo>/bootshake.ko);
#                   "none" skips the insmod.
#   BSK_CACHE       cache directory (default /var/cache/bootshake): the
#                   initramfs lives in initramfs/, other kernel lines in
#                   kernels/<abi>/{vmlinuz,lib/modules/<abi>/}.
#   BSK_TIME_SCALE  factor by which tests multiply their deadlines in the
#                   guest.  TCG is slow and its timing noisy, so it defaults
#                   to 4 here; set it to override (e.g. 1 on fast KVM).
#   BSK_VM_APPEND   extra kernel command line words (debugging).
#   BSK_*           any other BSK_ variable is passed on to CMD unchanged.
#
# Environment CMD gets in the guest (and nothing else from the host):
#   PATH HOME=/tmp TMPDIR=/tmp LC_ALL=C.UTF-8 TERM=dumb BSK_IN_VM=1
#   BSK_KO BSK_REPO BSK_MODDIR BSK_KVER (guest uname -r) BSK_TIME_SCALE
#   BSK_DUMMY_NUM, plus the passed-on BSK_* variables.
#
# Output (in --out DIR, default a fresh /tmp/bsk-vm.XXXXXX, kept):
#   guest-output.log  CMD's stdout+stderr (guest ttyS1), also streamed here
#   console.log       the guest console (ttyS0)
#   control.log       guest ttyS2: stage markers, the final dmesg dump and
#                     the "BSK-RESULT exit=N" marker
#
# Exit status: CMD's exit status, or 1 if the guest failed to set up, timed
# out, powered off / panicked without reporting, or if the kernel log shows a
# splat matching selftests/vm/splat-patterns (then CMD's status if non-zero).
# A status is believed only if isa-debug-exit and the BSK-RESULT marker agree:
# qemu's exit code 0 (poweroff, panic) or 1 (qemu error) alone is never a pass.

set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$VM_DIR/../.." && pwd -P)
CACHE=${BSK_CACHE:-/var/cache/bootshake}
INIT_SCRIPT=$VM_DIR/guest-init.sh
SPLAT_PATTERNS=$VM_DIR/splat-patterns
# Bump when the initramfs layout changes in a way the hash below misses.
INITRAMFS_FORMAT=1
# Modules the initramfs needs to reach the 9p root (deps are added).
STAGE1_MODULES=(virtio_pci 9pnet_virtio 9p)
# Variables run-vm.sh sets itself for CMD: never passed on from the host.
RESERVED_ENV=" BSK_KO BSK_REPO BSK_MODDIR BSK_KVER BSK_TIME_SCALE BSK_DUMMY_NUM BSK_IN_VM BSK_VM_APPEND "

KERNEL_LINE=6.1
TIMEOUT=900
OUT=
DUMMY_NUM=4
ROOT=
TIME_SCALE=${BSK_TIME_SCALE:-4}

log() { printf 'run-vm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '/^#   selftests/,/^#  *\[--dummy-num/p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}

# ------------------------------------------------------------------ kernels

# resolve_kernel LINE: print the guest kernel image and its module directory
# (…/lib/modules/<abi>), one per line.
resolve_kernel() {
	local line=$1 d abi best=

	case $line in
	6.1)
		# The host's installed Debian image: newest ABI that has both
		# /lib/modules/<abi> and /boot/vmlinuz-<abi>.
		for d in /lib/modules/6.1.*-amd64; do
			[ -d "$d" ] || continue
			abi=${d##*/}
			if [ ! -f "/boot/vmlinuz-$abi" ] || [ ! -f "$d/modules.dep" ]; then
				continue
			fi
			best=$(printf '%s\n' "$best" "$abi" | sed '/^$/d' | sort -V | tail -n1)
		done
		[ -n "$best" ] || die "no 6.1 kernel: need /boot/vmlinuz-<abi> and /lib/modules/<abi> (apt-get install linux-image-amd64)"
		printf '%s\n%s\n' "/boot/vmlinuz-$best" "/lib/modules/$best"
		;;
	6.12 | 7.2)
		# Fetched by scripts/kernels.sh: $CACHE/kernels/<abi>/vmlinuz and
		# $CACHE/kernels/<abi>/lib/modules/<abi>/ (modules.dep from the
		# host's depmod; .ko.xz modules, which the host's kmod loads).
		# The newest ABI of the line wins.
		for d in "$CACHE/kernels/$line".*; do
			[ -d "$d" ] || continue
			abi=${d##*/}
			if [ ! -f "$d/vmlinuz" ] || [ ! -f "$d/lib/modules/$abi/modules.dep" ]; then
				continue
			fi
			best=$(printf '%s\n' "$best" "$abi" | sed '/^$/d' | sort -V | tail -n1)
		done
		[ -n "$best" ] || die "no $line kernel under $CACHE/kernels/$line.* (fetch it: scripts/kernels.sh $line)"
		printf '%s\n%s\n' "$CACHE/kernels/$best/vmlinuz" "$CACHE/kernels/$best/lib/modules/$best"
		;;
	*)
		die "unknown kernel line '$line' (supported: 6.1 6.12 7.2)"
		;;
	esac
}

# ---------------------------------------------------------------- initramfs

# stage1_module_order MODDIR MOD...: print the modules.dep paths of MOD and
# all their dependencies, dependencies first.  Modules built into the
# kernel (modules.builtin: virtio_pci and friends on 7.2) are left out.
stage1_module_order() {
	local moddir=$1 mod
	shift
	local -A dep=() path=() seen=() builtin=()
	local line key file deps

	if [ -f "$moddir/modules.builtin" ]; then
		while IFS= read -r file; do
			key=${file##*/}
			key=${key%%.ko*}
			builtin[${key//-/_}]=1
		done <"$moddir/modules.builtin"
	fi

	while IFS= read -r line; do
		file=${line%%:*}
		deps=${line#*:}
		key=${file##*/}
		key=${key%%.ko*}
		key=${key//-/_}
		path[$key]=$file
		dep[$key]=$deps
	done <"$moddir/modules.dep"

	visit() {
		local k=$1 d dk
		[ -z "${seen[$k]:-}" ] || return 0
		if [ -z "${path[$k]:-}" ]; then
			[ -n "${builtin[$k]:-}" ] && return 0
			die "module $k not found in $moddir/modules.dep"
		fi
		seen[$k]=1
		for d in ${dep[$k]}; do
			dk=${d##*/}
			dk=${dk%%.ko*}
			visit "${dk//-/_}"
		done
		printf '%s\n' "${path[$k]}"
	}
	for mod in "$@"; do
		visit "${mod//-/_}"
	done
}

# build_initramfs ABI MODDIR: print the path of the cached base initramfs
# (gzip'd newc cpio), building it if missing.
build_initramfs() {
	local abi=$1 moddir=$2 busybox key out tmp rel name a order

	busybox=$(command -v busybox || true)
	[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
	file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
		die "$busybox is not static (apt-get install busybox-static)"

	key=$( {
		echo "format=$INITRAMFS_FORMAT abi=$abi modules=${STAGE1_MODULES[*]}"
		sha256sum "$INIT_SCRIPT" "$busybox" "$moddir/modules.dep" | cut -d' ' -f1
	} | sha256sum | cut -c1-16)
	out=$CACHE/initramfs/$abi-$key.cpio.gz
	if [ -s "$out" ]; then
		printf '%s\n' "$out"
		return 0
	fi

	log "building initramfs $out"
	mkdir -p "$CACHE/initramfs"
	tmp=$(mktemp -d "$CACHE/initramfs/.build.XXXXXX")
	mkdir -p "$tmp/root/bin" "$tmp/root/lib/modules" "$tmp/root/dev" \
		"$tmp/root/proc" "$tmp/root/sys" "$tmp/root/newroot"
	cp "$busybox" "$tmp/root/bin/busybox"
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$tmp/root/bin/$a"
	done
	install -m 0755 "$INIT_SCRIPT" "$tmp/root/init"
	# /dev/console for the kernel to open before /init runs.
	mknod -m 600 "$tmp/root/dev/console" c 5 1 2>/dev/null || true

	order=$(stage1_module_order "$moddir" "${STAGE1_MODULES[@]}")
	: >"$tmp/root/modules.stage1"
	while IFS= read -r rel; do
		name=${rel##*/}
		name=${name%%.ko*}
		case $rel in
		*.ko) cp "$moddir/$rel" "$tmp/root/lib/modules/$name.ko" ;;
		*.ko.xz) xz -dc "$moddir/$rel" >"$tmp/root/lib/modules/$name.ko" ;;
		*.ko.zst) zstd -qdc "$moddir/$rel" >"$tmp/root/lib/modules/$name.ko" ;;
		*.ko.gz) gzip -dc "$moddir/$rel" >"$tmp/root/lib/modules/$name.ko" ;;
		*) die "unsupported module file $rel" ;;
		esac
		echo "$name" >>"$tmp/root/modules.stage1"
	done <<<"$order"

	(cd "$tmp/root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$tmp/initramfs.cpio.gz"
	mv -f "$tmp/initramfs.cpio.gz" "$out"
	rm -rf "$tmp"
	# Drop images of older init scripts for this ABI (not fresh ones:
	# a concurrent run from another checkout may be about to read one).
	find "$CACHE/initramfs" -maxdepth 1 -name "$abi-*.cpio.gz" ! -path "$out" -mmin +60 -delete
	printf '%s\n' "$out"
}

# ---------------------------------------------------------------- helpers

# shq WORD: quote WORD for a POSIX shell.
shq() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

# guest_visible PATH: fail if PATH is hidden in the guest by a tmpfs.
guest_visible() {
	case $1/ in
	/tmp/* | /run/* | /var/tmp/* | /dev/* | /proc/* | /sys/*)
		die "$1 is not visible in the guest (tmpfs/proc/sys/dev there); move it elsewhere"
		;;
	esac
}

# qemu option-list escaping: ',' -> ',,'.
qesc() { printf '%s' "${1//,/,,}"; }

# marker NAME FILE: print the value of the last "NAME ..." line's payload.
marker() {
	grep -a "^$1" "$2" 2>/dev/null | tail -n1 | sed "s/^$1//" | tr -d '\r' || true
}

scan_splats() {
	local files=("$@") hits
	hits=$(grep -a -v -E '^BSK-' "${files[@]}" 2>/dev/null |
		grep -a -E -f "$SPLAT_PATTERNS" | head -n 200 || true)
	[ -z "$hits" ] && return 0
	log "kernel splat in the guest's kernel log:"
	printf '%s\n' "$hits" >&2
	log "(full log: ${files[*]})"
	return 1
}

# -------------------------------------------------------------------- main

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL_LINE=${2:?--kernel needs a value}; shift 2 ;;
	--kernel=*) KERNEL_LINE=${1#*=}; shift ;;
	--timeout) TIMEOUT=${2:?--timeout needs a value}; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--out) OUT=${2:?--out needs a value}; shift 2 ;;
	--out=*) OUT=${1#*=}; shift ;;
	--dummy-num) DUMMY_NUM=${2:?--dummy-num needs a value}; shift 2 ;;
	--dummy-num=*) DUMMY_NUM=${1#*=}; shift ;;
	--root) ROOT=${2:?--root needs a value}; shift 2 ;;
	--root=*) ROOT=${1#*=}; shift ;;
	--vmlinuz) VMLINUZ_ARG=${2:?--vmlinuz needs a value}; shift 2 ;;
	--moddir) MODDIR_ARG=${2:?--moddir needs a value}; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) log "unknown argument '$1'"; usage ;;
	esac
done
[ $# -gt 0 ] || { log "no command given"; usage; }
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer (seconds)"
if ! [[ $DUMMY_NUM =~ ^[1-9][0-9]*$ ]] || [ "$DUMMY_NUM" -gt 32 ]; then
	die "--dummy-num must be 1..32 (dummy_hcd's limit)"
fi
[[ $TIME_SCALE =~ ^[1-9][0-9]*$ ]] || die "BSK_TIME_SCALE must be a positive integer"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

if [ -n "${VMLINUZ_ARG:-}${MODDIR_ARG:-}" ]; then
	[ -f "${VMLINUZ_ARG:-}" ] && [ -f "${MODDIR_ARG:-}/modules.dep" ] ||
		die "--vmlinuz FILE and --moddir DIR (with modules.dep) go together"
	KERNEL=$(printf '%s\n' "$(realpath "$VMLINUZ_ARG")" "$(realpath "$MODDIR_ARG")")
else
	KERNEL=$(resolve_kernel "$KERNEL_LINE")
fi
VMLINUZ=$(sed -n 1p <<<"$KERNEL")
MODDIR=$(sed -n 2p <<<"$KERNEL")
KVER=${MODDIR##*/}
MODBASE=${MODDIR%/lib/modules/"$KVER"}
MODBASE=${MODBASE:-/}

KO=${BSK_KO:-$REPO/bootshake.ko}
if [ "$KO" != none ]; then
	KO=$(realpath -m -- "$KO")
	[ -f "$KO" ] || die "BSK_KO=$KO does not exist (build the module, or BSK_KO=none)"
	guest_visible "$KO"
fi
guest_visible "$REPO"
guest_visible "$MODDIR"
ROOT=$(realpath -e -- "${ROOT:-/}") || die "--root: no such directory"
if [ "$ROOT" != / ]; then
	for p in "$REPO" "$MODDIR/modules.dep" ${KO#none}; do
		[ -e "$ROOT$p" ] || die "--root $ROOT: $p is missing in it"
	done
	BSK_VM_APPEND="bsk.rootrw${BSK_VM_APPEND:+ $BSK_VM_APPEND}"
fi

if [ -z "$OUT" ]; then
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/bsk-vm.XXXXXX")
else
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd -P)
fi
rm -f "$OUT/console.log" "$OUT/guest-output.log" "$OUT/control.log"

BASE_INITRD=$(build_initramfs "$KVER" "$MODDIR")

# The guest stops CMD itself at DEADLINE seconds (counted from its start,
# which is a few seconds after qemu's) so the kernel log of a hung run is
# dumped; the host timeout stays the hard limit.
margin=$((TIMEOUT / 10))
[ "$margin" -ge 15 ] || margin=15
DEADLINE=$((TIMEOUT - margin))
[ "$DEADLINE" -ge 1 ] || DEADLINE=$TIMEOUT

# The per-run job: a POSIX sh fragment appended to the initramfs as a
# second cpio archive (the kernel unpacks concatenated archives).
{
	echo "BSK_REPO=$(shq "$REPO")"
	echo "BSK_KO=$(shq "$KO")"
	echo "BSK_MODDIR=$(shq "$MODDIR")"
	echo "BSK_MODBASE=$(shq "$MODBASE")"
	echo "BSK_KVER=$(shq "$KVER")"
	echo "BSK_DUMMY_NUM=$DUMMY_NUM"
	echo "BSK_TIME_SCALE=$TIME_SCALE"
	echo "BSK_DEADLINE=$DEADLINE"
	printf 'set --'
	while IFS= read -r name; do
		case $RESERVED_ENV in *" $name "*) continue ;; esac
		printf ' %s' "$(shq "$name=${!name}")"
	done < <(compgen -e | grep '^BSK_' || true)
	for a in "$@"; do
		printf ' %s' "$(shq "$a")"
	done
	echo
} >"$OUT/job"
(cd "$OUT" && echo job | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$OUT/job.cpio.gz"
cat "$BASE_INITRD" "$OUT/job.cpio.gz" >"$OUT/initrd.img"

APPEND="console=ttyS0 panic=-1 quiet loglevel=5 printk.devkmsg=on 8250.nr_uarts=4${BSK_VM_APPEND:+ $BSK_VM_APPEND}"
# shellcheck disable=SC2054 # commas belong to qemu option lists
QEMU=(qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot
	-nodefaults -monitor none
	-kernel "$VMLINUZ" -initrd "$OUT/initrd.img" -append "$APPEND"
	-serial "file:$(qesc "$OUT/console.log")"
	-serial "file:$(qesc "$OUT/guest-output.log")"
	-serial "file:$(qesc "$OUT/control.log")"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-virtfs "local,path=$(qesc "$ROOT"),mount_tag=hostroot,security_model=none,multidevs=remap$([ "$ROOT" != / ] || echo ,readonly=on)")

log "kernel $KVER ($VMLINUZ), timeout ${TIMEOUT}s, BSK_KO=$KO, out $OUT"
: >"$OUT/guest-output.log"
T_START=$(date +%s.%N)
timeout --kill-after=10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$OUT/qemu.log" 2>&1 &
QPID=$!
trap 'kill "$QPID" 2>/dev/null || true' EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Stream CMD's output while the guest runs; tail exits after qemu does,
# having read the file to its end.
tail -n +1 -s 0.2 -f --pid="$QPID" "$OUT/guest-output.log" || true
QRC=0
wait "$QPID" || QRC=$?
trap - EXIT
T_END=$(date +%s.%N)

STAGE2=$(marker 'BSK-STAGE2 uptime=' "$OUT/control.log")
CMD_START=$(marker 'BSK-CMD-START uptime=' "$OUT/control.log")
CMD_END=$(marker 'BSK-CMD-END uptime=' "$OUT/control.log")
RESULT=$(marker 'BSK-RESULT exit=' "$OUT/control.log")
GUEST_TIMEOUT=$(marker 'BSK-TIMEOUT ' "$OUT/control.log")
FAIL=$(marker 'BSK-FAIL ' "$OUT/control.log")

# The dmesg dump, for the splat scan.
sed -n '/^BSK-DMESG-BEGIN/,/^BSK-DMESG-END/p' "$OUT/control.log" >"$OUT/dmesg.log" || true

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
timing="wall $(secs "$T_START" "$T_END")s"
[ -z "$CMD_START" ] || timing="boot-to-command ${CMD_START}s (guest uptime), $timing"
[ -z "$CMD_START" ] || [ -z "$CMD_END" ] ||
	timing="command $(secs "$CMD_START" "$CMD_END")s, $timing"

show_console() {
	log "last lines of $OUT/console.log:"
	tail -n 25 "$OUT/console.log" >&2 2>/dev/null || true
}

status=1
if [ "$QRC" -eq 124 ] || [ "$QRC" -eq 137 ]; then
	log "FAIL: guest timed out after $TIMEOUT s (command started: ${CMD_START:-no})"
	show_console
elif [ -n "$GUEST_TIMEOUT" ]; then
	log "FAIL: guest timed out after $TIMEOUT s (the guest stopped the command $GUEST_TIMEOUT)"
	log "guest processes at the deadline:"
	sed -n '/^BSK-PS-BEGIN/,/^BSK-PS-END/p' "$OUT/control.log" | grep -v '^BSK-' >&2 || true
elif [ -n "$FAIL" ]; then
	log "FAIL: guest setup failed: $FAIL"
	show_console
elif [ $((QRC % 2)) -eq 0 ] || [ -z "$RESULT" ]; then
	log "FAIL: guest ended without reporting a result (qemu exit $QRC: poweroff, panic or qemu error)"
	[ ! -s "$OUT/qemu.log" ] || { log "qemu said:"; cat "$OUT/qemu.log" >&2; }
	show_console
else
	v=$(((QRC - 1) / 2))
	expect=$RESULT
	[ "$expect" -le 126 ] || expect=126
	if [ "$v" -ne "$expect" ]; then
		log "FAIL: isa-debug-exit reported $v but the guest printed exit=$RESULT"
	else
		status=$RESULT
	fi
fi

if ! scan_splats "$OUT/dmesg.log" "$OUT/console.log"; then
	[ "$status" -ne 0 ] || status=1
fi

log "kernel $KVER: command exit ${RESULT:-none}, run status $status; $timing${STAGE2:+ (stage 2 at ${STAGE2}s)}"
log "logs: $OUT/{guest-output,console,control,dmesg}.log"
exit "$status"
