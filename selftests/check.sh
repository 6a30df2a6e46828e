#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the kernel's checkers on kmod/ (host), then every selftest
# in a QEMU guest booting Debian's stock kernel of the chosen line(s).
# Ends with one line "N passed, N failed, N skipped" and exits non-zero on
# any failure.
#
#   selftests/check.sh [--kernel LINE]...     LINE: 6.1 (default) 6.12 7.2
#
# Several --kernel options run the suite on each line in turn (make
# check-matrix), with the host's static checks once.  A line other than 6.1
# is fetched and the module built for it in that release's debootstrap
# tree by scripts/kernels.sh (cached in $BSK_CACHE): its W=1 build is one
# more test line, and the guest then loads out/<abi>/bootshake.ko.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
klines=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) klines+=("${2:?--kernel needs a line}"); shift 2 ;;
	--kernel=*) klines+=("${1#*=}"); shift ;;
	*) echo "usage: $0 [--kernel LINE]..." >&2; exit 2 ;;
	esac
done
[ ${#klines[@]} -gt 0 ] || klines=(6.1)

# The tests `make check` runs, in order (slower sets get their own target).
TESTS=(
	selftests/tests/mtk_brom
	selftests/tests/takeover
	selftests/tests/cli
	selftests/tests/stm32_dfu
	selftests/tests/stm32_usart
	selftests/tests/mtk_brom_scenarios
	selftests/tests/mtk_preloader
	selftests/tests/nl_fuzz
	selftests/tests/jobs
	selftests/tests/nl_limits
	selftests/tests/lifecycle
	selftests/tests/babble
	selftests/tests/ynl_cli.py
)
# dummy_hcd host/gadget pairs in the guest: jobs plugs 8 devices at once.
DUMMY_NUM=8
# The guest's bound (run-vm.sh --timeout): the suite's command took up to
# 840 s on the loaded 2-core build machine before jobs (about 45 s on a
# quiet one, more under load) was added; 900 s was cut off there.

start=$(date +%s)
echo "TAP version 13"
echo "# host: static checks on kmod/"
host_out=$(selftests/static-checks.sh)
echo "$host_out"
# static-checks cleaned and rebuilt the module: make sure it is current.
make -s module >/dev/null || { echo "not ok - module build"; exit 1; }
n=$(grep -cE '^(not )?ok ' <<<"$host_out")
pass=$(grep -c '^ok ' <<<"$host_out")
fail=$(grep -c '^not ok ' <<<"$host_out")
skip=0
lines_summary=()

for kline in "${klines[@]}"; do
	t0=$(date +%s)
	out_dir=$(mktemp -d /tmp/bsk-check.XXXXXX)
	ko=$top/bootshake.ko
	desc="Debian $kline"
	if [ "$kline" != 6.1 ]; then
		echo "# host: $kline headers, kernel and W=1 build (scripts/kernels.sh $kline)"
		n=$((n + 1))
		krc=0
		kinfo=$(scripts/kernels.sh "$kline" 2>"$out_dir/kernels.log") || krc=$?
		sed 's/^/# /' "$out_dir/kernels.log"
		if [ "$krc" = 0 ]; then
			abi=$(sed -n 's/^abi=//p' <<<"$kinfo")
			ver=$(sed -n 's/^version=//p' <<<"$kinfo")
			ko=$(sed -n 's/^ko=//p' <<<"$kinfo")
			desc="Debian $kline, $abi ($ver)"
			echo "ok $n W=1 build of bootshake.ko against $abi is warning-free"
			pass=$((pass + 1))
		else
			echo "not ok $n W=1 build of bootshake.ko for the $kline line (see above)"
			fail=$((fail + 1))
			lines_summary+=("$kline: no kernel or module, suite not run")
			continue
		fi
	else
		kinfo=$(scripts/kernels.sh 6.1 2>/dev/null) &&
			desc="Debian 6.1, $(sed -n 's/^abi=//p' <<<"$kinfo") ($(sed -n 's/^version=//p' <<<"$kinfo"))"
	fi

	echo "# guest: $desc kernel under qemu -accel tcg"
	# The host timeout is the backstop for a wedged guest only: each
	# program is bounded by guest-tests.sh (120 s x BSK_TIME_SCALE).  The
	# suite takes 12-15 min on the 2-core build machine with other guests
	# running (a 7.2 run under load 10 had done 6 of 8 programs at 13 min
	# when 900 s stopped it), so the backstop is twice that.  Eight UDCs
	# ($DUMMY_NUM): jobs plugs 8 devices at once, and cli's
	# dump_interrupted_by_unplugs needs a device dump of two parts (>= 6).
	BSK_KO=$ko selftests/vm/run-vm.sh --kernel "$kline" --dummy-num "$DUMMY_NUM" --timeout 1800 --out "$out_dir" -- \
		selftests/vm/guest-tests.sh "${TESTS[@]}" | tee "$out_dir/tests.log"
	vm_rc=${PIPESTATUS[0]}

	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out_dir/tests.log" | tail -n1)
	if [ -z "$summary" ]; then
		echo "# guest run produced no summary (rc $vm_rc); logs in $out_dir"
		gpass=0 gfail=1 gskip=0
	else
		read -r gpass _ gfail _ gskip _ <<<"${summary//,/}"
		gskip=${gskip:-0}
		# A splat or a crashed guest fails the run even if every test passed.
		if [ "$vm_rc" != 0 ] && [ "$gfail" = 0 ]; then
			echo "# guest run failed (rc $vm_rc) although no test did; logs in $out_dir"
			gfail=1
		fi
	fi
	pass=$((pass + gpass))
	fail=$((fail + gfail))
	skip=$((skip + gskip))
	lines_summary+=("$desc: $gpass passed, $gfail failed, $gskip skipped in $(($(date +%s) - t0)) s; logs in $out_dir")
done

for l in "${lines_summary[@]}"; do
	echo "# $l"
done
echo "# make check took $(($(date +%s) - start)) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
