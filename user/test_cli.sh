#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CLI contract checks that need no kernel module: help, usage errors,
# JSON error objects, exit codes, and the JSON shape of sample output
# from test_parse --print. With the module loaded, "list" must succeed
# instead of failing with ENOENT.
#
# usage: test_cli.sh [path/to/bootshake] [path/to/test_parse]

BS=${1:-./bootshake}
TP=${2:-./test_parse}
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# run CMD...: sets rc, out (stdout) and err (stderr)
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1

# json_check PYTHON-EXPR: evaluated with d = parsed stdout
json_check() {
	[ $have_py = 1 ] || return 0
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/out" "$1"
}

run "$BS" --help
[ $rc = 0 ] && echo "$out" | grep -q "monitor" && echo "$out" | grep -q "show DEV" &&
	ok "--help" || bad "--help (rc=$rc)"
run "$BS" help monitor
[ $rc = 0 ] && echo "$out" | grep -q -- "--timeout" && ok "help monitor" ||
	bad "help monitor"
run "$BS" --version
[ $rc = 0 ] && echo "$out" | grep -q "^bootshake " && ok "--version" ||
	bad "--version"
run "$BS" -j --version
[ $rc = 0 ] && json_check 'd["family"] == "bootshake"' && ok "-j --version" ||
	bad "-j --version"

run "$BS" -j bogus
[ $rc = 1 ] && json_check 'd["error"]["name"] == "EINVAL"' &&
	ok "-j unknown command" || bad "-j unknown command (rc=$rc: $out)"
run "$BS" bogus
[ $rc = 1 ] && [ -z "$out" ] && echo "$err" | grep -q '^bootshake: unknown command' &&
	ok "unknown command" || bad "unknown command (rc=$rc)"
run "$BS" -j show
[ $rc = 1 ] && json_check '"DEV" in d["error"]["message"]' &&
	ok "show without DEV" || bad "show without DEV"
run "$BS" -j monitor --count nope
[ $rc = 1 ] && json_check 'd["error"]["errno"] == 22' &&
	ok "monitor --count nope" || bad "monitor --count nope"

# every command in --help, in "help COMMAND" and in the man page
CMDS="list show monitor policy arm retry release transcript diagnose help"
MAN=$(dirname "$0")/../Documentation/bootshake.8
run "$BS" --help
for c in $CMDS; do
	echo "$out" | grep -q "^  $c\b" || bad "--help lacks $c"
	"$BS" help "$c" >/dev/null 2>&1 || bad "help $c"
done
if [ $have_py = 1 ]; then
	python3 - "$MAN" $CMDS <<'PY' && ok "man page covers every command and option" ||
import re, sys
man = open(sys.argv[1]).read()
missing = []
for c in sys.argv[2:]:
    # a command's entry: ".B list", ".BI show ...", ".BR help ...", "\fBarm\fR"
    if not re.search(r'^(\.B|\.BI|\.BR) %s( |$)|^\\fB%s\\fR' % (c, c), man, re.M):
        missing.append(c)
for o in ("dump", "count", "timeout", "journal", "step-timeout", "sync-timeout", "json"):
    if "\\-\\-" + o.replace("-", "\\-") not in man:
        missing.append("--" + o)
for sec in ("EXIT STATUS", "JSON OUTPUT", "COMMANDS", "OPTIONS"):
    if ".SH " + sec not in man:
        missing.append(sec)
if missing:
    print("missing:", missing)
    sys.exit(1)
PY
		bad "man page"
fi
ok "help covers: $CMDS"

# usage errors are EINVAL, in JSON too, before any netlink traffic
usage_err() { # expect-substring args...
	want=$1; shift
	run "$BS" -j "$@"
	[ $rc = 1 ] && json_check "d['error']['name'] == 'EINVAL' and '$want' in d['error']['message']" &&
		ok "-j $* (usage)" || bad "-j $*: rc=$rc $out"
}
usage_err "missing KIND" arm
usage_err "unknown kind" arm mtk-bogus
usage_err "count" arm mtk-brom --count x
usage_err "seconds" arm mtk-brom --timeout -1
usage_err "unknown policy" policy mtk-brom sometimes
usage_err "need a KIND" policy --step-timeout 5
usage_err "milliseconds" policy mtk-brom --sync-timeout 1.5
usage_err "too many" policy mtk-brom auto extra
for c in retry release transcript diagnose; do
	usage_err "missing DEV" $c
	usage_err "too many" $c 1 2
done

# --journal: a missing journal socket is an error at start
BOOTSHAKE_JOURNAL_SOCKET=$tmp/no-journal run "$BS" -j monitor --journal --timeout 0.1
[ $rc = 1 ] && json_check "d['error']['name'] == 'ENOENT' and 'journal' in d['error']['message']" &&
	ok "monitor --journal without a journal" || bad "monitor --journal without a journal: rc=$rc $out"

if [ -d /sys/module/bootshake ]; then
	run "$BS" -j list
	[ $rc = 0 ] && json_check 'isinstance(d, list)' && ok "-j list (module)" ||
		bad "-j list with the module loaded (rc=$rc: $out)"
else
	for cmd in list "show 1" "show 1-1" monitor policy "policy mtk-brom" \
		   "arm mtk-preloader" "retry 1" "release 1-1" "transcript 1" \
		   "diagnose 1"; do
		run "$BS" -j $cmd
		[ $rc = 1 ] && json_check '(d["error"]["name"] == "ENOENT" and
			"module loaded" in d["error"]["message"])' &&
			ok "-j $cmd without module" ||
			bad "-j $cmd without module (rc=$rc: $out)"
		run "$BS" $cmd
		[ $rc = 1 ] && [ -z "$out" ] &&
			echo "$err" | grep -q '^bootshake: generic netlink family "bootshake" not found (is the bootshake module loaded?)$' &&
			ok "$cmd without module" || bad "$cmd without module (rc=$rc)"
	done
fi

# sample output of the real printers: every monitor line is one object
if [ -x "$TP" ] && [ $have_py = 1 ]; then
	"$TP" --print -j >"$tmp/sample" 2>&1
	python3 - "$tmp/sample" <<'PY' && ok "sample JSON shape" || bad "sample JSON shape"
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
docs, i = [], 0
while i < len(text):
    if text[i].isspace():
        i += 1
        continue
    d, i = dec.raw_decode(text, i)
    docs.append(d)
lst, show1, show2 = docs[0], docs[1], docs[2]
events = docs[3:7]
assert isinstance(lst, list) and [d["id"] for d in lst] == [1, 2, 3]
assert show1["mtk"]["hw_code"] == 0x766 and show1["state"] == "ready"
assert show2["error_name"] == "ETIMEDOUT" and "mtk" not in show2
for e in events:
    assert set(("event", "timestamp", "time_ns")) <= set(e)
    assert e["timestamp"].endswith("Z") and len(e["timestamp"]) == 27
assert [e["event"] for e in events] == ["add", "change", "remove", "resync"]
assert docs[7] == []
# STM32: a DFU and a USART device in a list, then each shown
stm, dfu, usart = docs[8], docs[9], docs[10]
assert [d["kind"] for d in stm] == ["stm32-dfu", "stm32-usart"]
assert dfu["dfu"]["state"] == "dfuIDLE" and dfu["dfu"]["dfu_version"] == "1.1a"
assert dfu["dfu"]["dfuse"] is True and len(dfu["dfu"]["alts"]) == 2
assert dfu["dfu"]["alts"][0]["regions"][0] == {"address": 0x08000000, "count": 4,
                                             "size": 16384, "type": "g"}
assert usart["usart"]["pid"] == 0x413 and usart["usart"]["already_synced"] is True
# policies: the table as an array, then one
pols, pol = docs[11], docs[12]
assert [p["kind"] for p in pols] == ["mtk-brom", "mtk-preloader"]
assert pol == {"kind": "mtk-preloader", "policy": "watch", "armed": True,
               "arm_count": 2, "arm_timeout_ms": 54321, "step_timeout_ms": 100,
               "sync_timeout_ms": 3000}, pol
# no device object has the v1 nested "flags" any more
assert not any("flags" in d for d in lst + stm)
# compact monitor lines: one object per line
lines = [l for l in text.splitlines() if l.startswith('{"event"')]
assert len(lines) == 4 and all(json.loads(l) for l in lines)
PY
fi

exit $fail
