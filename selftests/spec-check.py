#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check the netlink ABI against its spec.

Documentation/netlink/specs/bootshake.yaml is the source of truth.  With the
kernel's own netlink tools (tools/net/ynl and the Documentation/netlink
schemas of Debian's linux-source-6.12, unpacked by scripts/deps.sh), this
checks that
  - the spec passes its protocol's schema with 0 errors (jsonschema);
  - the kernel's python ynl library (lib.SpecFamily) loads it;
  - ynl-gen-c.py --mode uapi generates include/uapi/linux/bootshake.h
    byte for byte (the header is generated: `make uapi`);
and, by itself, that the header has every name with the value the spec
gives it, that kmod/netlink.c's per-command policies accept exactly the
request attributes the spec lists with the spec's types and ranges and admin
permission, and that every attribute the kernel puts into a message has the
spec's type.  Prints one KTAP line per check; exits 1 on failure.

  selftests/spec-check.py            check
  selftests/spec-check.py --write    regenerate the uapi header (make uapi)

BSK_YNL_SRC names the kernel source tree holding tools/net/ynl (default
$BSK_CACHE/src/linux-source-6.12, BSK_CACHE=/var/cache/bootshake).
"""
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(TOP, 'Documentation/netlink/specs/bootshake.yaml')
UAPI = os.path.join(TOP, 'include/uapi/linux/bootshake.h')
YNL_SRC = os.environ.get('BSK_YNL_SRC') or os.path.join(
    os.environ.get('BSK_CACHE') or '/var/cache/bootshake',
    'src/linux-source-6.12')
YNL_HINT = f'no kernel ynl tools in {YNL_SRC} (run scripts/deps.sh)'


def ynl_present():
    return os.path.isfile(os.path.join(YNL_SRC, 'tools/net/ynl/ynl-gen-c.py'))


def schema_path(spec):
    proto = spec.get('protocol', 'genetlink')
    return os.path.join(YNL_SRC, 'Documentation/netlink', proto + '.yaml')


def schema_errors(spec):
    """The spec against its protocol's schema: a list of messages."""
    import jsonschema

    with open(schema_path(spec)) as f:
        schema = yaml.safe_load(f)
    val = jsonschema.Draft7Validator(schema)
    return [f'schema: {"/".join(str(p) for p in e.absolute_path) or "(root)"}: '
            f'{e.message}' for e in val.iter_errors(spec)]


def ynl_load():
    """Load the spec with the kernel's python ynl library: [] or errors."""
    sys.path.insert(0, os.path.join(YNL_SRC, 'tools/net/ynl'))
    try:
        from lib import SpecFamily  # the kernel's tools/net/ynl/lib

        spec = yaml.safe_load(open(SPEC))
        fam = SpecFamily(SPEC, schema_path(spec))
        return [] if fam.name == 'bootshake' and fam.msgs else \
            ['ynl: loaded, but no bootshake messages']
    except Exception as e:  # noqa: BLE001 (report whatever it raised)
        return [f'ynl: {type(e).__name__}: {e}']
    finally:
        sys.path.pop(0)


def ynl_gen_uapi():
    """ynl-gen-c.py --mode uapi output for the spec: (text, errors).

    ynl-gen-c names the spec by its path below the kernel tree it finds by
    looking for MAINTAINERS upwards (there is none here), and looks for
    the schema at ../<protocol>.yaml from the spec's directory: so it runs
    on a copy staged as Documentation/netlink/specs/bootshake.yaml beside
    the kernel's schemas and a MAINTAINERS.
    """
    tmp = tempfile.mkdtemp(prefix='bsk-ynl-')
    try:
        d = os.path.join(tmp, 'Documentation/netlink')
        os.makedirs(os.path.join(d, 'specs'))
        open(os.path.join(tmp, 'MAINTAINERS'), 'w').close()
        for f in glob.glob(os.path.join(YNL_SRC, 'Documentation/netlink/*.yaml')):
            shutil.copy(f, d)
        spec = os.path.join(d, 'specs/bootshake.yaml')
        shutil.copy(SPEC, spec)
        out = os.path.join(tmp, 'bootshake.h')
        r = subprocess.run([sys.executable, os.path.join(
            YNL_SRC, 'tools/net/ynl/ynl-gen-c.py'), '--mode', 'uapi',
            '--header', '--spec', spec, '-o', out],
            capture_output=True, text=True, timeout=120)
        if r.returncode or not os.path.exists(out):
            return None, [f'ynl-gen-c: exit {r.returncode}: ' + l
                          for l in (r.stdout + r.stderr).splitlines()[-15:]]
        return open(out).read(), []
    finally:
        shutil.rmtree(tmp)


def cname(prefix, name):
    return (prefix + name).upper().replace('-', '_')


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def header_enums(path):
    """Every enumerator of every enum in the header, with its value."""
    vals = {}
    text = strip_comments(open(path).read())
    for body in re.findall(r'enum\s*\w*\s*\{(.*?)\}\s*;', text, flags=re.S):
        nxt = 0
        for item in body.split(','):
            item = item.strip()
            if not item:
                continue
            if '=' in item:
                name, expr = (s.strip() for s in item.split('=', 1))
                val = eval(expr, {}, dict(vals))  # noqa: S307 (C constant)
            else:
                name, val = item, nxt
            vals[name] = val
            nxt = val + 1
    return vals


def spec_values(spec):
    """(C name, value) the spec implies for every name it defines."""
    out = []
    for d in spec['definitions']:
        for i, e in enumerate(d['entries']):
            val = (1 << i) if d['type'] == 'flags' else i
            name = e['name'] if isinstance(e, dict) else str(e)
            out.append((cname(d['name-prefix'], name), val))
    for aset in spec['attribute-sets']:
        val = 1
        for a in aset['attributes']:
            val = a.get('value', val)
            out.append((cname(aset['name-prefix'], a['name']), val))
            val += 1
    ops = spec['operations']
    val = 1
    for op in ops['list']:
        val = op.get('value', val)
        out.append((cname(ops['name-prefix'], op['name']), val))
        val += 1
    return out


def kernel_ops(text):
    """cmd -> {'policy': name, 'admin': bool} from the genl_ops table."""
    ops = {}
    for body in re.findall(r'\{\s*(\.cmd\s*=.*?)\}\s*,', text, flags=re.S):
        cmd = re.search(r'\.cmd\s*=\s*(\w+)', body).group(1)
        pol = re.search(r'\.policy\s*=\s*(\w+)', body)
        ops[cmd] = {'policy': pol.group(1) if pol else None,
                    'admin': 'GENL_ADMIN_PERM' in body}
    return ops


def kernel_policies(text):
    """policy name -> {attr: (nla type, min, max)}."""
    aliases = dict(re.findall(r'#define\s+(\w+)\s+(\w+)\s*\n', text))
    ranges = {}
    for name, body in re.findall(
            r'struct netlink_range_validation\s+(\w+)\s*=\s*\{(.*?)\}',
            text, flags=re.S):
        lo = re.search(r'\.min\s*=\s*(\d+)', body)
        hi = re.search(r'\.max\s*=\s*(\d+)', body)
        ranges[name] = (int(lo.group(1)) if lo else None,
                        int(hi.group(1)) if hi else None)
    pols = {}
    for name, body in re.findall(
            r'struct nla_policy\s*\n?\s*(\w+)\s*\[[^\]]*\]\s*=\s*\{(.*?)\n\}',
            text, flags=re.S):
        entries = {}
        for attr, rhs in re.findall(r'\[(\w+)\]\s*=\s*([^\n]*(?:\n\t\t[^\n]*)*)',
                                    body):
            rhs = ' '.join(rhs.split())
            m = re.match(r'NLA_POLICY_MIN\((\w+),\s*(\w+)\)', rhs)
            if m:
                entries[attr] = (m.group(1), int(m.group(2)), None)
                continue
            m = re.match(r'NLA_POLICY_RANGE\((\w+),\s*(\w+),\s*(\w+)\)', rhs)
            if m:
                entries[attr] = (m.group(1), m.group(2), m.group(3))
                continue
            m = re.match(r'NLA_POLICY_FULL_RANGE\((\w+),\s*&(\w+)\)', rhs)
            if m:
                entries[attr] = (m.group(1),) + ranges[m.group(2)]
                continue
            m = re.match(r'\{\s*\.type\s*=\s*(\w+)', rhs)
            entries[attr] = (m.group(1) if m else rhs, None, None)
        pols[name] = entries
    for alias, target in aliases.items():
        if target in pols:
            pols[alias] = pols[target]
    return pols


NLA = {'u8': 'NLA_U8', 'u16': 'NLA_U16', 'u32': 'NLA_U32', 'u64': 'NLA_U64',
       'string': 'NLA_NUL_STRING', 'binary': 'NLA_BINARY', 'flag': 'NLA_FLAG',
       'nest': 'NLA_NESTED'}
PUT = {'u8': 'u8', 'u16': 'u16', 'u32': 'u32', 'u64_64bit': 'u64',
       'string': 'string', 'flag': 'flag', '': 'binary'}


def write_uapi():
    if not ynl_present():
        print(YNL_HINT, file=sys.stderr)
        return 1
    text, errs = ynl_gen_uapi()
    if errs:
        print('\n'.join(errs), file=sys.stderr)
        return 1
    with open(UAPI, 'w') as f:
        f.write(text)
    print(f'wrote {os.path.relpath(UAPI, TOP)}')
    return 0


def main():
    if sys.argv[1:] == ['--write']:
        return write_uapi()
    if sys.argv[1:]:
        print(f'usage: {sys.argv[0]} [--write]', file=sys.stderr)
        return 2
    spec = yaml.safe_load(open(SPEC))
    hdr = header_enums(UAPI)
    nl_text = strip_comments(open(os.path.join(TOP, 'kmod/netlink.c')).read())
    results = []

    # 0. the kernel's tools: schema, library, generated header
    if not ynl_present():
        for name in ('passes the kernel schema for its protocol',
                     "loads with the kernel's python ynl library",
                     "ynl-gen-c --mode uapi output is the uapi header"):
            results.append((name, [YNL_HINT]))
    else:
        errs = schema_errors(spec)
        results.append((f'passes the kernel schema {spec.get("protocol")}.yaml '
                        f'({len(errs)} errors)', errs))
        results.append(("loads with the kernel's python ynl library",
                        ynl_load()))
        text, errs = ynl_gen_uapi()
        if text is not None:
            errs = [l.rstrip('\n') for l in difflib.unified_diff(
                open(UAPI).readlines(), text.splitlines(True),
                'include/uapi/linux/bootshake.h', 'ynl-gen-c --mode uapi')]
            if errs:
                errs.append('regenerate it: make uapi')
        results.append(('ynl-gen-c --mode uapi output is the uapi header',
                        errs))

    # 1. names and values
    bad = [f'{n}: spec {v}, header {hdr.get(n)}'
           for n, v in spec_values(spec) if hdr.get(n) != v]
    results.append(('uapi header names and values match the spec', bad))

    # Resolve the header's constants for range checks.
    def num(x):
        if x is None or isinstance(x, int):
            return x
        return int(x) if x.isdigit() else hdr.get(x, x)

    # 2. request policies and permissions
    sets = {s['name']: s for s in spec['attribute-sets']}
    ops = kernel_ops(nl_text)
    pols = kernel_policies(nl_text)
    bad = []
    prefix = spec['operations']['name-prefix']
    for op in spec['operations']['list']:
        if 'notify' in op or 'event' in op:
            continue
        if 'do' not in op and 'dump' not in op:
            continue    # unspec: a value the kernel never implements
        cmd = cname(prefix, op['name'])
        kop = ops.get(cmd)
        if not kop:
            bad.append(f'{cmd}: not in the kernel ops table')
            continue
        if kop['admin'] != ('admin-perm' in op.get('flags', [])):
            bad.append(f'{cmd}: admin permission differs from the spec')
        aset = sets[op['attribute-set']]
        want = set()
        for mode in ('do', 'dump'):
            want |= set((op.get(mode) or {}).get('request', {})
                        .get('attributes', []))
        kpol = pols.get(kop['policy'], {}) if kop['policy'] else {}
        have = {}
        for attr, val in kpol.items():
            have[attr] = val
        for a in aset['attributes']:
            c = cname(aset['name-prefix'], a['name'])
            if a['name'] in want:
                if c not in have:
                    bad.append(f'{cmd}: {c} missing from policy')
                    continue
                t, lo, hi = have.pop(c)
                if t != NLA[a['type']]:
                    bad.append(f'{cmd}: {c} is {t}, spec {a["type"]}')
                chk = a.get('checks', {})
                if num(lo) != chk.get('min') or num(hi) != chk.get('max'):
                    bad.append(f'{cmd}: {c} range {num(lo)}..{num(hi)}, '
                               f'spec {chk.get("min")}..{chk.get("max")}')
        for c in have:
            bad.append(f'{cmd}: policy accepts {c}, not in the spec request')
    results.append(('kernel policies and permissions match the spec', bad))

    # 3. types of what the kernel puts
    types = {}
    for aset in spec['attribute-sets']:
        for a in aset['attributes']:
            types[cname(aset['name-prefix'], a['name'])] = a['type']
    bad = []
    for path in glob.glob(os.path.join(TOP, 'kmod/*.c')):
        text = strip_comments(open(path).read())
        for fn, attr in re.findall(r'nla_put_?(\w*)\(\s*\w+,\s*(BOOTSHAKE_A_\w+)',
                                   text):
            got = PUT.get(fn, fn)
            if types.get(attr) != got:
                bad.append(f'{os.path.basename(path)}: {attr} put as {got}, '
                           f'spec {types.get(attr)}')
        for attr in re.findall(r'nla_nest_start\w*\(\s*\w+,\s*(BOOTSHAKE_A_\w+)',
                               text):
            if types.get(attr) != 'nest':
                bad.append(f'{os.path.basename(path)}: {attr} nested, '
                           f'spec {types.get(attr)}')
    results.append(('attributes the kernel puts have the spec types', bad))

    fail = 0
    for i, (name, errs) in enumerate(results, 1):
        for e in errs:
            print(f'# {e}')
        print(f'{"not ok" if errs else "ok"} {i} spec: {name}')
        fail += bool(errs)
    return 1 if fail else 0


if __name__ == '__main__':
    sys.exit(main())
