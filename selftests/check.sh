#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the kernel's checkers on kmod/ (host), then every selftest
# in a QEMU guest booting Debian's stock kernel of the chosen line.
# Ends with one line "N passed, N failed, N skipped" and exits non-zero on
# any failure.
#
#   selftests/check.sh [--kernel LINE]
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
kline=6.1
[ "${1:-}" = --kernel ] && kline=$2

# The tests `make check` runs, in order (slower sets get their own target).
TESTS=(
	selftests/tests/mtk_brom
	selftests/tests/takeover
)

start=$(date +%s)
echo "TAP version 13"
echo "# host: static checks on kmod/"
host_out=$(selftests/static-checks.sh)
echo "$host_out"
# static-checks cleaned and rebuilt the module: make sure it is current.
make -s module >/dev/null || { echo "not ok - module build"; exit 1; }
hpass=$(grep -c '^ok ' <<<"$host_out")
hfail=$(grep -c '^not ok ' <<<"$host_out")

echo "# guest: Debian $kline kernel under qemu -accel tcg"
out_dir=$(mktemp -d /tmp/bsk-check.XXXXXX)
selftests/vm/run-vm.sh --kernel "$kline" --timeout 900 --out "$out_dir" -- \
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

pass=$((hpass + gpass))
fail=$((hfail + gfail))
echo "# make check took $(( $(date +%s) - start )) s; guest logs in $out_dir"
echo "$pass passed, $fail failed, $gskip skipped"
[ "$fail" = 0 ]
