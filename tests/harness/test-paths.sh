#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-paths.sh [KERNEL] (make check, on the host): the guest harness works
# from a checkout anywhere.  Copies the working tree (its tracked files)
# twice under a fresh directory in /tmp, once at a plain path and once
# below a directory whose name has a space, and from each copy boots a
# guest (default kernel 6.12) that runs tests/harness/paths-guest.sh:
#  - the copy's own repository is the guest's cwd and is readable;
#  - the output directory (the default one below the copy's build/, or one
#    whose name has a space) is written, and seen by the host;
#  - a file named by an ML_* variable, also in /tmp, is visible;
#  - the guest's /tmp is a private, writable tmpfs: a file the host put
#    in /tmp is not visible there, and nothing the guest writes reaches it.
# Prints "paths: N passed, N failed" (one per copy).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
kernel=${1:-6.12}

tmp=$(mktemp -d /tmp/ml-paths.XXXXXX) || exit 1
decoy=$(mktemp /tmp/ml-paths-decoy.XXXXXX) || exit 1
trap 'rm -rf "$tmp" "$decoy"' EXIT
data="$tmp/data dir"
mkdir -p "$data"
token=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$token" >"$data/token"

# copy_tree DEST: the working tree's tracked files (a clone of what is
# checked out, uncommitted changes included).
copy_tree() {
	mkdir -p "$1"
	if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$repo" ls-files -z --cached --others --exclude-standard |
			(cd "$repo" && xargs -0 tar --no-recursion -cf - 2>/dev/null) | tar -xf - -C "$1"
	else
		(cd "$repo" && tar --exclude=./build -cf - .) | tar -xf - -C "$1"
	fi
}

passed=0 failed=0
check() {
	local name=$1 dest=$2 out=$3 seen key want got bad=0
	shift 3
	echo "== paths: $name: $dest"
	copy_tree "$dest"
	local rc=0 cmd=tests/harness/paths-guest.sh
	# The second run names the command by its absolute path: a file below
	# /tmp that the guest binds back, and must not find empty.
	[ -z "$out" ] || cmd=$dest/$cmd
	# (The decoy goes by its bare name: a path named by an ML_* variable
	# or a command argument is one the guest must see.)
	ML_PATHS_DATA=$data \
		"$dest/tests/harness/run-in-guest.sh" --kernel "$kernel" --timeout 180 "$@" \
		-- "$cmd" "${decoy##*/}" || rc=$?
	if [ -z "$out" ]; then
		out=$(ls -d "$dest"/build/guest-out/*/ 2>/dev/null | head -n 1)
		out=${out%/}
	fi
	seen=$out/seen
	if [ "$rc" -ne 0 ] || [ ! -f "$seen" ]; then
		echo "paths: $name: FAILED: guest exit $rc, ${seen} $([ -f "$seen" ] || echo missing)"
		failed=$((failed + 1))
		return
	fi
	for key in "repo=$dest" "cwd=$dest" "version=$(cat "$repo/VERSION")" "token=$token" \
		"decoy=hidden" "tmp=writable" "tmpfs=tmpfs"; do
		want=${key#*=}
		got=$(sed -n "s/^${key%%=*}=//p" "$seen")
		if [ "$got" != "$want" ]; then
			echo "paths: $name: ${key%%=*}: guest saw '$got', expected '$want'"
			bad=1
		fi
	done
	if [ -e /tmp/ml-paths-private ] && [ "$(cat /tmp/ml-paths-private 2>/dev/null)" = private ]; then
		echo "paths: $name: the guest's /tmp/ml-paths-private reached the host's /tmp"
		bad=1
	fi
	if [ "$bad" -eq 0 ]; then
		echo "paths: $name: passed"
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

check "clone under /tmp" "$tmp/clone" ""
check "path with a space" "$tmp/with space/clone" "$tmp/with space/out dir" \
	--out "$tmp/with space/out dir"
echo "paths: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
