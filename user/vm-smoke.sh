#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of user/bootshake against the real module, inside the guest:
#   selftests/vm/run-vm.sh --kernel 6.1 --timeout 900 -- user/vm-smoke.sh
# (valgrind under TCG takes most of that)
# Prints what the CLI prints and fails on a broken contract. valgrind
# runs list/show/monitor when it is installed.
set -uo pipefail
cd "${BSK_REPO:-.}"
BSK=${BSK:-user/bootshake}
UDC=dummy_udc.0
scale=${BSK_TIME_SCALE:-1}
tmp=$(mktemp -d)
fail=0

step() { echo; echo "== $*"; }
bad() { echo "FAIL: $*"; fail=1; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

step "bootshake -j list (empty)"
out=$($BSK -j list); rc=$?
echo "$out"
[ $rc = 0 ] && echo "$out" | jq_py 'assert d == []' || bad "empty list"

step "bootshake list (empty)"
$BSK list || bad "empty human list"

step "bootshake -j show 999999"
out=$($BSK -j show 999999 2>"$tmp/err"); rc=$?
err=$(cat "$tmp/err")
echo "stdout '$out', stderr $err (rc=$rc)"
[ $rc = 1 ] && [ -z "$out" ] &&
	echo "$err" | jq_py 'assert d["command_error"]["name"] == "ENOENT"' ||
	bad "show unknown id"
$BSK show 999999; echo "rc=$?"
$BSK show 0; echo "rc=$?"
$BSK show 9-9; echo "rc=$?"

step "monitors, then plug"
$BSK -j monitor --dump --count 4 --timeout $((20 * scale)) >"$tmp/mon.json" 2>"$tmp/mon.err" &
jmon=$!
$BSK monitor >"$tmp/mon.txt" 2>&1 &
hmon=$!
sleep 1
coproc EMU { exec selftests/emu/bsk-emu --personality mtk-brom --udc "$UDC" 2>"$tmp/emu.err"; }
wait $jmon; rc=$?
echo "json monitor exit $rc:"
cat "$tmp/mon.json" "$tmp/mon.err"
[ $rc = 0 ] || bad "monitor --count 4 exit $rc"
python3 - "$tmp/mon.json" <<'PY' || bad "monitor JSON"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[0]["event"] == "dump-done", ev[0]
ev = ev[1:]
assert ev[0]["event"] == "add", ev[0]
assert ev[-1]["state"] in ("ready", "failed"), ev[-1]
for e in ev:
    assert {"event", "timestamp", "time_ns", "id", "path", "state"} <= set(e)
PY
first_dev() { # FIELD: of the first event with a device
	python3 -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if 'id' in e:
        print(e[sys.argv[2]]); break" "$tmp/mon.json" "$1"
}
path=$(first_dev path)
id=$(first_dev id)

step "bootshake list"
$BSK list || bad "list"
step "bootshake -j list"
$BSK -j list || bad "-j list"
step "bootshake show $path"
$BSK show "$path" || bad "show path"
step "bootshake -j show $id"
$BSK -j show "$id" || bad "-j show id"

step "bootshake policy / transcript / diagnose"
$BSK policy || bad "policy"
$BSK -j policy mtk-brom | jq_py 'assert d["kind"] == "mtk-brom"' || bad "-j policy KIND"
$BSK transcript "$path" || bad "transcript"
$BSK -j transcript "$id" | jq_py 'assert d["records"] and d["lost"] == 0' ||
	bad "-j transcript"
$BSK diagnose "$path" || bad "diagnose"
$BSK -j diagnose "$id" | jq_py 'assert d["findings"] == []' || bad "-j diagnose"

step "monitor --dump --timeout 1 (exists, exit 0)"
$BSK -j monitor --dump --timeout 1; rc=$?
[ $rc = 0 ] || bad "monitor --dump --timeout exit $rc"
step "monitor --count 1 --timeout 1 (exit 2)"
$BSK -j monitor --count 1 --timeout 1; rc=$?
[ $rc = 2 ] || bad "monitor timeout exit $rc"

if command -v valgrind >/dev/null; then
	step "valgrind"
	for args in "-j list" "list" "show $path" "-j show $id" \
		    "-j show 999999" "-j monitor --dump --timeout 1" \
		    "policy" "-j arm mtk-preloader --count 65" \
		    "transcript $path" "-j diagnose $id" "-j retry $id"; do
		valgrind -q --leak-check=full --show-leak-kinds=all \
			--errors-for-leak-kinds=all --error-exitcode=99 \
			$BSK $args >/dev/null 2>"$tmp/vg"
		[ $? = 99 ] && { cat "$tmp/vg"; bad "valgrind $args"; } ||
			echo "valgrind clean: $args"
	done
fi

step "unplug"
exec {EMU[1]}>&-
sleep $((2 * scale))
kill -INT $hmon; wait $hmon; echo "human monitor exit $?"
cat "$tmp/mon.txt"
grep -q " remove id=" "$tmp/mon.txt" || bad "no remove event"
step "bootshake -j list (after unplug)"
$BSK -j list

echo
[ $fail = 0 ] && echo "vm-smoke: PASS" || echo "vm-smoke: FAIL"
exit $fail
