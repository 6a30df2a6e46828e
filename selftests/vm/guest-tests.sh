#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-tests.sh - the in-guest test driver (run as CMD by run-vm.sh).
#
#   selftests/vm/guest-tests.sh TESTPROG...
#
# Runs each test program (kselftest_harness binaries printing KTAP) with a
# timeout, prints its output indented with "# " under a top-level TAP plan
# (the kselftest runner's layout), and checks the kernel log lines that
# appeared while it ran against selftests/vm/splat-patterns.  Test cases are
# counted from the harness' closing line
#   # Totals: pass:X fail:Y xfail:A xpass:B skip:Z error:E
# (pass+xfail passed, fail+xpass+error failed, skip skipped).  A program that
# ends without a Totals line counts as one case: passed if it exited 0,
# skipped if it exited 4 (KSFT_SKIP), failed otherwise (crash, timeout).  A
# kernel splat or a timeout adds one failed case.  The last line is
#   N passed, N failed, N skipped
# and the exit status is 1 if anything failed.
#
# Environment:
#   BSK_TIME_SCALE    deadline factor (set by run-vm.sh; default 1)
#   BSK_PROG_TIMEOUT  per-program timeout in seconds, already scaled
#                     (default 120 * BSK_TIME_SCALE)

set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PATTERNS=$VM_DIR/splat-patterns
SCALE=${BSK_TIME_SCALE:-1}
PROG_TIMEOUT=${BSK_PROG_TIMEOUT:-$((120 * SCALE))}

if [ $# -eq 0 ]; then
	echo "usage: $0 TESTPROG..." >&2
	exit 2
fi

klog() {
	dmesg --color=never 2>/dev/null
}

passed=0
failed=0
skipped=0
n=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/guest-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..$#"
for prog in "$@"; do
	n=$((n + 1))
	name=${prog#./}
	echo "# selftests: $name"
	if [ ! -x "$prog" ]; then
		echo "not ok $n $name # not found or not executable"
		failed=$((failed + 1))
		continue
	fi

	before=$(klog | wc -l)
	t0=$SECONDS
	# (In a subshell with stderr closed: bash's "Segmentation fault" job
	# notice would otherwise break the TAP stream; we report it ourselves.)
	(
		timeout --kill-after=10 "$PROG_TIMEOUT" "$prog" </dev/null 2>&1 |
			tee "$tmp/out" | sed -u 's/^/# /'
		exit "${PIPESTATUS[0]}"
	) 2>/dev/null
	rc=$?
	echo "# $name took $((SECONDS - t0)) s"
	if [ "$rc" -gt 128 ] && [ "$rc" -ne 137 ]; then
		echo "# $name: killed by signal $((rc - 128)) ($(kill -l "$((rc - 128))" 2>/dev/null || echo '?'))"
	fi
	klog >"$tmp/klog"
	now=$(wc -l <"$tmp/klog")
	# Fewer lines than before: the ring buffer wrapped; look at all of it.
	[ "$now" -ge "$before" ] || before=0
	tail -n +"$((before + 1))" "$tmp/klog" >"$tmp/klog.new"

	reasons=()
	p=0 f=0 s=0
	totals=$(grep -a -E '^# Totals: pass:[0-9]+ fail:[0-9]+ xfail:[0-9]+ xpass:[0-9]+ skip:[0-9]+ error:[0-9]+' "$tmp/out" | tail -n1)
	if [ -n "$totals" ]; then
		counts=$(sed -E 's/.*pass:([0-9]+) fail:([0-9]+) xfail:([0-9]+) xpass:([0-9]+) skip:([0-9]+) error:([0-9]+).*/\1 \2 \3 \4 \5 \6/' <<<"$totals")
		read -r tp tf txf txp ts te <<<"$counts"
		p=$((tp + txf))
		f=$((tf + txp + te))
		s=$ts
		[ "$f" -eq 0 ] || reasons+=("$f failed")
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		f=$((f + 1))
		reasons+=("timed out after ${PROG_TIMEOUT}s")
	elif [ -z "$totals" ]; then
		case $rc in
		0) p=1 ;;
		4) s=1 ;;
		*)
			f=1
			reasons+=("exit $rc without a Totals line")
			;;
		esac
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		f=1
		reasons+=("exit $rc")
	fi

	splat=$(grep -a -E -f "$PATTERNS" "$tmp/klog.new" || true)
	if [ -n "$splat" ]; then
		f=$((f + 1))
		reasons+=("kernel splat during $name")
		echo "# kernel splat during $name:"
		sed 's/^/#   /' "$tmp/klog.new" | head -n 200
	fi

	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		(
			IFS=';'
			echo "not ok $n $name # ${reasons[*]}"
		)
	elif [ "$p" -eq 0 ] && [ "$s" -gt 0 ]; then
		echo "ok $n $name # SKIP"
	else
		echo "ok $n $name"
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
