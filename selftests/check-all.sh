#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-all: everything CI runs (.ci/run calls it).  The suite on
# every kernel line (make check-matrix: the host's static checks once, then
# Debian 6.1, 6.12 and 7.2 stock kernels, each module built in its
# release's tree), then the end-to-end install test (make check-install:
# the Debian packages in a debootstrap root with systemd-udevd).  Each
# part's output is kept in out/check-all-<part>.log; the last line adds
# them up: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p out

runs=("check-matrix" "check-install")
rc=0
start=$(date +%s)
for r in "${runs[@]}"; do
	t0=$(date +%s)
	make "$r" 2>&1 | tee "out/check-all-$r.log"
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	echo "# make $r took $(($(date +%s) - t0)) s"
done

p=0 f=0 s=0
for r in "${runs[@]}"; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "out/check-all-$r.log" | tail -n1)
	if [ -z "$line" ]; then
		echo "# make $r printed no summary"
		f=$((f + 1))
		continue
	fi
	echo "# make $r: $line"
	read -r tp _ tf _ ts _ <<<"${line//,/}"
	p=$((p + tp)) f=$((f + tf)) s=$((s + ${ts:-0}))
done
echo "# make check-all took $(($(date +%s) - start)) s"
echo "$p passed, $f failed, $s skipped"
[ "$rc" = 0 ] && [ "$f" = 0 ]
