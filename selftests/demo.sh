#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the guest: plug an emulated MediaTek BROM into
# dummy_hcd with bootshake loaded, and show what a user sees: the monitor
# events, `bootshake list` and the device's JSON.
set -euo pipefail
cd "${BSK_REPO:-.}"
BSK=user/bootshake
UDC=dummy_udc.0
scale=${BSK_TIME_SCALE:-1}
tmp=$(mktemp -d)

# Human-readable monitor for the show, JSON monitor to know when to go on.
$BSK monitor >"$tmp/monitor.txt" 2>&1 &
mon=$!
coproc JMON { exec $BSK -j monitor --dump; }

# The emulator plays the device until its stdin closes.
coproc EMU { exec selftests/emu/bsk-emu --personality mtk-brom --udc "$UDC" 2>"$tmp/emu.err"; }
echo "== plugged an emulated MediaTek BROM (0e8d:0003) into $UDC"

state=none
while read -r -t $((10 * scale)) line <&"${JMON[0]}"; do
	if [[ $line =~ \"state\":\ ?\"(ready|failed)\" ]]; then
		state=${BASH_REMATCH[1]}
		break
	fi
done
echo "== handshake finished: $state"
echo
echo "== bootshake list"
$BSK list
echo
echo "== bootshake -j list"
$BSK -j list
echo
echo "== unplug"
kill -TERM "$EMU_PID" 2>/dev/null || true
wait "$EMU_PID" 2>/dev/null || true
while read -r -t $((5 * scale)) line <&"${JMON[0]}"; do
	[[ $line =~ \"event\":\ ?\"remove\" ]] && break
done
kill "$JMON_PID" "$mon" 2>/dev/null || true
wait "$mon" 2>/dev/null || true
echo
echo "== bootshake monitor (started before the plug)"
cat "$tmp/monitor.txt"
[ "$state" = ready ]
