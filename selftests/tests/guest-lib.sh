# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# guest-lib.sh - helpers shared by the in-guest halves of the install and
# systemd tests (install-guest.sh, fleet-guest.sh, jobs-systemd-guest.sh),
# sourced by them:
#
#   tmp=$(mktemp -d)            # the script's scratch directory, first
#   guest_prefix="fleet: "      # optional: put before every result line
#   . "${0%/*}/guest-lib.sh"
#
# Result lines are "ok - WHAT" / "not ok - WHAT" (the host half numbers
# them) and "# ..." details; nok counts into $fails.  Waits are scaled by
# BSK_TIME_SCALE and poll without exec'ing anything: every exec of a
# binary from the 9p root costs under TCG.

scale=${BSK_TIME_SCALE:-1}
fails=0
guest_prefix=${guest_prefix:-}

ok() { echo "ok - $guest_prefix$*"; }
nok() {
	echo "not ok - $guest_prefix$*"
	fails=$((fails + 1))
}
# check WHAT CMD...: one result line from CMD's status, which it returns.
check() {
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		nok "$what"
		return 1
	fi
}
show() { sed 's/^/#   /'; }
stamp() { echo "# [${SECONDS}s] $guest_prefix$*"; }

# A FIFO nobody writes to: read -t on it is a sleep without an exec.
guest_never=${tmp:?guest-lib.sh: set tmp before sourcing it}/.guest-lib-never
[ -p "$guest_never" ] || mkfifo "$guest_never"
nap() { read -r -t 0.2 <>"$guest_never" || true; }

# wait_for SECS CMD...: poll CMD until it succeeds, for SECS (scaled).
wait_for() {
	local end=$((SECONDS + $1 * scale))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		nap
	done
}

# subscribed PID: a generic netlink socket of process PID (port id = pid in
# its low 22 bits, libnl) has joined a multicast group.  If the group's
# number is too big for /proc's first 32 bits, this stays false.
subscribed() {
	local proto port groups
	while read -r _ proto port groups _; do
		[ "$proto" = 16 ] && [ "$((port % 4194304))" = "$1" ] &&
			[ "$groups" != 00000000 ] && return 0
	done </proc/net/netlink
	return 1
}
