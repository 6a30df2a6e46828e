#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fleet-guest.sh - the fleet view (issue 16, item 7) in the install test's
# guest: a station's bootshake events reach a systemd-journal-remote
# receiver through systemd-journal-upload, with their fields intact.
#
#   selftests/tests/fleet-guest.sh      (run by install-guest.sh)
#
# Needs what install-guest.sh has set up: the packages installed (the
# helper, the catalog, the journal-upload example), bootshake loaded,
# udevd, and journald running with the hostname bsk-station-1; the root has
# systemd-journal-remote, iproute2 and jq (selftests/vm/install-root.sh).
#
# Two network namespaces joined by a veth pair: bsk-recv runs
# systemd-journal-remote --listen-http on 10.231.0.2:19532, writing one
# journal file; bsk-station runs systemd-journal-upload with the packaged
# example configuration (its URL= pointed at the receiver).  The station's
# `bootshake -j monitor --journal` sees NDEV emulated MediaTek BROMs
# plugged, ready and unplugged.  Then:
#   - N sent: the monitor printed N events for those devices and the
#     station's journal holds exactly those N (same kernel event time);
#   - N received: those N entries are on the receiver, each once with
#     every field equal (none lost, none duplicated), and so is every
#     other bootshake entry of the station (the install test's earlier
#     ones); the wait for them is a condition (the receiver's count) with
#     a scaled deadline;
#   - the receiver's `journalctl -o json` finds them by station
#     (_HOSTNAME, _MACHINE_ID) and by device (BOOTSHAKE_PATH and
#     BOOTSHAKE_ID): a plug, a ready and a gone per device, each with its
#     MESSAGE_ID, USB id and the kernel's event time (BOOTSHAKE_EVENT_NS,
#     before the entry's own);
#   - `journalctl -x` explains them from the installed catalog.
#
# Prints "ok - WHAT" / "not ok - WHAT" and "# ..." lines; exits 1 if a
# check failed.
set -uo pipefail
NDEV=${BSK_FLEET_DEVICES:-3}
STATION=bsk-station-1
RX_ADDR=10.231.0.2
PORT=19532
EMU=selftests/emu/bsk-emu
EXAMPLE=/usr/share/doc/bootshake/examples/journal-upload.conf
UPLOAD_CONF=/etc/systemd/journal-upload.conf.d/bootshake-fleet.conf
# MESSAGE_IDs of user/journal.c (fixed for good)
MID_ADD=c56489f8eb6c4537a057a5e47e32539d
MID_CHANGE=f681ffda357044799e1cfb52a31e805f
MID_REMOVE=6ee270e1c99d45c787f3c1039b05dccb

tmp=$(mktemp -d)
rx=$tmp/rx
mkdir -p "$rx"
guest_prefix="fleet: "
# shellcheck source=selftests/tests/guest-lib.sh
. "${0%/*}/guest-lib.sh"

pids=()
emus=()
cleanup() {
	local p
	for p in "${emus[@]}" "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del bsk-station 2>/dev/null
	ip netns del bsk-recv 2>/dev/null
	rm -f "$UPLOAD_CONF"
	rmdir "${UPLOAD_CONF%/*}" 2>/dev/null
}
trap cleanup EXIT

bail() {
	nok "$*"
	exit 1
}
# jq_true FILTER FILE: the filter's result is true (jq -e, quiet)
jq_true() { jq -e "$@" >/dev/null; }

# ---------------------------------------------------------------- network

stamp "network namespaces"
check "the station's journald has the hostname $STATION" \
	test "$(journalctl -n 1 -o json | jq -r ._HOSTNAME)" = "$STATION"
modprobe veth 2>/dev/null
netns() {
	ip netns add bsk-station && ip netns add bsk-recv &&
		ip link add veth-st netns bsk-station type veth peer name veth-rx netns bsk-recv &&
		ip -n bsk-station addr add 10.231.0.1/24 dev veth-st &&
		ip -n bsk-recv addr add "$RX_ADDR/24" dev veth-rx &&
		ip -n bsk-station link set veth-st up && ip -n bsk-station link set lo up &&
		ip -n bsk-recv link set veth-rx up && ip -n bsk-recv link set lo up
}
netns || bail "two network namespaces joined by a veth pair"
ok "two network namespaces (bsk-station, bsk-recv) joined by a veth pair"

# --------------------------------------------------------------- receiver

ip netns exec bsk-recv /lib/systemd/systemd-journal-remote \
	--listen-http="$RX_ADDR:$PORT" --split-mode=none --output="$rx/station.journal" \
	>"$tmp/remote.log" 2>&1 &
pids+=($!)
rx_pid=$!
listening() { ip netns exec bsk-recv cat /proc/net/tcp | awk -v p="$(printf '%04X' $PORT)" \
	'$4 == "0A" && $2 ~ ":" p "$" { f = 1 } END { exit !f }'; }
check "systemd-journal-remote listens on $RX_ADDR:$PORT in bsk-recv" wait_for 30 listening ||
	{ show <"$tmp/remote.log"; bail "no receiver"; }

# --------------------------------------------------------------- uploader

check "the package ships the journal-upload example" test -f "$EXAMPLE"
mkdir -p "${UPLOAD_CONF%/*}"
sed "s|^URL=.*|URL=http://$RX_ADDR:$PORT|" "$EXAMPLE" >"$UPLOAD_CONF"
grep -v '^#' "$UPLOAD_CONF" | sed '/^$/d' | show
ip netns exec bsk-station /lib/systemd/systemd-journal-upload \
	--save-state="$tmp/upload.state" >"$tmp/upload.log" 2>&1 &
pids+=($!)
up_pid=$!

# ----------------------------------------------------------------- events

# The station's bootshake entries written after $cursor, one JSON object a
# line.  Not `journalctl --after-cursor=C MATCH...`: before systemd 255
# (bookworm has 252) that form steps two entries past the cursor *among
# the entries that match*, assuming the first is the cursor's own, so when
# the cursor's entry does not match it drops the first matching entry
# (systemd issue #30288, fixed by #30336).  Here the cursor is the
# journal's last entry before the monitor starts, rarely a bootshake one:
# the first event of the run went missing from every such count (the
# "lost" plug of the first runs, and a removal count that never got to
# NDEV).  Without a match the entry skipped is the cursor's own, and jq
# picks the bootshake entries.
since_cursor() {
	journalctl --after-cursor="$cursor" -o json |
		jq -c 'select(.SYSLOG_IDENTIFIER == "bootshake")'
}
cursor=$(journalctl -n 1 -o json | jq -r .__CURSOR)
bootshake -j monitor --journal >"$tmp/monitor.json" 2>"$tmp/monitor.err" &
pids+=($!)
mon=$!
wait_for 10 subscribed "$mon" || echo "# (no subscription seen in /proc/net/netlink)"
stamp "plugging $NDEV emulated BROMs"
for ((i = 0; i < NDEV; i++)); do
	"$EMU" --personality mtk-brom --udc "dummy_udc.$i" </dev/null \
		>"$tmp/emu.$i.out" 2>"$tmp/emu.$i.err" &
	emus+=($!)
done
nready() { bootshake -j list 2>/dev/null | jq '[.[] | select(.state == "ready")] | length'; }
all_ready() { [ "$(nready)" = "$NDEV" ]; }
check "$NDEV devices ready" wait_for 60 all_ready
stamp "unplugging"
for p in "${emus[@]}"; do
	kill -USR1 "$p"
done
# The monitor journals its events in order, one datagram each, and a
# device's removal is its last: with every removal in the station's
# journal, every event the monitor printed before them is there too.
nremoved() { since_cursor | jq -s --arg m $MID_REMOVE '[.[] | select(.MESSAGE_ID == $m)] | length'; }
all_gone() { [ "$(nremoved)" -ge "$NDEV" ]; }
check "$NDEV devices gone (the station's journal has their removal)" wait_for 60 all_gone
kill "${emus[@]}" 2>/dev/null
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
if [ -s "$tmp/monitor.err" ]; then
	echo "# monitor stderr:"
	show <"$tmp/monitor.err"
fi

# -------------------------------------------------------------- N sent

# "sent": the station's bootshake entries since the plug, as the monitor
# printed them: one line per event, path and kernel time.
# (The nanoseconds as text: jq's numbers are doubles.)
norm() { jq -cS 'del(.__CURSOR, .__SEQNUM, .__SEQNUM_ID)' | sort; }
since_cursor >"$tmp/sent.json"
norm <"$tmp/sent.json" >"$tmp/sent.all"
grep -E '"event": ?"(add|change|remove)"' "$tmp/monitor.json" >"$tmp/mon.lines"
paste -d' ' <(jq -c '[.event, .path]' "$tmp/mon.lines") \
	<(grep -oE '"time_ns": ?[0-9]+' "$tmp/mon.lines" | grep -oE '[0-9]+$') |
	sort >"$tmp/mon.events"
jq -r '"\([.BOOTSHAKE_EVENT, .BOOTSHAKE_PATH] | tojson) \(.BOOTSHAKE_EVENT_NS)"' \
	"$tmp/sent.json" | sort >"$tmp/sent.events"
nmon=$(wc -l <"$tmp/mon.events")
nsent=$(wc -l <"$tmp/sent.events")
echo "# the monitor printed $nmon events, the station's journal has $nsent"
check "N sent: the station's journal holds exactly the $nmon events the monitor printed (path, kernel time)" \
	cmp -s "$tmp/mon.events" "$tmp/sent.events" ||
	diff "$tmp/mon.events" "$tmp/sent.events" | show
check "at least a plug, a ready and a gone per device were sent ($nsent >= $((3 * NDEV)))" \
	test "$nsent" -ge $((3 * NDEV))

# ---------------------------------------------------------- N received

# Every bootshake entry of the station's journal (the install test's
# earlier ones too), as the receiver must have them: all fields but the
# journal's own position (__CURSOR, __SEQNUM*).
journalctl -o json SYSLOG_IDENTIFIER=bootshake | norm >"$tmp/local.all"
nlocal=$(wc -l <"$tmp/local.all")
received() {
	journalctl -D "$rx" -o json SYSLOG_IDENTIFIER=bootshake _HOSTNAME=$STATION 2>/dev/null |
		norm >"$tmp/rx.all"
	[ "$(wc -l <"$tmp/rx.all")" -ge "$nlocal" ]
}
check "the receiver got $nlocal bootshake entries of the station" wait_for 60 received
stamp "stopping the uploader and the receiver"
kill "$up_pid" 2>/dev/null
wait "$up_pid" 2>/dev/null
kill "$rx_pid" 2>/dev/null
wait "$rx_pid" 2>/dev/null
journalctl -D "$rx" -o json SYSLOG_IDENTIFIER=bootshake _HOSTNAME=$STATION | norm >"$tmp/rx.all"
nrx=$(wc -l <"$tmp/rx.all")
ndup=$(uniq -d "$tmp/rx.all" | wc -l)
echo "# $nlocal bootshake entries on the station, $nrx on the receiver ($ndup duplicated)"
check "the receiver has each of the station's $nlocal bootshake entries once, fields intact" \
	cmp -s "$tmp/local.all" "$tmp/rx.all" ||
	{ diff "$tmp/local.all" "$tmp/rx.all" | head -n 20 | show; tail -n 20 "$tmp/upload.log" | show; }
# This run's events on the receiver: the entries equal, every field, to
# one the monitor sent (a copy with a field changed counts as lost, one
# that arrived twice twice).
nrecv=$(grep -cxF -f "$tmp/sent.all" "$tmp/rx.all")
lost=$(grep -cvxF -f "$tmp/rx.all" "$tmp/sent.all")
echo "# N sent = $nsent, N received = $nrecv ($lost lost, $ndup duplicated)"
check "N received: $nsent events sent, $nrecv received, none lost or duplicated, fields intact" \
	test "$nsent $nrecv $lost $ndup" = "$nsent $nsent 0 0"

# -------------------------------------------------- by station, by device

mid=$(cat /etc/machine-id)
by_station=$(journalctl -D "$rx" -o json _HOSTNAME=$STATION _MACHINE_ID="$mid" \
	SYSLOG_IDENTIFIER=bootshake | jq -s length)
check "by station: _HOSTNAME=$STATION _MACHINE_ID=$mid finds all $by_station" \
	test "$by_station" = "$nlocal"
other=$(journalctl -D "$rx" -o json _HOSTNAME=bsk-station-2 | jq -s length)
check "by station: another station's name finds none ($other)" test "$other" = 0

# The devices of this run: "PATH ID" of each plug (a USB path is used
# again by the next device plugged there, the install test's first device
# was at 1-1 too; ids never repeat).
jq -r --arg m $MID_ADD 'select(.MESSAGE_ID == $m) | "\(.BOOTSHAKE_PATH) \(.BOOTSHAKE_ID)"' \
	"$tmp/sent.json" | sort -u >"$tmp/devices"
paths=$(cut -d' ' -f1 "$tmp/devices" | sort -u)
check "$NDEV devices plugged (paths: $(paste -sd' ' <<<"$paths"))" \
	test "$(wc -w <<<"$paths") $(wc -l <"$tmp/devices")" = "$NDEV $NDEV"
# one device's story on the receiver (its path and id): a plug, a ready,
# a gone, in that order, each with its MESSAGE_ID, the USB id and the
# kernel's event time at or before the entry's own time (the same clock:
# one machine).
while read -r p id <&3; do
	journalctl -D "$rx" -o json _HOSTNAME=$STATION BOOTSHAKE_PATH="$p" BOOTSHAKE_ID="$id" |
		jq -s --arg add $MID_ADD --arg change $MID_CHANGE --arg remove $MID_REMOVE '
		[.[] | select(.SYSLOG_IDENTIFIER == "bootshake")] as $e |
		($e | map(.BOOTSHAKE_EVENT +
			(if .BOOTSHAKE_STATE == "ready" then ":ready" else "" end))) as $seq |
		{
			seq: $seq,
			plug_first: ($seq[0] == "add"),
			ready: ($seq | any(. == "change:ready")),
			gone_last: ($seq[-1] == "remove"),
			mids: ($e | all(
				(.BOOTSHAKE_EVENT == "add" and .MESSAGE_ID == $add) or
				(.BOOTSHAKE_EVENT == "change" and .MESSAGE_ID == $change) or
				(.BOOTSHAKE_EVENT == "remove" and .MESSAGE_ID == $remove))),
			usb: ($e | all(.BOOTSHAKE_USB_ID == "0e8d:0003" and .BOOTSHAKE_KIND != null)),
			time: ($e | all(.BOOTSHAKE_EVENT_NS != null and
				((.BOOTSHAKE_EVENT_NS | tonumber) / 1000 <=
				 (.__REALTIME_TIMESTAMP | tonumber)) and
				((.__REALTIME_TIMESTAMP | tonumber) -
				 (.BOOTSHAKE_EVENT_NS | tonumber) / 1000 < 60000000)))
		}' >"$tmp/story.$p" 2>&1
	show <"$tmp/story.$p"
	check "by device $p (id $id): plug, ready, gone on the receiver" \
		jq_true '.plug_first and .ready and .gone_last' "$tmp/story.$p"
	check "by device $p: MESSAGE_ID per event type, USB id and kind intact" \
		jq_true '.mids and .usb' "$tmp/story.$p"
	check "by device $p: the kernel's event time (BOOTSHAKE_EVENT_NS) before the entry's own" \
		jq_true '.time' "$tmp/story.$p"
done 3<"$tmp/devices"

# ---------------------------------------------------------------- catalog

read -r p id <"$tmp/devices"
journalctl -D "$rx" -x --no-pager _HOSTNAME=$STATION MESSAGE_ID=$MID_ADD BOOTSHAKE_PATH="$p" \
	BOOTSHAKE_ID="$id" \
	>"$tmp/explained" 2>&1
show <"$tmp/explained"
check "journalctl -x explains a plug from the installed catalog" \
	grep -q "Subject: device $p plugged" "$tmp/explained"

[ "$fails" = 0 ] || {
	echo "# receiver log:"
	show <"$tmp/remote.log"
	echo "# uploader log:"
	show <"$tmp/upload.log"
}
[ "$fails" = 0 ]
