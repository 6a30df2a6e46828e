#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install.sh - the end-to-end install test (make check-install).
#
#   selftests/tests/install.sh            (root; after `make all deb`)
#
# On the host:
#   1. every USB ID in bootshake.ko's modaliases has a line in
#      dist/60-bootshake.rules; lintian --pedantic says nothing about the
#      source and binary packages (make lintian);
#   2. a root file system as a lab machine has it (selftests/vm/install-root.sh:
#      Debian bookworm with systemd, udev, dkms, the guest kernel's modules
#      and headers; cached), on a fresh overlay for this run;
#   3. `make install DESTDIR=<root>` puts every file where it belongs and
#      runs depmod, `make uninstall DESTDIR=<root>` takes exactly them away
#      (the root's file list is the same as before);
#   4. `apt-get install ./bootshake-dkms_*.deb ./bootshake_*.deb
#      ./bootshake-dev_*.deb` in the root (chroot): DKMS builds the module
#      for the guest kernel there; the uapi header (a C program builds with
#      it), the YNL spec, the journal catalog (journalctl --list-catalog),
#      the docs and the bash completion are installed.
# In a QEMU guest booting that root (run-vm.sh --root, BSK_KO=none):
#   5. selftests/tests/install-guest.sh: udevd autoloads bootshake for an
#      emulated BROM, cdc_acm does not get it, ID_MM_DEVICE_IGNORE=1, the
#      helper shows it ready, the unit's monitor logs to the journal;
#      then the fleet view (selftests/tests/fleet-guest.sh): the station's
#      events reach a systemd-journal-remote receiver in another network
#      namespace, N sent, N received, fields intact;
#   6. selftests/tests/jobs-systemd.sh --root <root> (on an overlay of it,
#      its own guest): the packages' job rule and bootshake-job@.service
#      start one job per device for 8 emulated devices, each with its own
#      device's identity, and a device unplugged mid-job ends its job;
# On the host again:
#   7. dpkg -P bootshake bootshake-dkms bootshake-dev (chroot: dkms remove
#      runs depmod, which reads every module, minutes over 9p under TCG):
#      the dev files, catalog and completion are gone, and the root's file
#      list is the one from before the install.
#
# Prints TAP and ends with "N passed, N failed, N skipped".  Logs go to
# $BSK_OUT (default: a new /tmp/bsk-install.XXXXXX).  BSK_KEEP_ROOT=1 keeps
# the run's root (its overlay directory is printed).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$top" || exit 1
CACHE=${BSK_CACHE:-/var/cache/bootshake}
# The guest runs the install checks and the fleet view (3 devices, an
# uploader and a receiver): 600 s was too short at load 18 on 2 cores.
VM_TIMEOUT=${BSK_INSTALL_TIMEOUT:-1200}
start=$SECONDS

n=0 passed=0 failed=0 skipped=0
ok() {
	n=$((n + 1)) passed=$((passed + 1))
	echo "ok $n - $*"
}
nok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $*"
}
# check WHAT CMD...: one result from CMD's status, which it returns.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		nok "$what"
		return 1
	fi
}
show() { sed 's/^/#   /'; }
finish() {
	echo "# install test took $((SECONDS - start)) s; logs in $out"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}
bail() {
	nok "$*"
	finish
}

echo "TAP version 13"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (debootstrap, chroot, mount)"; exit 4; }

out=${BSK_OUT:-$(mktemp -d /tmp/bsk-install.XXXXXX)}
mkdir -p "$out"
ver=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
arch=$(dpkg --print-architecture)
debs=("out/deb/bootshake-dkms_${ver}_all.deb" "out/deb/bootshake_${ver}_${arch}.deb"
	"out/deb/bootshake-dev_${ver}_all.deb")
# engineer cli's completion: checked wherever the tree has it
completion=
[ ! -f dist/bootshake.bash-completion ] || completion=/usr/share/bash-completion/completions/bootshake
[ -n "$completion" ] || echo "# no dist/bootshake.bash-completion in this tree: its install is not checked"
# what bootshake-dev and the docs put where programs look
dev_files=(/usr/include/linux/bootshake.h /usr/share/ynl/specs/bootshake.yaml)
doc_files=(/usr/share/doc/bootshake/admin-guide.rst.gz /usr/share/doc/bootshake/design.rst.gz
	/usr/share/doc/bootshake/examples/journal-upload.conf
	/usr/share/doc/bootshake/examples/journal-remote.conf
	/usr/lib/systemd/catalog/bootshake.catalog)
for f in "${debs[@]}" bootshake.ko user/bootshake selftests/emu/bsk-emu; do
	[ -f "$f" ] || bail "$f is missing (run make all deb, or make check-install)"
done

# ------------------------------------------------------------ 1. udev rules

missing=
for a in $(modinfo -F alias bootshake.ko); do
	[[ $a =~ ^usb:v([0-9A-F]{4})p([0-9A-F]{4}) ]] || continue
	v=${BASH_REMATCH[1],,} p=${BASH_REMATCH[2],,}
	grep -q "ATTRS{idVendor}==\"$v\", ATTRS{idProduct}==\"$p\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"" \
		dist/60-bootshake.rules || missing="$missing $v:$p"
done
[ -z "$missing" ] || echo "# not in dist/60-bootshake.rules:$missing"
check "dist/60-bootshake.rules covers every USB ID of the module's modaliases" test -z "$missing"
make -s lintian >"$out/lintian.log" 2>&1
rc=$?
check "lintian --pedantic: nothing on the source and binary packages (make lintian)" test "$rc" = 0 ||
	show <"$out/lintian.log"

# --------------------------------------------------------------- 2. the root

t=$SECONDS
base=$(selftests/vm/install-root.sh 2>"$out/install-root.log") ||
	{ show <"$out/install-root.log"; bail "build the install root (selftests/vm/install-root.sh)"; }
abi=$(sed -n 's/.*abi=\([^ ]*\).*/\1/p' "$base/.bsk-root")
echo "# install root $base ($((SECONDS - t)) s)"

mkdir -p "$CACHE/install-root"
run=$(mktemp -d "$CACHE/install-root/run.XXXXXX")
root=$run/root
mkdir -p "$run/upper" "$run/work" "$root"
mounts=()
# shellcheck disable=SC2317 # the EXIT trap runs it
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null
	done
	if [ "${BSK_KEEP_ROOT:-0}" = 1 ]; then
		echo "# kept the run's root: $run (upper/ holds the changes)"
	else
		rm -rf "$run"
	fi
}
trap cleanup EXIT
if mount -t overlay overlay \
	-o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" 2>/dev/null; then
	mounts+=("$root")
	echo "# this run's root: an overlay on it, $root"
else
	echo "# no overlayfs here: copying the root for this run"
	cp -a --reflink=auto "$base/." "$root/" || bail "copy the install root"
fi

in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"
}
# The root's file list: type, mode, path (and link target).  Left out: what
# the guest mounts over (proc sys dev run tmp var/tmp), logs (var/log),
# apt's caches, and the copy of this test (the repository's path).
repo_top=/${top#/}
repo_top=/$(cut -d/ -f2 <<<"$repo_top")
[ ! -e "$base$repo_top" ] || repo_top=$top
list_root() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev \
		-o -path ./run -o -path ./tmp -o -path ./var/tmp -o -path ./var/log \
		-o -path ./var/cache/apt -o -path ".$repo_top" \) -prune \
		-o -printf '%y %m %p %l\n' | LC_ALL=C sort)
}
list_root >"$out/files.before"

# ------------------------------------------------- 3. make install/uninstall

make -s install DESTDIR="$root" >"$out/make-install.log" 2>&1
rc=$?
check "make install DESTDIR=<root>" test "$rc" = 0 || show <"$out/make-install.log"
list_root >"$out/files.make-install"
diff "$out/files.before" "$out/files.make-install" | grep '^>' | sed 's/^> //' |
	grep -v ' \./\(usr/\)\?lib/modules/[^/]*/modules\.' >"$out/make-install.added"
show <"$out/make-install.added"
want=("/lib/modules/$abi/updates/bootshake.ko" /usr/local/sbin/bootshake
	/etc/udev/rules.d/60-bootshake.rules /etc/modprobe.d/bootshake.conf
	/etc/systemd/system/bootshake-monitor.service
	/etc/udev/rules.d/60-bootshake-job.rules /etc/systemd/system/bootshake-job@.service
	/usr/local/share/doc/bootshake/examples/job
	/usr/local/share/doc/bootshake/examples/journal-upload.conf
	/usr/local/share/doc/bootshake/examples/journal-remote.conf
	/usr/local/share/doc/bootshake/admin-guide.rst /usr/local/share/doc/bootshake/design.rst
	/usr/local/lib/systemd/catalog/bootshake.catalog
	/usr/local/include/linux/bootshake.h /usr/local/share/ynl/specs/bootshake.yaml)
[ ! -f Documentation/bootshake.8 ] || want+=(/usr/local/share/man/man8/bootshake.8)
[ -z "$completion" ] || want+=(/etc/bash_completion.d/bootshake)
missing=
for f in "${want[@]}"; do
	[ -f "$root$f" ] || missing="$missing $f"
done
check "make install: module, helper, man page, udev rules, modprobe.d, units, examples, docs, catalog, dev files${completion:+, completion}${missing:+ (missing:$missing)}" \
	test -z "$missing"
check "make install: depmod knows the module" \
	grep -q "^updates/bootshake.ko:" "$root/lib/modules/$abi/modules.dep"
check "make install: the unit's ExecStart is the installed helper" \
	grep -qx "ExecStart=/usr/local/sbin/bootshake monitor --journal" \
	"$root/etc/systemd/system/bootshake-monitor.service"
check "make install: the job unit's ExecStart is the installed helper" \
	grep -q "^ExecStart=/usr/local/sbin/bootshake monitor .*--exec \"exec /etc/bootshake/job\"" \
	"$root/etc/systemd/system/bootshake-job@.service"
make -s uninstall DESTDIR="$root" >"$out/make-uninstall.log" 2>&1
rc=$?
check "make uninstall DESTDIR=<root>" test "$rc" = 0 || show <"$out/make-uninstall.log"
list_root >"$out/files.make-uninstall"
diff -u "$out/files.before" "$out/files.make-uninstall" >"$out/make-uninstall.diff"
check "make uninstall leaves nothing behind" test ! -s "$out/make-uninstall.diff" ||
	show <"$out/make-uninstall.diff"

# ------------------------------------------------------- 4. the packages

# What apt and dkms need in a chroot: /proc, /dev (/dev/fd), /dev/pts.
chroot_mounts() {
	local m
	nm=${#mounts[@]}
	for m in proc dev dev/pts; do
		case $m in
		proc) mount -t proc proc "$root/proc" ;;
		*) mount --bind "/$m" "$root/$m" ;;
		esac && mounts+=("$root/$m")
	done
}
chroot_umounts() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= nm; i--)); do
		umount "${mounts[$i]}" && unset "mounts[$i]"
	done
}
chroot_mounts
mkdir -p "$root/tmp/bsk-debs"
cp "${debs[@]}" "$root/tmp/bsk-debs/"
t=$SECONDS
in_root apt-get install -y --no-install-recommends \
	"${debs[@]/#out\/deb\//\/tmp\/bsk-debs\/}" >"$out/apt-install.log" 2>&1
rc=$?
grep -vE '^(Reading|Building|Selecting|Preparing|\(Reading)' "$out/apt-install.log" | show
check "apt-get install ./bootshake-dkms_${ver}_all.deb ./bootshake_${ver}_${arch}.deb ./bootshake-dev_${ver}_all.deb ($((SECONDS - t)) s)" \
	test "$rc" = 0
rm -rf "$root/tmp/bsk-debs"
check "DKMS built and installed the module for $abi" \
	test -f "$root/lib/modules/$abi/updates/dkms/bootshake.ko"
in_root dkms status 2>&1 | show
chroot_umounts
check "bootshake-monitor.service is enabled" \
	test -L "$root/etc/systemd/system/multi-user.target.wants/bootshake-monitor.service"
missing=
for f in /lib/udev/rules.d/60-bootshake-job.rules /lib/systemd/system/bootshake-job@.service \
	/usr/share/doc/bootshake/examples/job; do
	[ -f "$root$f" ] || missing="$missing $f"
done
check "bootshake installed the job rule, bootshake-job@.service and the example job${missing:+ (missing:$missing)}" \
	test -z "$missing"
check "the packaged job unit runs /usr/sbin/bootshake" \
	grep -q "^ExecStart=/usr/sbin/bootshake monitor " "$root/lib/systemd/system/bootshake-job@.service"
missing=
for f in "${dev_files[@]}"; do
	[ -s "$root$f" ] || missing="$missing $f"
done
check "bootshake-dev installed ${dev_files[*]}${missing:+ (missing:$missing)}" test -z "$missing"
# A C program builds with the installed header alone: the root's
# /usr/include after the host's, which has no <linux/bootshake.h>.
printf '%s\n' '#include <stdio.h>' '#include <linux/bootshake.h>' \
	'int main(void) { printf("%s %d\n", BOOTSHAKE_FAMILY_NAME, BOOTSHAKE_CMD_DEV_GET); return 0; }' \
	>"$out/uses-header.c"
check "a C program builds against the installed <linux/bootshake.h>" \
	gcc -Wall -Werror -idirafter "$root/usr/include" -o "$out/uses-header" "$out/uses-header.c"
check "the installed spec is the family's (name: bootshake)" \
	grep -qx 'name: bootshake' "$root/usr/share/ynl/specs/bootshake.yaml"
missing=
for f in "${doc_files[@]}"; do
	[ -s "$root$f" ] || missing="$missing $f"
done
check "bootshake installed the admin guide, design doc, fleet examples and journal catalog${missing:+ (missing:$missing)}" \
	test -z "$missing"
ncat=$(in_root journalctl --list-catalog 2>/dev/null | grep -c ' bootshake: ')
check "journalctl --list-catalog has bootshake's 7 event types ($ncat)" test "$ncat" = 7
if [ -n "$completion" ]; then
	check "bash completion installed ($completion)" \
		bash -c "[ -s '$root$completion' ] && bash -n '$root$completion'"
fi

# ------------------------------------------------------------- 5. the guest

mkdir -p "$root$top/selftests/emu" "$root$top/selftests/tests"
cp selftests/emu/bsk-emu "$root$top/selftests/emu/"
cp selftests/tests/install-guest.sh selftests/tests/fleet-guest.sh selftests/tests/guest-lib.sh \
	"$root$top/selftests/tests/"
echo "# guest: Debian 6.1 kernel on the install root (run-vm.sh --root)"
t=$SECONDS
BSK_KO=none selftests/vm/run-vm.sh --root "$root" --timeout "$VM_TIMEOUT" \
	--out "$out/vm" -- selftests/tests/install-guest.sh >"$out/guest.log" 2>&1
vm_rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "guest: ${line#ok - }" ;;
	"not ok - "*) nok "guest: ${line#not ok - }" ;;
	"#"*) echo "$line" ;;
	run-vm:*) echo "# $line" ;;
	*) echo "#   $line" ;;
	esac
done <"$out/guest.log"
grep -q '^ok - ' "$out/guest.log" || nok "the guest ran no check (run-vm.sh exit $vm_rc)"
check "the guest run ended cleanly (run-vm.sh exit $vm_rc, $((SECONDS - t)) s)" test "$vm_rc" = 0

# ------------------------------------------------ 6. a job per device

# On an overlay of this root (what it changes is thrown away with it).
echo "# jobs: selftests/tests/jobs-systemd.sh --root <this root>"
BSK_OUT=$out/jobs selftests/tests/jobs-systemd.sh --root "$root" >"$out/jobs.log" 2>&1
jrc=$?
while IFS= read -r line; do
	if [[ $line =~ ^ok\ [0-9]+\ -\ (.*) ]]; then
		ok "jobs: ${BASH_REMATCH[1]}"
	elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ (.*) ]]; then
		nok "jobs: ${BASH_REMATCH[1]}"
	elif [[ $line == "#"* ]]; then
		echo "$line"
	elif [ -n "$line" ] && [ "$line" != "TAP version 13" ]; then
		echo "# jobs: $line"
	fi
done <"$out/jobs.log"
grep -qE '^ok [0-9]+ - ' "$out/jobs.log" || nok "jobs: the systemd jobs test ran no check (exit $jrc)"

# --------------------------------------------------------- 7. left behind

rm -rf "${root:?}$repo_top"
chroot_mounts
t=$SECONDS
in_root dpkg -P bootshake bootshake-dkms bootshake-dev >"$out/purge.log" 2>&1
rc=$?
show <"$out/purge.log"
check "dpkg -P bootshake bootshake-dkms bootshake-dev ($((SECONDS - t)) s)" test "$rc" = 0
ncat=$(in_root journalctl --list-catalog 2>/dev/null | grep -c ' bootshake: ')
chroot_umounts
left=
for f in "${dev_files[@]}" "${doc_files[@]}" $completion; do
	[ ! -e "$root$f" ] || left="$left $f"
done
check "purge removed the dev files, docs, catalog${completion:+ and completion}${left:+ (left:$left)}" \
	test -z "$left"
check "purge: journalctl --list-catalog has no bootshake entry left ($ncat)" test "$ncat" = 0
check "no bootshake module is left for $abi" \
	bash -c "! ls '$root/lib/modules/$abi/updates/dkms/bootshake.ko' && ! grep -q bootshake '$root/lib/modules/$abi/modules.dep'" 2>/dev/null
list_root >"$out/files.after"
diff -u "$out/files.before" "$out/files.after" >"$out/purge.diff"
check "install + purge leave nothing behind (file list as before)" test ! -s "$out/purge.diff" ||
	show <"$out/purge.diff"

finish
