#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# jobs-systemd.sh - the shipped rule and unit (issue 10) under real systemd.
#
#   selftests/tests/jobs-systemd.sh              (root; after `make`)
#   selftests/tests/jobs-systemd.sh --root DIR   (root; packages in DIR)
#
# On the host: the Debian root of the install test
# (selftests/vm/install-root.sh: bookworm with systemd and udev; cached), on
# a fresh overlay for this run, gets the helper as /usr/sbin/bootshake,
# dist/60-bootshake-job.rules in /lib/udev/rules.d, dist/bootshake-job@.service
# in /lib/systemd/system (what `make install PREFIX=/usr` / the package
# install).  With --root DIR (selftests/tests/install.sh, make
# check-install) the overlay goes on DIR instead, a root in which the
# packages are installed: the helper, rule, unit and the DKMS-built module
# are the packages', nothing is copied from the checkout but the emulator.
# Then the run's root gets a test job as /etc/bootshake/job with
# BOOTSHAKE_JOB_OPTIONS="--grace 1" in /etc/bootshake/job.conf, and a
# target that starts basic.target, journald and udevd.
# In a QEMU guest booting that root (run-vm.sh --root, 8 dummy UDCs, the
# module from the checkout or, with --root, the one modprobe finds: the
# DKMS-built one): selftests/tests/jobs-systemd-guest.sh boots systemd as
# PID 1 of a new PID and mount namespace, plugs 8 emulated BROMs and checks
# that the rule and the unit started one job per device with that device's
# identity, that a job whose device is unplugged gets SIGTERM after the
# grace period and is recorded (journal, unit result), and that
# `bootshake monitor --exec --jobs 2` beside them runs 8 jobs, never more
# than 2 at once.
#
# Prints TAP and ends with "N passed, N failed, N skipped"; exit 4 (skip)
# without root.  Logs in $BSK_OUT (default a new /tmp/bsk-jobs-systemd.XXXXXX).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$top" || exit 1
CACHE=${BSK_CACHE:-/var/cache/bootshake}
NDEV=${BSK_JOBS_DEVICES:-8}
start=$SECONDS
n=0 passed=0 failed=0

ok() {
	n=$((n + 1)) passed=$((passed + 1))
	echo "ok $n - $*"
}
nok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $*"
}
show() { sed 's/^/#   /'; }
finish() {
	echo "# systemd jobs test took $((SECONDS - start)) s; logs in $out"
	echo "$passed passed, $failed failed, 0 skipped"
	[ "$failed" = 0 ]
	exit
}

base=
case ${1:-} in
--root) base=$(realpath -e -- "${2:?--root needs a directory}") || exit 2 ;;
"") ;;
*) echo "usage: $0 [--root DIR]" >&2; exit 2 ;;
esac

echo "TAP version 13"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (overlay mount, chroot tree)"; exit 4; }
out=${BSK_OUT:-$(mktemp -d /tmp/bsk-jobs-systemd.XXXXXX)}
mkdir -p "$out"
need=(selftests/emu/bsk-emu)
[ -n "$base" ] || need+=(bootshake.ko user/bootshake)
for f in "${need[@]}"; do
	[ -f "$f" ] || { nok "$f is missing (run make)"; finish; }
done

if [ -z "$base" ]; then
	base=$(selftests/vm/install-root.sh 2>"$out/install-root.log") ||
		{ show <"$out/install-root.log"; nok "build the install root (selftests/vm/install-root.sh)"; finish; }
	echo "# install root $base"
	packaged=
else
	echo "# the packages' root $base"
	packaged=1
fi

mkdir -p "$CACHE/install-root"
run=$(mktemp -d "$CACHE/install-root/jobs.XXXXXX")
root=$run/root
mkdir -p "$run/upper" "$run/work" "$root"
mounted=
cleanup() {
	[ -z "$mounted" ] || umount "$root" 2>/dev/null || umount -l "$root"
	if [ "${BSK_KEEP_ROOT:-0}" = 1 ]; then
		echo "# kept the run's root: $run"
	else
		rm -rf "$run"
	fi
}
trap cleanup EXIT
if mount -t overlay overlay \
	-o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" 2>/dev/null; then
	mounted=1
else
	echo "# no overlayfs here: copying the root for this run"
	cp -a --reflink=auto "$base/." "$root/" || { nok "copy the install root"; finish; }
fi

if [ -z "$packaged" ]; then
	# What the package installs (PREFIX=/usr), from this checkout.
	install -D -m 0755 user/bootshake "$root/usr/sbin/bootshake"
	install -D -m 0644 dist/60-bootshake-job.rules "$root/lib/udev/rules.d/60-bootshake-job.rules"
	install -d "$root/lib/systemd/system"
	sed 's|@SBINDIR@|/usr/sbin|g' 'dist/bootshake-job@.service.in' \
		>"$root/lib/systemd/system/bootshake-job@.service"
	mkdir -p "$root$top"
	cp bootshake.ko "$root$top/"
	ko=$top/bootshake.ko
else
	# The packages': the DKMS-built module for the guest kernel, which
	# the guest script loads with modprobe (BSK_KO=none).
	abi=$(sed -n 's/.*abi=\([^ ]*\).*/\1/p' "$root/.bsk-root")
	ko=none
	missing=
	for f in /usr/sbin/bootshake /lib/udev/rules.d/60-bootshake-job.rules \
		/lib/systemd/system/bootshake-job@.service \
		"/lib/modules/$abi/updates/dkms/bootshake.ko"; do
		[ -f "$root$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] || { nok "the packages' files are in the root (missing:$missing)"; finish; }
fi

# The lab's part: the job and its options.  The job records what it got
# under /run/bsk-jobs (the guest's /run, shared with the namespace); a
# device whose path has a hold.<path> file there keeps its job running
# until it is signalled.
install -d "$root/etc/bootshake"
cat >"$root/etc/bootshake/job" <<'EOF'
#!/bin/sh
# test job (selftests/tests/jobs-systemd.sh): shell builtins only
d=/run/bsk-jobs
echo "start $BOOTSHAKE_ID" >>"$d/log"
export -p >"$d/env.$BOOTSHAKE_ID"
IFS= read -r json
printf '%s\n' "$json" >"$d/stdin.$BOOTSHAKE_ID"
if [ -e "$d/hold.$BOOTSHAKE_PATH" ]; then
	trap 'echo TERM >"$d/term.$BOOTSHAKE_ID"; exit 5' TERM
	echo "held $BOOTSHAKE_ID" >>"$d/log"
	sleep 60 &
	wait $!
fi
echo "end $BOOTSHAKE_ID" >>"$d/log"
exit 0
EOF
chmod 0755 "$root/etc/bootshake/job"
echo 'BOOTSHAKE_JOB_OPTIONS="--grace 1"' >"$root/etc/bootshake/job.conf"

# systemd boots into basic.target (what a job unit's default dependencies
# need anyway), journald and udevd: no getty, no network.  The guest's /tmp
# is shared with the test, which is running: no boot-time cleanup of it.
cat >"$root/etc/systemd/system/bsk-jobs-test.target" <<'EOF'
[Unit]
Description=bootshake jobs test: basic.target, journald, udevd
Wants=basic.target systemd-journald.service systemd-udevd.service
After=basic.target systemd-journald.service systemd-udevd.service
EOF
ln -sf /dev/null "$root/etc/systemd/system/systemd-tmpfiles-setup.service"

# The emulator and the guest script at their paths.
mkdir -p "$root$top/selftests/emu" "$root$top/selftests/tests"
cp selftests/emu/bsk-emu "$root$top/selftests/emu/"
cp selftests/tests/jobs-systemd-guest.sh selftests/tests/guest-lib.sh "$root$top/selftests/tests/"

echo "# guest: Debian 6.1 kernel on the install root, systemd as PID 1 of a namespace," \
	"module ${ko/#none/the installed one (modprobe)}"
t=$SECONDS
# 600 s was too short at load 10 on 2 cores (four TCG guests): systemd up
# at 185 s, the guest cut off mid-test; at the same load a whole run took
# 783 s.  The same limit as the install test's guest.
BSK_JOBS_DEVICES=$NDEV BSK_KO=$ko selftests/vm/run-vm.sh --root "$root" \
	--dummy-num "$NDEV" --timeout "${BSK_JOBS_TIMEOUT:-1200}" --out "$out/vm" -- \
	selftests/tests/jobs-systemd-guest.sh >"$out/guest.log" 2>&1
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
if [ "$vm_rc" = 0 ]; then
	ok "the guest run ended cleanly ($((SECONDS - t)) s)"
else
	nok "the guest run ended cleanly (run-vm.sh exit $vm_rc, $((SECONDS - t)) s)"
fi
finish
