#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CLI contract checks that need no kernel module: help, usage errors,
# JSON error objects (on stderr, nothing on stdout), exit codes, options
# anywhere on the line, arguments checked before netlink is opened,
# "version", and the JSON shape of sample output from test_parse --print
# (compact, and indented with -p). With the module loaded, "list" must
# succeed instead of failing with ENOENT.
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

# err_check PYTHON-EXPR: a failed -j run: nothing on stdout, stderr is one
# JSON document whose "command_error" object is e (d: the whole document)
err_check() {
	[ -z "$out" ] || return 1
	[ $have_py = 1 ] || return 0
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = d["command_error"]
assert "error" not in d
assert set(e) <= {"errno", "name", "message", "kernel_message"}, e
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/err" "$1"
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
[ $rc = 1 ] && err_check 'e["name"] == "EINVAL"' &&
	ok "-j unknown command" || bad "-j unknown command (rc=$rc: $out $err)"
run "$BS" bogus
[ $rc = 1 ] && [ -z "$out" ] && echo "$err" | grep -q '^bootshake: unknown command' &&
	ok "unknown command" || bad "unknown command (rc=$rc)"
run "$BS" -j show
[ $rc = 1 ] && err_check '"DEV" in e["message"]' &&
	ok "show without DEV" || bad "show without DEV"
run "$BS" -j monitor --count nope
[ $rc = 1 ] && err_check 'e["errno"] == 22' &&
	ok "monitor --count nope" || bad "monitor --count nope"

# -j errors: compact, one line on stderr; -p indents them
run "$BS" -j bogus
[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && ok "-j error is one line" ||
	bad "-j error is one line: $err"
run "$BS" -j -p bogus
[ $rc = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -gt 3 ] &&
	err_check 'e["name"] == "EINVAL"' && ok "-j -p error indented" ||
	bad "-j -p error indented: $err"

# options anywhere on the line (the header's promise): after the command
# and after its arguments, with the same effect as before it
for args in "show 1 -j" "show -j 1" "show 1 --json" "list -j" \
	    "transcript 1-1 -j" "policy mtk-brom -j" "arm mtk-brom -j --count 2" \
	    "monitor --timeout 0.1 -j" "version -j"; do
	# shellcheck disable=SC2086
	run "$BS" $args
	# JSON on stdout (a result) or on stderr (an error), never text
	case "$out$err" in
	'{'*|'['*) ok "$args: -j taken as an option" ;;
	*) bad "$args: -j not taken as an option (rc=$rc: $out $err)" ;;
	esac
done
# a usage error before a trailing -j is JSON already
for args in "bogus -j" "show --bogus 1 -j" "show 0 --json" "arm mtk-brom --count 65 -j" \
	    "monitor --exec -j --device 0 -j"; do
	# shellcheck disable=SC2086
	run "$BS" $args
	[ $rc = 1 ] && err_check 'e["name"] == "EINVAL"' && ok "$args: JSON error" ||
		bad "$args: not a JSON error (rc=$rc: $out $err)"
done
run "$BS" monitor --exec -j --device 0
[ $rc = 1 ] && echo "$err" | grep -q '^bootshake: monitor: --device: ' &&
	ok "monitor --exec -j: -j is the command, not an option" ||
	bad "monitor --exec -j (rc=$rc: $out $err)"
run "$BS" show 1 -p -j
echo "$err$out" | grep -q '^{' && ok "show 1 -p -j" || bad "show 1 -p -j: $out $err"

# DEV and ranges are checked before netlink is opened: the same EINVAL with
# the module loaded or not, never "family not found"
pre_err() { # expect-substring args...
	want=$1; shift
	run "$BS" -j "$@"
	[ $rc = 1 ] && err_check "e['name'] == 'EINVAL' and '$want' in e['message'] and 'kernel_message' not in e" &&
		ok "-j $* (checked before netlink)" || bad "-j $*: rc=$rc $out $err"
}
pre_err "not a device id" show 0
pre_err "not a device id" show 4294967296
pre_err "not a device id" show 99999999999999999999
pre_err "nor a USB path" show 1-1.
pre_err "nor a USB path" show bogus
for c in retry release transcript diagnose; do
	pre_err "not a device id" $c 0
	pre_err "nor a USB path" $c 1-
done
pre_err "not a device id" monitor --exec true --device 0
pre_err "0..64" arm mtk-brom --count 65
pre_err "0.001..3600" arm mtk-brom --timeout 0
pre_err "0.001..3600" arm mtk-brom --timeout 3601
pre_err "1..600000" policy mtk-brom --step-timeout 0
pre_err "1..600000" policy mtk-brom --sync-timeout 600001
run "$BS" show 0
[ $rc = 1 ] && [ -z "$out" ] &&
	[ "$err" = 'bootshake: show: "0" is not a device id (ids are 1..4294967295)' ] &&
	ok "show 0 (text)" || bad "show 0 (text): $err"

# arm --count 0 is a disarm: documented, and not refused by the helper
run "$BS" help arm
echo "$out" | grep -q '0 disarms' && ok "help arm: --count 0 disarms" ||
	bad "help arm does not say that --count 0 disarms"
grep -q 'disarm' "$(dirname "$0")/../Documentation/bootshake.8" &&
	ok "bootshake.8: --count 0 disarms" || bad "bootshake.8 does not say that --count 0 disarms"

# whole --help summaries: each command's line is its help's first
# sentence, whole (ends with "."), within 80 columns
if [ $have_py = 1 ]; then
	run "$BS" --help
	python3 - "$BS" "$tmp/out" <<'PY' && ok "--help summaries are whole sentences" ||
import re, subprocess, sys
bs, text = sys.argv[1], open(sys.argv[2]).read()
cmds = text.split("Commands:\n")[1].split("\n\n")[0].splitlines()
bad = []
summ = {}
name = None
for line in cmds:
    if len(line) > 80:
        bad.append("over 80 columns: " + line)
    m = re.match(r"  ([a-z]+)", line)
    if m:
        name = m.group(1)
    if name in summ:
        continue
    two = re.match(r"^  (\S+(?: \S+)*)  +(\S.*)$", line)
    if two and two.start(2) == 24:
        summ[name] = two.group(2)
    elif line.startswith(" " * 24):
        summ[name] = line[24:]
for c, sm in summ.items():
    help_text = subprocess.run([bs, "help", c], capture_output=True, text=True).stdout
    first = help_text.split("\n\n", 1)[1].splitlines()[0]
    if not sm.endswith("."):
        bad.append("%s: summary not a whole sentence: %r" % (c, sm))
    if sm != first:
        bad.append("%s: summary %r is not its help's first line %r" % (c, sm, first))
if len(summ) != 11:
    bad.append("summaries found: %s" % sorted(summ))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
		bad "--help summaries"
fi

# version without the module: the helper's, and "not loaded"; exit 0
if [ ! -d /sys/module/bootshake ]; then
	run "$BS" version
	[ $rc = 0 ] && echo "$out" | grep -q '^helper: ' &&
		echo "$out" | grep -qx 'module: not loaded' &&
		ok "version without module" || bad "version without module (rc=$rc: $out $err)"
	run "$BS" -j version
	[ $rc = 0 ] && json_check 'd["module_loaded"] is False and d["module_version"] is None and d["helper_version"] and d["family"] == "bootshake" and d["family_version"] is None and d["kinds"] == [] and d["features"] == []' &&
		ok "-j version without module" || bad "-j version without module (rc=$rc: $out $err)"
fi
run "$BS" version extra
[ $rc = 1 ] && echo "$err" | grep -q 'unexpected argument' && ok "version extra" ||
	bad "version extra (rc=$rc)"

# MODULE_VERSION: Kbuild's fallback is the package version
top=$(dirname "$0")/..
kv=$(sed -n 's/^bsk_version_fallback := //p' "$top/Kbuild")
cv=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
[ -n "$kv" ] && [ "$kv" = "$cv" ] && ok "Kbuild's version fallback is debian/changelog's ($cv)" ||
	bad "Kbuild's version fallback '$kv' is not debian/changelog's '$cv'"

# every command in --help, in "help COMMAND" and in the man page
CMDS="list show monitor policy arm retry release transcript diagnose version help"
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
for o in ("dump", "count", "timeout", "journal", "step-timeout", "sync-timeout", "json",
          "pretty"):
    if "\\-\\-" + o.replace("-", "\\-") not in man:
        missing.append("--" + o)
for sec in ("EXIT STATUS", "JSON OUTPUT", "COMMANDS", "OPTIONS"):
    if ".SH " + sec not in man:
        missing.append(sec)
for word in ("command_error", "usb_id", "/sys/module/bootshake/version"):
    if word.replace("_", "\\_") not in man and word not in man:
        missing.append(word)
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
	[ $rc = 1 ] && err_check "e['name'] == 'EINVAL' and '$want' in e['message']" &&
		ok "-j $* (usage)" || bad "-j $*: rc=$rc $out $err"
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
[ $rc = 1 ] && err_check "e['name'] == 'ENOENT' and 'journal' in e['message']" &&
	ok "monitor --journal without a journal" || bad "monitor --journal without a journal: rc=$rc $out $err"

if [ -d /sys/module/bootshake ]; then
	run "$BS" -j list
	[ $rc = 0 ] && json_check 'isinstance(d, list)' && ok "-j list (module)" ||
		bad "-j list with the module loaded (rc=$rc: $out)"
else
	for cmd in list "show 1" "show 99" "show 1-1" monitor policy "policy mtk-brom" \
		   "arm mtk-preloader" "arm mtk-brom --count 0" "retry 1" \
		   "release 1-1" "transcript 1" "diagnose 1"; do
		run "$BS" -j $cmd
		[ $rc = 1 ] && err_check '(e["name"] == "ENOENT" and
			"module loaded" in e["message"])' &&
			ok "-j $cmd without module" ||
			bad "-j $cmd without module (rc=$rc: $out $err)"
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
# compact by default: every document is one line
assert len(text.splitlines()) == len(docs), (len(text.splitlines()), len(docs))
# the USB id as a string too, vid/pid numbers
assert show1["usb_id"] == "0e8d:0003" and show1["vid"] == 0x0e8d and show1["pid"] == 3
assert all(d["usb_id"] == "%04x:%04x" % (d["vid"], d["pid"]) for d in lst + stm)
PY
	# -p: the same documents, indented; monitor events still one per line
	"$TP" --print -j -p >"$tmp/pretty" 2>&1
	python3 - "$tmp/sample" "$tmp/pretty" <<'PY' && ok "-p indents JSON documents" || bad "-p indents JSON documents"
import json, sys
def docs(text):
    dec, out, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        d, j = dec.raw_decode(text, i)
        out.append((d, text[i:j]))
        i = j
    return out
a, b = docs(open(sys.argv[1]).read()), docs(open(sys.argv[2]).read())
assert [d for d, _ in a] == [d for d, _ in b]
for d, raw in b:
    if isinstance(d, dict) and "event" in d:
        assert "\n" not in raw, raw
    elif d:
        assert "\n  " in raw, raw
PY
fi

exit $fail
