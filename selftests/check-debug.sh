#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-debug: the whole suite plus the fault matrix, the stress
# tests and the netlink fuzzer in a QEMU guest booting the debug kernel
# (KASAN, lockdep, DEBUG_OBJECTS, kmemleak: scripts/debug-kernel.sh builds
# it once per machine and caches it), with bootshake.ko built against it.
# Any splat or kmemleak report fails.  Ends with one line
# "N passed, N failed, N skipped" and exits non-zero on any failure.
#
#   selftests/check-debug.sh                 (host)
#   selftests/check-debug.sh --guest PROG... (in the guest, via run-vm.sh)
#
# Four guest runs, two on each of the two debug kernels (KASAN and KCSAN
# cannot be combined; `scripts/debug-kernel.sh --flavour kcsan` builds the
# second, selftests/vm/kcsan.config):
#   1. KASAN kernel, dummy_hcd num=8 (jobs plugs 8): selftests/check.sh's TESTS (read at
#      run time), then fault_matrix and nl_fuzz (BSK_FUZZ_MESSAGES
#      messages: half as root, half as nobody);
#   2. KASAN kernel, dummy_hcd num=32: stress (BSK_STRESS_ROUNDS rmmod rounds with 32
#      devices mid-handshake, a plug storm of BSK_STORM_CYCLES cycles over
#      32 devices) and chaos (BSK_CHAOS_HANDSHAKES handshakes with 32 chaos
#      devices);
#   3. KCSAN kernel, dummy_hcd num=8: the suite and fault_matrix;
#   4. KCSAN kernel, dummy_hcd num=32: stress.
# A KCSAN report (BUG: KCSAN: ..., selftests/vm/splat-patterns) fails the
# program it appeared in, like any splat.
# Each run ends with rmmod bootshake and a kmemleak scan (one more case:
# any report fails it).
#
#   selftests/check-debug.sh [--flavour kasan|kcsan] --part NUM PROG...
# runs one guest run of its own (dummy_hcd num=NUM) on that kernel
# (default kasan) with the same settings, for measuring or re-running one
# piece.
#
# Environment (defaults in brackets): BSK_FUZZ_MESSAGES [200000],
# BSK_STORM_CYCLES [500], BSK_STRESS_ROUNDS [20], BSK_CHAOS_HANDSHAKES
# [10000], BSK_FUZZ_SEED, BSK_STRESS_SEED, BSK_CHAOS_SEED, BSK_TIME_SCALE
# [8], BSK_CHECK_DEBUG_OUT [out/check-debug].
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

# ------------------------------------------------------------------ guest

kmemleak() {
	echo "$1" >/sys/kernel/debug/kmemleak 2>/dev/null
}

if [ "${1:-}" = --guest ]; then
	shift
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# Boot-time reports are not ours: note them, then forget them.
		kmemleak scan
		if [ -s /sys/kernel/debug/kmemleak ]; then
			echo "# kmemleak before the tests (kernel, not bootshake):"
			sed 's/^/#   /' /sys/kernel/debug/kmemleak | head -n 40
		fi
		kmemleak clear
	fi
	out=$(mktemp -d /tmp/check-debug.XXXXXX)
	selftests/vm/guest-tests.sh "$@" | tee "$out/tests.log"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/tests.log" | tail -n1)
	read -r pass _ fail _ skip _ <<<"${summary//,/}"
	pass=${pass:-0} fail=${fail:-1} skip=${skip:-0}

	# Unload: whatever bootshake still holds after that is a leak.
	if [ -d /sys/module/bootshake ] && ! rmmod bootshake; then
		echo "# rmmod bootshake failed at the end"
		fail=$((fail + 1))
	fi
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# Reported only once older than kmemleak's minimum age (5 s).
		sleep 6
		kmemleak scan
		kmemleak scan
		if [ -s /sys/kernel/debug/kmemleak ]; then
			echo "not ok kmemleak # $(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak) leaks"
			sed 's/^/#   /' /sys/kernel/debug/kmemleak | head -n 200
			fail=$((fail + 1))
		else
			echo "ok kmemleak # no leak after rmmod"
			pass=$((pass + 1))
		fi
	else
		echo "not ok kmemleak # /sys/kernel/debug/kmemleak missing: not a debug kernel?"
		fail=$((fail + 1))
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
	exit
fi

# ------------------------------------------------------------------- host

start=$(date +%s)
out=${BSK_CHECK_DEBUG_OUT:-$top/out/check-debug}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
# 100000 as root and 100000 as nobody.
export BSK_FUZZ_MESSAGES=${BSK_FUZZ_MESSAGES:-200000}
export BSK_STORM_CYCLES=${BSK_STORM_CYCLES:-500}
export BSK_STRESS_ROUNDS=${BSK_STRESS_ROUNDS:-20}
export BSK_CHAOS_HANDSHAKES=${BSK_CHAOS_HANDSHAKES:-10000}
export BSK_TIME_SCALE=${BSK_TIME_SCALE:-8}
# Per test program; the fuzzer and the 32-device stress run are long.
export BSK_PROG_TIMEOUT=${BSK_PROG_TIMEOUT:-10800}
# pci=noacpi: ACPICA under KASAN+lockdep+KCOV in TCG runs into
# AE_AML_LOOP_TIMEOUT evaluating _PRT and virtio gets no IRQ; the BIOS's
# tables route it instead (ACPI stays on for both vCPUs and the PM timer).
# kasan_multi_shot: report every KASAN error, not only the first.
# no_timer_check: the IO-APIC timer check counts ticks in a busy loop; on
# a loaded host TCG misses them and the boot panics "IO-APIC + timer
# doesn't work!" (seen with three guests on two cores).
append_base="pci=noacpi no_timer_check${BSK_VM_APPEND:+ $BSK_VM_APPEND}"

only=
if [ "${1:-}" = --flavour ]; then
	only=${2:?--flavour needs kasan or kcsan}
	shift 2
fi

echo "TAP version 13"
pass=0 fail=0 skip=0 kt=0 nk=0

# kernel FLAVOUR: build (or find cached) that debug kernel and bootshake.ko
# against it; sets vmlinuz, moddir, ko, krel and BSK_VM_APPEND.
kernel() {
	local flavour=$1 t0 kinfo cold ko_dir=$top/out/debug
	[ "$flavour" = kasan ] || ko_dir=$top/out/debug-$flavour
	nk=$((nk + 1))
	echo "# host: $flavour debug kernel and bootshake.ko built against it"
	t0=$(date +%s)
	if ! kinfo=$(scripts/debug-kernel.sh --flavour "$flavour" --ko "$ko_dir" \
		2> >(sed 's/^/# /' >&2)); then
		echo "not ok $nk $flavour debug kernel and module build"
		fail=$((fail + 1))
		return 1
	fi
	kt=$((kt + $(date +%s) - t0))
	get() { sed -n "s/^$1=//p" <<<"$kinfo"; }
	vmlinuz=$(get vmlinuz)
	moddir=$(get moddir)
	ko=$(get ko)
	krel=$(get krel)
	cold=$(get cold)
	echo "ok $nk $flavour debug kernel $krel ($([ "$cold" = 0 ] && echo "cached" || echo "built in ${cold} s")), module ${ko#"$top"/} ($(($(date +%s) - t0)) s)"
	pass=$((pass + 1))
	# kasan_multi_shot: report every KASAN error, not only the first.
	BSK_VM_APPEND=$append_base
	[ "$flavour" != kasan ] || BSK_VM_APPEND="$append_base kasan_multi_shot"
	export BSK_VM_APPEND
}

# The suite `make check` runs, as check.sh lists it now.
mapfile -t suite < <(sed -n '/^TESTS=(/,/^)/p' selftests/check.sh | sed '1d;$d' |
	sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | sed '/^$/d')
# set_progs PROG...: the programs once each, in order, into progs.
set_progs() {
	local p
	progs=()
	for p in "$@"; do
		case " ${progs[*]} " in *" $p "*) ;; *) progs+=("$p") ;; esac
	done
}

run() {
	local name=$1 num=$2 timeout=$3 t rc summary p f s
	shift 3
	t=$(date +%s)
	echo "# guest run '$name': dummy_hcd num=$num, $* (logs in $out/$name)"
	BSK_KO=$ko selftests/vm/run-vm.sh --vmlinuz "$vmlinuz" --moddir "$moddir" \
		--dummy-num "$num" --timeout "$timeout" --out "$out/$name" -- \
		selftests/check-debug.sh --guest "$@" | tee "$out/$name.log"
	rc=${PIPESTATUS[0]}
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$name.log" | tail -n1)
	if [ -z "$summary" ]; then
		echo "# guest run '$name' produced no summary (rc $rc)"
		p=0 f=1 s=0
	else
		read -r p _ f _ s _ <<<"${summary//,/}"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			echo "# guest run '$name' failed (rc $rc: splat or crash) although no test did"
			f=1
		fi
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	times+=("$name $(($(date +%s) - t)) s")
	logs+=("$out/$name.log")
	[ "${name#kcsan-}" = "$name" ] || kcsan_logs+=("$out/$name.log")
}

times=() logs=() kcsan_logs=() krels=()
if [ "${1:-}" = --part ]; then
	num=$2
	shift 2
	only=${only:-kasan}
	if kernel "$only"; then
		krels+=("$krel")
		if [ "$only" = kasan ]; then run part "$num" 14400 "$@"; else run "$only-part" "$num" 14400 "$@"; fi
	fi
else
	if [ -z "$only" ] || [ "$only" = kasan ] && kernel kasan; then
		krels+=("$krel")
		set_progs "${suite[@]}" selftests/tests/fault_matrix selftests/tests/nl_fuzz
		run suite 8 14400 "${progs[@]}"
		run stress32 32 14400 selftests/tests/stress selftests/tests/chaos
	fi
	if [ -z "$only" ] || [ "$only" = kcsan ] && kernel kcsan; then
		krels+=("$krel")
		set_progs "${suite[@]}" selftests/tests/fault_matrix
		run kcsan-suite 8 14400 "${progs[@]}"
		run kcsan-stress32 32 14400 selftests/tests/stress
	fi
fi

# What a run covered, from the tests' own counts and the kernel log.
# covered LOG...: the counts of those guest runs.
covered() {
	local msgs cycles rounds chaos cases binds
	[ $# -gt 0 ] || set -- /dev/null
	sumof() {
		grep -ho "$1" "${@:3}" 2>/dev/null | awk -v f="$2" '{ s += $f } END { print s + 0 }'
	}
	msgs=$(sumof 'all workers: [0-9]* messages' 3 "$@")
	cycles=$(sumof 'plug_storm:storm: [0-9]* cycles' 2 "$@")
	rounds=$(grep -ho 'rmmod_mid_handshake:[0-9]* rounds' "$@" 2>/dev/null |
		sed 's/.*://; s/ rounds//' | awk '{ s += $1 } END { print s + 0 }')
	chaos=$(sumof 'handshakes:chaos: [0-9]* handshakes' 2 "$@")
	cases=$(cat "$@" | grep -E '^# +(ok|not ok) [0-9]+ fault\.' | grep -vc '# SKIP')
	# The bind line is dev_dbg now: count the USB enumerations instead.
	binds=$(for l in "$@"; do cat "${l%.log}/dmesg.log"; done 2>/dev/null | grep -c 'New USB device found')
	echo "$cases fault-matrix cases, $cycles plug-storm cycles, $rounds rmmod rounds, $chaos chaos handshakes, $msgs netlink fuzz messages, $binds devices plugged"
}
kasan_logs=()
for l in "${logs[@]}"; do
	case " ${kcsan_logs[*]} " in *" $l "*) ;; *) kasan_logs+=("$l") ;; esac
done
kcsan_reports=$(for l in "${kcsan_logs[@]}"; do cat "${l%.log}/dmesg.log"; done 2>/dev/null | grep -c 'BUG: KCSAN:')
echo "# check-debug covered (KASAN kernel): $(covered "${kasan_logs[@]}")"
echo "# check-debug covered (KCSAN kernel): $(covered "${kcsan_logs[@]}"), $kcsan_reports KCSAN reports"
echo "# kernels: ${krels[*]}"
echo "# times: kernels+modules ${kt} s, ${times[*]}; total $(($(date +%s) - start)) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
