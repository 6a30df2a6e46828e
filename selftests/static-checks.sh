#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own checkers on kmod/, as KTAP test lines:
#   build   the module builds with W=1 and no warning
#   sparse  make C=2 (sparse on every file) reports nothing
#   checkpatch  scripts/checkpatch.pl --strict reports nothing
#   spec    the YAML spec passes the kernel schema and loads in the kernel's
#           ynl library, ynl-gen-c's uapi output is the uapi header, and
#           kernel policies agree with the spec (selftests/spec-check.py)
#
#   selftests/static-checks.sh [build|sparse|checkpatch|spec]...   (default: all)
# Prints "ok N name" / "not ok N name" and exits non-zero on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
src=${BSK_CACHE:-/var/cache/bootshake}/src/linux-source-6.1
kdir=$(make -s -C "$top" -f - print-kdir <<'MK'
include Makefile
print-kdir: ; @echo $(KDIR)
MK
)
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(build sparse checkpatch spec)

n=0 fail=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fail=$((fail + 1))
	fi
}

build_log() {
	# Force every file to be compiled (and checked) again.
	make -s -C "$kdir" M="$top" clean >/dev/null 2>&1
	make -C "$kdir" M="$top" W=1 "$@" modules 2>&1
}

for c in "${checks[@]}"; do
	case $c in
	build)
		out=$(build_log)
		bad=$(grep -E 'warning:|error:' <<<"$out")
		[ -z "$bad" ] && [ -f "$top/bootshake.ko" ]
		rc=$?
		[ -n "$bad" ] && sed 's/^/# /' <<<"$bad"
		result $rc "W=1 build of bootshake.ko is warning-free"
		;;
	sparse)
		out=$(build_log C=2)
		bad=$(grep -E 'warning:|error:' <<<"$out")
		[ -n "$bad" ] && sed 's/^/# /' <<<"$bad"
		[ -z "$bad" ]
		result $? "sparse (C=2) on kmod/ is clean"
		;;
	checkpatch)
		# Seed CamelCase names (USB descriptor fields) from the kernel's
		# include/ rather than from our git tree; run outside the tree
		# so the seed cache lands in /tmp.
		out=$(cd /tmp && GIT_DIR=/nonexistent perl "$src/scripts/checkpatch.pl" \
			--root="$src" --strict --terse --no-summary --show-types \
			-f "$top"/kmod/*.[ch] 2>&1 | grep -v 'spdxcheck\|Traceback\|ply\|^  ')
		[ -n "$out" ] && sed 's/^/# /' <<<"$out"
		[ -z "$out" ]
		result $? "checkpatch --strict on kmod/ is clean"
		;;
	spec)
		/usr/bin/python3 "$top/selftests/spec-check.py" | sed 's/^\(not \)\{0,1\}ok [0-9]* /# &/'
		rc=${PIPESTATUS[0]}
		result $rc "netlink ABI matches Documentation/netlink/specs/bootshake.yaml"
		;;
	*)
		echo "unknown check $c" >&2
		exit 2
		;;
	esac
done
exit $((fail > 0))
