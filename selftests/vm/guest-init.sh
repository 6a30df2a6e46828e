#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest init for selftests/vm/run-vm.sh.  POSIX sh: stage 1 runs as /init
# (PID 1) under the initramfs' static busybox, stage 2 under the host's
# /bin/sh inside the chroot onto the host root (shared read-only over 9p).
#
# Stage 1: mount proc/sys/dev, insmod the 9p stack listed in /modules.stage1,
#          mount the host root at /newroot, put tmpfs on /run /tmp /var/tmp,
#          proc/sys/devtmpfs/devpts/shm under it, copy this script and the
#          per-run /job there and chroot into stage 2.  Whatever happens,
#          stage 1 ends the VM through isa-debug-exit (qemu rc = v*2+1):
#            v = min(stage-2 status, 126)   stage 2 ran
#            v = 127                        stage 1 itself failed
#          and falls back to poweroff -f (qemu rc 0 = never a pass).
# Stage 2: for a kernel line from the cache, bind its modules tree onto
#          /lib/modules/<abi> (over a tmpfs); modprobe the gadget stack
#          (dummy_hcd num=N, configfs, libcomposite, usb_f_fs), mount
#          configfs, insmod $BSK_KO, run the command with its output on
#          ttyS1, then dump dmesg to ttyS2 (the control channel) and print
#          the result marker there:
#            BSK-RESULT exit=<status>       the command ran
#            BSK-FAIL <reason>              the setup failed (no command run)
#
# Every wait is bounded: an unbounded loop here hangs the VM until the
# host-side timeout.

stage1_fail() {
	echo "bsk-init: FAIL: $*"
	echo "BSK-FAIL $*" >/dev/ttyS2 2>/dev/null
	guest_exit 127
}

guest_exit() {
	# isa-debug-exit at 0xf4: qemu exits with (v << 1) | 1.
	# shellcheck disable=SC2059 # the format is the octal escape of $1
	printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	sleep 2
	echo "bsk-init: isa-debug-exit did not stop the VM; powering off"
	poweroff -f
	sleep 5
	reboot -f
}

stage1() {
	PATH=/bin
	export PATH
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	exec </dev/console >/dev/console 2>&1

	while read -r mod; do
		insmod "/lib/modules/$mod.ko" || stage1_fail "insmod $mod (stage 1)"
	done </modules.stage1

	mkdir -p /newroot
	# run-vm.sh --root: a root of the test's own, writable (bsk.rootrw).
	rootmode=ro
	grep -qw bsk.rootrw /proc/cmdline && rootmode=rw
	n=0
	until mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,$rootmode \
		hostroot /newroot 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -lt 50 ] || stage1_fail "cannot mount the 9p host root"
		sleep 0.1
	done

	for d in run tmp var/tmp; do
		mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "/newroot/$d" ||
			stage1_fail "mount tmpfs /$d"
	done
	mount -t proc proc /newroot/proc || stage1_fail "mount /proc"
	mount -t sysfs sysfs /newroot/sys || stage1_fail "mount /sys"
	mount -t devtmpfs devtmpfs /newroot/dev || stage1_fail "mount /dev"
	# What udev/systemd would add: /dev/fd (bash process substitution) etc.
	ln -s /proc/self/fd /newroot/dev/fd
	ln -s /proc/self/fd/0 /newroot/dev/stdin
	ln -s /proc/self/fd/1 /newroot/dev/stdout
	ln -s /proc/self/fd/2 /newroot/dev/stderr
	mkdir -p /newroot/dev/pts /newroot/dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/dev/shm
	mkdir -p /newroot/run/bootshake
	cp /init /newroot/run/bootshake/init
	cp /job /newroot/run/bootshake/job || stage1_fail "no /job in the initramfs"

	chroot /newroot /bin/sh /run/bootshake/init stage2
	rc=$?
	[ "$rc" -le 126 ] || rc=126
	guest_exit "$rc"
}

# ---------------------------------------------------------------- stage 2

ctl() {
	printf '%s\n' "$*" >/dev/ttyS2
}

stage2_fail() {
	echo "bsk-init: FAIL: $*"
	ctl "BSK-FAIL $*"
	dump_dmesg
	exit 126
}

dump_dmesg() {
	ctl "BSK-DMESG-BEGIN"
	dmesg --color=never >/dev/ttyS2 2>&1
	ctl "BSK-DMESG-END"
}

# Just before the deadline, record what user space is doing: the processes
# and the kernel stacks of those not running (blocked in a driver?).
deadline_watchdog() {
	[ "$BSK_DEADLINE" -gt 3 ] || return 0
	sleep "$((BSK_DEADLINE - 2))"
	{
		echo "BSK-PS-BEGIN"
		ps --ppid 2 -p 2 --deselect -o pid,ppid,stat,wchan:32,etimes,args
		for st in /proc/[0-9]*/stat; do
			pid=${st#/proc/}
			pid=${pid%/stat}
			read -r _ comm state ppid _ <"$st" 2>/dev/null || continue
			# Skip kernel threads and running tasks.
			if [ "$pid" = 2 ] || [ "$ppid" = 2 ] || [ "$state" = R ]; then
				continue
			fi
			echo "-- $pid $comm state $state:"
			cat "/proc/$pid/stack" 2>/dev/null
		done
		echo "BSK-PS-END"
	} >/dev/ttyS2 2>&1
}

uptime_s() {
	cut -d' ' -f1 /proc/uptime
}

# shellcheck disable=SC2120 # "$@" comes from the job file's 'set --'
stage2() {
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export PATH
	# The serial lines must pass bytes through untouched (no \r\n).
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	stty -F /dev/ttyS2 raw -echo 2>/dev/null

	# shellcheck disable=SC1091
	. /run/bootshake/job || stage2_fail "cannot read the job file"
	# The job file sets BSK_* and 'set -- CMD ARGS...'.

	ctl "BSK-STAGE2 uptime=$(uptime_s)"
	[ "$(uname -r)" = "$BSK_KVER" ] ||
		stage2_fail "guest kernel is $(uname -r), expected $BSK_KVER"

	# A kernel line whose modules live in the cache (not the host's own):
	# show them at /lib/modules/<abi> like an installed kernel's, so a
	# plain modprobe (tests load cdc_acm, gadgetfs ...) finds them.
	if [ "$BSK_MODBASE" != / ]; then
		mount -t tmpfs -o mode=0755 tmpfs /lib/modules &&
			mkdir "/lib/modules/$BSK_KVER" &&
			mount --bind "$BSK_MODDIR" "/lib/modules/$BSK_KVER" ||
			stage2_fail "cannot show $BSK_MODDIR at /lib/modules/$BSK_KVER"
	fi
	modprobe -d "$BSK_MODBASE" configfs || stage2_fail "modprobe configfs"
	grep -qs ' /sys/kernel/config ' /proc/mounts ||
		mount -t configfs configfs /sys/kernel/config ||
		stage2_fail "mount configfs"
	for m in libcomposite usb_f_fs; do
		modprobe -d "$BSK_MODBASE" "$m" || stage2_fail "modprobe $m"
	done
	modprobe -d "$BSK_MODBASE" dummy_hcd "num=$BSK_DUMMY_NUM" ||
		stage2_fail "modprobe dummy_hcd num=$BSK_DUMMY_NUM"
	last=$((BSK_DUMMY_NUM - 1))
	n=0
	until [ -e "/sys/class/udc/dummy_udc.$last" ]; do
		n=$((n + 1))
		[ "$n" -lt 100 ] || stage2_fail "dummy_udc.$last did not appear"
		sleep 0.1
	done

	if [ "$BSK_KO" != none ]; then
		[ -f "$BSK_KO" ] || stage2_fail "BSK_KO=$BSK_KO: no such file in the guest"
		insmod "$BSK_KO" || stage2_fail "insmod $BSK_KO failed (see console.log / dmesg)"
	fi

	cd "$BSK_REPO" || stage2_fail "cd $BSK_REPO"
	t0=$(uptime_s)
	ctl "BSK-CMD-START uptime=$t0"
	# "$@" may start with NAME=VALUE words: host BSK_* variables passed on.
	# The deadline ends the command a little before the host kills the VM,
	# so that the kernel log of a hung run still gets out.
	deadline_watchdog &
	wd=$!
	timeout -k 5 "$BSK_DEADLINE" \
		env -i PATH="$PATH" HOME=/tmp TMPDIR=/tmp LC_ALL=C.UTF-8 TERM=dumb \
		BSK_KO="$BSK_KO" BSK_REPO="$BSK_REPO" BSK_MODDIR="$BSK_MODDIR" \
		BSK_KVER="$(uname -r)" BSK_TIME_SCALE="$BSK_TIME_SCALE" \
		BSK_DUMMY_NUM="$BSK_DUMMY_NUM" BSK_IN_VM=1 \
		"$@" </dev/null >/dev/ttyS1 2>&1
	rc=$?
	t1=$(uptime_s)
	ctl "BSK-CMD-END uptime=$t1"
	kill "$wd" 2>/dev/null
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", b - a }')
		if [ "$elapsed" -ge "$((BSK_DEADLINE - 1))" ]; then
			ctl "BSK-TIMEOUT after ${elapsed}s (deadline ${BSK_DEADLINE}s)"
		fi
	fi

	# kmemleak (debug kernels only): force a scan so leaks reach dmesg.
	if [ -d /sys/kernel/debug ] &&
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null &&
		[ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak 2>/dev/null
	fi
	dump_dmesg
	ctl "BSK-RESULT exit=$rc"
	exit "$rc"
}

# shellcheck disable=SC2119
case "${1:-}" in
stage2) stage2 ;;
*) stage1 ;;
esac
