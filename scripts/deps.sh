#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh build|check|demo|debug|bench|bench-coll|torch|deb
#
# Makes sure the Debian packages that `make MODE` needs are installed.
# Root: installs what is missing (apt-get update once, then
# apt-get install -y --no-install-recommends).  Not root: prints the exact
# command to run and exits 1.  Quiet and fast when everything is present.
# ML_DEPS_SKIP=1 skips the check (e.g. on a non-Debian build host).
set -eu

mode=${1:-build}

build_pkgs="gcc libc6-dev make pkg-config libnl-3-dev libnl-genl-3-dev libkmod-dev check sparse
	libibverbs-dev linux-headers-amd64 linux-headers-6.12-amd64"
# The guest harness (tests/harness/) and DKMS: two kernels to boot, QEMU,
# busybox for the initramfs, module tools, iproute2 for veth/netns.
guest_pkgs="linux-image-amd64 linux-image-6.12-amd64 qemu-system-x86 busybox-static dkms kmod
	iproute2 cpio xz-utils zstd util-linux"
# make check only: checkpatch.pl and the netlink spec's schema come from
# Debian's kernel source tarball; the spec check is Python.
check_pkgs="linux-source-6.12 ethtool graphviz python3-yaml python3-jsonschema rdma-core ibverbs-providers python3-prometheus-client"
# The PyTorch backend (plugins/torch) and its suite: Debian's torch 1.13,
# its C++ headers and pybind11 (make check, make demo, make torch).
torch_pkgs="python3-torch libtorch-dev pybind11-dev python3-dev g++ bc"
# make bench: the baselines (soft-RoCE through perftest, TCP through sockperf
# and iperf3), netem for loss, and the plots.
bench_pkgs="rdma-core ibverbs-providers perftest iperf3 sockperf python3-matplotlib jq ethtool"
# make bench-coll: the collectives against gloo through PyTorch, JSON, the plot.
bench_coll_pkgs="jq python3-matplotlib"
# make check-debug: builds a kernel from linux-source-6.12.
debug_pkgs="linux-source-6.12 flex bison bc libelf-dev libssl-dev xz-utils"
# make deb, tests/deb/run.sh: the packaging tools and debian/control's
# Build-Depends (the torch ones are in torch_pkgs).
deb_pkgs="dpkg-dev debhelper dh-dkms dkms bash-completion lintian devscripts fakeroot g++ python3-dev"

case $mode in
build) pkgs=$build_pkgs ;;
check) pkgs="$build_pkgs $guest_pkgs $check_pkgs $torch_pkgs $deb_pkgs" ;;
demo) pkgs="$build_pkgs $guest_pkgs $torch_pkgs" ;;
torch) pkgs="$build_pkgs $torch_pkgs" ;;
debug) pkgs="$build_pkgs $guest_pkgs $debug_pkgs" ;;
bench) pkgs="$build_pkgs $guest_pkgs $bench_pkgs" ;;
bench-coll) pkgs="$build_pkgs $guest_pkgs $torch_pkgs $bench_coll_pkgs" ;;
deb) pkgs="$build_pkgs $torch_pkgs $deb_pkgs" ;;
*)
	echo "usage: $0 build|check|demo|debug|bench|bench-coll|torch|deb" >&2
	exit 2
	;;
esac

# shellcheck disable=SC2086 # word splitting of the package lists is intended
set -- $pkgs
total=$#

if [ "${ML_DEPS_SKIP:-0}" = 1 ]; then
	echo "megalink: ML_DEPS_SKIP=1, not checking Debian packages"
	exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "megalink: dpkg-query not found; this is not a Debian system." >&2
	echo "megalink: install the equivalents of: $*" >&2
	echo "megalink: (or set ML_DEPS_SKIP=1 to skip this check)" >&2
	exit 1
fi

missing=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
for p in "$@"; do
	if ! printf '%s\n' "$installed" | grep -q "^$p ii"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "megalink: all $total Debian packages for '$mode' are installed"
	exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "megalink: ${#missing[@]} Debian packages for '$mode' are missing: ${missing[*]}" >&2
	echo "megalink: run as root:" >&2
	echo "    apt-get update && $cmd" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
t0=$(date +%s)
echo "megalink: updating the apt package lists (apt-get update)"
# A fresh machine's unattended upgrades may hold the dpkg lock for a while:
# wait for it rather than fail.
lock=(-o DPkg::Lock::Timeout=600)
if ! apt-get update -qq "${lock[@]}"; then
	echo "megalink: apt-get update failed; trying the install with the current lists" >&2
fi
echo "megalink: installing ${#missing[@]} Debian packages: ${missing[*]}"
echo "megalink: (kernels, QEMU and their dependencies: a few hundred MB on a fresh machine; a few minutes)"
# Dpkg::Use-Pty=0: no per-percent progress lines when the output is a log.
if ! apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${lock[@]}" "${missing[@]}"; then
	echo "megalink: failed: $cmd" >&2
	exit 1
fi
echo "megalink: apt-get took $(($(date +%s) - t0)) s"

still=()
installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${missing[@]}" 2>/dev/null || true)
for p in "${missing[@]}"; do
	printf '%s\n' "$installed" | grep -q "^$p ii" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "megalink: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "megalink: all $total Debian packages for '$mode' are installed"
