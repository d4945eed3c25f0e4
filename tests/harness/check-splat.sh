#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-splat.sh LOG...
#
# Scans kernel logs (dmesg output, serial console captures) for splats:
# WARN, BUG, Oops, GPF, call traces, refcount / list corruption, lockdep,
# hung tasks, UBSAN, KASAN, kmemleak.  Only the start of a kernel message
# (after the "[ time]" prefix) is matched, so ordinary pr_warn() text that
# merely mentions a word like "warning" does not count.  Prints each
# offending line with the lines that follow it (the trace), once even when
# it appears in several logs.  Exit 0 when clean, 1 on a splat.
set -eu

ctx=${ML_SPLAT_CONTEXT:-25}
re='^(([a-z0-9_-]+: )?BUG:|Kernel panic|WARNING: (CPU|possible|suspicious RCU|bad unlock|held lock|lock held|inconsistent lock)|kernel BUG at|Oops|general protection fault|Call Trace:|refcount_t:|INFO: task .* blocked|UBSAN:|KASAN:|unreferenced object|list_(add|del) corruption|possible (circular|recursive) locking)'

files=()
for f in "$@"; do
	[ -s "$f" ] && files+=("$f")
done
[ ${#files[@]} -gt 0 ] || exit 0

LC_ALL=C awk -v ctx="$ctx" -v re="$re" '
FNR == 1 { left = 0; header = 0 }
function show(prefix, line) {
	if (line in seen)
		return
	seen[line] = 1
	if (shown++ >= 400)
		return
	if (!header++)
		print "  in " FILENAME ":"
	print prefix line
}
{
	line = $0
	sub(/\r+$/, "", line)
	m = line
	sub(/^<[0-9]+>/, "", m)
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", m)
	sub(/^\[ *[TC][0-9]+\] /, "", m)
	if (m ~ re) {
		hits++
		left = ctx
		show("  > ", line)
		next
	}
	if (left > 0) {
		left--
		show("    ", line)
	}
}
END { exit hits ? 1 : 0 }
' "${files[@]}"
