#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh (make deb): the Debian packages of megalink, built out of the tree.
#
#   scripts/deb.sh [--out DIR] [--version V] [--no-lintian]
#
# Copies the sources (git's tracked and untracked-but-not-ignored files;
# without git, the tree minus build/) to a fresh temporary directory
# megalink-VERSION/, runs `dpkg-buildpackage -us -uc -b` there and moves
# the .deb, .changes and .buildinfo files to DIR (build/deb/ by default,
# emptied first), so the checkout stays clean and may live in a path with
# spaces.  Then `lintian -i --pedantic` on the .changes: any error or
# warning fails (exit 1); info and pedantic tags are shown, not fatal.
#
# --version V (or ML_DEB_VERSION=V) builds version V instead of VERSION:
# the copy's VERSION is set to V and debian/changelog gets an entry for it
# (tests/deb/run.sh builds VERSION+1 to test an upgrade).
set -eu
set -o pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/deb
ver=${ML_DEB_VERSION:-}
lint=1
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--version) ver=$2; shift 2 ;;
	--no-lintian) lint=0; shift ;;
	*) echo "usage: $0 [--out DIR] [--version V] [--no-lintian]" >&2; exit 2 ;;
	esac
done
case $ver in
*[!A-Za-z0-9.+~]*) echo "deb: bad version '$ver'" >&2; exit 2 ;;
esac

for t in dpkg-buildpackage dh dh_dkms dpkg-parsechangelog; do
	command -v "$t" >/dev/null || {
		echo "deb: $t not found: scripts/deps.sh deb (as root) installs the packaging tools" >&2
		exit 1
	}
done

t0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/megalink-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
upver=$(cat "$repo/VERSION")
src=$tmp/megalink-${ver:-$upver}
mkdir "$src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Files that exist (a deleted but not yet committed file is skipped).
	(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$repo" && while IFS= read -r -d '' f; do
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done) |
		tar -C "$repo" --null -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$repo" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
fi

if [ -n "$ver" ] && [ "$ver" != "$upver" ]; then
	echo "deb: building version $ver (VERSION says $upver)"
	echo "$ver" >"$src/VERSION"
	maint=$(cd "$src" && dpkg-parsechangelog -S Maintainer)
	{
		echo "megalink ($ver) unstable; urgency=medium"
		echo
		echo "  * Test build of version $ver (scripts/deb.sh --version)."
		echo
		echo " -- $maint  $(date -R)"
		echo
		cat "$src/debian/changelog"
	} >"$src/debian/changelog.new"
	mv "$src/debian/changelog.new" "$src/debian/changelog"
fi
cver=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$cver" != "$(cat "$src/VERSION")" ]; then
	echo "deb: debian/changelog says $cver, VERSION says $(cat "$src/VERSION")" >&2
	exit 1
fi

echo "deb: dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$out"/lintian.txt
log=$out/build.log
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed (whole log: $log)" >&2
	exit 1
fi
# dpkg-gensymbols prints its diff as a warning when a symbols file is not
# exact; DPKG_GENSYMBOLS_CHECK_LEVEL=4 (debian/rules) makes that fatal.
grep -A30 'dpkg-gensymbols: warning' "$log" >&2 || true
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out/"
echo "deb: built in $(($(date +%s) - t0)) s:"
for f in "$out"/*.deb; do
	echo "  $f"
done

[ "$lint" = 1 ] || exit 0
command -v lintian >/dev/null || { echo "deb: lintian not found (scripts/deps.sh deb)" >&2; exit 1; }
changes=$(ls "$out"/*.changes)
echo "deb: lintian -i --pedantic $changes"
rc=0
lintian -i --pedantic --fail-on error,warning "$changes" >"$out/lintian.txt" 2>&1 || rc=$?
cat "$out/lintian.txt"
n_e=$(grep -c '^E: ' "$out/lintian.txt" || true)
n_w=$(grep -c '^W: ' "$out/lintian.txt" || true)
n_i=$(grep -c '^[IP]: ' "$out/lintian.txt" || true)
echo "deb: lintian: $n_e errors, $n_w warnings, $n_i info/pedantic tags"
if [ "$rc" -ne 0 ] || [ "$n_e" -ne 0 ] || [ "$n_w" -ne 0 ]; then
	echo "deb: lintian FAILED (exit $rc)" >&2
	exit 1
fi
echo "deb: packages in $out"
