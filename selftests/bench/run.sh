#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - "make bench": boot the test guest once with 32 dummy_hcd ports,
# run every contender against the same emulated devices (bench, in the
# guest), then print the table and write out/bench.json (report.py).
#
#   selftests/bench/run.sh [--doc] [--out DIR] [-- BENCH-ARGS...]
#
#   --doc       also rewrite the table in Documentation/benchmarks.rst
#   --out DIR   results directory (default <repo>/out; the guest log goes
#               to DIR/bench-vm/)
#   BENCH-ARGS  passed to the in-guest runner, e.g. --plugs1 10 for a
#               quick look (see the top of selftests/bench/bench.c)
#
# Exit status: 0 when the run completed and bootshake's t1-t0 median is
# below every userspace contender's in every case; 1 otherwise.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
OUT=$REPO/out
DOC=false

while [ $# -gt 0 ]; do
	case $1 in
	--doc) DOC=true; shift ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--doc] [--out DIR] [-- BENCH-ARGS...]" >&2; exit 2 ;;
	esac
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
make -s -C "$REPO/selftests/bench"

# What is measured: the tree's commit, and whether kmod/ differs from it
# (taken now: the working tree may move during the run).
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain -- kmod 2>/dev/null)" ]; then
	commit="$commit + uncommitted kmod/ changes"
fi

t0=$(date +%s.%N)
rc=0
# The guest's own deadline is the host timeout minus 10%.
"$REPO/selftests/vm/run-vm.sh" --dummy-num 32 --timeout 3600 \
	--out "$OUT/bench-vm" -- selftests/bench/bench "$@" >"$OUT/bench-vm.log" 2>&1 || rc=$?
t1=$(date +%s.%N)
# CPU time of the children of this shell: qemu (and run-vm.sh's helpers).
times >"$OUT/.bench-times"
{ read -r _ _; read -r cu cs; } <"$OUT/.bench-times"
rm -f "$OUT/.bench-times"
host_cpu=$(awk -v u="$cu" -v s="$cs" 'function sec(t,  m) {
		m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t)
		return m * 60 + t }
	BEGIN { printf "%.1f", sec(u) + sec(s) }')
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

if [ "$rc" -ne 0 ]; then
	echo "bench: the guest run ended with status $rc (see $OUT/bench-vm.log," \
		"$OUT/bench-vm/)" >&2
	tail -n 20 "$OUT/bench-vm.log" >&2
fi

args=(--json "$OUT/bench.json" --table "$OUT/bench.txt"
	--host-cpu-s "$host_cpu" --wall-s "$wall" --commit "$commit")
$DOC && args+=(--rst "$REPO/Documentation/benchmarks.rst")
report_rc=0
python3 "$REPO/selftests/bench/report.py" "$OUT/bench-vm/guest-output.log" \
	"${args[@]}" || report_rc=$?
echo
echo "bench: $OUT/bench.json, $OUT/bench.txt, guest log $OUT/bench-vm/guest-output.log"
[ "$rc" -eq 0 ] && [ "$report_rc" -eq 0 ]
