#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dist/bootshake.bash-completion, in bash, without a module: it registers
# for "bootshake"; completing COMP_WORDS gives the commands, options,
# kinds, policies and device ids/paths expected; and its word lists agree
# with what the helper itself says (--help, help COMMAND, its kind list).
# Device ids come from a stand-in "bootshake -j list" that prints the real
# printer's compact output (test_parse --print -j).
#
# usage: test_completion.sh [path/to/bootshake] [path/to/test_parse]

BS=$(realpath "${1:-./bootshake}")
TP=$(realpath "${2:-./test_parse}")
COMPL=$(dirname "$0")/../dist/bootshake.bash-completion
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# the stand-in: "-j list" is the sample list (ids 1, 2, 3), the rest the
# real helper
cat >"$tmp/bootshake" <<EOF
#!/bin/sh
if [ "\$*" = "-j list" ]; then
	"$TP" --print -j | head -n 1
	exit 0
fi
exec "$BS" "\$@"
EOF
chmod +x "$tmp/bootshake"
PATH=$tmp:$PATH

# shellcheck source=../dist/bootshake.bash-completion
. "$COMPL" || { bad "source $COMPL"; exit 1; }

[ "$(complete -p bootshake)" = "complete -F _bootshake bootshake" ] &&
	ok "complete -p bootshake" || bad "complete -p bootshake: $(complete -p bootshake 2>&1)"

# comp WORD...: complete the last word; the candidates, sorted, one line
comp() {
	COMP_WORDS=("${BSCMD:-bootshake}" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_bootshake
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect "WANT" WORD...: the candidates are exactly WANT (any order)
expect() {
	local want got

	want=$(printf '%s\n' $1 | sort | tr '\n' ' ' | sed 's/ $//')
	shift
	got=$(comp "$@")
	[ "$got" = "$want" ] && ok "bootshake $* <TAB>: $want" ||
		bad "bootshake $* <TAB>: got '$got', want '$want'"
}

CMDS="list show monitor policy arm retry release transcript diagnose version help"
KINDS="mtk-brom mtk-preloader stm32-dfu stm32-usart"
DEVS="1 2 3 1-1 1-2 3-1.4.2"

expect "$CMDS" ""
expect "show" sh
expect "retry release" re
expect "-j --json -p --pretty -h --help -V --version" -
expect "$CMDS" -j -p ""
expect "$DEVS" show ""
expect "$DEVS" -j show ""
expect "$DEVS" show -j ""
expect "1-1 1-2" show 1-
expect "" show 1 ""
expect "--json --pretty --help" show --
expect "--json --pretty --help" show 1 --
for c in retry release transcript diagnose; do
	expect "$DEVS" $c ""
done
expect "" list ""
expect "--json --pretty --help" version --
expect "$KINDS" policy ""
expect "stm32-dfu stm32-usart" policy stm
expect "off watch auto" policy mtk-brom ""
expect "auto" policy mtk-brom a
expect "" policy mtk-brom auto ""
expect "" policy mtk-brom --step-timeout ""
expect "$KINDS" policy --step-timeout 100 ""
expect "--step-timeout --sync-timeout" policy mtk-brom --s
expect "$KINDS" arm ""
expect "" arm mtk-brom ""
expect "--count" arm mtk-brom --c
expect "" arm mtk-brom --count ""
expect "$KINDS" -j arm --count 2 ""
expect "$KINDS" monitor --exec true --kind ""
expect "mtk-brom,stm32-dfu mtk-brom,stm32-usart" monitor --kind mtk-brom,stm
expect "$DEVS" monitor --device ""
expect "--dump --device" monitor --d
expect "" monitor --count ""
expect "$CMDS" help ""
expect "show" help sho
expect "" bogus ""

# --exec: programs and paths
mkdir "$tmp/dir" && touch "$tmp/dir/job.sh"
got=$(comp monitor --exec "$tmp/dir/j")
[ "$got" = "$tmp/dir/job.sh" ] && ok "monitor --exec PATH<TAB>" ||
	bad "monitor --exec PATH<TAB>: '$got'"
got=$(comp monitor --exec bootsh)
[[ " $got " == *" bootshake "* ]] && ok "monitor --exec PROGRAM<TAB>" ||
	bad "monitor --exec PROGRAM<TAB>: '$got'"

# no module, no helper: no device candidates, no error
got=$(BSCMD=$tmp/no-such-bootshake; comp show "" 2>&1)
[ -z "$got" ] && ok "no helper: no device ids" || bad "no helper: '$got'"

# the word lists agree with the helper
helpcmds=$("$BS" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\).*/\1/p' | tr '\n' ' ' | sed 's/ $//')
[ "$helpcmds" = "$CMDS" ] && ok "commands are --help's" ||
	bad "commands: --help has '$helpcmds'"
helpkinds=$("$BS" arm bogus 2>&1 | sed -n 's/.*(one of \(.*\))$/\1/p' | tr -d ',')
[ "$helpkinds" = "$KINDS" ] && ok "kinds are the helper's" ||
	bad "kinds: the helper has '$helpkinds'"
for c in $CMDS; do
	for o in $("$BS" help "$c" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		got=$(comp "$c" "$o")
		[[ " $got " == *" $o "* ]] || bad "$c $o is not completed"
	done
done
ok "every option of every command's help is completed"
for o in $("$BS" --help | sed -n '/^Options/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	[[ " $(comp "$o") " == *" $o "* ]] || bad "global $o is not completed"
done
ok "every global option is completed"

if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -s bash "$COMPL" && ok "shellcheck" || bad "shellcheck"
fi

exit $fail
