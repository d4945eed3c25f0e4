#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.12 tarball)
# over the module and the uAPI header.  Fails on any error or warning;
# compat.h is allowed its version checks.
set -eu
cd "$(dirname "$0")/.."
out=build/checkpatch
cp_pl=$out/scripts/checkpatch.pl
if [ ! -x "$cp_pl" ]; then
	tarball=
	for t in /usr/src/linux-source-6.12*.tar.xz; do
		[ -e "$t" ] && tarball=$t
	done
	if [ -z "$tarball" ]; then
		echo "checkpatch: SKIPPED: no /usr/src/linux-source-6.12*.tar.xz (apt-get install linux-source-6.12)" >&2
		exit 0
	fi
	echo "  CHECKPATCH  extracting checkpatch.pl from $(basename "$tarball")"
	mkdir -p "$out"
	top=$(tar tJf "$tarball" | head -n 1 | cut -d/ -f1)
	tar xJf "$tarball" -C "$out" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi
echo "  CHECKPATCH  driver/ include/uapi/"
opts=(--no-tree --strict --terse --show-types -f)
files=(include/uapi/linux/megalink.h include/uapi/linux/megalink_verbs.h)
for f in driver/*.c driver/*.h; do
	case $f in *.mod.c) continue ;; esac
	[ "$f" = driver/compat.h ] || files+=("$f")
done
log=$out/log
"$cp_pl" "${opts[@]}" "${files[@]}" > "$log" 2>&1 || true
"$cp_pl" "${opts[@]}" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED \
	driver/compat.h >> "$log" 2>&1 || true
if grep -E ': (ERROR|WARNING):' "$log"; then
	echo "checkpatch: errors or warnings above" >&2
	exit 1
fi
echo "  CHECKPATCH  clean ($(grep -c ': CHECK:' "$log" || true) style notes, see $log)"
