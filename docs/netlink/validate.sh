#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# docs/netlink/validate.sh [SPEC]
#
# Checks the megalink netlink spec (default docs/netlink/megalink.yaml):
#  1. against the kernel's JSON schema for its protocol level
#     (Documentation/netlink/genetlink-legacy.yaml), with python3-jsonschema;
#  2. if the kernel's YNL code generator is available, renders the uAPI
#     header from the spec and checks that every name it defines has the
#     same value in include/uapi/linux/megalink.h.
#
# Kernel source: $ML_KERNEL_SRC (a tree with Documentation/netlink/ and
# tools/net/ynl/), else the newest /usr/src/linux-source-*.tar.xz, whose
# needed parts are unpacked once into build/kernel-src/.
#
# A missing tool or kernel source is a loud SKIP (exit 0), or an error
# (exit 1) with ML_REQUIRE=1.  Exit 1 on a failed check.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
spec=${1:-$here/megalink.yaml}
build=$repo/build

skip() {
	echo "validate.sh: SKIP: $*" >&2
	if [ "${ML_REQUIRE:-0}" = 1 ]; then
		exit 1
	fi
	exit 0
}

fail() {
	echo "validate.sh: FAIL: $*" >&2
	exit 1
}

[ -r "$spec" ] || fail "no spec at $spec"
command -v python3 >/dev/null || skip "python3 not found"
python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	skip "python3 yaml/jsonschema missing (apt-get install python3-yaml python3-jsonschema)"

# Find or unpack the kernel's netlink schemas and YNL tools.
ksrc=${ML_KERNEL_SRC:-}
if [ -z "$ksrc" ]; then
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
	[ -n "$tarball" ] ||
		skip "no kernel source: set ML_KERNEL_SRC or apt-get install linux-source-6.12"
	ksrc=$build/kernel-src/$(basename "$tarball" .tar.xz)
	if [ ! -f "$ksrc/.unpacked" ]; then
		echo "validate.sh: unpacking netlink schemas and YNL from $tarball" >&2
		mkdir -p "$build/kernel-src"
		top=$(basename "$tarball" .tar.xz)
		tar -C "$build/kernel-src" -xJf "$tarball" --wildcards \
			"$top/Documentation/netlink/*.yaml" "$top/tools/net/ynl" \
			"$top/MAINTAINERS"
		touch "$ksrc/.unpacked"
	fi
fi
proto=$(sed -n 's/^protocol:[[:space:]]*\([a-z-]*\).*/\1/p' "$spec")
schema=$ksrc/Documentation/netlink/${proto:-genetlink}.yaml
[ -r "$schema" ] || skip "no schema at $schema (ML_KERNEL_SRC=$ksrc)"

# 1. The JSON schema.
python3 - "$spec" "$schema" <<'EOF' || fail "$spec does not match $schema"
import sys
import jsonschema
import yaml

spec_path, schema_path = sys.argv[1:3]
with open(spec_path) as f:
    first = f.readline()
    if not first.startswith('# SPDX-License-Identifier: '):
        sys.exit(f'{spec_path}: the first line must be the SPDX tag')
    f.seek(0)
    spec = yaml.safe_load(f)
with open(schema_path) as f:
    schema = yaml.safe_load(f)
validator = jsonschema.Draft7Validator(schema)
errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.path))
for e in errors:
    path = '/'.join(str(p) for p in e.path) or '(top)'
    print(f'{spec_path}: {path}: {e.message}', file=sys.stderr)
if errors:
    sys.exit(1)
print(f'validate.sh: {spec_path}: valid against {schema_path}')
EOF

# 2. Names and values against the uAPI header.
gen=$ksrc/tools/net/ynl/ynl-gen-c.py
header=$repo/include/uapi/linux/megalink.h
[ -r "$gen" ] || skip "no $gen: header cross-check not run"
command -v cc >/dev/null || skip "no C compiler: header cross-check not run"
work=$build/netlink-validate
rm -rf "$work"
mkdir -p "$work/netlink/specs"
# ynl-gen-c wants the kernel layout: spec under netlink/specs/, schema in
# netlink/, a MAINTAINERS file at the root.
cp "$ksrc"/Documentation/netlink/*.yaml "$work/netlink/"
cp "$spec" "$work/netlink/specs/megalink.yaml"
: >"$work/MAINTAINERS"
python3 "$gen" --mode uapi --header --spec "$work/netlink/specs/megalink.yaml" \
	-o "$work/megalink-gen.h" >"$work/gen.log" 2>&1 ||
	{ cat "$work/gen.log" >&2; fail "ynl-gen-c.py failed on $spec"; }

# Every enumerator and define the generator rendered, printed by one
# program built against the generated header and against the real one.
{
	echo '#include <stdio.h>'
	echo '#include HDR'
	echo 'int main(void)'
	echo '{'
	sed -n 's/^[[:space:]]*\(ML_[A-Z0-9_]*\)[[:space:]]*[,=].*/\1/p; s/^[[:space:]]*\(__ML_[A-Z0-9_]*\)[[:space:]]*[,=]*.*/\1/p' \
		"$work/megalink-gen.h" | sort -u |
		sed 's/.*/\tprintf("%s %llu\\n", "&", (unsigned long long)(&));/'
	sed -n 's/^#define[[:space:]]*\(ML_[A-Z0-9_]*\)[[:space:]]*".*/\1/p' "$work/megalink-gen.h" |
		sed 's/.*/\tprintf("%s %s\\n", "&", &);/'
	# The header has the capability bits as #defines, not enum ml_dev_caps.
	sed -n 's/^enum \([a-z_]*\) {.*/\1/p' "$work/megalink-gen.h" | grep -vx ml_dev_caps |
		sed 's/.*/\tprintf("enum %s %zu\\n", "&", sizeof(enum &));/'
	echo '	return 0;'
	echo '}'
} >"$work/names.c"
cc -Wall -o "$work/names-gen" -DHDR='"megalink-gen.h"' -I"$work" "$work/names.c" ||
	fail "cannot build against the generated header"
cc -Wall -o "$work/names-uapi" -DHDR="\"$header\"" "$work/names.c" ||
	fail "a name the spec defines is missing from $header (see the errors above)"
"$work/names-gen" >"$work/names-gen.txt"
"$work/names-uapi" >"$work/names-uapi.txt"
diff -u "$work/names-gen.txt" "$work/names-uapi.txt" >&2 ||
	fail "spec and $header disagree (- spec, + header)"
echo "validate.sh: $(wc -l <"$work/names-gen.txt") names of the spec match $header"

# 3. The constants (marked header: linux/megalink.h, so not rendered above)
# are ML_<NAME> in the header.
python3 - "$spec" >"$work/consts-spec.txt" <<'PYEOF'
import sys
import yaml

with open(sys.argv[1]) as f:
    spec = yaml.safe_load(f)
for d in spec.get('definitions', []):
    if d['type'] == 'const':
        name = 'ML_' + d['name'].upper().replace('-', '_')
        print(name, d['value'])
PYEOF
{
	echo '#include <stdio.h>'
	echo '#include HDR'
	echo 'int main(void)'
	echo '{'
	sed 's/^\([A-Z0-9_]*\) .*/\tprintf("%s %llu\\n", "\1", (unsigned long long)(\1));/' \
		"$work/consts-spec.txt"
	echo '	return 0;'
	echo '}'
} >"$work/consts.c"
cc -Wall -o "$work/consts" -DHDR="\"$header\"" "$work/consts.c" ||
	fail "a constant of the spec is missing from $header (see the errors above)"
"$work/consts" >"$work/consts-uapi.txt"
diff -u "$work/consts-spec.txt" "$work/consts-uapi.txt" >&2 ||
	fail "constants of the spec and $header disagree (- spec, + header)"
echo "validate.sh: $(wc -l <"$work/consts-spec.txt") constants of the spec match $header"
