#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# jobs-systemd-guest.sh - the in-guest half of selftests/tests/jobs-systemd.sh.
#
# Runs as run-vm.sh's CMD on the install root prepared by the host half
# (helper, 60-bootshake-job.rules, bootshake-job@.service, /etc/bootshake/job
# and job.conf, bsk-jobs-test.target), with bootshake.ko loaded (or
# loaded here with modprobe when run-vm.sh had BSK_KO=none).
#
# systemd must be PID 1 to act on SYSTEMD_WANTS, and the guest's PID 1 is
# run-vm.sh's init: systemd is booted as PID 1 of a new PID and mount
# namespace (what a container manager does), into bsk-jobs-test.target
# (basic.target, journald, udevd).  Network, uevents, /run and /sys are the guest's, so
# the kernel's uevents reach its udevd, udevd's events reach it, and this
# script sees /run/bsk-jobs and the journal in /run/log/journal.
#
# Then: BSK_JOBS_DEVICES (8) emulated BROMs, each with its own hw_code, are
# plugged; each must start bootshake-job@<id>.service through the rule, and
# each job must get its own device's identity; a device unplugged while its
# job runs: SIGTERM after the grace period (job.conf: --grace 1), the job's
# trap exits 5, the journal has job-exit with device_gone, the unit failed.
# Last, `bootshake monitor --exec --jobs 2` beside them: 8 devices plugged
# again, never more than 2 of its jobs at once, all 8 completed with their
# exit codes, each with its own device's identity.
#
# Every exec of a large binary (systemctl, journalctl) from the 9p root
# takes seconds under TCG: the checks ask systemd and the journal once, and
# the waits use shell builtins.
#
# Prints "ok - WHAT" / "not ok - WHAT" and "# ..." lines; exits 1 on failure.

set -uo pipefail
ndev=${BSK_JOBS_DEVICES:-8}
[ "$ndev" -le "${BSK_DUMMY_NUM:-4}" ] || ndev=${BSK_DUMMY_NUM:-4}
EMU=$PWD/selftests/emu/bsk-emu
res=/run/bsk-jobs
# (/run: systemd's boot does not clean it; /tmp it might)
tmp=$(mktemp -d /run/bsk-jobs-test.XXXXXX)
# shellcheck source=selftests/tests/guest-lib.sh
. "${0%/*}/guest-lib.sh"
hw_codes=(0x0766 0x0717 0x0788 0x0707 0x0813 0x0690 0x0699 0x0551)

# lines FILE PREFIX: how many lines of FILE start with PREFIX (builtins)
lines() {
	local l c=0
	[ -f "$1" ] || { echo 0; return; }
	while IFS= read -r l; do
		[[ $l == "$2"* ]] && c=$((c + 1))
	done <"$1"
	echo "$c"
}

spid=
emus=()
cleanup() {
	local p
	for p in "${emus[@]}"; do
		[ -z "$p" ] || kill "$p" 2>/dev/null
	done
	# PID 1 of the namespace: killing it ends everything in there
	[ -z "$spid" ] || kill -KILL "$spid" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

# ------------------------------------------------------------ systemd

# run-vm.sh loaded the checkout's module, or (BSK_KO=none: the packages'
# root) the installed one is loaded as the monitor unit would.
if [ ! -e /sys/module/bootshake ]; then
	modprobe bootshake
	check "modprobe bootshake: $(modinfo -F filename bootshake 2>&1)" test -e /sys/module/bootshake
fi
mkdir -p "$res"
stamp "booting systemd in a PID namespace"
unshare --pid --fork --mount-proc \
	/lib/systemd/systemd --system --unit=bsk-jobs-test.target \
	--show-status=no >"$tmp/systemd.log" 2>&1 &
upid=$!
sd_pid() {
	spid=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null | awk '{ print $1 }')
	[ -n "$spid" ]
}
check "systemd started in its namespace" wait_for 10 sd_pid
# -r -w: its root is the guest's chroot, not the mount namespace's own
in_ns() { nsenter -t "$spid" -m -p -r -w "$@"; }
udevd_up() {
	[ "$(in_ns systemctl is-active systemd-udevd.service 2>/dev/null)" = active ] &&
		udevadm control --ping
}
if ! check "systemd runs journald and udevd" wait_for 90 udevd_up; then
	show <"$tmp/systemd.log"
	in_ns systemctl --no-pager list-units --all 2>&1 | show
	exit 1
fi
stamp "systemd up"
# a slow host: no identity command may miss its deadline under TCG
bootshake policy mtk-brom --step-timeout 1000 | show

# ----------------------------------------------------------- 8 devices

# usb_path UDC: the USB path (B-1) of the device a gadget on dummy_udc.N shows
usb_path() {
	local d
	for d in "/sys/devices/platform/dummy_hcd.${1##*.}"/usb*; do
		[ -d "$d" ] || continue
		echo "${d##*/usb}-1"
		return 0
	done
	return 1
}
plug() { # plug INDEX
	local i=$1
	"$EMU" --personality mtk-brom --udc "dummy_udc.$i" \
		--fault "hw_code=${hw_codes[$i]}" </dev/null >"$tmp/emu.$i.out" 2>&1 &
	emus[$i]=$!
	wait_for 20 emu_ready "$i"
}
emu_ready() { [ "$(lines "$tmp/emu.$1.out" ready)" -ge 1 ]; }
unplug() { # unplug INDEX
	kill "${emus[$1]}" 2>/dev/null
	wait "${emus[$1]}" 2>/dev/null
	emus[$1]=
}
# the id bootshake gave the device at PATH (its interface's attribute)
dev_id() { local v; read -r v <"/sys/bus/usb/devices/$1:1.0/bootshake_id" && echo "$v"; } 2>/dev/null

declare -a path id
for ((i = 0; i < ndev; i++)); do
	path[$i]=$(usb_path "dummy_udc.$i")
	plug "$i" || nok "emulator on dummy_udc.$i enumerated"
	stamp "plugged ${path[$i]}"
done
ids_known() {
	local i
	for ((i = 0; i < ndev; i++)); do
		id[$i]=$(dev_id "${path[$i]}")
		[ -n "${id[$i]}" ] || return 1
	done
}
check "bootshake bound all $ndev devices" wait_for 30 ids_known
ended() { [ "$(lines "$res/log" "end ")" -ge "$ndev" ]; }
check "$ndev jobs ran to their end" wait_for 120 ended
stamp "jobs done"
echo "# job log:"
show <"$res/log"

# env_get FILE KEY: the value in dash's `export -p` output (export K='v')
env_get() {
	local l
	while IFS= read -r l; do
		if [[ $l == "export $2='"*"'" ]]; then
			l=${l#"export $2='"}
			echo "${l%\'}"
			return
		fi
	done <"$1"
}

idents=0
for ((i = 0; i < ndev; i++)); do
	d=${id[$i]} e=$res/env.${id[$i]}
	if [ ! -f "$e" ]; then
		nok "device $d (${path[$i]}): its job ran"
		continue
	fi
	got="$(env_get "$e" BOOTSHAKE_ID) $(env_get "$e" BOOTSHAKE_PATH) $(env_get "$e" BOOTSHAKE_HW_CODE)"
	got="$got $(env_get "$e" BOOTSHAKE_KIND) $(env_get "$e" BOOTSHAKE_STATE)"
	want="$d ${path[$i]} ${hw_codes[$i]} mtk-brom ready"
	json=$(<"$res/stdin.$d")
	if [ "$got" = "$want" ] &&
		[[ $json == *"\"id\":$d,\"path\":\"${path[$i]}\""* ]] &&
		[[ $json == *"\"hw_code\":$((hw_codes[i])),"* ]]; then
		idents=$((idents + 1))
	else
		echo "# device $d: want '$want', the job got '$got'; stdin:"
		show <"$res/stdin.$d"
	fi
done
check "each of the $ndev jobs got its own device's identity (env and JSON on stdin)" \
	test "$idents" = "$ndev"
check "one job per device: $ndev starts in the log" \
	test "$(lines "$res/log" "start ")" = "$ndev"

# The units, all in one ask: they ran (a start time) and succeeded.  Each
# is still loaded: its device unit wants it.
units=()
for ((i = 0; i < ndev; i++)); do
	units+=("bootshake-job@${id[$i]}.service")
done
in_ns systemctl show -p Id,ActiveState,Result,ExecMainStatus,ExecMainStartTimestampMonotonic \
	"${units[@]}" >"$tmp/units" 2>&1
units_ok=0
# one block of KEY=value lines per unit (in systemctl's order), blank between
unit_block() {
	[ -n "${p[Id]:-}" ] || return 0
	if [ "${p[ActiveState]:-} ${p[Result]:-} ${p[ExecMainStatus]:-}" = "inactive success 0" ] &&
		[ "${p[ExecMainStartTimestampMonotonic]:-0}" != 0 ]; then
		units_ok=$((units_ok + 1))
	else
		echo "# ${p[Id]}: ${p[ActiveState]:-} ${p[Result]:-} exit ${p[ExecMainStatus]:-}," \
			"started at ${p[ExecMainStartTimestampMonotonic]:-}"
	fi
	p=()
}
declare -A p=()
while IFS= read -r l; do
	if [ -z "$l" ]; then
		unit_block
	elif [[ $l == *=* ]]; then
		p[${l%%=*}]=${l#*=}
	fi
done <"$tmp/units"
unit_block
check "systemd ran bootshake-job@<id>.service once for each device, successfully" \
	test "$units_ok" = "$ndev"

# The helper's journal entries (--journal), all in one ask.
in_ns journalctl --no-pager -o export SYSLOG_IDENTIFIER=bootshake >"$tmp/journal" 2>&1
exits=0 ev= code=
while IFS= read -r l; do
	case $l in
	BOOTSHAKE_EVENT=*) ev=${l#*=} ;;
	BOOTSHAKE_EXIT_CODE=*) code=${l#*=} ;;
	"")
		[ "$ev $code" != "job-exit 0" ] || exits=$((exits + 1))
		ev= code=
		;;
	esac
done <"$tmp/journal"
[ "$ev $code" != "job-exit 0" ] || exits=$((exits + 1))
check "the journal has a job-exit with exit code 0 for each job ($exits)" test "$exits" = "$ndev"

for ((i = 0; i < ndev; i++)); do
	unplug "$i"
done
stamp "unplugged"

# --------------------------------------------- unplugged while the job runs

: >"$res/hold.${path[0]}"
plug 0 || nok "emulator on dummy_udc.0 enumerated again"
id0() { g=$(dev_id "${path[0]}") && [ -n "$g" ] && [ "$g" != "${id[0]}" ]; }
wait_for 20 id0
gid=$g
held() { [ "$(lines "$res/log" "held $gid")" = 1 ]; }
check "the new device's job ($gid) started and holds" wait_for 60 held
stamp "held"
unplug 0
t0=$SECONDS
termed() { [ -f "$res/term.$gid" ]; }
check "the job got SIGTERM after its device left" wait_for 30 termed
stamp "job signalled $((SECONDS - t0)) s after the unplug (grace 1 s)"
unit_failed() {
	[ "$(in_ns systemctl show -p Result,ExecMainStatus --value "bootshake-job@$gid.service" |
		paste -sd' ')" = "exit-code 5" ]
}
check "bootshake-job@$gid.service failed with the job's status (5)" wait_for 30 unit_failed
in_ns journalctl --no-pager -o export SYSLOG_IDENTIFIER=bootshake BOOTSHAKE_EVENT=job-exit \
	BOOTSHAKE_ID="$gid" >"$tmp/gone.export" 2>&1
grep -aE '^(MESSAGE|BOOTSHAKE_(EXIT_CODE|SIGNAL|SENT_SIGNAL|DEVICE_GONE|DURATION_MS)|PRIORITY)=' \
	"$tmp/gone.export" | show
check "journal: job-exit with device_gone, exit code 5 (the trap's), after SIGTERM" \
	bash -c "grep -aqx BOOTSHAKE_DEVICE_GONE=1 '$tmp/gone.export' &&
		grep -aqx BOOTSHAKE_EXIT_CODE=5 '$tmp/gone.export' &&
		grep -aqx BOOTSHAKE_SENT_SIGNAL=SIGTERM '$tmp/gone.export'"

# ------------------------------------ the helper's limit: --jobs 2

# A lab that wants a limit runs the helper (here beside udevd and the
# units, which run their jobs for these devices too: a different job).
# Its job records its start, environment and end under $res/mon and
# waits for a line on a FIFO, the gate, in between: the test holds every
# job until all devices are ready, then lets them all go.
unlink "$res/hold.${path[0]}"
mon=$res/mon
mkdir -p "$mon"
mkfifo "$mon/gate"
exec 3<>"$mon/gate"
cat >"$mon/job" <<'EOF2'
#!/bin/sh
d=${0%/*}
echo "start $BOOTSHAKE_ID" >>"$d/log"
export -p >"$d/env.$BOOTSHAKE_ID"
read -r _ <"$d/gate"
echo "end $BOOTSHAKE_ID" >>"$d/log"
exit $((BOOTSHAKE_ID % 7))
EOF2
chmod 0755 "$mon/job"
bootshake -j monitor --dump --exec "exec $mon/job" --jobs 2 \
	>"$mon/events" 2>"$mon/stderr" &
mpid=$!
dumped() { [ "$(lines "$mon/events" '{"event":"dump-done"')" = 1 ]; }
check "monitor --exec --jobs 2 started" wait_for 20 dumped
for ((i = 0; i < ndev; i++)); do
	plug "$i" || nok "emulator on dummy_udc.$i enumerated (--jobs 2)"
done
stamp "plugged $ndev devices for the helper's jobs"
# each device's ready event, by path: then the monitor has queued all
ev_ready() {
	local i c=0 l
	for ((i = 0; i < ndev; i++)); do
		while IFS= read -r l; do
			if [[ $l == *'"path":"'"${path[$i]}"'"'* && $l == *'"state":"ready"'* ]]; then
				c=$((c + 1))
				break
			fi
		done <"$mon/events"
	done
	[ "$c" = "$ndev" ]
}
check "the monitor saw all $ndev devices ready" wait_for 60 ev_ready
starts_2() { [ "$(lines "$mon/log" "start ")" -ge 2 ]; }
wait_for 20 starts_2
held_starts=$(lines "$mon/log" "start ")
check "with every device ready and the jobs held: 2 jobs run, $((ndev - 2)) wait ($held_starts started)" \
	test "$held_starts" = 2
for ((i = 0; i < ndev; i++)); do
	echo go >&3
done
mon_done() { [ "$(lines "$mon/events" '{"event":"job-exit"')" -ge "$ndev" ]; }
check "all $ndev jobs completed (job-exit)" wait_for 120 mon_done
stamp "the helper's jobs done"
kill "$mpid" 2>/dev/null
wait "$mpid" 2>/dev/null
exec 3>&-

# never more than 2 at once: in the jobs' own log, and as the monitor says
run=0 max=0 starts=0 ends=0
while IFS= read -r l; do
	case $l in
	"start "*) run=$((run + 1)) starts=$((starts + 1)) ;;
	"end "*) run=$((run - 1)) ends=$((ends + 1)) ;;
	esac
	[ "$run" -le "$max" ] || max=$run
done <"$mon/log"
mrun_max=0 exits_ok=0 idents=0
while IFS= read -r l; do
	if [[ $l == '{"event":"job-start"'* && $l =~ \"running\":([0-9]+) ]]; then
		[ "${BASH_REMATCH[1]}" -le "$mrun_max" ] || mrun_max=${BASH_REMATCH[1]}
	elif [[ $l == '{"event":"job-exit"'* && $l =~ \"id\":([0-9]+) ]]; then
		jid=${BASH_REMATCH[1]}
		[[ $l =~ \"exit_code\":([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = $((jid % 7)) ] &&
			exits_ok=$((exits_ok + 1))
	fi
done <"$mon/events"
echo "# the helper's job log:"
paste -sd' ' "$mon/log" | show
check "--jobs 2: never more than 2 jobs at once (jobs' log: $starts starts, $ends ends, at most $max at once; monitor: running <= $mrun_max)" \
	test "$starts $ends $max $mrun_max" = "$ndev $ndev 2 2"
check "--jobs 2: each job-exit has its job's exit code ($exits_ok of $ndev)" test "$exits_ok" = "$ndev"
for ((i = 0; i < ndev; i++)); do
	d=$(dev_id "${path[$i]}")
	e=$mon/env.$d
	[ -n "$d" ] && [ -f "$e" ] || continue
	got="$(env_get "$e" BOOTSHAKE_ID) $(env_get "$e" BOOTSHAKE_PATH) $(env_get "$e" BOOTSHAKE_HW_CODE)"
	if [ "$got" = "$d ${path[$i]} ${hw_codes[$i]}" ]; then
		idents=$((idents + 1))
	else
		echo "# device $d: want '$d ${path[$i]} ${hw_codes[$i]}', the job got '$got'"
	fi
done
check "--jobs 2: each of the $ndev jobs got its own device's identity" test "$idents" = "$ndev"
for ((i = 0; i < ndev; i++)); do
	unplug "$i"
done

stamp "done"
[ "$fails" = 0 ] || {
	echo "# systemd log (last 40 lines):"
	tail -n 40 "$tmp/systemd.log" | show
}
[ "$fails" = 0 ]
