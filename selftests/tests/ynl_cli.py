#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The kernel's own netlink client talks to bootshake.

In the guest, with bootshake.ko loaded: the kernel's ynl CLI
(tools/net/ynl/cli.py of Debian's linux-source-6.12, unpacked by
scripts/deps.sh into $BSK_CACHE/src/linux-source-6.12) and our spec,
checked against the kernel's schema on every run (--schema), must
  - receive the monitor notifications of a plug and an unplug of an
    emulated MediaTek BROM (--subscribe monitor), and
  - dump the devices (--dump dev-get) and get one (--do dev-get)
with the same values `bootshake -j` shows for the same messages and
device: the helper's monitor lines, `bootshake -j list` and
`bootshake -j show ID`.

cli.py of 6.12 listens only for its --sleep: it joins the group, sleeps,
then reads whatever was queued.  The test starts it first, waits until it
sleeps (it has joined then: /proc/PID/syscall is clock_nanosleep), plugs
and unplugs a BROM, and fails (never retries) if the window closed before
the helper's monitor had seen the whole plug.  While cli.py still sleeps,
a second BROM is plugged for the dump and do comparisons (their
notifications are not compared: only the first device's).  Only the
listening call checks the spec against the schema (its start-up is
outside the window); the dump and do calls skip it (--no-schema), as
make check has checked it on the host: under TCG a check costs about 30 s.

KTAP output with a kselftest "# Totals:" line (selftests/vm/guest-tests.sh
counts it).  BSK_YNL_SRC overrides the kernel tree holding tools/net/ynl.
"""
import json
import os
import queue
import subprocess
import sys
import threading
import time

REPO = os.environ.get('BSK_REPO') or os.getcwd()
SCALE = int(os.environ.get('BSK_TIME_SCALE') or '1')
YNL_SRC = os.environ.get('BSK_YNL_SRC') or os.path.join(
    os.environ.get('BSK_CACHE') or '/var/cache/bootshake',
    'src/linux-source-6.12')
CLI = os.path.join(YNL_SRC, 'tools/net/ynl/cli.py')
SPEC = os.path.join(REPO, 'Documentation/netlink/specs/bootshake.yaml')


def schema_path():
    """The kernel's schema for the spec's protocol, as ynl picks it in the
    kernel tree (Documentation/netlink/<protocol>.yaml)."""
    import yaml

    with open(SPEC) as f:
        proto = yaml.safe_load(f).get('protocol', 'genetlink')
    return os.path.join(YNL_SRC, 'Documentation/netlink', proto + '.yaml')


SCHEMA = schema_path()
HELPER = os.path.join(REPO, 'user/bootshake')
EMU = os.path.join(REPO, 'selftests/emu/bsk-emu')
UDC = 'dummy_udc.0'
UDC2 = 'dummy_udc.1'
# x86_64 clock_nanosleep, nanosleep: what time.sleep() waits in
SLEEP_SYSCALLS = {'230', '35'}

# ynl attribute name -> the helper's JSON key, where they differ
DEV_KEYS = {'error-code': 'error', 'error': 'errno',
            'garbage': 'garbage_bytes', 'event-ns': 'time_ns'}
SPEED = ['unknown', 'low', 'full', 'high', 'wireless', 'super',
         'super-plus']
FLAGS = {'already-synced': 'already_synced', 'taken-over': 'taken_over',
         'ident-partial': 'ident_partial'}
EVENTS = {'dev-add-ntf': 'add', 'dev-change-ntf': 'change',
          'dev-del-ntf': 'remove'}


def log(msg):
    for line in str(msg).splitlines():
        print(f'# {line}', flush=True)


def compare_mtk(ynl, hlp, where):
    bad = []
    for k, v in ynl.items():
        key = k.replace('-', '_')
        if key not in hlp:
            bad.append(f'{where}.mtk: {k}={v!r} not shown by the helper')
            continue
        h = hlp[key]
        if k == 'is-brom':
            ok = bool(v) == h
        else:
            ok = v == h
        if not ok:
            bad.append(f'{where}.mtk.{k}: ynl {v!r}, helper {h!r}')
    return bad


def compare_dev(ynl, hlp, where):
    """Differences between a ynl device object and the helper's JSON."""
    bad = []
    for k, v in ynl.items():
        if k == 'pad':
            continue
        if k == 'flags':
            for f, key in FLAGS.items():
                if (f in v) != hlp.get(key):
                    bad.append(f'{where}.flags: ynl {sorted(v)}, helper '
                               f'{key}={hlp.get(key)!r}')
            continue
        if k == 'mtk':
            bad += compare_mtk(v, hlp.get('mtk') or {}, where)
            continue
        key = DEV_KEYS.get(k, k.replace('-', '_'))
        if key not in hlp:
            bad.append(f'{where}: {k}={v!r} not shown by the helper '
                       f'(as "{key}")')
            continue
        want = SPEED[v] if k == 'speed' and v < len(SPEED) else v
        if want != hlp[key]:
            bad.append(f'{where}.{k}: ynl {v!r}, helper {key}={hlp[key]!r}')
    for must in ('id', 'path', 'vid', 'pid', 'kind', 'state'):
        if must not in ynl:
            bad.append(f'{where}: ynl shows no {must}')
    return bad


class Lines:
    """A child's stdout, line by line, readable with a deadline."""

    def __init__(self, argv, stdin=subprocess.DEVNULL):
        self.proc = subprocess.Popen(argv, stdin=stdin,
                                     stdout=subprocess.PIPE, text=True)
        self.q = queue.Queue()
        self.all = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip('\n'))
        self.q.put(None)

    def wait_for(self, pred, timeout):
        """The first line (queued or coming) for which pred is true."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            self.all.append(line)
            if pred(line):
                return line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5 * SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def json_line(line):
    try:
        return json.loads(line)
    except ValueError:
        return None


def cli(*args, timeout):
    """Run the kernel's ynl CLI with our spec; its JSON output."""
    argv = [sys.executable, CLI, '--spec', SPEC, '--no-schema',
            '--output-json'] + list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode:
        raise RuntimeError(f'cli.py {" ".join(args)}: exit {r.returncode}: '
                           f'{r.stdout}{r.stderr}')
    return json.loads(r.stdout)


def helper(*args):
    r = subprocess.run([HELPER, '-j'] + list(args), capture_output=True,
                       text=True, timeout=30 * SCALE)
    if r.returncode:
        raise RuntimeError(f'bootshake -j {" ".join(args)}: exit '
                           f'{r.returncode}: {r.stdout}{r.stderr}')
    return json.loads(r.stdout)


def sleeping(pid):
    try:
        with open(f'/proc/{pid}/syscall') as f:
            return f.read().split()[0] in SLEEP_SYSCALLS
    except (OSError, IndexError):
        return False


plugged = []


def plug_ready(mon, udc, which):
    """Plug an emulated BROM on @udc; its id once the helper sees it ready."""
    emu = Lines([EMU, '--personality', 'mtk-brom', '--udc', udc],
                stdin=subprocess.PIPE)
    plugged.append(emu)
    if not emu.wait_for(lambda l: l == 'ready', 20 * SCALE):
        raise RuntimeError(f'bsk-emu on {udc} never got ready')

    def ready(line):
        o = json_line(line) or {}
        return o.get('kind') == 'mtk-brom' and o.get('state') in (
            'ready', 'failed') and o.get('event') in ('add', 'change')
    line = mon.wait_for(ready, 20 * SCALE)
    if not line:
        raise RuntimeError(f'the helper never saw the {which} BROM ready')
    o = json_line(line)
    log(f'{which} device: {o["id"]} {o.get("path")} {o["state"]}')
    return o['id']


def main():
    results = []

    def result(name, bad):
        for b in bad:
            log(b)
        results.append((name, not bad))
        n = len(results)
        print(f'{"ok" if not bad else "not ok"} {n} ynl.{name}', flush=True)

    print('TAP version 13')
    print('1..3')
    for path, what in ((CLI, 'the kernel ynl CLI (run scripts/deps.sh)'),
                       (SCHEMA, 'the kernel schema of the protocol'),
                       (HELPER, 'the helper'), (EMU, 'bsk-emu')):
        if not os.path.exists(path):
            log(f'missing {what}: {path}')
            for i, name in enumerate(('dump_matches_helper',
                                      'do_matches_helper',
                                      'monitor_matches_helper'), 1):
                print(f'not ok {i} ynl.{name}')
            print('# Totals: pass:0 fail:3 xfail:0 xpass:0 skip:0 error:0')
            return 1

    window = 30 * SCALE
    mon = Lines([HELPER, '-j', 'monitor', '--dump'])
    ntf = emu = emu2 = None
    results_monitor = []
    try:
        if not mon.wait_for(lambda l: (json_line(l) or {}).get('event') ==
                            'dump-done', 10 * SCALE):
            raise RuntimeError('the helper monitor never finished its dump')
        t0 = time.monotonic()
        ntf = subprocess.Popen(
            [sys.executable, CLI, '--spec', SPEC, '--schema', SCHEMA,
             '--output-json', '--subscribe', 'monitor',
             '--sleep', str(window)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # It joins the group before it sleeps: wait for the sleep.
        while not sleeping(ntf.pid):
            if ntf.poll() is not None or time.monotonic() - t0 > 60 * SCALE:
                raise RuntimeError('cli.py --subscribe never got to its '
                                   f'sleep: {ntf.communicate()}')
            time.sleep(0.05)
        t1 = time.monotonic()
        log(f'cli.py subscribed after {t1 - t0:.1f} s; listening {window} s')

        dev_id = plug_ready(mon, UDC, 'first')
        emu = plugged.pop()
        # unplug: bsk-emu stops on EOF on its stdin
        emu.proc.stdin.close()
        emu.proc.wait(timeout=20 * SCALE)
        if not mon.wait_for(lambda l: (json_line(l) or {}).get('id') == dev_id
                            and (json_line(l) or {}).get('event') == 'remove',
                            20 * SCALE):
            raise RuntimeError('the helper never saw the BROM removed')
        if ntf.poll() is not None:
            raise RuntimeError(f'the {window} s window of cli.py --subscribe '
                               'closed before the unplug was seen')
        log(f'plug and unplug seen {time.monotonic() - t1:.1f} s into the '
            'window')
        # what the helper saw of the first device, before any other line
        results_monitor = [json_line(l) for l in mon.all]

        dev2 = plug_ready(mon, UDC2, 'second')
        emu2 = plugged.pop()

        # --dump dev-get against bootshake -j list
        bad = []
        try:
            dump = cli('--dump', 'dev-get', timeout=60 * SCALE)
            lst = helper('list')
            lst = lst.get('devices', lst) if isinstance(lst, dict) else lst
            ymine = [d for d in dump if d.get('id') == dev2]
            hmine = [d for d in lst if d.get('id') == dev2]
            if len(dump) != len(lst):
                bad.append(f'ynl dumps {len(dump)} devices, helper lists '
                           f'{len(lst)}')
            if len(ymine) != 1 or len(hmine) != 1:
                bad.append(f'device {dev2}: {len(ymine)} in the ynl dump, '
                           f'{len(hmine)} in the helper list')
            else:
                bad += compare_dev(ymine[0], hmine[0], 'dump')
                log('dump: ' + json.dumps(ymine[0], sort_keys=True))
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            bad.append(str(e))
        result('dump_matches_helper', bad)

        # --do dev-get against bootshake -j show ID
        bad = []
        try:
            one = cli('--do', 'dev-get', '--json',
                      json.dumps({'id': dev2}), timeout=60 * SCALE)
            shown = helper('show', str(dev2))
            if isinstance(shown, list):
                shown = shown[0] if len(shown) == 1 else {}
            shown = shown.get('device', shown)
            bad += compare_dev(one, shown, 'do')
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            bad.append(str(e))
        result('do_matches_helper', bad)

        # --subscribe monitor against bootshake -j monitor
        bad = []
        out, err = ntf.communicate(timeout=window + 60 * SCALE)
        if ntf.returncode:
            bad.append(f'cli.py --subscribe: exit {ntf.returncode}: {err}')
        else:
            msgs = [m for m in json.loads(out)
                    if m.get('msg', {}).get('id') == dev_id]
            lines = [o for o in results_monitor if o and
                     o.get('id') == dev_id and
                     o.get('event') in ('add', 'change', 'remove')]
            log(f'ynl: {len(msgs)} notifications of device {dev_id}: ' +
                ', '.join(f'{m["name"]}/{m["msg"].get("state")}'
                          for m in msgs))
            log(f'helper: {len(lines)} events: ' +
                ', '.join(f'{o["event"]}/{o.get("state")}' for o in lines))
            if not msgs or msgs[0]['name'] != 'dev-add-ntf' or \
                    msgs[-1]['name'] != 'dev-del-ntf':
                bad.append('ynl did not receive add ... del of the plug')
            if len(msgs) != len(lines):
                bad.append(f'ynl received {len(msgs)}, the helper '
                           f'{len(lines)}')
            for i, (m, o) in enumerate(zip(msgs, lines)):
                if EVENTS.get(m['name']) != o['event']:
                    bad.append(f'#{i}: ynl {m["name"]}, helper {o["event"]}')
                bad += compare_dev(m['msg'], o, f'#{i} {m["name"]}')
        result('monitor_matches_helper', bad)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        log(f'error: {e}')
        done = len(results)
        names = ('dump_matches_helper', 'do_matches_helper',
                 'monitor_matches_helper')
        for name in names[done:]:
            result(name, [f'not run: {e}'])
    finally:
        for e in [emu, emu2] + plugged:
            if e and e.proc.poll() is None:
                e.proc.stdin.close()
                e.stop()
        if ntf and ntf.poll() is None:
            ntf.kill()
            ntf.wait()
        mon.stop()

    p = sum(1 for _, ok in results if ok)
    f = len(results) - p
    print(f'# Totals: pass:{p} fail:{f} xfail:0 xpass:0 skip:0 error:0')
    return 1 if f else 0


if __name__ == '__main__':
    sys.exit(main())
