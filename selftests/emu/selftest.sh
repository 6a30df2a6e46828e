#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh - check bsk-emu against the wire (no bootshake module needed).
# Run as root in the test guest (configfs, usb_f_fs, dummy_hcd loaded, no
# cdc_acm):
#
#   BSK_KO=none selftests/vm/run-vm.sh -- selftests/emu/selftest.sh
#
# Every case starts an emulator, waits for "ready", drives it with
# emu-check, stops it (SIGTERM unless the case ends it) and checks that exit
# status 0 and no configfs tree, mount or lock file remain.  TAP output.

DIR=$(cd "$(dirname "$0")" && pwd)
EMU=$DIR/bsk-emu
CHK=$DIR/emu-check
G=/sys/kernel/config/usb_gadget
T=${TMPDIR:-/tmp}/bsk-emu-selftest.$$
UDC=${UDC:-dummy_udc.0}
BROM=0e8d:0003
n=0
fails=0

mkdir -p "$T" || exit 1
if [ ! -x "$EMU" ] || [ ! -x "$CHK" ]; then
	echo "Bail out! build first: make -C selftests/emu"
	exit 1
fi
[ -e "/sys/class/udc/$UDC" ] || {
	echo "1..0 # SKIP no $UDC (needs dummy_hcd)"
	exit 4
}

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		printf 'ok %s - %s\n' "$n" "$2"
	else
		printf 'not ok %s - %s\n' "$n" "$2"
		fails=$((fails + 1))
		[ -f "$T/err" ] && sed 's/^/# emu: /' "$T/err"
		[ -f "$T/chk" ] && grep -v '^# ok ' "$T/chk"
	fi
}

# start UDC [KNOB...]: runs bsk-emu in the background, $EP = its pid
start() {
	u=$1
	shift
	# shellcheck disable=SC2046 # one word per knob, knobs have no spaces
	set -- $(for k in "$@"; do printf -- '--fault %s ' "$k"; done)
	rm -f "$T/out.$u" "$T/log.$u"
	"$EMU" --personality mtk-brom --udc "$u" --seed 7 --log "$T/log.$u" \
		"$@" >"$T/out.$u" 2>"$T/err" </dev/null &
	EP=$!
	i=0
	until grep -qx ready "$T/out.$u" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		kill -0 $EP 2>/dev/null || return 1
		sleep 0.05
	done
}

# stop PID [UDC]: SIGTERM (if still running), bounded wait, leftovers check
stop() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			kill -KILL "$1"
			echo "# bsk-emu $1 ignored SIGTERM"
			return 1
		fi
		sleep 0.05
	done
	wait "$1"
	rc=$?
	[ $rc = 0 ] || { echo "# bsk-emu exit status $rc"; return 1; }
	clean "${2:-$UDC}"
}

# clean [UDC]: nothing of that UDC's emulator is left
clean() {
	u=${1:-$UDC}
	tag=bsk_$(echo "$u" | tr .- __)
	[ ! -e "$G/$tag" ] || { echo "# left in configfs: $tag"; return 1; }
	! grep -q " /run/bsk-emu/$u " /proc/mounts || {
		echo "# functionfs still mounted for $u"
		return 1
	}
	if [ -e "/run/bsk-emu/$u" ] || [ -e "/run/bsk-emu/$u.lock" ]; then
		echo "# left in /run/bsk-emu: $(ls /run/bsk-emu)"
		return 1
	fi
}

# case NAME "KNOBS" STEP...: one emulator, one emu-check run
case_() {
	name=$1
	knobs=$2
	shift 2
	rm -f "$T/chk"
	r=0
	# shellcheck disable=SC2086 # knobs are words
	start "$UDC" $knobs || r=1
	[ $r = 0 ] && { "$CHK" $BROM "$@" >"$T/chk" 2>&1 || r=1; }
	stop $EP || r=1
	result $r "$name"
}

SYNC="x:a0=5f x:0a=f5 x:50=af x:05=fa"

# shellcheck disable=SC2086
{
case_ "descriptors: FS, no strings, 2 interfaces, line coding" "" \
	speed=12 nostrings intfs=2 glc=00100e00000008 slc glc=00c20100000008 \
	cls stall
case_ "sync, identity, echo" "" $SYNC pk:fd=fd07660000 \
	pk:fc=fc8a00ca0000000000 x:fe=fe x:ff=05 pk:d8=d8000000e70000 \
	x:a0=a0 x:67=67
case_ "pre-sync: byte+1 and restart" "" x:0a=0b x:a0=5f x:a0=a1 x:67=68 \
	x:41=42 x:54=55 x:0d=0e $SYNC
case_ "garbage=20: 20 bytes (no 5f/a0/a1) before the first reply" \
	"garbage=20" pk:a0=d18fbb1ae883c920c97324ff36995e9cc84a4230/5f \
	x:0a=f5
case_ "stale=READY\\n before any host byte" "stale=52454144590a" \
	rd:1000=52454144590a none:100 x:a0=5f
case_ "silent" "silent" w:a0 none:300 w:0a none:100
case_ "delay_ms=300" "delay_ms=300" w:a0 none:200 rd:1000=5f x:0a=f5
case_ "drop=2: no reply to byte 2, state advanced" "drop=2" x:a0=5f w:0a \
	none:300 x:50=af x:05=fa
case_ "lose=1: byte 1 never arrives" "lose=1" w:a0 none:300 $SYNC
case_ "already_synced: command loop echoes the sync" "already_synced" \
	x:a0=a0 x:0a=0a x:50=50 x:05=05 x:fe=fe
case_ "hw_code=0x0717" "hw_code=0x0717" $SYNC x:fd=fd07170000
case_ "no_hw_code: FD then silence" "no_hw_code" $SYNC x:fd=fd none:300
case_ "fields: one packet per field" "fields" $SYNC pk:fd=fd/0766/0000 \
	pk:d8=d8/000000e7/0000
case_ "split=2" "split=2" $SYNC pk:fc=fc8a/00ca/0000/0000/00
case_ "state survives SET_CONFIGURATION and reset" "" $SYNC setcfg \
	x:fe=fe reset x:fe=fe
}

# unplug_at: the emulator unbinds and exits 0 by itself
rm -f "$T/chk"
r=0
start "$UDC" unplug_at=3 || r=1
"$CHK" $BROM x:a0=5f x:0a=f5 w:50 gone:1000 >"$T/chk" 2>&1 || r=1
i=0
while kill -0 $EP 2>/dev/null && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
wait $EP || r=1
clean || r=1
grep -q ' unplug$' "$T/log.$UDC" || r=1
result $r "unplug_at=3: UDC unbound after byte 3, exit 0, nothing left"

# SIGUSR1 unplugs, SIGUSR2 plugs in again; the device keeps its state
r=0
start "$UDC" || r=1
# shellcheck disable=SC2086 # SYNC is a list of steps
"$CHK" $BROM $SYNC >"$T/chk" 2>&1 || r=1
kill -USR1 $EP
i=0
until grep -q ' unplug$' "$T/log.$UDC" && ! grep -qs 0003 \
	/sys/bus/usb/devices/*/idProduct; do
	i=$((i + 1))
	[ $i -lt 100 ] || { r=1; break; }
	sleep 0.05
done
kill -USR2 $EP
i=0
until [ "$(grep -c ' enable$' "$T/log.$UDC")" = 2 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { r=1; break; }
	sleep 0.05
done
"$CHK" $BROM x:fe=fe >>"$T/chk" 2>&1 || r=1
stop $EP || r=1
result $r "SIGUSR1/SIGUSR2 unplug and replug, state kept"

# SIGKILL leaves a tree; the next run on the UDC removes it and works
r=0
start "$UDC" || r=1
kill -KILL $EP
wait $EP 2>/dev/null
[ -n "$(ls $G)" ] || echo "# (SIGKILL left nothing behind)"
start "$UDC" || r=1
"$CHK" $BROM x:a0=5f >"$T/chk" 2>&1 || r=1
stop $EP || r=1
result $r "after SIGKILL the next run cleans up and works"

# a second emulator on a busy UDC refuses and leaves the first alone
r=0
start "$UDC" || r=1
"$EMU" --personality mtk-brom --udc "$UDC" </dev/null >/dev/null 2>&1
[ $? = 1 ] || r=1
"$CHK" $BROM x:a0=5f >"$T/chk" 2>&1 || r=1
stop $EP || r=1
result $r "second emulator on a busy UDC exits 1, first unharmed"

# EOF on a pipe stdin stops it
r=0
rm -f "$T/out.p"
(sleep 2) | "$EMU" --personality mtk-brom --udc "$UDC" >"$T/out.p" 2>&1 &
EP=$!
i=0
while kill -0 $EP 2>/dev/null && [ $i -lt 200 ]; do
	i=$((i + 1))
	sleep 0.05
done
wait $EP || r=1
grep -qx ready "$T/out.p" || r=1
clean || r=1
result $r "EOF on a pipe stdin: clean exit 0"

# three runs in a row on the same UDC, SIGTERM while the host waits
r=0
for k in 1 2 3; do
	start "$UDC" || r=1
	"$CHK" $BROM x:a0=5f w:0a none:1500 >/dev/null 2>&1 &
	CP=$!
	sleep 0.3
	stop $EP || r=1
	wait $CP
done
result $r "3 runs in a row, SIGTERM while the host waits"

# one emulator per UDC in parallel
r=0
pids=
num=${BSK_DUMMY_NUM:-4}
k=0
while [ $k -lt "$num" ]; do
	start "dummy_udc.$k" || r=1
	pids="$pids $EP"
	k=$((k + 1))
done
[ "$(find $G -mindepth 1 -maxdepth 1 -name 'bsk_*' | wc -l)" = "$num" ] ||
	r=1
k=0
for p in $pids; do
	stop "$p" "dummy_udc.$k" || r=1
	k=$((k + 1))
done
result $r "$num emulators in parallel"

echo "1..$n"
rm -rf "$T"
[ $fails = 0 ]
