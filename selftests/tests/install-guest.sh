#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-guest.sh - the in-guest half of selftests/tests/install.sh.
#
# Runs as run-vm.sh's CMD on the install-root tree (--root) in which the
# host half installed bootshake-dkms and bootshake with apt; BSK_KO=none, so
# nothing loads bootshake but the system itself.  Starts systemd-udevd (and
# journald), plugs an emulated MediaTek BROM and checks what a lab machine
# must do: bootshake autoloaded through its modalias, cdc_acm installed but
# not bound, ID_MM_DEVICE_IGNORE=1, the helper shows the device ready, the
# unit's `bootshake monitor --journal` logs the unplug; then the fleet view
# (selftests/tests/fleet-guest.sh: this station's events reach a
# systemd-journal-remote receiver in another network namespace).  The host purges
# the packages afterwards (in a chroot: depmod over 9p under TCG would take
# minutes) and diffs the tree's file list.
#
# Prints "ok - WHAT" / "not ok - WHAT" lines (the host numbers them) and
# "# ..." details; exits 1 if a check failed.

set -uo pipefail
abi=$(uname -r)
tmp=$(mktemp -d)
# shellcheck source=selftests/tests/guest-lib.sh
. "${0%/*}/guest-lib.sh"
EMU=selftests/emu/bsk-emu
UNIT=/lib/systemd/system/bootshake-monitor.service

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

echo "# guest kernel $abi, root $(sed -n 's/^PRETTY_NAME=//p' /etc/os-release)"

# --------------------------------------------------------------- installed

check "bootshake is not loaded before a device is plugged" \
	test ! -e /sys/module/bootshake
ko=$(modinfo -F filename bootshake 2>/dev/null)
echo "# modinfo bootshake: $ko"
check "the DKMS-built module is installed for $abi (updates/dkms)" \
	test "$ko" = "/lib/modules/$abi/updates/dkms/bootshake.ko"
modinfo bootshake 2>/dev/null | grep -E '^(alias|parm|vermagic):' | show
nparm=$(modinfo -F parm bootshake | grep -cE '^(policy|step_timeout_ms|sync_timeout_ms|takeover):')
check "modinfo lists the module's parameters" test "$nparm" = 4
check "cdc_acm is installed and not loaded" \
	bash -c 'modinfo -F filename cdc_acm >/dev/null && [ ! -e /sys/module/cdc_acm ]'
# modprobe -D: what loading cdc_acm / option would insmod, in order
# (their own dependencies, usbcore... may come before).
softdep_first() {
	modprobe -D "$1" | sed -n 's|^insmod .*/\([^/ ]*\)\.ko.*|\1|p' >"$tmp/dep.$1"
	show <"$tmp/dep.$1"
	[ "$(grep -nx -e bootshake -e "$2" "$tmp/dep.$1" | cut -d: -f2 | paste -sd' ')" = "bootshake $2" ]
}
check "modprobe.d: loading cdc_acm loads bootshake first" softdep_first cdc_acm cdc-acm
check "modprobe.d: loading option loads bootshake first" softdep_first option option

# ------------------------------------------------------- udevd and journald

stamp "udevd and journald"
# The station's name in its journal (_HOSTNAME), which the fleet view's
# receiver finds it by: set before journald starts.
hostname bsk-station-1
# journald wants a cgroup file system (systemd would have mounted it).
grep -qs ' /sys/fs/cgroup ' /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\n' >/run/systemd/journald.conf.d/bsk-test.conf
/lib/systemd/systemd-journald >"$tmp/journald.log" 2>&1 &
pids+=($!)
/lib/systemd/systemd-udevd --debug >"$tmp/udevd.log" 2>&1 &
pids+=($!)
check "systemd-udevd is running" wait_for 30 udevadm control --ping
check "systemd-journald is running" wait_for 30 test -S /run/systemd/journal/socket

# ---------------------------------------------------------------- the plug

coproc EMUP { exec "$EMU" --personality mtk-brom --udc dummy_udc.0 2>"$tmp/emu.err"; }
pids+=("$EMUP_PID")
echo "# plugged an emulated MediaTek BROM (0e8d:0003) into dummy_udc.0"

find_dev() {
	local d
	for d in /sys/bus/usb/devices/*; do
		[ "$(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null)" = 0e8d:0003 ] || continue
		echo "$d"
		return 0
	done
	return 1
}
ready() { bootshake -j list 2>/dev/null | grep -Eq '"state": ?"ready"'; }

check "the device enumerated" wait_for 30 find_dev
dev=$(find_dev)
check "bootshake was loaded" wait_for 20 test -e /sys/module/bootshake &&
	check "the helper reports the device ready" wait_for 20 ready
stamp "ready"

# udevd's builtin kmod loads the modules of each interface's modalias:
# cdc_acm (comm) and option (data) match too; modprobe.d's softdeps load
# bootshake before either ("Module 'bootshake' is already loaded" after).
echo "# udevd's module loading, in order:"
grep -E "Inserted module|Loading module|Module '.*' is (already|blacklisted)|Failed to (insert|load)" \
	"$tmp/udevd.log" | sed -E 's/^.*: (Loading|Inserted|Module|Failed)/\1/' | show
check "udev loaded the modules for the device's modaliases (no one else did)" \
	grep -q "Loading module: usb:v0E8Dp0003" "$tmp/udevd.log"
alias=$(cat "$dev"/*:1.0/modalias 2>/dev/null)
echo "# modalias $alias resolves to: $(modprobe -R "$alias" 2>/dev/null | tr '\n' ' ')"
check "the interface's modalias resolves to bootshake" \
	bash -c "modprobe -R '$alias' | grep -qx bootshake"

stamp "drivers"
echo "# interfaces and drivers:"
drivers=
for i in "$dev"/*:*; do
	[ -d "$i" ] || continue
	drv=$(basename "$(readlink "$i/driver" 2>/dev/null)" 2>/dev/null)
	drivers="$drivers ${drv:-none}"
	echo "#   ${i##*/} class $(cat "$i/bInterfaceClass") -> ${drv:-none}"
done
others=$(tr ' ' '\n' <<<"$drivers" | sed '/^$/d' | grep -vx bootshake)
check "bootshake drives every interface" test -n "$drivers" -a -z "$others"
echo "# cdc_acm loaded: $([ -e /sys/module/cdc_acm ] && echo yes || echo no)" \
	"(udev loads every module matching the modalias)"
check "cdc_acm has no device and there is no ttyACM" \
	bash -c '! ls /sys/bus/usb/drivers/cdc_acm/ 2>/dev/null | grep -q : && ! ls /sys/class/tty | grep -q ttyACM'

stamp "udev properties"
udevadm info -q property -p "$dev" >"$tmp/props"
grep -E '^(ID_MM|DRIVER|PRODUCT|ID_VENDOR_ID)' "$tmp/props" | show
check "udev: ID_MM_DEVICE_IGNORE=1 on the device" grep -qx ID_MM_DEVICE_IGNORE=1 "$tmp/props"
check "udev: ID_MM_DEVICE_IGNORE=1 on its interfaces" \
	bash -c "for i in '$dev'/*:*; do udevadm info -q property -p \"\$i\" | grep -qx ID_MM_DEVICE_IGNORE=1 || exit 1; done"

stamp "helper"
echo "# bootshake list:"
bootshake list 2>&1 | show
bootshake -j list >"$tmp/list.json" 2>&1
grep -oE '"(state|kind|taken_over)": ?[^,}]*' "$tmp/list.json" | show
check "bootshake bound first: no takeover from cdc_acm/option was needed" \
	grep -Eq '"taken_over": ?false' "$tmp/list.json"

# ----------------------------------------------- the unit's monitor command

cmd=$(sed -n 's/^ExecStart=//p' "$UNIT")
echo "# $UNIT: ExecStart=$cmd"
# shellcheck disable=SC2086 # the unit's command line, split like systemd
$cmd >"$tmp/monitor.out" 2>"$tmp/monitor.err" &
mon=$!
pids+=("$mon")
# Subscribed (guest-lib.sh): if the group's number is too big for /proc's
# first 32 bits, this just waits the 10 s.
wait_for 10 subscribed "$mon" || echo "# (no subscription seen in /proc/net/netlink)"
stamp "monitor"
check "the unit's monitor is running" kill -0 "$mon"
emu_in=${EMUP[1]}
exec {emu_in}>&- # the emulator unplugs when its stdin closes
gone() { ! find_dev >/dev/null; }
check "the device was unplugged" wait_for 30 gone
journal_remove() {
	journalctl --no-pager -o cat SYSLOG_IDENTIFIER=bootshake BOOTSHAKE_EVENT=remove |
		grep -q .
}
check "the monitor logged the removal to the journal" wait_for 15 journal_remove
journalctl --no-pager -o verbose SYSLOG_IDENTIFIER=bootshake 2>/dev/null |
	grep -E '^ *(MESSAGE|BOOTSHAKE_[A-Z_]+|PRIORITY)=' | show
[ ! -s "$tmp/monitor.err" ] || { echo "# monitor stderr:"; show <"$tmp/monitor.err"; }
kill "$mon" 2>/dev/null

# ---------------------------------------------------------- the fleet view

stamp "fleet"
selftests/tests/fleet-guest.sh || fails=$((fails + 1))
stamp "done"

[ "$fails" = 0 ] || {
	echo "# udevd log (last 40 lines):"
	tail -n 40 "$tmp/udevd.log" | show
	echo "# emulator stderr:"
	show <"$tmp/emu.err"
}
[ "$fails" = 0 ]
