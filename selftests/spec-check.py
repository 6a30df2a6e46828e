#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check the netlink ABI against its spec.

Documentation/netlink/specs/bootshake.yaml is the source of truth.  This
checks that include/uapi/linux/bootshake.h has every name with the value the
spec gives it, that kmod/netlink.c's per-command policies accept exactly
the request attributes the spec lists with the spec's types and ranges and
admin permission, and that every attribute the kernel puts into a message
has the spec's type.  Prints one KTAP line per check; exits 1 on failure.
"""
import glob
import os
import re
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
            out.append((cname(d['name-prefix'], str(e)), val))
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


def main():
    spec = yaml.safe_load(open(os.path.join(
        TOP, 'Documentation/netlink/specs/bootshake.yaml')))
    hdr = header_enums(os.path.join(TOP, 'include/uapi/linux/bootshake.h'))
    nl_text = strip_comments(open(os.path.join(TOP, 'kmod/netlink.c')).read())
    results = []

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
