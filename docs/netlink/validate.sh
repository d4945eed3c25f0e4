#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# docs/netlink/validate.sh [SPEC]
#
# Checks the megalink netlink spec (default docs/netlink/megalink.yaml):
#  1. against the kernel's JSON schema for its protocol level
#     (Documentation/netlink/genetlink-legacy.yaml), with python3-jsonschema;
#  2. renders the uAPI header from the spec with the kernel's YNL code
#     generator and checks that every name it defines has the same value
#     in include/uapi/linux/megalink.h;
#  3. the constants of the spec against the header;
#  4. the other way round: every enumerator of the header's enums that the
#     spec models, and every ML_DEV_CAP_* bit, is in the spec;
#  5. against driver/netlink.c: each operation has the handlers the spec
#     gives it (do: .doit, dump: .dumpit), its policy accepts exactly the
#     request attributes of the spec, and every notification is sent
#     somewhere in driver/.
#
# Kernel source: $ML_KERNEL_SRC (a tree with Documentation/netlink/ and
# tools/net/ynl/), else the newest /usr/src/linux-source-*.tar.xz, whose
# needed parts are unpacked once (about 40 s) into build/kernel-src/ and
# again only when the tarball changes.  After that a run takes seconds.
#
# Exit status: 0 when every check passed; 1 on a failed check or a broken
# setup.  Only a missing python3-yaml/python3-jsonschema or a missing
# kernel source tarball is a loud SKIP with exit 0 (exit 1 with
# ML_REQUIRE=1).  Debian packages: python3-yaml python3-jsonschema
# linux-source-6.12 (and a C compiler).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
spec=${1:-$here/megalink.yaml}
build=$repo/build
header=$repo/include/uapi/linux/megalink.h
verbs=$repo/include/uapi/linux/megalink_verbs.h
driver=$repo/driver

skip() {
	echo "validate.sh: SKIP: $*" >&2
	if [ "${ML_REQUIRE:-0}" = 1 ]; then
		echo "validate.sh: FAIL: ML_REQUIRE=1 and a requirement is missing" >&2
		exit 1
	fi
	exit 0
}

fail() {
	echo "validate.sh: FAIL: $*" >&2
	exit 1
}

[ -r "$spec" ] || fail "no spec at $spec"
command -v python3 >/dev/null ||
	skip "python3 not found (apt-get install python3-yaml python3-jsonschema)"
python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	skip "python3 yaml/jsonschema missing (apt-get install python3-yaml python3-jsonschema)"
command -v cc >/dev/null || fail "no C compiler (cc) for the header cross-check"

# One run at a time: runs share build/kernel-src and the work directory.
mkdir -p "$build"
exec 9>"$build/.netlink-validate.lock"
if command -v flock >/dev/null; then
	flock 9
fi

# Find or unpack the kernel's netlink schemas and YNL tools.
ksrc=${ML_KERNEL_SRC:-}
if [ -z "$ksrc" ]; then
	tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-*.tar.xz' | sort -V | tail -n 1)
	[ -n "$tarball" ] ||
		skip "no kernel source: apt-get install linux-source-6.12, or set ML_KERNEL_SRC"
	top=$(basename "$tarball" .tar.xz)
	ksrc=$build/kernel-src/$top
	stamp="$tarball $(stat -c '%s %Y' "$tarball")"
	if [ "$(cat "$ksrc/.unpacked" 2>/dev/null || true)" != "$stamp" ]; then
		echo "validate.sh: unpacking netlink schemas and YNL from $tarball (once)" >&2
		tmp=$build/kernel-src/.unpack.$$
		rm -rf "$tmp"
		mkdir -p "$tmp"
		tar -C "$tmp" -xJf "$tarball" --wildcards \
			"$top/Documentation/netlink/*.yaml" "$top/tools/net/ynl" ||
			{ rm -rf "$tmp"; fail "cannot unpack $tarball"; }
		echo "$stamp" >"$tmp/$top/.unpacked"
		rm -rf "$ksrc"
		mv "$tmp/$top" "$ksrc"
		rm -rf "$tmp"
	fi
fi
[ -d "$ksrc/Documentation/netlink" ] ||
	fail "no Documentation/netlink in $ksrc (ML_KERNEL_SRC?)"
proto=$(sed -n 's/^protocol:[[:space:]]*\([a-z-]*\).*/\1/p' "$spec")
schema=$ksrc/Documentation/netlink/${proto:-genetlink}.yaml
[ -r "$schema" ] || fail "no schema for protocol '${proto:-genetlink}': $schema"
# The generator moved to tools/net/ynl/pyynl/ in Linux 6.14.
gen=
for g in "$ksrc/tools/net/ynl/ynl-gen-c.py" "$ksrc/tools/net/ynl/pyynl/ynl_gen_c.py"; do
	if [ -r "$g" ]; then
		gen=$g
		break
	fi
done
[ -n "$gen" ] || fail "no YNL code generator (ynl-gen-c.py) in $ksrc/tools/net/ynl"

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
	{ cat "$work/gen.log" >&2; fail "ynl-gen-c failed on $spec"; }

# Every enumerator and define the generator rendered, printed by one
# program built against the generated header and against the real one.
sed -n 's/^[[:space:]]*\(ML_[A-Z0-9_]*\)[[:space:]]*[,=].*/\1/p; s/^[[:space:]]*\(__ML_[A-Z0-9_]*\)[[:space:]]*[,=]*.*/\1/p' \
	"$work/megalink-gen.h" | sort -u >"$work/names.txt"
[ -s "$work/names.txt" ] || fail "no names in the generated header $work/megalink-gen.h"
{
	echo '#include <stdio.h>'
	echo '#include HDR'
	echo 'int main(void)'
	echo '{'
	sed 's/.*/\tprintf("%s %llu\\n", "&", (unsigned long long)(&));/' "$work/names.txt"
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
cc -Wall -o "$work/names-uapi" -DHDR="\"$header\"" -I"$repo/include/uapi" "$work/names.c" ||
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
cc -Wall -o "$work/consts" -DHDR="\"$header\"" -I"$repo/include/uapi" "$work/consts.c" ||
	fail "a constant of the spec is missing from $header (see the errors above)"
"$work/consts" >"$work/consts-uapi.txt"
diff -u "$work/consts-spec.txt" "$work/consts-uapi.txt" >&2 ||
	fail "constants of the spec and $header disagree (- spec, + header)"
echo "validate.sh: $(wc -l <"$work/consts-spec.txt") constants of the spec match $header"

# 4. Nothing of the header's modelled enums is missing from the spec.
python3 - "$work/megalink-gen.h" "$header" "$verbs" <<'PYEOF' ||
import re
import sys

# The header and the part of it libmegalink shares (megalink_verbs.h).
gen_path, hdr_path, verbs_path = sys.argv[1:4]
gen = open(gen_path).read()
hdr = re.sub(r'/\*.*?\*/', '', open(hdr_path).read() + open(verbs_path).read(),
             flags=re.S)
ident = re.compile(r'^\s*(_*ML_[A-Z0-9_]+)\s*(?:=|,|$)', re.M)
bad = 0
for m in re.finditer(r'^enum (\w+) \{(.*?)\};', gen, re.M | re.S):
    name, body = m.groups()
    spec_names = set(ident.findall(body))
    if name == 'ml_dev_caps':
        hdr_names = set(re.findall(r'^#define\s+(ML_DEV_CAP_[A-Z0-9_]+)\s', hdr, re.M))
    else:
        h = re.search(r'^enum %s \{(.*?)\};' % name, hdr, re.M | re.S)
        if not h:
            print(f'validate.sh: enum {name} of the spec is not in {hdr_path}',
                  file=sys.stderr)
            bad += 1
            continue
        hdr_names = set(ident.findall(h.group(1)))
    for n in sorted(hdr_names - spec_names):
        print(f'validate.sh: {n} ({name}) is in {hdr_path} but not in the spec',
              file=sys.stderr)
        bad += 1
if bad:
    sys.exit(1)
PYEOF
	fail "the spec lacks names of $header"
echo "validate.sh: every enumerator of the modelled enums of $header is in the spec"

# 5. The operations against driver/netlink.c.
[ -r "$driver/netlink.c" ] || fail "no $driver/netlink.c"
python3 - "$spec" "$driver" <<'PYEOF' || fail "spec and $driver/netlink.c disagree"
import glob
import re
import sys
import yaml

spec_path, drv = sys.argv[1:3]
spec = yaml.safe_load(open(spec_path))
src = re.sub(r'/\*.*?\*/', '', open(drv + '/netlink.c').read(), flags=re.S)
others = ''.join(re.sub(r'/\*.*?\*/', '', open(p).read(), flags=re.S)
                 for p in sorted(glob.glob(drv + '/*.c')))
ops = spec['operations']
cprefix = ops.get('name-prefix', 'ml-cmd-')
aset = {s['name']: s for s in spec['attribute-sets']}


def cname(prefix, name):
    return (prefix + name).upper().replace('-', '_')


policies = {}
for m in re.finditer(r'nla_policy\s+(\w+)\s*\[[^]]*\]\s*=\s*\{(.*?)\n\};', src, re.S):
    policies[m.group(1)] = set(re.findall(r'\[\s*(ML_A_\w+)\s*\]', m.group(2)))
table = re.search(r'genl_ops\s+\w+\[\]\s*=\s*\{(.*?)\n\};', src, re.S)
if not table:
    sys.exit('validate.sh: no genl_ops table in driver/netlink.c')
kops = {}
for blk in re.findall(r'\{([^{}]*)\}', table.group(1)):
    f = dict(re.findall(r'\.(\w+)\s*=\s*([\w]+)', blk))
    if 'cmd' in f:
        kops[f['cmd']] = f

bad = 0


def err(msg):
    global bad
    print('validate.sh: ' + msg, file=sys.stderr)
    bad += 1


seen = set()
for op in ops['list']:
    cmd = cname(cprefix, op['name'])
    if op['name'] == 'unspec':
        continue
    if 'event' in op or 'notify' in op:
        if cmd in kops:
            err(f'{cmd} is a notification in the spec but has a handler')
        if not re.search(r'\b%s\b' % cmd, others):
            err(f'notification {cmd} is never sent by driver/')
        continue
    seen.add(cmd)
    k = kops.get(cmd)
    if not k:
        err(f'{cmd}: in the spec, not in the genl_ops table')
        continue
    prefix = aset[op['attribute-set']].get('name-prefix', 'ml-a-')
    req = set()
    for kind, handler in (('do', 'doit'), ('dump', 'dumpit')):
        if (kind in op) != (handler in k):
            err(f'{cmd}: spec {"has" if kind in op else "lacks"} {kind}, '
                f'driver {"has" if handler in k else "lacks"} .{handler}')
        for a in op.get(kind, {}).get('request', {}).get('attributes', []):
            req.add(cname(prefix, a))
    pol = policies.get(k.get('policy', ''), set())
    if req != pol:
        for a in sorted(req - pol):
            err(f'{cmd}: request attribute {a} of the spec is not in the policy')
        for a in sorted(pol - req):
            err(f'{cmd}: policy accepts {a}, the spec does not list it')
for cmd in sorted(set(kops) - seen):
    err(f'{cmd}: in the genl_ops table, not a request of the spec')
if bad:
    sys.exit(1)
print(f'validate.sh: {len(seen)} operations of the spec match driver/netlink.c')
PYEOF
echo "validate.sh: OK"
