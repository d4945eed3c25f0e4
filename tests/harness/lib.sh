# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers of the guest harness (sourced, not run).

ML_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ML_REPO_ROOT=$(cd "$ML_HARNESS_DIR/../.." && pwd -P)
ML_BUILD_DIR=${ML_BUILD_DIR:-$ML_REPO_ROOT/build}
export ML_HARNESS_DIR ML_REPO_ROOT ML_BUILD_DIR

ml_die() {
	echo "megalink-harness: $*" >&2
	exit 125
}

ml_note() {
	echo "megalink-harness: $*" >&2
}

# ml_resolve_kernel SPEC -> prints the full kernel release.
# SPEC is a series ("6.1", "6.12") or a full release ("6.12.117+deb12-amd64").
# Series are globbed, never hard-coded: the newest matching point release wins.
ml_resolve_kernel() {
	local spec=$1 rel cand
	if [ -e "/boot/vmlinuz-$spec" ] && [ -d "/lib/modules/$spec" ]; then
		echo "$spec"
		return 0
	fi
	rel=
	for cand in /boot/vmlinuz-"$spec".*-amd64 /boot/vmlinuz-"$spec"-*-amd64; do
		[ -e "$cand" ] || continue
		cand=${cand#/boot/vmlinuz-}
		[ -d "/lib/modules/$cand" ] || continue
		rel="$rel$cand"$'\n'
	done
	rel=$(printf '%s' "$rel" | sort -uV | tail -n 1)
	[ -n "$rel" ] || return 1
	echo "$rel"
}
