# SPDX-License-Identifier: GPL-2.0
#
# Megalink top-level build.  See README.md.
#
#   make                 module (for KDIR), libmegalink, tools
#   make modules-all     megalink.ko for every installed Debian kernel
#   make check           all tests: host unit tests + in-guest tests, both kernels
#   make check-debug     debug kernel (KASAN, lockdep, kmemleak, ...): suite + hostile input
#   make check-hostile   the fuzzers on Debian's 6.12, short (part of make check)
#   make demo            boots a guest and shows a three-node pod
#   make bench           megalink vs soft-RoCE and TCP on one link (BENCH_KERNEL=6.1|6.12)
#   make bench-coll      all-reduce and DDP: megalink vs gloo over TCP on 2 and 4 pod nodes
#   make plugins         the NCCL net plugin (plugins/nccl)
#   make torch           the PyTorch backend (plugins/torch; skipped loudly without libtorch-dev)
#   make check-torch     its whole suite (3 and 4 ranks, DDP vs gloo) on 6.12
#   make install         DESTDIR=, PREFIX= honoured
#   make deb             the Debian packages, built out of the tree into build/deb/
#                        (DEB_OUT=DIR, ML_DEB_VERSION=V), then lintian
#   make check-deb       tests/deb/run.sh: build, lintian, dpkg -i / upgrade / purge, used in a guest
#
# KDIR defaults to the running kernel's build tree, else the newest
# installed Debian headers.

VERSION    := $(shell cat VERSION)
PREFIX     ?= /usr/local
DESTDIR    ?=
KREL       ?= $(shell uname -r)
KDIR       ?= $(shell if [ -d /lib/modules/$(KREL)/build ]; then \
		echo /lib/modules/$(KREL)/build; else \
		ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1; fi)

# The checkout may live anywhere, spaces in its path included: recipes use
# relative paths or quote, and the kernel build (which cannot take such a
# path) goes through scripts/kbuild.sh.
export VERSION PREFIX DESTDIR

.PHONY: all modules modules-all lib tools examples plugins coll torch check-coll check-torch guest-tests clean install \
	check check-debug check-hostile check-unit check-guest demo bench bench-coll deps dkms-install sparse checkpatch \
	deb check-deb

all: modules lib tools examples plugins coll torch

deps:
	@scripts/deps.sh build

# Build for KDIR in the source tree, as DKMS does.
modules:
	@scripts/kbuild.sh one "$(KDIR)"

# One out-of-tree build per installed kernel, each in its own copy of the
# sources so that objects of different kernels never mix: build/<release>/.
modules-all:
	@scripts/kbuild.sh all

sparse:
	@scripts/kbuild.sh sparse

# checkpatch.pl comes from Debian's linux-source-6.12 tarball.
checkpatch:
	@scripts/checkpatch.sh

lib:
	$(MAKE) -C lib

tools: lib
	$(MAKE) -C tools

examples: lib
	$(MAKE) -C examples

# The NCCL net plugin and its harness.
plugins: lib
	$(MAKE) -C plugins/nccl

# libmegalink-coll (collectives, issue 10) and its tools.
coll: lib
	$(MAKE) -C lib/coll
	$(MAKE) -C tools/coll

# The PyTorch process-group backend (plugins/torch): built when Debian's
# libtorch-dev and python3-torch are installed, else skipped with a loud
# line (ML_TORCH_REQUIRE=1 fails instead).
torch: coll
	$(MAKE) -C plugins/torch

# The torch suite's full form (smoke on 2 and 3 ranks, DDP on 2, 3, 4
# ranks against gloo), then DDP between two guests over a QEMU socket
# network; make check runs its smoke test.
check-torch: modules-all guest-tests
	@ML_TORCH_QUICK=0 tests/harness/run-in-guest.sh --kernel $${ML_TORCH_KERNEL:-6.12} --timeout 1500 -- tests/torch/run-suite.sh
	@ML_TWOGUEST_DDP=1 tests/twoguest/run.sh $${ML_TORCH_KERNEL:-6.12}

# The full collectives suite (make check runs its quick form) on both kernels.
check-coll: modules-all guest-tests
	@for k in 6.12 6.1; do ML_COLL_QUICK=0 tests/harness/run-in-guest.sh --kernel $$k --timeout 900 -- tests/coll/run-suite.sh || exit 1; done

# Test programs that run inside the guests (built on the host).
guest-tests: lib tools examples plugins coll torch
	$(MAKE) -C tests/guest
	$(MAKE) -C tests/unit guest_verbs
	$(MAKE) -C tests/twoguest
	@if [ -f tests/dataplane/Makefile ]; then $(MAKE) -C tests/dataplane; fi
	$(MAKE) -C tests/debug
	$(MAKE) -C tests/coll

install: lib tools plugins coll torch
	$(MAKE) -C lib install
	$(MAKE) -C lib/coll install
	$(MAKE) -C tools install
	$(MAKE) -C plugins/nccl install
	$(MAKE) -C tools/coll install
	$(MAKE) -C plugins/torch install

dkms-install:
	@scripts/dkms-install.sh $(VERSION)

# Debian packages (debian/): dpkg-buildpackage in a temporary copy of the
# tree, the results in build/deb/ (or DEB_OUT), lintian -i --pedantic.
deb:
	@scripts/deps.sh deb
	@scripts/deb.sh $(if $(DEB_OUT),--out "$(DEB_OUT)")

check-deb:
	@tests/deb/run.sh

check-unit: lib tools
	$(MAKE) -C tests/unit check

check-guest: modules-all guest-tests
	@tests/run-guest-suite.sh
	@tests/twoguest/run.sh 6.12

check:
	@scripts/check.sh

# The short form of the debug lane that fits make check: the fuzzers of
# tests/debug, 20 s each, on Debian's 6.12 (no debug kernel to build).
check-hostile: guest-tests
	@echo "==== hostile input on 6.12 (tests/debug/run.sh, short form; make check-debug runs the full lane)"
	@tests/harness/run-in-guest.sh --kernel 6.12 --timeout 1500 -- tests/debug/hostile-short.sh

check-debug:
	@scripts/deps.sh debug
	@tests/debug/check-debug.sh

demo:
	@scripts/demo.sh

# A benchmark, not a test: build/bench/<release>/ (tests/bench/README.md).
bench:
	@scripts/bench.sh

# The collectives against gloo through torch.distributed and with
# megalink-coll-perf: build/bench/<release>/coll* (tests/bench/README.md).
bench-coll:
	@scripts/bench-coll.sh

clean:
	-scripts/kbuild.sh clean
	-$(MAKE) -C lib clean
	-$(MAKE) -C tools clean
	-$(MAKE) -C tests/unit clean
	-$(MAKE) -C tests/guest clean
	-$(MAKE) -C tests/twoguest clean
	-$(MAKE) -C examples clean
	-$(MAKE) -C plugins/nccl clean
	-if [ -f tests/dataplane/Makefile ]; then $(MAKE) -C tests/dataplane clean; fi
	-$(MAKE) -C tests/debug clean
	-$(MAKE) -C lib/coll clean
	-$(MAKE) -C tools/coll clean
	-$(MAKE) -C tests/coll clean
	-$(MAKE) -C plugins/torch clean
	rm -rf build
